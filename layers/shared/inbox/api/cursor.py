"""Opaque listing cursors.

A cursor names the user and listing it was made for, so a cursor from another user or another
listing is refused as a bad cursor instead of being honoured. It carries the watermarks of its
first page so that later pages render read, seen and cleared state consistently.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from inbox.errors import BadCursor
from inbox.store.items import InboxState
from inbox.store.listing import Listing, ListPosition

MAX_CURSOR_CHARS = 512
_POSITION = re.compile(r"[0-9]{13}(#[a-z2-7]{26})?")


def listing_key(listing: Listing) -> str:
    types = ",".join(sorted(kind.value for kind in listing.types))
    return f"{listing.status.value}|{int(listing.unread_only)}|{types}"


def _watermark(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BadCursor("cursor is malformed")
    return value


@dataclass(frozen=True)
class Cursor:
    user_id: str
    listing: Listing
    after: ListPosition

    def encode(self) -> str:
        state = self.after.state
        document = {
            "u": self.user_id,
            "l": listing_key(self.listing),
            "p": self.after.position,
            "s": [state.read_all, state.seen_all, state.cleared, state.unread_floor or ""],
        }
        raw = json.dumps(document, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, *, user_id: str, listing: Listing) -> Cursor:
        if len(token) > MAX_CURSOR_CHARS:
            raise BadCursor("cursor is too long")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            document = json.loads(raw)
        except (binascii.Error, ValueError):
            raise BadCursor("cursor is malformed") from None
        if not isinstance(document, dict) or set(document) != {"u", "l", "p", "s"}:
            raise BadCursor("cursor is malformed")
        position, watermarks = document["p"], document["s"]
        if not isinstance(position, str) or not _POSITION.fullmatch(position):
            raise BadCursor("cursor is malformed")
        if not isinstance(watermarks, list) or len(watermarks) != 4:
            raise BadCursor("cursor is malformed")
        read_all, seen_all, cleared = (_watermark(value) for value in watermarks[:3])
        floor = watermarks[3]
        if not isinstance(floor, str) or (floor and not _POSITION.fullmatch(floor)):
            raise BadCursor("cursor is malformed")
        if document["u"] != user_id or document["l"] != listing_key(listing):
            raise BadCursor("cursor was made for another listing")
        state = InboxState(read_all=read_all, seen_all=seen_all, cleared=cleared, unread_floor=floor or None)
        return cls(user_id=user_id, listing=listing, after=ListPosition(position=position, state=state))
