"""Opaque listing cursors.

A cursor names the user and listing it was made for, so a cursor from another user or
another listing is refused as a bad cursor instead of being honoured. It carries the
read-all watermark of its first page so that later pages render read state consistently.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass

from inbox.errors import BadCursor
from inbox.store.notifications import ListPosition

MAX_CURSOR_CHARS = 512
_POSITION = re.compile(r"^\d{13}#[a-z2-7]{26}$")


@dataclass(frozen=True)
class Cursor:
    user_id: str
    unread_only: bool
    position: str
    watermark: int

    def encode(self) -> str:
        document = {"u": self.user_id, "r": self.unread_only, "p": self.position, "w": self.watermark}
        raw = json.dumps(document, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @property
    def after(self) -> ListPosition:
        return ListPosition(position=self.position, watermark=self.watermark)

    @classmethod
    def decode(cls, token: str, *, user_id: str, unread_only: bool) -> Cursor:
        if len(token) > MAX_CURSOR_CHARS:
            raise BadCursor("cursor is too long")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            document = json.loads(raw)
        except (binascii.Error, ValueError):
            raise BadCursor("cursor is malformed") from None
        if not isinstance(document, dict) or set(document) != {"u", "r", "p", "w"}:
            raise BadCursor("cursor is malformed")
        position, watermark = document["p"], document["w"]
        if not isinstance(position, str) or not _POSITION.match(position):
            raise BadCursor("cursor is malformed")
        if not isinstance(watermark, int) or isinstance(watermark, bool) or watermark < 0:
            raise BadCursor("cursor is malformed")
        if document["u"] != user_id or document["r"] is not unread_only:
            raise BadCursor("cursor was made for another listing")
        return cls(user_id=user_id, unread_only=unread_only, position=position, watermark=watermark)
