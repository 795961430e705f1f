"""Kafka ingest against DynamoDB Local: one notification per action, bad records reported, rest stored."""

from __future__ import annotations

import base64
import json
from typing import Any

from inbox.api.reader import InboxReader
from inbox.store import Store

from tests.builders import preferences
from tests.conftest import load_event
from tests.integration.helpers import exobook_like, kafka_event, like, post_of, unlike


def inbox_of(store: Store, user: str) -> list[tuple[str, str]]:
    page = InboxReader(store.queries).page(user, limit=100)
    return [(item.type.value, item.actor.id) for item in page.items]


def sample_event_for(user: str, mentioned: str) -> dict[str, Any]:
    """The MSK sample event (every topic, all about alice; carol is mentioned too) retargeted at the given users."""
    event = load_event("ingest-msk.json")
    for records in event["records"].values():
        for record in records:
            text = base64.b64decode(record["value"]).decode()
            text = text.replace('"alice"', json.dumps(user)).replace('"carol"', json.dumps(mentioned))
            record["value"] = base64.b64encode(text.encode()).decode()
    return event


def test_the_sample_event_of_every_topic_is_stored(
    function: Any, context: Any, store: Store, reader: InboxReader, user: str, other_user: str
) -> None:
    # Given the MSK sample event with one record per supported topic, all about the user, who is
    # mentioned in a reply to her along with the other user
    ingest = function("ingest")

    # When the ingest function handles it
    response = ingest.lambda_handler(sample_event_for(user, other_user), context)

    # Then nothing failed; she has every kind (the reply stands for her mention), dave's post like was retracted
    assert response == {"batchItemFailures": []}
    kinds = {kind for kind, _ in inbox_of(store, user)}
    assert kinds == {"like", "follow", "repost", "reply"}
    daves = [item for item in reader.page(user, limit=100).items if item.actor.id == "dave"]
    assert [(item.type.value, item.resource.id) for item in daves] == [("like", "comment-77")]
    # And the other user has the mention
    assert inbox_of(store, other_user) == [("mention", "bob")]


def test_a_batch_delivered_three_times_stores_one_notification_per_action(
    function: Any, context: Any, store: Store, user: str, reader: InboxReader
) -> None:
    # Given a batch of likes from three actors
    event = kafka_event(like("ann", user), like("ben", user), exobook_like("cat", user))

    # When Kafka delivers it three times
    for _ in range(3):
        assert function("ingest").lambda_handler(event, context) == {"batchItemFailures": []}

    # Then there is one notification per action and the unread count agrees
    assert sorted(inbox_of(store, user)) == [("like", "ann"), ("like", "ben"), ("like", "cat")]
    assert reader.unread_count(user).count == 3


def test_bad_records_are_reported_and_the_rest_of_the_batch_is_stored(
    function: Any, context: Any, store: Store, user: str
) -> None:
    # Given a batch where records 1, 2 and 4 are bad in different ways
    event = kafka_event(
        like("ann", user),
        ("message-liked", b"not json"),
        ("unknown-topic", b"{}"),
        like("ben", user),
        ("message-liked", json.dumps({"actorId": "x", "postId": "p"}).encode()),
    )
    truncated = event["records"]["message-liked-0"][-1]
    truncated["value"] = base64.b64encode(b'{"actorId": "zed"}').decode()[:-3]

    # When the ingest function handles it
    response = function("ingest").lambda_handler(event, context)

    # Then exactly the bad records are reported, by partition and offset, and the good ones are stored
    failures = sorted(
        (f["itemIdentifier"]["partition"], f["itemIdentifier"]["offset"]) for f in response["batchItemFailures"]
    )
    assert failures == [("message-liked-0", 1), ("message-liked-0", 4), ("unknown-topic-0", 2)]
    assert sorted(inbox_of(store, user)) == [("like", "ann"), ("like", "ben")]


def test_nobody_is_notified_of_their_own_action(function: Any, context: Any, store: Store, user: str) -> None:
    function("ingest").lambda_handler(kafka_event(like(user, user)), context)
    assert inbox_of(store, user) == []


def test_muted_types_are_not_stored(function: Any, context: Any, store: Store, user: str) -> None:
    # Given a user who muted likes
    store.preferences.put(user, preferences(mutedTypes=["like"]))

    # When a like and a follow arrive
    follow = ("user-followed", json.dumps({"actorId": "ann", "followedUserId": user}).encode())
    function("ingest").lambda_handler(kafka_event(like("ann", user), follow), context)

    # Then only the follow is stored
    assert inbox_of(store, user) == [("follow", "ann")]


def test_an_unlike_retracts_the_like_and_a_new_like_does_not_notify_again(
    function: Any, context: Any, store: Store, user: str, reader: InboxReader
) -> None:
    ingest = function("ingest")
    ingest.lambda_handler(kafka_event(exobook_like("ann", user), like("ben", user)), context)

    # When ann unlikes, then likes again
    ingest.lambda_handler(kafka_event(unlike("ann", user), first_offset=10), context)
    after_unlike = inbox_of(store, user)
    ingest.lambda_handler(kafka_event(exobook_like("ann", user), first_offset=20), context)

    # Then ann's like is gone and stays gone; ben's remains
    assert after_unlike == [("like", "ben")]
    assert inbox_of(store, user) == [("like", "ben")]
    assert reader.unread_count(user).count == 1


def test_an_unlike_that_overtakes_its_like_leaves_a_tombstone_so_the_late_like_stays_silent(
    function: Any, context: Any, store: Store, user: str, reader: InboxReader
) -> None:
    # Given the like and its unlike travel on different topics, and the unlike is applied first
    ingest = function("ingest")
    response = ingest.lambda_handler(kafka_event(unlike("ann", user)), context)

    # When the like arrives afterwards, next to another actor's like
    late = ingest.lambda_handler(kafka_event(exobook_like("ann", user), like("ben", user), first_offset=10), context)

    # Then nothing failed, and only ben's like is in the inbox: the withdrawn like never notifies
    assert response == {"batchItemFailures": []}
    assert late == {"batchItemFailures": []}
    assert inbox_of(store, user) == [("like", "ben")]
    assert reader.unread_count(user).count == 1


def test_an_unlike_with_a_like_action_code_is_still_an_unlike(
    function: Any, context: Any, store: Store, user: str
) -> None:
    # Given ann's like is in the inbox
    ingest = function("ingest")
    ingest.lambda_handler(kafka_event(exobook_like("ann", user)), context)
    assert inbox_of(store, user) == [("like", "ann")]

    # When the worker sends the unlike on its subject with the like's action code 1
    mislabelled = {
        "owner": user,
        "trigger_user": "ann",
        "action": 1,
        "resource_type": "POST",
        "resource_id": post_of("ann"),
    }
    record = ("notifications.post.unlike", json.dumps(mislabelled).encode())
    response = ingest.lambda_handler(kafka_event(record, first_offset=10), context)

    # Then it is accepted, not dead-lettered, and the like is withdrawn
    assert response == {"batchItemFailures": []}
    assert inbox_of(store, user) == []
