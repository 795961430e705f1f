"""Event adapters: both producers' topics map to the canonical model; bad records get a clear reason."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inbox.events import MAX_RECORD_BYTES, SUPPORTED_TOPICS, InvalidRecord, adapt
from inbox.models import EXCERPT_MAX_CHARS, NotificationEvent, NotificationType, Retraction

RECORD_TIME_MS = 1_795_000_000_000
ACTOR = {"actorId": "bob", "actorUsername": "Bob", "actorAvatar": "https://cdn.example.com/bob.png"}


def encode(value: object) -> bytes:
    return json.dumps(value).encode()


def test_a_liked_message_notifies_the_post_author() -> None:
    # Given a like from the seed-000 producer
    value = {**ACTOR, "postId": "p1", "postText": "hello", "postAuthorId": "alice", "createdAt": "2026-11-23T10:00:00Z"}

    # When it is adapted
    [event] = adapt("message-liked", encode(value), RECORD_TIME_MS)

    # Then alice is notified of bob's like of her post, at the producer's time
    assert isinstance(event, NotificationEvent)
    assert (event.type, event.recipient_id, event.actor.id) == (NotificationType.LIKE, "alice", "bob")
    assert (event.resource.type, event.resource.id, event.resource.excerpt) == ("post", "p1", "hello")
    assert event.occurred_at.isoformat() == "2026-11-23T10:00:00+00:00"


def test_a_follow_notifies_the_followed_user() -> None:
    [event] = adapt("user-followed", encode({**ACTOR, "followedUserId": "alice"}), RECORD_TIME_MS)
    assert isinstance(event, NotificationEvent)
    assert (event.type, event.recipient_id, event.resource.type) == (NotificationType.FOLLOW, "alice", "user")


def test_a_reply_with_mentions_notifies_each_once() -> None:
    # Given a reply to alice that mentions alice, carol and carol again
    value = {
        **ACTOR,
        "postId": "p2",
        "postText": "@alice @carol",
        "replyToPostId": "p1",
        "replyToUserId": "alice",
        "mentions": ["alice", "carol", "carol"],
    }

    # When it is adapted
    events = adapt("post-created", encode(value), RECORD_TIME_MS)

    # Then alice gets the reply only and carol one mention
    assert [(e.type, e.recipient_id) for e in events if isinstance(e, NotificationEvent)] == [
        (NotificationType.REPLY, "alice"),
        (NotificationType.MENTION, "carol"),
    ]


def test_a_plain_post_notifies_nobody() -> None:
    assert adapt("post-created", encode({**ACTOR, "postId": "p3", "postText": "hi"}), RECORD_TIME_MS) == []


def test_a_missing_created_at_falls_back_to_the_record_timestamp() -> None:
    [event] = adapt("user-followed", encode({**ACTOR, "followedUserId": "alice"}), RECORD_TIME_MS)
    assert isinstance(event, NotificationEvent)
    assert int(event.occurred_at.timestamp() * 1000) == RECORD_TIME_MS


@pytest.mark.parametrize(
    ("topic", "action", "kind", "resource_type"),
    [
        ("notifications.post.like", 1, NotificationType.LIKE, "post"),
        ("notifications.comment.like", 2, NotificationType.LIKE, "comment"),
        ("notifications.reply.post", 3, NotificationType.REPLY, "post"),
        ("notifications.reply.comment", 4, NotificationType.REPLY, "comment"),
    ],
)
def test_exobook_events_map_to_the_canonical_model(
    topic: str, action: int, kind: NotificationType, resource_type: str
) -> None:
    value = {
        "owner": "alice",
        "trigger_user": "dave",
        "username": "Dave",
        "user_picture": "https://cdn.example.com/dave.png",
        "action": action,
        "resource_type": resource_type.upper(),
        "resource_id": "r1",
        "excerpt": "nice",
        "created_at": 1_765_318_000,
    }
    [event] = adapt(topic, encode(value), RECORD_TIME_MS)
    assert isinstance(event, NotificationEvent)
    assert (event.type, event.recipient_id, event.actor.username) == (kind, "alice", "Dave")
    assert (event.resource.type, event.resource.id) == (resource_type, "r1")
    assert event.occurred_at.timestamp() == 1_765_318_000


def test_an_unlike_is_a_retraction_of_the_same_action_as_the_like() -> None:
    like_value = {"owner": "alice", "trigger_user": "dave", "action": 1, "resource_type": "POST", "resource_id": "p1"}
    unlike_value = {**like_value, "action": 5}
    [like] = adapt("notifications.post.like", encode(like_value), RECORD_TIME_MS)
    [unlike] = adapt("notifications.post.unlike", encode(unlike_value), RECORD_TIME_MS + 5)
    assert isinstance(unlike, Retraction)
    assert unlike.notification_id == like.notification_id


def test_the_same_action_always_gets_the_same_id() -> None:
    value = {**ACTOR, "postId": "p1", "postAuthorId": "alice"}
    [first] = adapt("message-liked", encode({**value, "createdAt": 1}), RECORD_TIME_MS)
    [again] = adapt("message-liked", encode({**value, "createdAt": 2}), RECORD_TIME_MS + 1)
    assert first.notification_id == again.notification_id


def test_an_enormous_excerpt_is_shortened_not_refused() -> None:
    value = {**ACTOR, "postId": "p1", "postText": "word " * 1000, "postAuthorId": "alice"}
    [event] = adapt("message-liked", encode(value), RECORD_TIME_MS)
    assert isinstance(event, NotificationEvent)
    assert event.resource.excerpt is not None
    assert len(event.resource.excerpt) == EXCERPT_MAX_CHARS
    assert event.resource.excerpt.endswith("…")


@pytest.mark.parametrize(
    ("topic", "raw", "reason"),
    [
        ("message-liked", b'{"actorId": "bob"', "not JSON"),
        ("message-liked", b"\xff\xfe{}", "not UTF-8"),
        ("message-liked", b"[1, 2]", "JSON list, not an object"),
        ("message-liked", encode({**ACTOR, "postId": "p1"}), "postAuthorId is required"),
        ("message-liked", encode({"actorId": 42, "postId": "p1", "postAuthorId": "a"}), "actorId"),
        ("user-followed", encode(ACTOR), "followedUserId is required"),
        ("notifications.post.like", encode({"owner": "a", "trigger_user": "b", "action": 1}), "resource_type"),
        (
            "notifications.post.like",
            encode({"trigger_user": "b", "action": 1, "resource_type": "POST", "resource_id": "p"}),
            "owner",
        ),
        (
            "notifications.post.like",
            encode({"owner": "a", "trigger_user": "b", "action": 9, "resource_type": "POST", "resource_id": "p"}),
            "action 9 does not match",
        ),
        ("user-followed", encode({**ACTOR, "followedUserId": "a", "createdAt": -(2**63)}), "out of range"),
        ("billing-updated", encode(ACTOR), "unknown topic"),
        ("message-liked", b" " * (MAX_RECORD_BYTES + 1), "over the"),
    ],
)
def test_a_bad_record_is_refused_with_its_reason(topic: str, raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidRecord, match=reason):
        adapt(topic, raw, RECORD_TIME_MS)


@given(topic=st.sampled_from(SUPPORTED_TOPICS), raw=st.binary(max_size=512))
def test_arbitrary_bytes_never_raise_anything_but_invalid_record(topic: str, raw: bytes) -> None:
    with contextlib.suppress(InvalidRecord):
        adapt(topic, raw, RECORD_TIME_MS)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    topic=st.sampled_from(SUPPORTED_TOPICS),
    value=st.dictionaries(
        st.sampled_from(
            [
                "actorId",
                "postId",
                "postAuthorId",
                "owner",
                "trigger_user",
                "action",
                "resource_type",
                "resource_id",
                "mentions",
                "createdAt",
                "created_at",
                "followedUserId",
            ]
        ),
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20), st.lists(st.text(max_size=5))),
    ),
)
def test_arbitrary_json_objects_never_raise_anything_but_invalid_record(topic: str, value: dict[str, object]) -> None:
    with contextlib.suppress(InvalidRecord):
        adapt(topic, encode(value), RECORD_TIME_MS)
