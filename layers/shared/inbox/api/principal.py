"""The user a request acts for: the token's subject, as API Gateway's JWT authorizer passed it on."""

from __future__ import annotations

from typing import Any

from inbox.errors import Unauthorized


def user_of_claims(claims: dict[str, Any] | None) -> str:
    user_id = (claims or {}).get("sub")
    if not isinstance(user_id, str) or not user_id:
        raise Unauthorized("a valid bearer token is required")
    return user_id


def verified_email(claims: dict[str, Any] | None) -> str | None:
    """The token's address, only if its issuer says it is verified (API Gateway passes claims as text)."""
    claims = claims or {}
    email, verified = claims.get("email"), claims.get("email_verified")
    if not isinstance(email, str) or "@" not in email or len(email) > 254:
        return None
    return email if verified is True or str(verified).lower() == "true" else None
