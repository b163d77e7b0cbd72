"""An in-memory token cache: refresh ahead of expiry with jitter, one refresher at a time,
safe across ``fork``.

- Network tokens are refreshed when ``lead`` seconds remain, ``lead`` being the configured
  margin plus a random share of the jitter (so a fleet of workers does not hit the IdP in the
  same second), both capped to a fraction of the token's lifetime so short-lived tokens are
  still refreshed before they expire.
- While the current token is still valid, only one thread refreshes; the others keep using it.
  When it is not valid, callers wait for the refresh and get its error if it fails.
- A refresh that fails while the current token is still valid is retried after a short
  backoff; once the token has expired, the failure is raised as ``GatehouseAuthError``.
- In a forked child the lock is replaced (the parent's may be held by a thread that does not
  exist in the child) and HTTP sessions are recreated; the token itself is kept, as it is just
  as valid in the child and N workers should not hit the IdP at fork time.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
import weakref
from typing import Callable, Optional

from gatehouse_mlflow.errors import GatehouseAuthError
from gatehouse_mlflow.sources import Token, TokenSource

_logger = logging.getLogger("gatehouse_mlflow")

#: Token endpoints that give no lifetime (no ``expires_in``, not a JWT): refetched this often.
UNKNOWN_LIFETIME_S = 300.0
#: After a failed early refresh, the still-valid token is used this long before trying again.
RETRY_BACKOFF_S = 5.0
#: A token is not sent in the last seconds of its life (at most a quarter of it): it could expire
#: on its way to the gateway.
EXPIRY_SAFETY_S = 5.0

_live_caches: "weakref.WeakSet[TokenCache]" = weakref.WeakSet()


class TokenCache:
    def __init__(
        self,
        source: TokenSource,
        margin: float = 60.0,
        jitter: float = 30.0,
        clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._source = source
        self._margin = margin
        self._jitter = jitter
        self._clock = clock
        self._rand = rand
        self._lock = threading.Lock()
        self._token: Optional[Token] = None
        self._refresh_at = 0.0
        self._usable_until = 0.0
        self._retry_at = 0.0
        #: Tokens obtained from the source (for tests and debugging).
        self.fetches = 0
        _live_caches.add(self)

    def _schedule(self, token: Token, now: float) -> float:
        if token.expires_at is None:
            return float("inf") if not self._source.prefetch else now + UNKNOWN_LIFETIME_S
        if not self._source.prefetch:
            return token.expires_at
        lifetime = max(token.expires_at - now, 0.0)
        lead = min(self._margin, lifetime / 3) + self._rand() * min(self._jitter, lifetime / 6)
        return token.expires_at - lead

    def _valid(self, token: Optional[Token], now: float) -> bool:
        return token is not None and now < self._usable_until

    def get(self) -> str:
        """A token to send now; raises ``GatehouseAuthError`` when there is none."""
        token, now = self._token, self._clock()
        if token is not None and now < self._refresh_at and not self._source.changed():
            return token.value
        if self._valid(token, now):
            assert token is not None
            if now < self._retry_at or not self._lock.acquire(blocking=False):
                return token.value  # backing off, or another thread is refreshing
        else:
            self._lock.acquire()
        try:
            return self._refresh_locked()
        finally:
            self._lock.release()

    def _refresh_locked(self) -> str:
        token, now = self._token, self._clock()
        if token is not None and now < self._refresh_at and not self._source.changed():
            return token.value  # another thread refreshed while we waited
        try:
            fresh = self._source.fetch()
        except GatehouseAuthError:
            if self._valid(token, now):
                assert token is not None
                self._retry_at = now + RETRY_BACKOFF_S
                _logger.warning("gatehouse: refreshing the token (%s) failed; the current one is used for %.0f s more", self._source.description, self._usable_until - now)
                return token.value
            raise
        except Exception as e:  # a bug or an unexpected library error must not become an anonymous call
            raise GatehouseAuthError(f"{self._source.description}: {type(e).__name__}: {e}") from e
        self.fetches += 1
        self._token = fresh
        self._refresh_at = self._schedule(fresh, now)
        if fresh.expires_at is None:
            self._usable_until = float("inf")
        else:
            self._usable_until = fresh.expires_at - min(EXPIRY_SAFETY_S, max(fresh.expires_at - now, 0.0) / 4)
        self._refresh_at = min(self._refresh_at, self._usable_until)
        self._retry_at = 0.0
        _logger.debug("gatehouse: new token from %s, expires at %s", self._source.description, fresh.expires_at)
        return fresh.value

    def invalidate(self, value: str) -> None:
        """The server refused ``value`` (401): fetch anew next time, unless already replaced."""
        with self._lock:
            if self._token is not None and self._token.value == value:
                self._refresh_at = 0.0
                self._retry_at = 0.0
                if self._source.prefetch:
                    self._token = None

    def _after_fork_in_child(self) -> None:
        self._lock = threading.Lock()
        self._retry_at = 0.0
        self._source.after_fork()


def _after_fork_in_child() -> None:
    for cache in list(_live_caches):
        cache._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
