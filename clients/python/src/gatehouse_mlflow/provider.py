"""The MLflow request-auth provider selected by ``MLFLOW_TRACKING_AUTH=gatehouse``.

MLflow calls ``get_auth()`` for every REST request (``mlflow/utils/rest_utils.py``,
``http_request``) and hands the result to ``requests`` as ``auth=``. The token cache therefore
lives here, one per distinct configuration, for the life of the process.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Dict

import requests
from requests.auth import AuthBase

from mlflow.tracking.request_auth.abstract_request_auth_provider import RequestAuthProvider

from gatehouse_mlflow.cache import TokenCache
from gatehouse_mlflow.config import Settings, settings_from_env
from gatehouse_mlflow.sources import source_for

NAME = "gatehouse"

_caches: Dict[Settings, TokenCache] = {}
_caches_lock = threading.Lock()


def cache_for(settings: Settings) -> TokenCache:
    cache = _caches.get(settings)
    if cache is not None:
        return cache
    with _caches_lock:
        cache = _caches.get(settings)
        if cache is None:
            cache = TokenCache(source_for(settings), margin=settings.refresh_margin, jitter=settings.refresh_jitter)
            _caches[settings] = cache
    return cache


def _reset_lock_in_child() -> None:
    global _caches_lock
    _caches_lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=_reset_lock_in_child)


class GatehouseAuth(AuthBase):
    """Sets ``Authorization: Bearer <token>`` and nothing else.

    Other headers are not touched: ``X-MLFLOW-WORKSPACE`` (from ``MLFLOW_WORKSPACE``) keeps
    selecting the tenant. If no token can be had, ``GatehouseAuthError`` is raised before the
    request is sent.
    """

    def __init__(self, cache: TokenCache) -> None:
        self._cache = cache

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        token = self._cache.get()
        request.headers["Authorization"] = f"Bearer {token}"
        request.register_hook("response", self._make_hook(token))
        return request

    def _make_hook(self, token: str) -> Any:
        def on_response(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
            if response.status_code == 401:
                self._cache.invalidate(token)
            return response

        return on_response


class GatehouseRequestAuthProvider(RequestAuthProvider):
    """Entry point ``gatehouse`` in the ``mlflow.request_auth_provider`` group."""

    def get_name(self) -> str:
        return NAME

    def get_auth(self) -> GatehouseAuth:
        return GatehouseAuth(cache_for(settings_from_env()))
