"""Cursors are bound to their user and listing; push payloads fit every platform's limit."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from inbox.api.cursor import Cursor
from inbox.delivery.push import PLATFORM_PAYLOAD_LIMIT, push_message, title
from inbox.errors import BadCursor
from inbox.models import Actor, Notification, NotificationType, Resource

POSITION = "1795000000000#" + "a" * 26


def test_a_cursor_round_trips_for_its_own_user_and_listing() -> None:
    cursor = Cursor(user_id="alice", unread_only=True, position=POSITION, watermark=5)
    assert Cursor.decode(cursor.encode(), user_id="alice", unread_only=True) == cursor


@pytest.mark.parametrize(("user_id", "unread_only"), [("bob", True), ("alice", False)])
def test_a_cursor_for_another_user_or_listing_is_a_bad_cursor(user_id: str, unread_only: bool) -> None:
    token = Cursor(user_id="alice", unread_only=True, position=POSITION, watermark=0).encode()
    with pytest.raises(BadCursor):
        Cursor.decode(token, user_id=user_id, unread_only=unread_only)


@pytest.mark.parametrize(
    "token", ["", "!!!", "eyJ1IjoiYSJ9", "a" * 600, "bnVsbA", "eyJ1IjoiYWxpY2UiLCJyIjpmYWxzZSwicCI6IngiLCJ3IjowfQ"]
)
def test_garbage_is_a_bad_cursor(token: str) -> None:
    with pytest.raises(BadCursor):
        Cursor.decode(token, user_id="alice", unread_only=False)


def notification(excerpt: str | None) -> Notification:
    return Notification(
        id="a" * 26,
        type=NotificationType.REPLY,
        actor=Actor(id="bob", username="Bob"),
        resource=Resource(type="post", id="p1", excerpt=excerpt),
        created_at=datetime(2026, 11, 23, tzinfo=UTC),
        read=False,
    )


def test_a_push_names_who_did_what() -> None:
    assert title(notification("hi")) == "Bob replied to your post"


def test_a_push_payload_fits_each_platform_even_with_a_huge_excerpt() -> None:
    message = json.loads(push_message(notification("é" * 5000)))
    assert set(message) == {"default", "APNS", "APNS_SANDBOX", "GCM"}
    for platform in ("APNS", "APNS_SANDBOX", "GCM"):
        assert len(message[platform].encode()) <= PLATFORM_PAYLOAD_LIMIT
    apns = json.loads(message["APNS"])
    assert apns["notification"]["id"] == "a" * 26
    assert apns["aps"]["alert"]["title"] == "Bob replied to your post"
