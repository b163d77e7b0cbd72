"""``private_key_jwt`` client authentication (OpenID Connect Core §9, RFC 7523 §2.2).

Signs a short-lived client assertion with a PEM private key using ``cryptography`` (already
installed with MLflow; declared as the ``private-key-jwt`` extra), so no JWT library is needed.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any, Dict, Optional

from gatehouse_mlflow.errors import GatehouseAuthError

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME_S = 60


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class AssertionSigner:
    """Loads the key once; ``sign`` makes a fresh assertion (new ``jti``) for every request."""

    def __init__(self, key_file: str, kid: Optional[str], alg: Optional[str]) -> None:
        try:
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
        except ImportError as e:  # pragma: no cover - cryptography ships with MLflow
            raise GatehouseAuthError("private_key_jwt needs the 'cryptography' package: pip install 'gatehouse-mlflow[private-key-jwt]'") from e
        try:
            with open(key_file, "rb") as f:
                self._key: Any = serialization.load_pem_private_key(f.read(), password=None)
        except (OSError, ValueError, TypeError) as e:
            raise GatehouseAuthError(f"cannot load the private key for private_key_jwt from {key_file}: {type(e).__name__}") from None
        if isinstance(self._key, rsa.RSAPrivateKey):
            allowed, default = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"), "RS256"
        elif isinstance(self._key, ec.EllipticCurvePrivateKey):
            default = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}.get(self._key.curve.name, "")
            allowed = (default,) if default else ()
        elif isinstance(self._key, ed25519.Ed25519PrivateKey):
            allowed, default = ("EdDSA",), "EdDSA"
        else:
            allowed, default = (), ""
        self.alg = alg or default
        if self.alg not in allowed:
            raise GatehouseAuthError(f"the private key in {key_file} cannot sign {self.alg or 'with any supported algorithm'}; supported: {', '.join(allowed) or 'none'}")
        self.kid = kid

    def sign(self, client_id: str, audience: str, now: float) -> str:
        header: Dict[str, str] = {"alg": self.alg, "typ": "JWT"}
        if self.kid:
            header["kid"] = self.kid
        claims = {
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "jti": uuid.uuid4().hex,
            "iat": int(now),
            "exp": int(now) + ASSERTION_LIFETIME_S,
        }
        signing_input = f"{_b64(json.dumps(header, separators=(',', ':')).encode())}.{_b64(json.dumps(claims, separators=(',', ':')).encode())}"
        return f"{signing_input}.{_b64(self._signature(signing_input.encode('ascii')))}"

    def _signature(self, data: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, padding, utils

        alg = self.alg
        if alg == "EdDSA":
            return self._key.sign(data)
        digest = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[alg[2:]]
        if alg.startswith("RS"):
            return self._key.sign(data, padding.PKCS1v15(), digest)
        if alg.startswith("PS"):
            return self._key.sign(data, padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size), digest)
        # JWS ES* signatures are r || s, each padded to the curve size (RFC 7518 §3.4), not DER.
        r, s = utils.decode_dss_signature(self._key.sign(data, ec.ECDSA(digest)))
        size = (self._key.curve.key_size + 7) // 8
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
