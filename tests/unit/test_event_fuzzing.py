"""Fuzzing of the Kafka record adapters: whatever a producer sends, adapt() returns events that can be
stored and shown, or refuses the record with InvalidRecord. Nothing else ever escapes.

"Valid" is checked the whole way: the event's notification item is built as the ingest stores it,
read back as the API and the fan-out read it, and serialised as clients receive it.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inbox.ingest.producers import EXOBOOK_ACTIONS, SUPPORTED_TOPICS, InvalidRecord, adapt
from inbox.models import EXCERPT_MAX_CHARS, NotificationEvent, Retraction
from inbox.store.items import InboxState, entry_item, notification_from_item

RECORD_TIME_MS = 1_795_000_000_000
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Any JSON document: scalars (odd numbers and unicode included), nested lists and objects.
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
timestamps = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.datetimes(timezones=st.none() | st.timezones()).map(lambda moment: moment.isoformat()),
    st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01", "9999-12-31T23:59:59Z"]),
    st.text(max_size=30),
)


def valid_value(topic: str) -> dict[str, Any]:
    """A record every topic accepts, to which the fuzzing changes one field at a time."""
    if topic in EXOBOOK_ACTIONS:
        return {
            "owner": "alice",
            "trigger_user": "bob",
            "username": "Bob",
            "user_picture": "https://cdn.example.com/bob.png",
            "action": EXOBOOK_ACTIONS[topic],
            "resource_type": "POST",
            "resource_id": "p1",
            "excerpt": "nice post",
            "created_at": 1_765_318_000,
        }
    return {
        "actorId": "bob",
        "actorUsername": "Bob",
        "actorAvatar": "https://cdn.example.com/bob.png",
        "postId": "p2",
        "postText": "hello @carol",
        "postAuthorId": "alice",
        "followedUserId": "alice",
        "replyToPostId": "p1",
        "replyToUserId": "alice",
        "mentions": ["carol"],
        "createdAt": "2026-11-23T10:00:00Z",
    }


# Every field a producer's record may carry: a refusal names the ones at fault.
FIELDS = {
    *("actorId", "actorUsername", "actorAvatar", "postId", "postText", "postAuthorId", "followedUserId"),
    *("replyToPostId", "replyToUserId", "mentions", "eventId", "createdAt"),
    *("owner", "trigger_user", "username", "user_picture", "user_bio", "action", "resource_type", "resource_id"),
    *("excerpt", "created_at"),
}
# Refusals of the record as a whole: too large, not UTF-8, not JSON, not an object, or on no topic the app reads.
WHOLE_RECORD = re.compile(
    r"^(value is (\d+ bytes, over|not UTF-8 \(byte \d+\)|not JSON: |a JSON \w+, not an object)|unknown topic )"
)


def named_fields(reason: str) -> set[str]:
    """The fields a refusal names: each of its problems starts with one ("postId is required", "owner: ...")."""
    return {re.split(r"[ .:]", problem, maxsplit=1)[0] for problem in reason.split("; ")}


def assert_adapts_or_refuses(topic: str, raw: bytes, culprits: set[str] | None = None) -> None:
    """adapt() gives events that can be stored and shown, or InvalidRecord saying what is wrong, never anything else.

    ``culprits``: the fields the fuzzing changed, one of which a refusal must name.
    """
    try:  # anything but InvalidRecord escapes and fails the test
        events, reasons = adapt(topic, raw, RECORD_TIME_MS), ()
    except InvalidRecord as refusal:
        events, reasons = [], refusal.args
    if reasons:
        [reason] = reasons
        assert isinstance(reason, str)
        assert reason.strip(), "a refusal says why"
        if culprits is not None:
            assert named_fields(reason) & culprits, f"{reason!r} names none of {sorted(culprits)}"
        else:
            assert WHOLE_RECORD.match(reason) or named_fields(reason) <= FIELDS, reason
        return
    for event in events:
        assert isinstance(event, NotificationEvent | Retraction)
        assert len(event.notification_id) == 26
        if isinstance(event, Retraction):
            continue
        assert event.recipient_id
        assert event.resource.excerpt is None or len(event.resource.excerpt) <= EXCERPT_MAX_CHARS
        # Stored as the ingest stores it, read back as the API and the fan-out read it
        item = entry_item(event, event.notification_id, now_ms=RECORD_TIME_MS, ttl_seconds=86_400)
        notification = notification_from_item(item, InboxState())
        assert notification.id == event.notification_id
        assert notification.created_at.tzinfo is not None
        json.dumps(notification.model_dump(mode="json", by_alias=True))


@FUZZ
@given(topic=st.sampled_from([*SUPPORTED_TOPICS, "unknown-topic", ""]), value=json_values)
def test_any_json_document_on_any_topic_adapts_or_is_refused(topic: str, value: Any) -> None:
    assert_adapts_or_refuses(topic, json.dumps(value).encode())


@FUZZ
@given(topic=st.sampled_from(SUPPORTED_TOPICS), data=st.data())
def test_a_valid_record_with_one_field_changed_to_any_json_value_adapts_or_is_refused(
    topic: str, data: st.DataObject
) -> None:
    value = valid_value(topic)
    field = data.draw(st.sampled_from(sorted(value)), label="field")
    value[field] = data.draw(json_values, label="new value")
    assert_adapts_or_refuses(topic, json.dumps(value).encode(), culprits={field})


@FUZZ
@given(topic=st.sampled_from(SUPPORTED_TOPICS), data=st.data())
def test_a_valid_record_with_fields_removed_adapts_or_is_refused(topic: str, data: st.DataObject) -> None:
    value = valid_value(topic)
    removed = data.draw(st.sets(st.sampled_from(sorted(value))), label="removed")
    for field in removed:
        del value[field]
    assert_adapts_or_refuses(topic, json.dumps(value).encode(), culprits=removed)


@FUZZ
@given(topic=st.sampled_from(SUPPORTED_TOPICS), moment=timestamps)
def test_any_timestamp_adapts_to_a_storable_time_or_is_refused(topic: str, moment: Any) -> None:
    value = valid_value(topic)
    field = "created_at" if topic in EXOBOOK_ACTIONS else "createdAt"
    value[field] = moment
    assert_adapts_or_refuses(topic, json.dumps(value).encode(), culprits={field})


@FUZZ
@given(
    topic=st.sampled_from(SUPPORTED_TOPICS),
    text=st.text(min_size=EXCERPT_MAX_CHARS, max_size=20_000) | st.just("w" * 60_000),
)
def test_any_long_text_is_shortened_never_refused(topic: str, text: str) -> None:
    value = valid_value(topic)
    value["excerpt" if topic in EXOBOOK_ACTIONS else "postText"] = text
    events = adapt(topic, json.dumps(value).encode(), RECORD_TIME_MS)
    for event in events:
        if isinstance(event, NotificationEvent) and event.resource.type != "user":
            excerpt = event.resource.excerpt or ""
            assert len(excerpt) <= EXCERPT_MAX_CHARS
            shortened = " ".join(text.split())
            if len(shortened) > EXCERPT_MAX_CHARS:
                assert excerpt.endswith("…")
                assert shortened.startswith(excerpt[:-1])


@FUZZ
@given(topic=st.sampled_from([*SUPPORTED_TOPICS, "unknown-topic"]), raw=st.binary(max_size=2048))
def test_any_bytes_adapt_or_are_refused(topic: str, raw: bytes) -> None:
    assert_adapts_or_refuses(topic, raw)


def test_naive_and_offset_times_are_stored_in_utc() -> None:
    value = valid_value("user-followed")
    for moment, expected in (
        ("2026-11-23T10:00:00", datetime(2026, 11, 23, 10, tzinfo=UTC)),
        ("2026-11-23T12:00:00+02:00", datetime(2026, 11, 23, 10, tzinfo=UTC)),
    ):
        [event] = adapt("user-followed", json.dumps({**value, "createdAt": moment}).encode(), RECORD_TIME_MS)
        assert isinstance(event, NotificationEvent)
        assert event.occurred_at == expected
        assert event.occurred_at.utcoffset() is not None
