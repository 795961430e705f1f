"""What the WebSocket API answers to messages clients send ($default route).

The socket only delivers notifications; everything else goes through the HTTP API. A client may
send ``{"type": "ping"}`` to keep an idle connection open (API Gateway closes it after 10 idle
minutes) and gets ``{"type": "pong"}``; anything else gets a clear error, never a crash.
"""

from __future__ import annotations

import json
from typing import Any

PING = "ping"
UNSUPPORTED = (
    'this socket only delivers notifications: send {"type": "ping"} to keep it open, '
    "and use the HTTP API for everything else"
)


def answer(body: str | None) -> dict[str, Any]:
    """The answer to one client message, whatever it holds."""
    try:
        message = json.loads(body or "")
    except (ValueError, RecursionError):
        message = None
    if isinstance(message, dict) and message.get("type") == PING:
        return {"type": "pong"}
    return {"type": "error", "error": {"code": "unsupported_message", "message": UNSUPPORTED}}
