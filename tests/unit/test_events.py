"""Event adapters: both producers' topics map to the canonical model; bad records get a clear reason."""

from __future__ import annotations

import json
import string
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from inbox.ingest.producers import MAX_RECORD_BYTES, SUPPORTED_TOPICS, InvalidRecord, adapt
from inbox.models import EXCERPT_MAX_CHARS, NotificationEvent, NotificationType, Retraction

RECORD_TIME_MS = 1_795_000_000_000
ACTOR = {"actorId": "bob", "actorUsername": "Bob", "actorAvatar": "https://cdn.example.com/bob.png"}


def encode(value: object) -> bytes:
    return json.dumps(value).encode()


def test_a_liked_message_notifies_the_post_author() -> None:
    # Given a like from the social API
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


@pytest.mark.parametrize("action", [1, 2, 9])
def test_the_subject_decides_whatever_action_code_the_worker_sends(action: int) -> None:
    # Given an unlike whose action code is undocumented or names a like
    value = {"owner": "alice", "trigger_user": "dave", "action": action, "resource_type": "POST", "resource_id": "p1"}

    # When it is read
    [event] = adapt("notifications.post.unlike", encode(value), RECORD_TIME_MS)

    # Then it is the unlike its subject names, not refused
    assert isinstance(event, Retraction)
    assert (event.type, event.recipient_id, event.actor_id) == (NotificationType.LIKE, "alice", "dave")


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
        ("user-followed", encode({**ACTOR, "followedUserId": "a", "createdAt": -(2**63)}), "out of range"),
        ("billing-updated", encode(ACTOR), "unknown topic"),
        ("message-liked", b" " * (MAX_RECORD_BYTES + 1), "over the"),
    ],
)
def test_a_bad_record_is_refused_with_its_reason(topic: str, raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidRecord, match=reason):
        adapt(topic, raw, RECORD_TIME_MS)


# -- any input: the exact events, or InvalidRecord with the exact reason ------------------------------


# Any bytes, any text, and JSON documents that are not objects.
any_bytes = st.one_of(
    st.binary(max_size=512),
    st.text(max_size=512).map(str.encode),
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20), st.lists(st.integers()))
    .map(json.dumps)
    .map(str.encode),
)


def refusal(topic: str, raw: bytes) -> str | None:
    """The reason adapt() gives for the record, or None if it adapts it."""
    try:
        adapt(topic, raw, RECORD_TIME_MS)
    except InvalidRecord as refused:
        return str(refused)
    return None


@settings(deadline=None)
@given(topic=st.sampled_from(SUPPORTED_TOPICS), raw=any_bytes)
def test_arbitrary_bytes_are_refused_with_what_is_wrong_with_them(topic: str, raw: bytes) -> None:
    # Given bytes that are not a JSON object (JSON objects: the test below)
    try:
        document = json.loads(raw.decode())
    except UnicodeDecodeError as error:
        expected = f"value is not UTF-8 (byte {error.start})"
    except json.JSONDecodeError as error:
        expected = f"value is not JSON: {error.msg} at line {error.lineno} column {error.colno}"
    else:
        assume(not isinstance(document, dict))
        expected = f"value is a JSON {type(document).__name__}, not an object"

    # When they are adapted
    # Then they are refused (nothing else escapes) and the reason says where they went wrong
    assert refusal(topic, raw) == expected


# The fields the adapters read, per producer, in the order its model declares them (the order of the problems).
SOCIAL_FIELDS = ("actorId", "postId", "postAuthorId", "followedUserId", "mentions", "createdAt")
EXOBOOK_FIELDS = ("owner", "trigger_user", "action", "resource_type", "resource_id", "created_at")
REQUIRED = {"actorId", "owner", "trigger_user", "action", "resource_type", "resource_id"}
NULLABLE = {"postId", "postAuthorId", "followedUserId", "createdAt", "created_at"}  # null stands for missing
EXOBOOK_CODES = {
    "notifications.post.like": 1,
    "notifications.comment.like": 2,
    "notifications.reply.post": 3,
    "notifications.reply.comment": 4,
    "notifications.post.unlike": 5,
}
EXOBOOK_KINDS = {1: "like", 2: "like", 3: "reply", 4: "reply"}
SOCIAL_KINDS = {"message-liked": "like", "post-reposted": "repost"}

user_ids = st.text(alphabet=string.ascii_lowercase + string.digits + "-_", min_size=1, max_size=20)
moments = st.one_of(
    st.integers(min_value=0, max_value=4 * 10**12),  # Unix seconds, or milliseconds above 10**11
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)).map(
        datetime.isoformat
    ),
)
VALID: dict[str, st.SearchStrategy[Any]] = {
    "actorId": user_ids,
    "postId": user_ids,
    "postAuthorId": user_ids,
    "followedUserId": user_ids,
    "mentions": st.lists(st.sampled_from(["mia", "max"]) | user_ids, max_size=4),
    "createdAt": moments,
    "owner": user_ids,
    "trigger_user": user_ids,
    "resource_type": st.sampled_from(["POST", "COMMENT", "post"]),
    "resource_id": user_ids,
    "created_at": moments,
}
# Values that each make exactly one problem with their field.
NOT_A_STRING = [True, 42, ["x"]]
INVALID: dict[str, list[Any]] = {
    "actorId": [None, *NOT_A_STRING, "", "   "],
    "postId": [*NOT_A_STRING, "", "p" * 257],
    "postAuthorId": [*NOT_A_STRING, "", "   "],
    "followedUserId": [*NOT_A_STRING, "", "u" * 129],
    "mentions": [None, 42, "mia", [""], [7]],
    "createdAt": [True, "not a time", [1], 10**20, -(10**20)],
    "owner": [None, *NOT_A_STRING, ""],
    "trigger_user": [None, *NOT_A_STRING, "  "],
    "action": [None, "like", [1], 1.5],
    "resource_type": [None, *NOT_A_STRING, "", "t" * 33],
    "resource_id": [None, *NOT_A_STRING, ""],
    "created_at": [True, "yesterday", [1], 10**20],
}


