"""Settings of the plugin, read from environment variables and validated once, completely.

Every variable starts with ``MLFLOW_GATEHOUSE_`` (the gateway itself reads ``GATEHOUSE_*``, so
a shared environment never confuses the two). See the package README for the reference table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Optional, Tuple

from gatehouse_mlflow.errors import GatehouseAuthError

PREFIX = "MLFLOW_GATEHOUSE_"
SOURCES = ("client_credentials", "file", "exchange")
CLIENT_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "tls_client_auth", "none")
DEFAULT_TOKEN_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/token"
TOKEN_TYPE_JWT = "urn:ietf:params:oauth:token-type:jwt"
TOKEN_TYPE_ACCESS = "urn:ietf:params:oauth:token-type:access_token"


class Secret:
    """A credential that prints as ``[redacted]`` (in reprs, logs and tracebacks)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "[redacted]"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Settings:
    """One plugin configuration; equal environments give equal settings (and share a token cache)."""

    source: str
    token_url: Optional[str]
    issuer: Optional[str]
    client_id: Optional[str]
    client_secret: Optional[Secret]
    client_auth: str
    private_key_file: Optional[str]
    private_key_id: Optional[str]
    private_key_alg: Optional[str]
    client_cert_file: Optional[str]
    client_key_file: Optional[str]
    ca_bundle: Optional[str]
    scope: Optional[str]
    audience: Optional[str]
    resource: Optional[str]
    token_file: str
    subject_token_type: str
    requested_token_type: str
    refresh_margin: float
    refresh_jitter: float
    timeout: float

    @property
    def client_cert(self) -> Optional[Tuple[str, str]]:
        if not self.client_cert_file:
            return None
        return (self.client_cert_file, self.client_key_file or self.client_cert_file)


def _number(env: Mapping[str, str], name: str, default: float, problems: list) -> float:
    raw = env.get(PREFIX + name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        problems.append(f"{PREFIX}{name} must be a number of seconds (got {raw!r})")
        return default
    if value < 0:
        problems.append(f"{PREFIX}{name} must not be negative")
    return value


def settings_from_env(env: Optional[Mapping[str, str]] = None) -> Settings:
    """Reads the ``MLFLOW_GATEHOUSE_*`` variables; raises one error listing every problem."""
    env = os.environ if env is None else env

    def get(name: str) -> Optional[str]:
        value = env.get(PREFIX + name)
        return value.strip() if value and value.strip() else None

    problems: list = []
    client_id = get("CLIENT_ID")
    secret_value = env.get(PREFIX + "CLIENT_SECRET") or None
    secret_file = get("CLIENT_SECRET_FILE")
    if secret_value is None and secret_file:
        try:
            with open(secret_file, encoding="utf-8") as f:
                secret_value = f.read().strip() or None
        except OSError as e:
            problems.append(f"{PREFIX}CLIENT_SECRET_FILE: cannot read {secret_file}: {e.strerror}")
    private_key_file = get("PRIVATE_KEY_FILE")
    client_cert_file = get("CLIENT_CERT_FILE")

    source = (get("TOKEN_SOURCE") or ("client_credentials" if client_id else "file")).lower()
    if source not in SOURCES:
        problems.append(f"{PREFIX}TOKEN_SOURCE must be one of {', '.join(SOURCES)} (got {source!r})")

    default_auth = (
        "private_key_jwt" if private_key_file
        else "client_secret_basic" if secret_value
        else "tls_client_auth" if client_cert_file and client_id
        else "none"
    )
    client_auth = (get("CLIENT_AUTH") or default_auth).lower()
    if client_auth not in CLIENT_AUTH_METHODS:
        problems.append(f"{PREFIX}CLIENT_AUTH must be one of {', '.join(CLIENT_AUTH_METHODS)} (got {client_auth!r})")
    if client_auth in ("client_secret_basic", "client_secret_post") and not secret_value:
        problems.append(f"{PREFIX}CLIENT_AUTH={client_auth} needs {PREFIX}CLIENT_SECRET or {PREFIX}CLIENT_SECRET_FILE")
    if client_auth == "private_key_jwt" and not private_key_file:
        problems.append(f"{PREFIX}CLIENT_AUTH=private_key_jwt needs {PREFIX}PRIVATE_KEY_FILE (a PEM private key)")
    if client_auth == "tls_client_auth" and not client_cert_file:
        problems.append(f"{PREFIX}CLIENT_AUTH=tls_client_auth needs {PREFIX}CLIENT_CERT_FILE (and usually {PREFIX}CLIENT_KEY_FILE)")
    if client_auth != "none" and not client_id:
        problems.append(f"{PREFIX}CLIENT_ID is required for client authentication ({client_auth})")

    token_url = get("TOKEN_URL")
    issuer = get("ISSUER")
    if source in ("client_credentials", "exchange"):
        if not token_url and not issuer:
            problems.append(f"{PREFIX}TOKEN_SOURCE={source} needs {PREFIX}TOKEN_URL (or {PREFIX}ISSUER for discovery)")
        if source == "client_credentials" and client_auth == "none":
            problems.append(
                f"{PREFIX}TOKEN_SOURCE=client_credentials needs client credentials: {PREFIX}CLIENT_ID with "
                f"{PREFIX}CLIENT_SECRET, {PREFIX}PRIVATE_KEY_FILE or {PREFIX}CLIENT_CERT_FILE"
            )
    for name, url in (("TOKEN_URL", token_url), ("ISSUER", issuer)):
        if url and not url.startswith(("https://", "http://")):
            problems.append(f"{PREFIX}{name} must be an http(s) URL (got {url!r})")

    settings = Settings(
        source=source,
        token_url=token_url,
        issuer=issuer.rstrip("/") if issuer else None,
        client_id=client_id,
        client_secret=Secret(secret_value) if secret_value else None,
        client_auth=client_auth,
        private_key_file=private_key_file,
        private_key_id=get("PRIVATE_KEY_ID"),
        private_key_alg=get("PRIVATE_KEY_ALG"),
        client_cert_file=client_cert_file,
        client_key_file=get("CLIENT_KEY_FILE"),
        ca_bundle=get("CA_BUNDLE"),
        scope=get("SCOPE"),
        audience=get("AUDIENCE"),
        resource=get("RESOURCE"),
        token_file=get("TOKEN_FILE") or DEFAULT_TOKEN_FILE,
        subject_token_type=get("SUBJECT_TOKEN_TYPE") or TOKEN_TYPE_JWT,
        requested_token_type=get("REQUESTED_TOKEN_TYPE") or TOKEN_TYPE_ACCESS,
        refresh_margin=_number(env, "REFRESH_MARGIN_SECONDS", 60.0, problems),
        refresh_jitter=_number(env, "REFRESH_JITTER_SECONDS", 30.0, problems),
        timeout=_number(env, "HTTP_TIMEOUT_SECONDS", 10.0, problems) or 10.0,
    )
    if problems:
        raise GatehouseAuthError("invalid configuration (MLFLOW_TRACKING_AUTH=gatehouse):\n  - " + "\n  - ".join(problems))
    return settings
