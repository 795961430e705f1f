"""The WebSocket handshake: where a client's token travels, and the subprotocol $connect answers with.

A browser cannot set headers on a WebSocket. It can name subprotocols, which go in the
``Sec-WebSocket-Protocol`` header: ``new WebSocket(url, ["bearer", token])`` sends
``Sec-WebSocket-Protocol: bearer, <token>``, and keeps the token out of the URL, where proxies,
access logs and browser histories would keep it. ``?token=`` still works for clients that cannot
name subprotocols. A client that names subprotocols must get one of them back from $connect
(API Gateway passes the integration's header on), or it drops the connection.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

BEARER_SUBPROTOCOL = "bearer"
SUBPROTOCOL_HEADER = "Sec-WebSocket-Protocol"
TOKEN_PARAMETER = "token"  # noqa: S105 - the query parameter's name, not a secret


def _header(headers: Mapping[str, Any] | None, name: str) -> str:
    wanted = name.lower()
    return next((str(value) for key, value in (headers or {}).items() if key.lower() == wanted), "")


def offered_subprotocols(headers: Mapping[str, Any] | None) -> list[str]:
    """The subprotocols a client names, in its order (one header, comma-separated)."""
    return [name.strip() for name in _header(headers, SUBPROTOCOL_HEADER).split(",") if name.strip()]


def offered_token(headers: Mapping[str, Any] | None, query: Mapping[str, Any] | None) -> str:
    """The token a client presents, or "" when it presents none.

    A client that names the bearer subprotocol presents the subprotocol right after it, and nothing
    else: a token elsewhere in the header (under another name, before "bearer", in another case) is
    no token, and a query token does not stand in for a missing one.
    """
    offered = offered_subprotocols(headers)
    if BEARER_SUBPROTOCOL in offered:
        position = offered.index(BEARER_SUBPROTOCOL) + 1
        return offered[position] if position < len(offered) else ""
    return str((query or {}).get(TOKEN_PARAMETER) or "")


def connect_answer(headers: Mapping[str, Any] | None) -> dict[str, Any]:
    """$connect's answer: the bearer subprotocol named back to a client that offered it."""
    if BEARER_SUBPROTOCOL in offered_subprotocols(headers):
        return {"statusCode": 200, "headers": {SUBPROTOCOL_HEADER: BEARER_SUBPROTOCOL}}
    return {"statusCode": 200}
