"""A local token issuer: an RS256 key pair, its JWKS, and tokens for any user."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


@dataclass
class TokenIssuer:
    issuer: str
    audience: str
    key_id: str = "local-1"
    private_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    def jwks(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        return {"keys": [{**public, "kid": self.key_id, "use": "sig", "alg": "RS256"}]}

    def mint(self, user_id: str, *, lifetime: int = 3600, **overrides: Any) -> str:
        now = int(time.time())
        claims = {"sub": user_id, "iss": self.issuer, "aud": self.audience, "iat": now, "exp": now + lifetime}
        claims.update(overrides)
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.key_id})
