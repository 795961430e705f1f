"""Flood control against DynamoDB Local: at the limit and just past it, per actor and per recipient."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import Key
from inbox.api.reader import InboxReader
from inbox.ingest.flood import FloodLimits
from inbox.ingest.ingestor import Event, Ingestor
from inbox.models import Actor, NotificationEvent, NotificationType, Resource
from inbox.settings import ingest_settings
from inbox.store import Store
from inbox.store.keys import ItemKind, user_pk
from inbox_dev.capacity_meter import CapacityMeter

from tests.integration.helpers import kafka_event, like


def like_event(actor: str, recipient: str) -> NotificationEvent:
    """A like of a post of its own: an entry of its own."""
    return NotificationEvent(
        type=NotificationType.LIKE,
        recipient_id=recipient,
        actor=Actor(id=actor),
        resource=Resource(type="post", id=f"post-of-{actor}"),
        occurred_at=datetime.now(UTC),
    )


def stored_ids(store: Store, user: str) -> list[str]:
    return [item.id for item in InboxReader(store.queries).page(user, limit=100).items]


def test_the_default_limit_lets_twenty_likes_from_one_actor_through_and_drops_the_twenty_first(
    function: Any, context: Any, store: Store, user: str, reader: InboxReader
) -> None:
    # Given the template's default of 20 notifications per actor per window
    assert ingest_settings().flood_actor_limit == 20
    ingest = function("ingest")

    # When bob likes 21 of the user's posts, and carol likes one
    records = [like("bob", user, post=f"post-{index}") for index in range(21)] + [like("carol", user)]
    response = ingest.lambda_handler(kafka_event(*records), context)

    # Then nothing failed, 20 of bob's likes and carol's are in the inbox, the 21st is not
    assert response == {"batchItemFailures": []}
    listed = reader.page(user, limit=100).items
    assert len(listed) == 21
    assert sorted(item.resource.id for item in listed if item.actor.id == "bob") == sorted(
        f"post-{index}" for index in range(20)
    )
    assert [item.actor.id for item in listed if item.actor.id == "carol"] == ["carol"]


def test_a_recipient_gets_at_most_the_window_total_and_counters_expire_with_the_window(
    table: Any, store: Store, user: str
) -> None:
    # Given a limit of 5 per recipient per window and a clock inside one window
    window_start = int(time.time()) // 3600 * 3600
    limits = FloodLimits(per_actor=20, per_recipient=5, window_seconds=3600)
    ingestor = Ingestor(store.notifications, store.preferences, store.flood, 4, limits, clock=lambda: window_start + 60)
    events: list[tuple[str, list[Event]]] = [(f"r{index}", [like_event(f"fan-{index}", user)]) for index in range(6)]

    # When six actors like the user's post in that window
    outcomes = ingestor.apply_all(events)

    # Then five are stored and the sixth is dropped
    assert [outcomes[f"r{index}"] for index in range(6)] == [["created"]] * 5 + [["flood_dropped"]]
    assert len(stored_ids(store, user)) == 5
    # And each actor's counter is an item that expires when the window ends
    counters = table.query(
        KeyConditionExpression=Key("pk").eq(user_pk(user)) & Key("sk").begins_with(ItemKind.FLOOD_COUNTER.value)
    )["Items"]
    assert sorted(len(item["ids"]) for item in counters) == [1] * 5
    assert {int(item["ttl"]) for item in counters} == {window_start + 3600}


def test_a_flood_counter_costs_one_write_unit_next_to_the_store(
    local_aws: Any, store: Store, meter: CapacityMeter, user: str
) -> None:
    # Given a fresh like for the user
    ingestor = Ingestor(store.notifications, store.preferences, store.flood, 1)
    meter.reset()

    # When it is applied with flood control on
    outcome = ingestor.apply_all([("r0", [like_event("bob", user)])])

    # Then starting its group took 3 write units (member, entry, index) plus 1 for the counter
    assert outcome == {"r0": ["created"]}
    assert meter.write_units == 4.0