@st.composite
def records(draw: st.DrawFn) -> tuple[str, dict[str, Any], set[str]]:
    """A topic, and a JSON object with every field the adapters read valid, invalid or left out; its invalid fields."""
    topic = draw(st.sampled_from(SUPPORTED_TOPICS))
    # Mostly the topic's own action code, sometimes another
    actions = st.sampled_from([EXOBOOK_CODES.get(topic, 0)] * 3) | st.integers(min_value=0, max_value=9)
    value: dict[str, Any] = {}
    invalid = set()
    for field in (*SOCIAL_FIELDS, *EXOBOOK_FIELDS):
        state = draw(st.sampled_from(["valid"] * 8 + ["missing", "invalid"]))
        if field == "action" and state == "valid":
            value[field] = draw(actions)
        elif state == "valid":
            value[field] = draw(VALID[field])
        elif state == "invalid":
            value[field] = draw(st.sampled_from(INVALID[field]))
            invalid.add(field)
        elif field in NULLABLE and draw(st.booleans()):
            value[field] = None
    return topic, value, invalid


def moment(value: Any) -> datetime:
    if isinstance(value, int):
        return datetime.fromtimestamp(value / 1000 if value > 10**11 else value, UTC)
    return datetime.fromisoformat(value)


def expected_outcome(topic: str, value: dict[str, Any], invalid: set[str]) -> Any:
    """What the producers' contracts say the record stands for: the events, or why it is refused."""
    social = topic not in EXOBOOK_CODES
    fields = SOCIAL_FIELDS if social else EXOBOOK_FIELDS
    wrong = [field for field in fields if field in invalid or (field in REQUIRED and field not in value)]
    if wrong:
        return ("refused", f"invalid {', '.join(wrong[:5])}")  # the reason names at most five problems
    at = moment(value[fields[-1]]) if value.get(fields[-1]) is not None else moment(RECORD_TIME_MS)
    if social:
        actor, post, mentions = value["actorId"], value.get("postId"), value.get("mentions") or []
        if topic == "user-followed":
            if value.get("followedUserId") is None:
                return ("refused", "followedUserId is required")
            followed = value["followedUserId"]
            return [("follow", followed, actor, "user", followed, at)]
        if topic in SOCIAL_KINDS and value.get("postAuthorId") is None:
            return ("refused", "postAuthorId is required")
        if post is None:
            return ("refused", "postId is required")
        if topic in SOCIAL_KINDS:
            return [(SOCIAL_KINDS[topic], value["postAuthorId"], actor, "post", post, at)]
        return [("mention", mentioned, actor, "post", post, at) for mentioned in dict.fromkeys(mentions)]
    owner, actor = value["owner"], value["trigger_user"]
    resource = (value["resource_type"].lower(), value["resource_id"])
    if topic == "notifications.post.unlike":
        return [("retract like", owner, actor, *resource, None)]
    return [(EXOBOOK_KINDS[EXOBOOK_CODES[topic]], owner, actor, *resource, at)]


def told_apart(event: NotificationEvent | Retraction) -> tuple[Any, ...]:
    """An event as a user would tell it apart: kind, recipient, actor, resource and time."""
    if isinstance(event, Retraction):
        return (
            f"retract {event.type.value}",
            event.recipient_id,
            event.actor_id,
            event.resource_type,
            event.resource_id,
            None,
        )
    kind, resource = event.type.value, event.resource
    return (kind, event.recipient_id, event.actor.id, resource.type, resource.id, event.occurred_at)


def outcome(topic: str, value: dict[str, Any]) -> Any:
    """What adapt() makes of the record: its events, or why it is refused."""
    try:
        events = adapt(topic, encode(value), RECORD_TIME_MS)
    except InvalidRecord as refused:
        reason = str(refused)
        problems = [problem.partition(": ") for problem in reason.split("; ")]
        if all(separator for _, separator, _ in problems):  # one "field: problem" per invalid field
            reason = f"invalid {', '.join(field.split('.')[0] for field, _, _ in problems)}"
        return ("refused", reason)
    return [told_apart(event) for event in events]


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=records())
def test_any_json_object_gives_the_events_it_stands_for_or_names_what_is_wrong(
    record: tuple[str, dict[str, Any], set[str]],
) -> None:
    # Given a JSON object on a topic, its fields valid, invalid or missing (the other producer's are ignored)
    topic, value, invalid = record

    # When it is adapted
    # Then the events are exactly those it stands for, or it is refused naming each field at fault
    assert outcome(topic, value) == expected_outcome(topic, value, invalid)
