"""A notification too large for a delivery channel is trimmed (its excerpt shortened), never dropped.

One function (inbox.models.fit_excerpt) serves both channels: the WebSocket message (128 KB, API
Gateway's limit) and the push payload (4 KB, APNs' and FCM's limit).
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from inbox.delivery.changes import ChangeKind, InboxChange
from inbox.delivery.messages import WEBSOCKET_FRAME_LIMIT, websocket_message
from inbox.delivery.push import PLATFORM_PAYLOAD_LIMIT, push_message
from inbox.models import Actor, LiveCounts, Notification, NotificationEvent, NotificationType, Resource, fit_excerpt
from inbox.store.items import InboxState, entry_item, notification_from_item
from inbox.timestamps import to_ms

from tests.builders import AT, entry

ENTRY_ID = "mfrggzdfmztwq2lknnwg23tpoa"


def notification(excerpt: str | None) -> Notification:
    return entry(excerpt, entry_id=ENTRY_ID)


def created(excerpt: str | None) -> tuple[InboxChange, Notification]:
    """A new entry's change, its item written with ``excerpt`` (by other means than the ingest), and the entry."""
    event = NotificationEvent(
        type=NotificationType.REPLY,
        recipient_id="alice",
        actor=Actor(id="bob", username="Bob"),
        resource=Resource(type="post", id="p1"),
        occurred_at=AT,
    )
    item = entry_item(event, ENTRY_ID, now_ms=to_ms(AT), ttl_seconds=86_400)
    if excerpt is not None:
        item["x"] = excerpt
    return InboxChange("alice", ChangeKind.CREATED, ENTRY_ID, item=item), notification_from_item(item, InboxState())


def json_size(item: Notification) -> int:
    return len(item.model_dump_json(by_alias=True).encode())


def assert_trimmed_from(trimmed: Notification, original: Notification) -> None:
    """Only the excerpt changed, to a prefix of the original ending in an ellipsis."""
    excerpt = trimmed.resource.excerpt
    assert original.resource.excerpt is not None
    assert excerpt is not None
    assert excerpt.endswith("…")
    assert original.resource.excerpt.startswith(excerpt[:-1])
    assert trimmed.model_copy(update={"resource": original.resource}) == original


# -- the shared function ------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(text=st.text(min_size=1, max_size=3000), headroom=st.integers(min_value=0, max_value=4000))
def test_fit_excerpt_keeps_the_longest_excerpt_that_fits(text: str, headroom: int) -> None:
    original = notification(text)
    limit = json_size(notification(None)) + headroom

    fitted = fit_excerpt(original, json_size, limit)

    if json_size(original) <= limit:
        assert fitted is original
        return
    assert json_size(fitted) <= limit
    excerpt = fitted.resource.excerpt
    if excerpt is None:
        # not even one character and the ellipsis fit
        assert json_size(notification("…")) > limit
        return
    assert_trimmed_from(fitted, original)
    # and one character more would not have fitted
    if len(excerpt) < len(text):
        assert json_size(notification(text[: len(excerpt)] + "…")) > limit


def test_fit_excerpt_gives_up_the_excerpt_when_nothing_else_fits() -> None:
    original = notification("some text")
    fitted = fit_excerpt(original, json_size, limit=10)
    assert fitted.resource.excerpt is None
    assert fitted.id == original.id


# -- push payloads (4 KB) -----------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(text=st.text(min_size=1, max_size=6000))
def test_every_push_payload_fits_the_platform_limit_with_the_notification_intact(text: str) -> None:
    original = notification(text)
    payloads = json.loads(push_message(original))
    for platform in ("APNS", "APNS_SANDBOX", "GCM"):
        assert len(payloads[platform].encode()) <= PLATFORM_PAYLOAD_LIMIT
    data = json.loads(payloads["APNS"])["notification"]
    pushed = Notification.model_validate(data)
    assert pushed.id == original.id
    if pushed.resource.excerpt != text:
        assert_trimmed_from(pushed, original)


def test_a_push_over_the_limit_keeps_as_much_of_the_excerpt_as_fits() -> None:
    # Given an excerpt of multi-byte characters (each is 6 bytes once JSON-escaped, 7 in FCM's nested JSON)
    original = notification("é" * 5000)

    # When the push is made
    payloads = json.loads(push_message(original))

    # Then the FCM payload is just under the limit, and the alert shows the start of the text
    fcm = payloads["GCM"]
    assert PLATFORM_PAYLOAD_LIMIT - 20 < len(fcm.encode()) <= PLATFORM_PAYLOAD_LIMIT
    body = json.loads(fcm)["notification"]["body"]
    assert body.startswith("éé")
    assert body.endswith("…")


def test_a_push_within_the_limit_is_untouched() -> None:
    payloads = json.loads(push_message(notification("a short excerpt")))
    assert json.loads(payloads["APNS"])["aps"]["alert"]["body"] == "a short excerpt"


# -- WebSocket messages (128 KB) ------------------------------------------------------------------


def test_a_notification_over_the_websocket_limit_is_sent_with_a_shortened_excerpt() -> None:
    # Given a new notification with a 200 KB excerpt (an item written by other means than the ingest)
    change, original = created("ü" * 200_000)
    assert len(original.model_dump_json().encode()) > WEBSOCKET_FRAME_LIMIT

    # When its WebSocket message is made
    data = websocket_message(change, InboxState())

    # Then it fits in one message, nearly filling it, and carries the notification with a shortened excerpt
    assert WEBSOCKET_FRAME_LIMIT - 20 < len(data) <= WEBSOCKET_FRAME_LIMIT
    message = json.loads(data)
    assert message["type"] == "notification.created"
    assert_trimmed_from(Notification.model_validate(message["notification"]), original)


def test_messages_within_the_limit_are_sent_as_they_are() -> None:
    # Given a small new entry and a read change
    change, small = created("short")
    read = InboxChange("alice", ChangeKind.READ, ENTRY_ID)
    counts = LiveCounts(unread=3, unseen=1)

    # When their messages are made, then they carry the entry (or its id) untouched, and the counts
    expected = {
        "type": "notification.created",
        "counts": {"unread": 3, "unseen": 1},
        "notification": small.model_dump(mode="json", by_alias=True),
    }
    assert json.loads(websocket_message(change, InboxState(), counts)) == expected
    assert json.loads(websocket_message(read, InboxState(), counts)) == {
        "type": "notification.read",
        "id": ENTRY_ID,
        "counts": {"unread": 3, "unseen": 1},
    }
