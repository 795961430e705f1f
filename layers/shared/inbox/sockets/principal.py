"""The user of a WebSocket connection, as the $connect authorizer vouched for it.

API Gateway passes the authorizer's context to every route of the connection ($connect,
$disconnect, $default): the principal id, and the userId the authorizer put in its context.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def connection_user(request_context: Mapping[str, Any]) -> str | None:
    authorizer = request_context.get("authorizer") or {}
    user_id = authorizer.get("principalId") or authorizer.get("userId")
    return str(user_id) if user_id else None
