"""Signed one-click unsubscribe links: no login, but nobody can unsubscribe someone else.

A link carries a JWT (HS256) naming the user, for this purpose only, with an expiry; a tampered,
foreign or expired token is refused and changes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import jwt

from inbox.errors import InvalidLink
from inbox.timestamps import utc_now

AUDIENCE = "inbox-unsubscribe"
LINK_LIFETIME = timedelta(days=60)


class UnsubscribeLinks:
    def __init__(self, secret: str, route_url: str) -> None:
        self._secret = secret
        self._route_url = route_url

    def url_for(self, user_id: str) -> str:
        now = utc_now()
        token = jwt.encode(
            {"sub": user_id, "aud": AUDIENCE, "iat": now, "exp": now + LINK_LIFETIME}, self._secret, algorithm="HS256"
        )
        return f"{self._route_url}?{urlencode({'token': token})}"

    def user_of(self, token: str | None) -> str:
        if not token:
            raise InvalidLink("the link has no token")
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=["HS256"], audience=AUDIENCE, options={"require": ["sub", "exp"]}
            )
        except jwt.ExpiredSignatureError:
            raise InvalidLink("the link has expired") from None
        except jwt.InvalidTokenError:
            raise InvalidLink("the link is not valid") from None
        return str(claims["sub"])
