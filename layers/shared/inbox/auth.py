"""Verification of users' access tokens (RS256 JWTs) against the issuer's JWKS, with PyJWT."""

from __future__ import annotations

from functools import lru_cache

import jwt

from inbox.settings import AuthSettings, auth_settings

# A real access token is 1-2 KB; anything far larger is refused before any parsing.
MAX_TOKEN_CHARS = 8192
LEEWAY_SECONDS = 30
# The issuer's key set is kept for an hour; a token naming an unknown kid (a rotated key, or a
# forgery) refetches it at most once per cooldown, so a flood of such tokens cannot flood the issuer.
JWKS_LIFESPAN_SECONDS = 3600
JWKS_REFRESH_COOLDOWN_SECONDS = 30


class InvalidToken(Exception):
    pass


@lru_cache(maxsize=1)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    # Keys are looked up in the cached key set only (no per-kid cache, whose entries never
    # expire): a key the issuer withdraws stops being accepted when the set is next refreshed.
    return jwt.PyJWKClient(
        url,
        cache_keys=False,
        lifespan=JWKS_LIFESPAN_SECONDS,
        cooldown_duration=JWKS_REFRESH_COOLDOWN_SECONDS,
        timeout=5,
    )


def verify(token: str, settings: AuthSettings | None = None) -> str:
    """The user id (sub) of a valid token; InvalidToken with the reason otherwise."""
    settings = settings or auth_settings()
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise InvalidToken("token is missing or too long")
    try:
        signing_key = _jwks_client(str(settings.jwks_url)).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            signing_key.key,
            algorithms=["RS256"],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except (jwt.PyJWTError, ValueError) as error:
        raise InvalidToken(str(error) or type(error).__name__) from None
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise InvalidToken("sub claim is empty")
    return subject
