"""Nothing lost, nothing duplicated: redeliveries, DynamoDB, Management API and SNS faults, dead letters.

Faults are injected into the app's own clients (the ones its handlers use) through botocore's
``before-send`` hook (tests/integration/faults.py), so that botocore's retries run as in AWS; the
Management API stub answers 410, 500 or late. Every test checks what a user would: the inbox's
entries (likes of a post and follows grouped, each action counted once), the table's items, the
unread count, the messages a tab received, the pushes a phone received, the dead letters.
"""

from __future__ import annotations

import copy
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ReadTimeoutError
from botocore.retries.standard import ExponentialBackoff
from inbox.api.reader import InboxReader
from inbox.api.routes.devices import registry as device_registry
from inbox.ingest.grouping import group_entry_id, group_key
from inbox.ingest.producers import adapt
from inbox.models import DeviceRegistration, NotificationEvent, action_id
from inbox.store import Store
from inbox_dev.dead_letters import DeadLetters
from inbox_dev.event_sources.mappings import stream_mappings
from inbox_dev.event_sources.stream_poller import StreamPoller
from inbox_dev.sns_local import LocalSns
from inbox_dev.stream_records import insert_record

from tests.conftest import TABLE_NAME, load_event
from tests.integration.faults import (
    DYNAMODB_ERRORS,
    Faults,
    NthEntryWrite,
    entry_write,
    persistent,
    transient,
    when,
)
from tests.integration.helpers import exobook_like, http_event, kafka_event, like, stored_device, unlike

pytestmark = pytest.mark.integration

Handler = Callable[[dict[str, Any]], dict[str, Any]]
Identifier = tuple[str, int]  # (topic-partition, offset), as batchItemFailures names a Kafka record


