"""Where tokens come from: a file, OAuth2 client credentials, or RFC 8693 token exchange.

A source only fetches; caching, refresh timing and locking live in ``cache.py``.
"""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Protocol, Tuple
from urllib.parse import quote

import requests

from gatehouse_mlflow.assertion import ASSERTION_TYPE, AssertionSigner
from gatehouse_mlflow.config import Settings
from gatehouse_mlflow.errors import GatehouseAuthError

TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"


@dataclass(frozen=True)
class Token:
    value: str
    #: Wall-clock expiry (``time.time()`` scale), or None when unknown.
    expires_at: Optional[float]

    def __repr__(self) -> str:
        return f"Token([redacted], expires_at={self.expires_at})"


class TokenSource(Protocol):
    #: Short description for error messages (never contains a secret).
    description: str
    #: True when tokens should be fetched again ahead of expiry (network sources); a file is
    #: refreshed by someone else, so it is re-read when it changes.
    prefetch: bool

    def fetch(self) -> Token: ...

    def changed(self) -> bool:
        """True when the backing data changed since the last fetch (a rewritten token file)."""
        ...

    def after_fork(self) -> None: ...


def jwt_expiry(token: str) -> Optional[float]:
    """The ``exp`` of a JWT, read without verifying it (only to schedule refreshes)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, TypeError):
        return None
    exp = payload.get("exp") if isinstance(payload, dict) else None
    return float(exp) if isinstance(exp, (int, float)) and not isinstance(exp, bool) else None


FileSignature = Tuple[int, int, int, int]


class FileTokenSource:
    """A token file (a Kubernetes projected service-account token, or one a sidecar refreshes).

    Re-read when its identity or content stamp changes: kubelet swaps a symlinked directory
    (new inode), a sidecar may rewrite in place (new mtime/size).
    """

    prefetch = False

    def __init__(self, path: str, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.description = f"token file {path}"
        self._clock = clock
        self._signature: Optional[FileSignature] = None

    def _stat(self) -> Optional[FileSignature]:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)

    def changed(self) -> bool:
        return self._stat() != self._signature

    def read(self) -> str:
        signature = self._stat()
        try:
            with open(self.path, encoding="utf-8") as f:
                value = f.read().strip()
        except OSError as e:
            raise GatehouseAuthError(f"cannot read the token file {self.path}: {e.strerror or type(e).__name__}") from None
        if not value:
            raise GatehouseAuthError(f"the token file {self.path} is empty")
        if any(c.isspace() for c in value):
            raise GatehouseAuthError(f"the token file {self.path} does not hold a single token (it contains whitespace)")
        self._signature = signature
        return value

    def fetch(self) -> Token:
        value = self.read()
        expires_at = jwt_expiry(value)
        if expires_at is not None and expires_at <= self._clock():
            raise GatehouseAuthError(
                f"the token in {self.path} expired {int(self._clock() - expires_at)} s ago and the file has not been "
                "refreshed (is the projected volume or the sidecar that writes it working?)"
            )
        return Token(value, expires_at)

    def after_fork(self) -> None:
        pass


class _TokenEndpoint:
    """One token endpoint with its client authentication; posts grants and parses answers."""

    def __init__(self, settings: Settings, clock: Callable[[], float]) -> None:
        self._s = settings
        self._clock = clock
        self._url = settings.token_url
        self._signer = (
            AssertionSigner(settings.private_key_file, settings.private_key_id, settings.private_key_alg)
            if settings.client_auth == "private_key_jwt" and settings.private_key_file
            else None
        )
        self._session = requests.Session()

    def after_fork(self) -> None:
        # A pooled connection inherited from the parent would be shared by two processes.
        self._session = requests.Session()

    def _request_options(self) -> Dict[str, object]:
        options: Dict[str, object] = {"timeout": self._s.timeout}
        if self._s.ca_bundle:
            options["verify"] = self._s.ca_bundle
        if self._s.client_cert:
            options["cert"] = self._s.client_cert
        return options

    def url(self) -> str:
        if self._url:
            return self._url
        discovery = f"{self._s.issuer}/.well-known/openid-configuration"
        try:
            res = self._session.get(discovery, **self._request_options())  # type: ignore[arg-type]
            doc = res.json() if res.ok else None
        except (requests.RequestException, ValueError) as e:
            raise GatehouseAuthError(f"OpenID discovery at {discovery} failed: {type(e).__name__}") from None
        if not isinstance(doc, dict):
            raise GatehouseAuthError(f"OpenID discovery at {discovery} failed: HTTP {res.status_code}")
        # RFC 8705 §5: mTLS clients use the mtls_endpoint_aliases when the IdP publishes them.
        aliases = doc.get("mtls_endpoint_aliases") if self._s.client_auth == "tls_client_auth" else None
        url = (aliases or {}).get("token_endpoint") or doc.get("token_endpoint")
        if not isinstance(url, str):
            raise GatehouseAuthError(f"OpenID discovery at {discovery} has no token_endpoint")
        self._url = url
        return url

    def post(self, form: Dict[str, str], what: str) -> Token:
        url = self.url()
        s = self._s
        headers = {"Accept": "application/json"}
        form = {k: v for k, v in form.items() if v}
        if s.scope:
            form["scope"] = s.scope
        if s.audience:
            form["audience"] = s.audience
        if s.resource:
            form["resource"] = s.resource
        if s.client_auth == "client_secret_basic" and s.client_secret and s.client_id:
            # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
            pair = f"{quote(s.client_id, safe='')}:{quote(s.client_secret.reveal(), safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        elif s.client_auth == "client_secret_post" and s.client_secret and s.client_id:
            form.update(client_id=s.client_id, client_secret=s.client_secret.reveal())
        elif s.client_auth == "private_key_jwt" and self._signer and s.client_id:
            form.update(client_id=s.client_id, client_assertion_type=ASSERTION_TYPE, client_assertion=self._signer.sign(s.client_id, url, self._clock()))
        elif s.client_id:  # tls_client_auth (RFC 8705 §2) or a public client
            form["client_id"] = s.client_id
        started = self._clock()
        try:
            res = self._session.post(url, data=form, headers=headers, **self._request_options())  # type: ignore[arg-type]
        except requests.RequestException as e:
            raise GatehouseAuthError(f"{what}: the token endpoint {url} could not be reached ({type(e).__name__})") from None
        try:
            body = res.json()
        except ValueError:
            body = None
        if not res.ok or not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            detail = ""
            if isinstance(body, dict) and isinstance(body.get("error"), str):
                detail = f": {body['error']}"
                if isinstance(body.get("error_description"), str):
                    detail += f" ({body['error_description'][:200]})"
            raise GatehouseAuthError(f"{what}: the token endpoint {url} answered HTTP {res.status_code}{detail}")
        token_type = str(body.get("token_type", "Bearer"))
        if token_type.lower() not in ("bearer", "n_a"):
            raise GatehouseAuthError(f"{what}: the token endpoint {url} issued a {token_type!r} token; only Bearer tokens are supported")
        value = body["access_token"]
        expires_in = body.get("expires_in")
        expires_at = jwt_expiry(value)
        if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool) and expires_in > 0:
            # Relative to our clock at request time (immune to skew with the IdP), but never later
            # than the JWT's own `exp`, which IdPs round down to whole seconds.
            relative = started + float(expires_in)
            expires_at = relative if expires_at is None else min(relative, expires_at)
        return Token(value, expires_at)


class ClientCredentialsSource:
    """OAuth2 client credentials (RFC 6749 §4.4) with secret, private_key_jwt or mTLS."""

    prefetch = True

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.description = f"client credentials for client {settings.client_id!r} ({settings.client_auth})"
        self._endpoint = _TokenEndpoint(settings, clock)

    def fetch(self) -> Token:
        return self._endpoint.post({"grant_type": "client_credentials"}, self.description)

    def changed(self) -> bool:
        return False

    def after_fork(self) -> None:
        self._endpoint.after_fork()


class TokenExchangeSource:
    """RFC 8693 token exchange: the token file's token (the subject) for a Gatehouse-accepted one."""

    prefetch = True

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._file = FileTokenSource(settings.token_file, clock)
        self.description = f"token exchange of {self._file.description}"
        self._endpoint = _TokenEndpoint(settings, clock)

    def fetch(self) -> Token:
        subject = self._file.fetch().value
        return self._endpoint.post(
            {
                "grant_type": TOKEN_EXCHANGE_GRANT,
                "subject_token": subject,
                "subject_token_type": self._settings.subject_token_type,
                "requested_token_type": self._settings.requested_token_type,
            },
            self.description,
        )

    def changed(self) -> bool:
        # The exchanged token stays valid until its own expiry, whatever happens to the file.
        return False

    def after_fork(self) -> None:
        self._endpoint.after_fork()


def source_for(settings: Settings, clock: Callable[[], float] = time.time) -> TokenSource:
    if settings.source == "file":
        return FileTokenSource(settings.token_file, clock)
    if settings.source == "exchange":
        return TokenExchangeSource(settings, clock)
    return ClientCredentialsSource(settings, clock)
