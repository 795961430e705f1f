"""Cursors are bound to their user and listing; push payloads fit every platform's limit."""

from __future__ import annotations

import json

import pytest
from inbox.api.cursor import Cursor
from inbox.delivery.push import PLATFORM_PAYLOAD_LIMIT, publish_kwargs, push_message, title
from inbox.errors import BadCursor
from inbox.models import NotificationType
from inbox.store.items import InboxState
from inbox.store.listing import Listing, ListPosition, Status

from tests.builders import entry

POSITION = "1795000000000#" + "a" * 26
UNREAD = Listing(unread_only=True)
STATE = InboxState(read_all=5, seen_all=7, cleared=3, unread_floor="1794000000000#" + "b" * 26)


def test_a_cursor_round_trips_for_its_own_user_and_listing() -> None:
    cursor = Cursor(user_id="alice", listing=UNREAD, after=ListPosition(position=POSITION, state=STATE))
    assert Cursor.decode(cursor.encode(), user_id="alice", listing=UNREAD) == cursor


@pytest.mark.parametrize(
    ("user_id", "listing"),
    [
        ("bob", UNREAD),
        ("alice", Listing()),
        ("alice", Listing(status=Status.ARCHIVED, unread_only=True)),
        ("alice", Listing(unread_only=True, types=frozenset({NotificationType.MENTION}))),
    ],
)
def test_a_cursor_for_another_user_or_listing_is_a_bad_cursor(user_id: str, listing: Listing) -> None:
    token = Cursor(user_id="alice", listing=UNREAD, after=ListPosition(position=POSITION, state=STATE)).encode()
    with pytest.raises(BadCursor):
        Cursor.decode(token, user_id=user_id, listing=listing)


@pytest.mark.parametrize(
    "token", ["", "!!!", "eyJ1IjoiYSJ9", "a" * 600, "bnVsbA", "eyJ1IjoiYWxpY2UiLCJyIjpmYWxzZSwicCI6IngiLCJ3IjowfQ"]
)
def test_garbage_is_a_bad_cursor(token: str) -> None:
    with pytest.raises(BadCursor):
        Cursor.decode(token, user_id="alice", listing=Listing())


def test_a_push_names_who_did_what() -> None:
    assert title(entry("hi")) == "Bob replied to your post"


@pytest.mark.parametrize(
    ("actors", "count", "text"),
    [
        (("Alice",), 1, "Alice liked your post"),
        (("Alice", "Bob"), 2, "Alice and Bob liked your post"),
        (("Alice", "Bob", "Carol"), 3, "Alice, Bob and Carol liked your post"),
        (("Alice", "Bob", "Carol"), 4, "Alice, Bob and 2 others liked your post"),
        (("Alice", "Bob", "Carol"), 5, "Alice, Bob and 3 others liked your post"),
        (("Carol",), 2, "Carol and 1 other liked your post"),
    ],
)
def test_a_group_names_its_newest_actors_and_counts_the_others(actors: tuple[str, ...], count: int, text: str) -> None:
    assert title(entry(kind=NotificationType.LIKE, actors=actors, count=count)) == text


def test_a_push_collapses_with_the_other_pushes_of_its_entry() -> None:
    # Given a group's entry
    grouped = entry(kind=NotificationType.LIKE, actors=("Alice", "Bob"), count=5)

    # When its push is built
    kwargs = publish_kwargs("arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/1", grouped)
    message = json.loads(kwargs["Message"])

    # Then APNs and FCM both collapse by the entry's id
    assert kwargs["MessageAttributes"]["AWS.SNS.MOBILE.APNS.COLLAPSE_ID"]["StringValue"] == grouped.id
    assert json.loads(message["APNS"])["aps"]["thread-id"] == grouped.id
    fcm = json.loads(message["GCM"])
    assert (fcm["collapse_key"], fcm["notification"]["tag"]) == (grouped.id, grouped.id)


def test_a_push_payload_fits_each_platform_even_with_a_huge_excerpt() -> None:
    message = json.loads(push_message(entry("é" * 5000)))
    assert set(message) == {"default", "APNS", "APNS_SANDBOX", "GCM"}
    for platform in ("APNS", "APNS_SANDBOX", "GCM"):
        assert len(message[platform].encode()) <= PLATFORM_PAYLOAD_LIMIT
    apns = json.loads(message["APNS"])
    assert apns["notification"]["id"] == "a" * 26
    assert apns["aps"]["alert"]["title"] == "Bob replied to your post"