# -- actions and their notifications ---------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """A producer event and the action it stands for (an unlike: the like it undoes)."""

    kind: str  # like, exobook-like, follow or unlike
    actor: str
    recipient: str
    post: str = "post-1"

    def record(self) -> tuple[str, bytes]:
        if self.kind == "follow":
            value = {"actorId": self.actor, "followedUserId": self.recipient}
            return "user-followed", json.dumps(value).encode()
        build = {"like": like, "exobook-like": exobook_like, "unlike": unlike}[self.kind]
        return build(self.actor, self.recipient, self.post)

    @property
    def action_id(self) -> str:
        """The id of the action: its group member's key (M#<id>)."""
        if self.kind == "follow":
            return action_id("follow", self.actor, "user", self.recipient, self.recipient)
        return action_id("like", self.actor, "post", self.post, self.recipient)

    def entry_ids(self, *times: float) -> set[str]:
        """The id of the entry the action joins in a recipient's fresh inbox, applied at one of ``times``
        (epoch seconds): its group's entry of that time's window."""
        from inbox.settings import ingest_settings

        [event] = adapt(*self.record(), 0)
        assert isinstance(event, NotificationEvent)
        key = group_key(event)
        assert key is not None, f"a {self.kind} does not group"
        window_ms = ingest_settings().group_window_seconds * 1000
        return {group_entry_id(self.recipient, key, int(at * 1000) // window_ms) for at in times}


def batch_of(actions: list[Action]) -> tuple[dict[str, Any], dict[Identifier, Action]]:
    """The MSK event of the actions, and which action each of its records carries."""
    event = kafka_event(*(action.record() for action in actions))
    records = [record for group in event["records"].values() for record in group]
    by_offset = {record["offset"]: record for record in records}
    return event, {identifier(by_offset[offset]): action for offset, action in enumerate(actions)}


def in_order(event: dict[str, Any]) -> list[Identifier]:
    """The event's records in the order the ingest function applies them: partition by partition."""
    return [identifier(record) for group in event["records"].values() for record in group]


def identifier(record: dict[str, Any]) -> Identifier:
    return (f"{record['topic']}-{record['partition']}", int(record["offset"]))


def failures(response: dict[str, Any]) -> set[Identifier]:
    return {
        (f["itemIdentifier"]["partition"], int(f["itemIdentifier"]["offset"])) for f in response["batchItemFailures"]
    }


def only(event: dict[str, Any], wanted: set[Identifier]) -> dict[str, Any]:
    """The event with just the wanted records: what a redelivery of the failed ones carries."""
    narrowed = copy.deepcopy(event)
    narrowed["records"] = {
        group: kept
        for group, records in narrowed["records"].items()
        if (kept := [record for record in records if identifier(record) in wanted])
    }
    return narrowed


def user_items(table: Any, user: str, prefix: str) -> dict[str, dict[str, Any]]:
    """The user's items whose sort key starts with ``prefix``, by the id after it (read apart from the
    app's faulty client)."""
    response = table.query(
        KeyConditionExpression=Key("pk").eq(f"U#{user}") & Key("sk").begins_with(prefix), ConsistentRead=True
    )
    return {str(item["sk"]).removeprefix(prefix): item for item in response["Items"]}


def entry_items(table: Any, user: str) -> dict[str, dict[str, Any]]:
    """Every inbox entry of the user (N#<entry id>), live or tombstone, by entry id."""
    return user_items(table, user, "N#")


def member_items(table: Any, user: str) -> dict[str, dict[str, Any]]:
    """Every group member of the user (M#<action id>: ``g`` the entry it joined, ``gone`` once undone), by action id."""
    return user_items(table, user, "M#")


Shown = tuple[str, str, tuple[str, ...], int]


def inbox_of(table: Any, user: str) -> list[Shown]:
    """The user's inbox as the API lists it, sorted: each entry's type, resource, actors (newest first) and
    actor count ("Ben and Ann liked your post"). Read apart from the app's faulty client."""
    from inbox.settings import table_settings

    settings = table_settings()
    own = Store.on(
        table,
        notification_ttl_seconds=settings.notification_ttl_seconds,
        connection_ttl_seconds=settings.connection_ttl_seconds,
    )
    page = InboxReader(own.queries).page(user, limit=100)
    assert page.next_cursor is None
    return sorted(
        (entry.type.value, entry.resource.id, tuple(actor.id for actor in entry.actors), entry.actor_count)
        for entry in page.items
    )


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def ingest(function: Any, context: Any) -> Handler:
    handler = function("ingest").lambda_handler
    return lambda event: dict(handler(event, context))


@pytest.fixture
def fanout(function: Any, context: Any) -> Handler:
    handler = function("fanout").lambda_handler
    return lambda event: dict(handler(event, context))


@pytest.fixture
def short_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's retry delays, a twentieth as long: the same attempts in the same order, in less time.

    Throttles back off from 1 s, doubling: six attempts of a call that keeps failing wait up to 31 s.
    """
    original = ExponentialBackoff.delay_amount

    def shorter(self: ExponentialBackoff, context: Any) -> float:
        return float(original(self, context)) / 20

    monkeypatch.setattr(ExponentialBackoff, "delay_amount", shorter)


@pytest.fixture
def dynamodb_faults(local_aws: Any, short_backoff: None) -> Iterator[Faults]:
    """Faults on the DynamoDB client behind inbox.wiring.store(), which every handler uses; none yet."""
    from inbox import aws_clients
    from inbox.settings import table_settings

    with Faults(aws_clients.dynamodb_table(table_settings().table_name).meta.client) as faults:
        yield faults


@pytest.fixture
def sns_faults(local_aws: Any, short_backoff: None) -> Iterator[Faults]:
    """Faults on the SNS client the fan-out function pushes with; none yet."""
    from inbox import aws_clients

    with Faults(aws_clients.sns()) as faults:
        yield faults


@pytest.fixture
def fixed_user(request: pytest.FixtureRequest) -> str:
    """A user id that is the same on every run (and unique in the session): seeded faults hit the same calls."""
    return "faults-" + re.sub(r"[^a-z0-9]+", "-", request.node.name.removeprefix("test_"))[:60]


# -- 1. redelivery -------------------------------------------------------------------------------


def test_a_mixed_batch_delivered_three_times_notifies_once_per_action_and_counts_exactly(
    ingest: Handler, function: Any, context: Any, table: Any, user: str
) -> None:
    # Given a batch of likes, follows, a like from the other producer, and an unlike of one of the likes
    actions = [
        Action("like", "ann", user),
        Action("like", "ben", user),
        Action("follow", "cat", user),
        Action("exobook-like", "ann", user, post="post-2"),
        Action("follow", "dan", user),
        Action("unlike", "ben", user),
    ]
    event, _ = batch_of(actions)

    # When Kafka delivers it three times
    responses = [ingest(event) for _ in range(3)]

    # Then nothing failed, and the inbox counts each action once: ann's like of post-1 (ben's was undone),
    # cat's and dan's follows in one entry, ann's like of post-2
    assert responses == [{"batchItemFailures": []}] * 3
    assert inbox_of(table, user) == [
        ("follow", user, ("dan", "cat"), 2),
        ("like", "post-1", ("ann",), 1),
        ("like", "post-2", ("ann",), 1),
    ]
    # And each action has one member in its entry, ben's like a tombstone that a late like stays silent on
    members = member_items(table, user)
    assert sorted(members) == sorted(action.action_id for action in actions[:5])
    assert members[Action("like", "ben", user).action_id]["gone"] == "retracted"
    assert {str(member["g"]) for member in members.values()} == set(entry_items(table, user))
    # And the API counts three unread entries
    response = function("api").lambda_handler(http_event("GET", "/notifications/unread-count", user), context)
    assert json.loads(response["body"]) == {"count": 3, "capped": False}


def test_a_batch_that_fails_at_its_third_write_is_reported_from_there_and_a_redelivery_completes_it(
    ingest: Handler, dynamodb_faults: Faults, table: Any, store: Store, user: str, reader: InboxReader
) -> None:
    # Given a batch of six actions for the user, and DynamoDB failing the third entry write every time:
    # cat's follow starting the follows' entry (ann's and ben's likes wrote the post's entry)
    actions = [
        Action("like", "ann", user),
        Action("like", "ben", user),
        Action("follow", "cat", user),
        Action("follow", "dan", user),
        Action("exobook-like", "eve", user, post="post-2"),
        Action("unlike", "ann", user),
    ]
    event, _ = batch_of(actions)
    order = in_order(event)
    dynamodb_faults.rule = NthEntryWrite(3, "InternalServerError")

    # When the ingest function handles it
    response = ingest(event)

    # Then botocore tried that write six times; that record and every later one are reported failed
    assert [call.attempt for call, _ in dynamodb_faults.injected] == [1, 2, 3, 4, 5, 6]
    assert failures(response) == set(order[2:])
    # And only the first two are stored: nothing after the failure was applied out of order, and cat's
    # follow left no member behind that would make its redelivery a duplicate
    assert inbox_of(table, user) == [("like", "post-1", ("ben", "ann"), 2)]
    assert sorted(member_items(table, user)) == sorted(action.action_id for action in actions[:2])

    # When DynamoDB recovers and Kafka redelivers the whole batch
    dynamodb_faults.rule = None
    assert ingest(event) == {"batchItemFailures": []}

    # Then every action is applied exactly once: ann's like retracted, ben's counted once, three unread entries
    assert inbox_of(table, user) == [
        ("follow", user, ("dan", "cat"), 2),
        ("like", "post-1", ("ben",), 1),
        ("like", "post-2", ("eve",), 1),
    ]
    members = member_items(table, user)
    assert len(members) == 5
    assert members[Action("like", "ann", user).action_id]["gone"] == "retracted"
    assert reader.unread_count(user).count == 3


def test_an_unlike_behind_a_failed_like_is_held_back_and_the_redelivered_like_ends_retracted(
    ingest: Handler, dynamodb_faults: Faults, table: Any, store: Store, user: str, reader: InboxReader
) -> None:
    # Given ann's like and unlike of the user's post in one batch, with another user's like, and
    # DynamoDB failing every attempt to write the entry ann's like starts
    other = f"{user}-other"
    liked, unliked = Action("exobook-like", "ann", user), Action("unlike", "ann", user)
    event, actions = batch_of([liked, unliked, Action("like", "ben", other)])
    users_pk = f'"U#{user}"'
    dynamodb_faults.rule = when(lambda call: entry_write(call) and users_pk in call.key, "InternalServerError")

    # When the ingest function handles it
    response = ingest(event)

    # Then the like and the unlike are both reported failed: the unlike was not applied before its like
    assert {actions[failed] for failed in failures(response)} == {liked, unliked}
    # And nothing of ann's like is left: no entry, and no member that would make its redelivery a duplicate
    assert entry_items(table, user) == {}
    assert member_items(table, user) == {}
    # And the other user's like, independent of them, is stored
    assert inbox_of(table, other) == [("like", "post-1", ("ben",), 1)]

    # When DynamoDB recovers and Kafka redelivers the batch
    dynamodb_faults.rule = None
    assert ingest(event) == {"batchItemFailures": []}

    # Then the like was stored and then retracted: the user is not notified of a like that was undone
    member = member_items(table, user)[liked.action_id]
    assert member["gone"] == "retracted"
    assert entry_items(table, user)[str(member["g"])]["gone"] == "retracted"
    assert inbox_of(table, user) == []
    assert reader.unread_count(user).count == 0
    assert inbox_of(table, other) == [("like", "post-1", ("ben",), 1)]


def test_a_like_within_the_flood_limit_whose_store_failed_is_stored_when_redelivered(
    ingest: Handler, dynamodb_faults: Faults, table: Any, user: str
) -> None:
    # Given ann liking as many of the user's posts as the per-actor flood limit allows, in one batch,
    # and DynamoDB failing every attempt to store the last of them
    from inbox.settings import ingest_settings

    limit = ingest_settings().flood_actor_limit
    posts = [f"post-{index:02d}" for index in range(limit)]
    event, _ = batch_of([Action("like", "ann", user, post=post) for post in posts])
    dynamodb_faults.rule = NthEntryWrite(limit)

    # When the ingest function handles it, and then, DynamoDB recovered, Kafka redelivers the failed record
    response = ingest(event)
    assert failures(response) == {in_order(event)[-1]}
    dynamodb_faults.rule = None
    assert ingest(only(event, failures(response))) == {"batchItemFailures": []}

    # Then all of ann's likes are in the inbox, one entry per post: she never went past the limit
    assert inbox_of(table, user) == [("like", post, ("ann",), 1) for post in posts]


# -- 2. DynamoDB throttling and server errors ------------------------------------------------------


def recipients_batch(user: str, recipients: int) -> list[Action]:
    """For each recipient: two likes, a follow, a like from the other producer, and an unlike of the first like."""
    actions = []
    for index in range(recipients):
        recipient = f"{user}-{index}"
        actions += [
            Action("like", "ann", recipient),
            Action("like", "ben", recipient),
            Action("follow", "cat", recipient),
            Action("exobook-like", "dan", recipient, post="post-2"),
            Action("unlike", "ann", recipient),
        ]
    return actions


def test_throttles_and_server_errors_on_30_percent_of_calls_are_retried_and_every_record_stored_once(
    ingest: Handler, dynamodb_faults: Faults, table: Any, store: Store, fixed_user: str, reader: InboxReader
) -> None:
    # Given a batch for six recipients, and DynamoDB throttling or failing 30 % of all attempts (seeded)
    actions = recipients_batch(fixed_user, 6)
    event, _ = batch_of(actions)
    dynamodb_faults.rule = transient(seed=7, rate=0.3, codes=sorted(DYNAMODB_ERRORS))

    # When the ingest function handles it
    response = ingest(event)

    # Then botocore's retries absorbed every fault: nothing failed
    assert response == {"batchItemFailures": []}
    first_attempts = [call for call in dynamodb_faults.calls if call.attempt == 1]
    injected = [call for call, _ in dynamodb_faults.injected]
    assert len(injected) >= 0.2 * len(first_attempts)
    assert {code for _, code in dynamodb_faults.injected} == set(DYNAMODB_ERRORS)
    assert max(call.attempt for call in injected) >= 2  # some calls failed twice in a row and still got through

    # And every recipient has each action exactly once: three entries of one actor each, ann's like
    # retracted (her member a tombstone), three unread
    dynamodb_faults.rule = None
    for index in range(6):
        recipient = f"{fixed_user}-{index}"
        assert inbox_of(table, recipient) == [
            ("follow", recipient, ("cat",), 1),
            ("like", "post-1", ("ben",), 1),
            ("like", "post-2", ("dan",), 1),
        ]
        members = member_items(table, recipient)
        assert len(members) == 4
        assert members[Action("like", "ann", recipient).action_id]["gone"] == "retracted"
        assert reader.unread_count(recipient).count == 3


def test_writes_that_exhaust_their_retries_fail_their_records_and_a_redelivery_of_those_completes_the_set(
    ingest: Handler, dynamodb_faults: Faults, table: Any, store: Store, fixed_user: str, reader: InboxReader
) -> None:
    # Given a batch of likes and follows for six recipients, and a seeded quarter of the entry writes
    # (each recipient's likes' entry and follows' entry) throttled or failing on every attempt
    actions = []
    for index in range(6):
        recipient = f"{fixed_user}-{index}"
        actions += [Action("like", actor, recipient) for actor in ("ann", "ben")]
        actions += [Action("follow", actor, recipient) for actor in ("cat", "dan")]
    event, by_record = batch_of(actions)
    dynamodb_faults.rule = persistent(seed=2, rate=0.25, codes=sorted(DYNAMODB_ERRORS), among=entry_write)

    # When the ingest function handles it
    began = time.time()
    response = ingest(event)
    ended = time.time()

    # Then exactly the records whose entry write botocore gave up on are reported, with their recipient's
    # later records (held back to keep each recipient's order); some records failed, others did not
    exhausted = str(dynamodb_faults.exhausted())
    expected: set[Identifier] = set()
    reported_from: set[int] = set()  # where in its records a recipient's failure began
    for index in range(6):
        recipient = f"{fixed_user}-{index}"
        theirs = [record for record in in_order(event) if by_record[record].recipient == recipient]
        broken = [
            i
            for i, record in enumerate(theirs)
            if any(f'"N#{entry}"' in exhausted for entry in by_record[record].entry_ids(began, ended))
        ]
        expected |= set(theirs[broken[0] :]) if broken else set()
        reported_from |= set(broken[:1])
    failed = failures(response)
    assert failed == expected
    assert 0 < len(failed) < len(actions)
    assert reported_from == {0, 2}  # some recipients failed at their first like, others at their first follow
    # And no record is lost: each one is a member of its entry, or reported failed and absent from the
    # table (a member whose entry write failed is taken back, or its redelivery would be a duplicate)
    for record, action in by_record.items():
        stored = action.action_id in member_items(table, action.recipient)
        assert stored != (record in failed), action

    # When the faults pass and Kafka redelivers only the failed records
    dynamodb_faults.rule = None
    assert ingest(only(event, failed)) == {"batchItemFailures": []}

    # Then every action is stored exactly once: each recipient has both likes in one entry and both
    # follows in another, and counts two unread entries
    for index in range(6):
        recipient = f"{fixed_user}-{index}"
        assert inbox_of(table, recipient) == [
            ("follow", recipient, ("dan", "cat"), 2),
            ("like", "post-1", ("ben", "ann"), 2),
        ]
        assert len(member_items(table, recipient)) == 4
        assert reader.unread_count(recipient).count == 2


# -- 3. stream fan-out faults ---------------------------------------------------------------------


def created_record(table: Any, user: str, entry_id: str) -> dict[str, Any]:
    """The stream's INSERT record of a new entry, from the item as it is in the table."""
    item = table.get_item(Key={"pk": f"U#{user}", "sk": f"N#{entry_id}"}, ConsistentRead=True)["Item"]
    return insert_record(item, f"{uuid.uuid4().int % 10**21:021d}", table.latest_stream_arn)


def liked(ingest: Handler, table: Any, actor: str, user: str) -> str:
    """Ingest a like of the user's post by ``actor``; the id of the entry it started."""
    action = Action("like", actor, user)
    assert ingest(kafka_event(action.record())) == {"batchItemFailures": []}
    return str(member_items(table, user)[action.action_id]["g"])


def notify(ingest: Handler, table: Any, actor: str, user: str) -> tuple[str, dict[str, Any]]:
    """Ingest a like of the user's post by ``actor``; the id of the entry it started, and its stream record."""
    entry_id = liked(ingest, table, actor, user)
    return entry_id, created_record(table, user, entry_id)


def received(stub: Any, connection_id: str) -> list[str]:
    """The entry ids a tab was sent, in order."""
    return [message["notification"]["id"] for message in stub.messages[connection_id]]


def dropped(caplog: pytest.LogCaptureFixture, connection_id: str) -> list[str]:
    """Why the fan-out dropped messages to the connection, as it logged them."""
    return [
        str(getattr(record, "reason", ""))
        for record in caplog.records
        if record.getMessage() == "message dropped" and getattr(record, "connection", None) == connection_id
    ]


def sync(function: Any, context: Any, user: str, connection_id: str) -> dict[str, Any]:
    """What the WebSocket API answers the user's tab that sends {"type": "sync"}: the inbox's first page, the counts."""
    event = copy.deepcopy(load_event("ws-message.json"))
    event["requestContext"]["connectionId"] = connection_id
    event["requestContext"]["authorizer"].update({"principalId": user, "userId": user})
    event["body"] = json.dumps({"type": "sync"})
    answer: dict[str, Any] = json.loads(function("ws_message").lambda_handler(event, context)["body"])
    return answer


def failed_records(response: dict[str, Any]) -> set[str]:
    return {failure["itemIdentifier"] for failure in response["batchItemFailures"]}


def sequence_of(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def pushes_to(endpoint_arn: str) -> list[str]:
    """The notification ids pushed to a phone's SNS endpoint (what moto received), in order."""
    ids = []
    for push in LocalSns.pushes():
        if push["endpointArn"] == endpoint_arn:
            fcm = json.loads(push["message"]["GCM"])
            ids.append(json.loads(fcm["data"]["notification"])["id"])
    return ids


def register_phone(function: Any, store: Store, user: str, token: str) -> tuple[str, str]:
    """A phone registered through the API's device registry: its device id and SNS endpoint."""
    device = device_registry().register(user, DeviceRegistration(platform="fcm", token=token))
    return device.id, stored_device(store, user, device.id).endpoint_arn


def test_gone_connections_are_forgotten_and_the_live_ones_still_get_the_notification(
    ingest: Handler, fanout: Handler, stub: Any, table: Any, store: Store, user: str
) -> None:
    # Given four open tabs of the user, two of which API Gateway answers 410 Gone for
    tabs = [f"{user}-tab-{index}" for index in range(4)]
    for tab in tabs:
        store.connections.add(user, tab)
    stub.gone.update({tabs[1], tabs[3]})
    entry_id, record = notify(ingest, table, "ann", user)

    # When the stream brings the new notification
    response = fanout({"Records": [record]})

    # Then the batch succeeds, the live tabs got the new entry with the badge's counts, and the gone
    # ones are forgotten
    assert response == {"batchItemFailures": []}
    assert [received(stub, tab) for tab in tabs] == [[entry_id], [], [entry_id], []]
    [message] = stub.messages[tabs[0]]
    assert (message["type"], message["counts"]) == ("notification.created", {"unread": 1, "unseen": 1})
    assert [actor["id"] for actor in message["notification"]["actors"]] == ["ann"]
    assert message["notification"]["actorCount"] == 1
    assert sorted(store.connections.of(user)) == [tabs[0], tabs[2]]


def test_a_connection_answering_500_loses_that_message_without_a_retry_and_its_next_sync_brings_it(
    ingest: Handler,
    fanout: Handler,
    function: Any,
    context: Any,
    stub: Any,
    table: Any,
    store: Store,
    user: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given the user's working and broken tabs, and another user's tab
    other = f"{user}-other"
    working, broken, others_tab = f"{user}-working", f"{user}-broken", f"{other}-tab"
    for owner, tab in ((user, working), (user, broken), (other, others_tab)):
        store.connections.add(owner, tab)
    stub.failing.add(broken)
    mine, my_record = notify(ingest, table, "ann", user)
    theirs, their_record = notify(ingest, table, "ben", other)

    # When one batch brings both entries
    response = fanout({"Records": [my_record, their_record]})

    # Then no record failed, so none is retried (a retry would send the working tab everything again);
    # the working tab and the other user got theirs, once
    assert response == {"batchItemFailures": []}
    assert received(stub, working) == [mine]
    assert received(stub, others_tab) == [theirs]
    # And the broken tab's message was dropped once botocore's retries answered 500, and logged
    assert received(stub, broken) == []
    assert dropped(caplog, broken) == ["InternalServerErrorException"]
    # And the broken tab is not forgotten: it is not gone, it failed
    assert sorted(store.connections.of(user)) == sorted([working, broken])

    # When the broken tab recovers and syncs, as a tab does when it reconnects
    stub.failing.clear()
    answer = sync(function, context, user, broken)

    # Then the sync brings it the entry it missed, and the counts
    assert [entry["id"] for entry in answer["page"]["items"]] == [mine]
    assert answer["counts"] == {"unread": 1, "unseen": 1}


def test_a_connection_slower_than_the_read_timeout_loses_its_message_without_holding_up_the_rest(
    ingest: Handler,
    fanout: Handler,
    function: Any,
    stub: Any,
    table: Any,
    store: Store,
    user: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given the user's slow tab (it answers after 4 s, past the client's 3 s read timeout), quick tab
    # and phone, and another user's tab
    from inbox import aws_clients
    from inbox.settings import fanout_settings

    other = f"{user}-other"
    slow, quick, others_tab = f"{user}-slow", f"{user}-quick", f"{other}-tab"
    for owner, tab in ((user, slow), (user, quick), (other, others_tab)):
        store.connections.add(owner, tab)
    stub.delays[slow] = 4.0
    _, phone = register_phone(function, store, user, f"token-{user}")
    mine, my_record = notify(ingest, table, "ann", user)
    theirs, their_record = notify(ingest, table, "ben", other)
    settings = fanout_settings()  # the fan-out function's own Management API client, and its limits
    config = aws_clients.management_api(str(settings.websocket_callback_url), settings.delivery_concurrency).meta.config
    timeout, attempts = config.read_timeout, config.retries["total_max_attempts"]  # type: ignore[attr-defined]
    assert stub.delays[slow] > timeout

    # When one batch brings both entries
    response = fanout({"Records": [my_record, their_record]})

    # Then no record failed: the slow tab's message was dropped once the client's attempts timed out, and logged
    assert response == {"batchItemFailures": []}
    assert dropped(caplog, slow) == ["ReadTimeoutError"]
    # And everything else was delivered: the quick tab, the phone, and the other user
    assert received(stub, quick) == [mine]
    assert pushes_to(phone) == [mine]
    assert received(stub, others_tab) == [theirs]
    # And each attempt the client gave up on still reached the slow tab, late, as the same entry (a tab
    # shows an entry once, by its id)
    wait_for(lambda: len(received(stub, slow)) == attempts)
    assert received(stub, slow) == [mine] * attempts


def test_a_disabled_push_endpoint_is_switched_off_and_the_other_phones_and_tabs_are_served(
    ingest: Handler, fanout: Handler, function: Any, stub: Any, table: Any, store: Store, user: str
) -> None:
    # Given the user's tab and three phones, one of whose SNS endpoints the platform has disabled
    store.connections.add(user, f"{user}-tab")
    phones = [register_phone(function, store, user, f"token-{index}-{user}") for index in range(3)]
    (_, first), (dead, dead_arn), (_, third) = phones
    boto3.client("sns").set_endpoint_attributes(EndpointArn=dead_arn, Attributes={"Enabled": "false"})
    entry_id, record = notify(ingest, table, "ann", user)

    # When the stream brings a new notification
    response = fanout({"Records": [record]})

    # Then nothing failed: the live phones and the tab have it, and the disabled phone is switched off
    assert response == {"batchItemFailures": []}
    assert (pushes_to(first), pushes_to(dead_arn), pushes_to(third)) == ([entry_id], [], [entry_id])
    assert received(stub, f"{user}-tab") == [entry_id]
    enabled = {stored.device.id: stored.device.enabled for stored in store.devices.of(user)}
    assert enabled == {phones[0][0]: True, dead: False, phones[2][0]: True}


def test_sns_throttling_fails_the_record_after_retries_while_the_tabs_get_the_notification(
    ingest: Handler,
    fanout: Handler,
    function: Any,
    sns_faults: Faults,
    stub: Any,
    table: Any,
    store: Store,
    user: str,
) -> None:
    # Given the user's tab and phone, and SNS throttling every publish
    store.connections.add(user, f"{user}-tab")
    device, phone = register_phone(function, store, user, f"token-{user}")
    sns_faults.rule = when(lambda call: call.operation == "Publish", "Throttling")
    entry_id, record = notify(ingest, table, "ann", user)

    # When the stream brings a new notification
    response = fanout({"Records": [record]})

    # Then the record fails once botocore's retries are spent, the phone got nothing and stays enabled
    assert failed_records(response) == {sequence_of(record)}
    assert [call.attempt for call, _ in sns_faults.injected] == [1, 2, 3, 4, 5, 6]
    assert pushes_to(phone) == []
    assert stored_device(store, user, device).device.enabled
    # And the tab was told anyway
    assert received(stub, f"{user}-tab") == [entry_id]

    # When the throttling passes and the record is retried
    sns_faults.rule = None
    assert fanout({"Records": [record]}) == {"batchItemFailures": []}

    # Then the phone has it once; the tab was sent it again under the same id
    assert pushes_to(phone) == [entry_id]
    assert received(stub, f"{user}-tab") == [entry_id, entry_id]


def test_a_push_that_times_out_fails_the_record_but_the_users_other_phones_are_still_pushed(
    ingest: Handler,
    fanout: Handler,
    function: Any,
    sns_faults: Faults,
    stub: Any,
    table: Any,
    store: Store,
    user: str,
) -> None:
    # Given the user's tab and two phones, the first of which SNS never answers in time
    store.connections.add(user, f"{user}-tab")
    register_phone(function, store, user, f"token-a-{user}")
    register_phone(function, store, user, f"token-b-{user}")
    first, second = (stored.endpoint_arn for stored in store.devices.of(user))  # the order they are tried
    timeout = ReadTimeoutError(endpoint_url="https://sns.us-east-1.amazonaws.com/")
    sns_faults.rule = when(lambda call: call.operation == "Publish" and first in call.key, timeout)
    entry_id, record = notify(ingest, table, "ann", user)

    # When the stream brings a new notification
    response = fanout({"Records": [record]})

    # Then the record fails, and the second phone and the tab were served all the same
    assert failed_records(response) == {sequence_of(record)}
    assert (pushes_to(first), pushes_to(second)) == ([], [entry_id])
    assert received(stub, f"{user}-tab") == [entry_id]


# -- failures reach the on-failure destination -----------------------------------------------------


@pytest.fixture
def stream_poller(
    local_aws: Any, dynamodb_endpoint: str, fanout: Handler, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[StreamPoller, Path]]:
    """The local stack's poller of the fan-out mapping, feeding the real fan-out function; its dead letters file."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", dynamodb_endpoint)
    [mapping] = [mapping for mapping in stream_mappings() if mapping.function == "FanoutFunction"]
    path = tmp_path / "dead-letters.jsonl"
    poller = StreamPoller(mapping, table_name=TABLE_NAME, invoke=fanout, dead_letters=DeadLetters(path))
    poller.start()
    yield poller, path
    poller.stop()


def wait_for(condition: Callable[[], Any], timeout: float = 120.0) -> Any:
    """Poll until ``condition()`` holds; the timeout only bounds a test that would otherwise hang."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"not the case within {timeout:.0f} s")
        time.sleep(0.1)
    return value


def written_lines(path: Path) -> list[str]:
    """The file's complete lines; none while it is absent or a line is still being written."""
    text = path.read_text() if path.exists() else ""
    return text.splitlines() if text.endswith("\n") else []


def test_a_record_the_fanout_keeps_failing_lands_in_the_dead_letters_file_with_its_reason(
    ingest: Handler,
    stream_poller: tuple[StreamPoller, Path],
    function: Any,
    sns_faults: Faults,
    stub: Any,
    table: Any,
    store: Store,
    user: str,
) -> None:
    # Given the fan-out mapping's poller feeding the fan-out function (botocore's retry delays shortened,
    # the same attempts in the same order), the user's tab, and a phone whose pushes SNS always throttles
    # (a failing push fails its record; a failing tab no longer does)
    poller, path = stream_poller
    store.connections.add(user, f"{user}-tab")
    device, phone = register_phone(function, store, user, f"token-{user}")
    sns_faults.rule = when(lambda call: call.operation == "Publish", "Throttling")

    # When a like of the user's post is ingested
    entry_id = liked(ingest, table, "ann", user)

    # Then after the first attempt and every retry the record is written to the dead letters file, with why
    lines = wait_for(lambda: written_lines(path))
    [letter] = [json.loads(line) for line in lines]
    assert (letter["source"], letter["function"]) == ("dynamodb-stream", "FanoutFunction")
    attempts = poller.mapping.max_retries + 1
    assert letter["reason"] == f"reported in batchItemFailures (1 of 1 records), after {attempts} attempts"
    [record] = letter["records"]
    assert record["dynamodb"]["Keys"]["sk"] == {"S": f"N#{entry_id}"}
    assert record["dynamodb"]["NewImage"]["a0"]["M"]["i"] == {"S": "ann"}
    # And the phone got nothing and stays enabled; the tab was sent the entry on each attempt, always
    # under the same id
    assert pushes_to(phone) == []
    assert stored_device(store, user, device).device.enabled
    assert received(stub, f"{user}-tab") == [entry_id] * attempts
