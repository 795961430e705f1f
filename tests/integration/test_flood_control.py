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


def test_a_recipient_gets_at_most_the_window_total_and_flood_control_writes_nothing_of_its_own(
    table: Any, store: Store, user: str
) -> None:
    # Given a limit of 5 per recipient per window and a clock inside one window
    window_start = int(time.time()) // 3600 * 3600
    limits = FloodLimits(per_actor=20, per_recipient=5, window_seconds=3600)
    ingestor = Ingestor(store.notifications, store.preferences, store.flood, 4, limits, clock=lambda: window_start + 60)
    events: list[tuple[str, list[Event]]] = [(f"r{index}", [like_event(f"fan-{index}", user)]) for index in range(6)]

    # When six actors like their own posts to the user in that window
    outcomes = ingestor.apply_all(events)

    # Then five are stored and the sixth is dropped
    assert [outcomes[f"r{index}"] for index in range(6)] == [["created"]] * 5 + [["flood_dropped"]]
    assert len(stored_ids(store, user)) == 5
    # And the user's partition holds the five entries and their members, no item of flood control
    kinds = {item["sk"][:2] for item in table.query(KeyConditionExpression=Key("pk").eq(user_pk(user)))["Items"]}
    assert kinds == {ItemKind.NOTIFICATION.value, ItemKind.MEMBER.value}


def test_another_container_lets_through_at_most_half_a_limit_before_it_reads_the_window(
    store: Store, user: str
) -> None:
    # Given a limit of 4 per actor, and bob's four likes stored by one container
    limits = FloodLimits(per_actor=4, per_recipient=500, window_seconds=3600)
    first = Ingestor(store.notifications, store.preferences, store.flood, 4, limits)
    bob = [
        like_event("bob", user).model_copy(update={"resource": Resource(type="post", id=f"p{index}")})
        for index in range(7)
    ]
    first.apply_all([(f"r{index}", [bob[index]]) for index in range(4)])

    # When another container, new to her, gets three more of bob's likes and carol's
    other = Ingestor(store.notifications, store.preferences, store.flood, 4, limits)
    batch: list[tuple[str, list[Event]]] = [(f"r{index}", [bob[index]]) for index in range(4, 7)]
    outcomes = other.apply_all([*batch, ("c", [like_event("carol", user)])])

    # Then it admits bob's on its own count until half his limit, then reads the window from the
    # table and drops the rest; carol's is stored
    assert outcomes == {"r4": ["created"], "r5": ["created"], "r6": ["flood_dropped"], "c": ["created"]}


def test_flood_control_adds_no_write_unit_and_a_redelivery_costs_one_write(
    local_aws: Any, store: Store, meter: CapacityMeter, user: str
) -> None:
    # Given a fresh like for the user
    ingestor = Ingestor(store.notifications, store.preferences, store.flood, 1)
    meter.reset()

    # When it is applied with flood control on
    outcome = ingestor.apply_all([("r0", [like_event("bob", user)])])

    # Then starting its group took its own 3 write units (member, entry, index) and nothing more
    assert outcome == {"r0": ["created"]}
    assert meter.write_units == 3.0
    # And its redelivery is one failed conditional put (billed 1 WCU; DynamoDB Local reports none)
    # next to the batch's preferences read and group lookup: this container knew the window already
    meter.reset()
    assert ingestor.apply_all([("r0", [like_event("bob", user)])]) == {"r0": ["duplicate"]}
    assert (meter.write_units, meter.requests) == (0.0, 3)


def test_a_window_counts_what_arrived_in_it_a_group_begun_before_it_once(store: Store, user: str) -> None:
    # Given a window that began a minute ago: a group of three likes begun before it, grown by dave in it
    window_start = int(time.time()) - 60
    before, inside = (window_start - 600) * 1000, (window_start + 1) * 1000
    old_post = [
        like_event(actor, user).model_copy(update={"resource": Resource(type="post", id="old")})
        for actor in ("ann", "ben", "cat")
    ]
    for event in old_post:
        store.notifications.add_to_group(event, "old-group", at_ms=before)
    dave = like_event("dave", user).model_copy(update={"resource": Resource(type="post", id="old")})
    store.notifications.add_to_group(dave, "old-group", at_ms=inside)
    # And a group of two likes begun in the window, and a mention by erin
    for actor in ("fay", "gus"):
        event = like_event(actor, user).model_copy(update={"resource": Resource(type="post", id="new")})
        store.notifications.add_to_group(event, "new-group", at_ms=inside)
    store.notifications.put(
        like_event("erin", user).model_copy(update={"type": NotificationType.MENTION}), at_ms=inside
    )

    # When flood control reads the window
    window = store.flood.window(user, window_start, enough=500)

    # Then the old group counts once, the new one for both its members, the mention once
    assert window.total == 4
    # And each actor an entry shows counts once: the old group shows its newest three
    assert dict(window.by_actor) == {"dave": 1, "cat": 1, "ben": 1, "fay": 1, "gus": 1, "erin": 1}
