"""Nothing lost, nothing duplicated: redeliveries, DynamoDB, Management API and SNS faults, dead letters.

Faults are injected into the app's own clients (the ones its handlers use) through botocore's
``before-send`` hook (tests/integration/faults.py), so that botocore's retries run as in AWS; the
Management API stub answers 410, 500 or late. Every test checks what a user would: the table's
items, the unread count, the messages a tab received, the pushes a phone received, the dead letters.
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
from inbox.models import DeviceRegistration, action_id
from inbox.store import Store
from inbox_dev.dead_letters import DeadLetters
from inbox_dev.event_sources.mappings import stream_mappings
from inbox_dev.event_sources.stream_poller import StreamPoller
from inbox_dev.sns_local import LocalSns
from inbox_dev.stream_records import insert_record

from tests.conftest import TABLE_NAME
from tests.integration.faults import (
    DYNAMODB_ERRORS,
    Faults,
    NthNotificationWrite,
    notification_write,
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
    """A producer event and the notification it stands for (an unlike: the like it undoes)."""

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
    def notification_id(self) -> str:
        if self.kind == "follow":
            return action_id("follow", self.actor, "user", self.recipient, self.recipient)
        return action_id("like", self.actor, "post", self.post, self.recipient)

    @property
    def shown(self) -> tuple[str, str, str]:
        """The notification as the inbox lists it: type, actor, resource."""
        return ("follow", self.actor, self.recipient) if self.kind == "follow" else ("like", self.actor, self.post)


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


def notification_items(table: Any, user: str) -> dict[str, dict[str, Any]]:
    """Every notification item of the user, live or tombstone, by id (read apart from the app's faulty client)."""
    response = table.query(
        KeyConditionExpression=Key("pk").eq(f"U#{user}") & Key("sk").begins_with("N#"), ConsistentRead=True
    )
    return {str(item["sk"])[2:]: item for item in response["Items"]}


def inbox_of(table: Any, user: str) -> list[tuple[str, str, str]]:
    """The user's live notifications (type, actor, resource), sorted."""
    items = notification_items(table, user).values()
    return sorted((str(item["t"]), str(item["a"]), str(item["ri"])) for item in items if "gone" not in item)


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

    # Then nothing failed, each action has one notification, and ben's like is retracted (a tombstone)
    assert responses == [{"batchItemFailures": []}] * 3
    assert inbox_of(table, user) == sorted(
        [("like", "ann", "post-1"), ("follow", "cat", user), ("like", "ann", "post-2"), ("follow", "dan", user)]
    )
    items = notification_items(table, user)
    assert len(items) == 5
    assert items[Action("like", "ben", user).notification_id]["gone"] == "retracted"
    # And the API counts four unread
    response = function("api").lambda_handler(http_event("GET", "/notifications/unread-count", user), context)
    assert json.loads(response["body"]) == {"count": 4, "capped": False}


def test_a_batch_that_fails_at_its_third_write_is_reported_from_there_and_a_redelivery_completes_it(
    ingest: Handler, dynamodb_faults: Faults, table: Any, store: Store, user: str, reader: InboxReader
) -> None:
    # Given a batch of six actions for the user, and DynamoDB failing the third notification write every time
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
    dynamodb_faults.rule = NthNotificationWrite(3, "InternalServerError")

    # When the ingest function handles it
    response = ingest(event)

    # Then botocore tried that write six times; that record and every later one are reported failed
    assert [call.attempt for call, _ in dynamodb_faults.injected] == [1, 2, 3, 4, 5, 6]
    assert failures(response) == set(order[2:])
    # And only the first two are stored: nothing after the failure was applied out of order
    assert inbox_of(table, user) == [("like", "ann", "post-1"), ("like", "ben", "post-1")]

    # When DynamoDB recovers and Kafka redelivers the whole batch
    dynamodb_faults.rule = None
    assert ingest(event) == {"batchItemFailures": []}

    # Then every action is applied exactly once: ann's like retracted, four unread
    assert inbox_of(table, user) == sorted(
        [("like", "ben", "post-1"), ("follow", "cat", user), ("follow", "dan", user), ("like", "eve", "post-2")]
    )
    assert len(notification_items(table, user)) == 5
    assert reader.unread_count(user).count == 4


def test_an_unlike_behind_a_failed_like_is_held_back_and_the_redelivered_like_ends_retracted(
    ingest: Handler, dynamodb_faults: Faults, table: Any, store: Store, user: str, reader: InboxReader
) -> None:
    # Given ann's like and unlike of the user's post in one batch, with another user's like, and
    # DynamoDB failing every attempt to store ann's like
    other = f"{user}-other"
    liked, unliked = Action("exobook-like", "ann", user), Action("unlike", "ann", user)
    event, actions = batch_of([liked, unliked, Action("like", "ben", other)])
    ann_sk = f'"N#{liked.notification_id}"'
    dynamodb_faults.rule = when(lambda call: call.operation == "PutItem" and ann_sk in call.key, "InternalServerError")

    # When the ingest function handles it
    response = ingest(event)

    # Then the like and the unlike are both reported failed: the unlike was not applied before its like
    assert {actions[failed] for failed in failures(response)} == {liked, unliked}
    assert notification_items(table, user) == {}
    # And the other user's like, independent of them, is stored
    assert inbox_of(table, other) == [("like", "ben", "post-1")]

    # When DynamoDB recovers and Kafka redelivers the batch
    dynamodb_faults.rule = None
    assert ingest(event) == {"batchItemFailures": []}

    # Then the like was stored and then retracted: the user is not notified of a like that was undone
    assert notification_items(table, user)[liked.notification_id]["gone"] == "retracted"
    assert inbox_of(table, user) == []
    assert reader.unread_count(user).count == 0
    assert inbox_of(table, other) == [("like", "ben", "post-1")]


def test_a_like_within_the_flood_limit_whose_store_failed_is_stored_when_redelivered(
    ingest: Handler, dynamodb_faults: Faults, table: Any, user: str
) -> None:
    # Given ann liking as many of the user's posts as the per-actor flood limit allows, in one batch,
    # and DynamoDB failing every attempt to store the last of them
    from inbox.settings import ingest_settings

    limit = ingest_settings().flood_actor_limit
    event, _ = batch_of([Action("like", "ann", user, post=f"post-{index:02d}") for index in range(limit)])
    dynamodb_faults.rule = NthNotificationWrite(limit)

    # When the ingest function handles it, and then, DynamoDB recovered, Kafka redelivers the failed record
    response = ingest(event)
    assert failures(response) == {in_order(event)[-1]}
    dynamodb_faults.rule = None
    assert ingest(only(event, failures(response))) == {"batchItemFailures": []}

    # Then all of ann's likes are in the inbox: she never went past the limit
    assert len(inbox_of(table, user)) == limit


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

    # And every recipient has each action exactly once: three live notifications, ann's like retracted
    dynamodb_faults.rule = None
    for index in range(6):
        recipient = f"{fixed_user}-{index}"
        assert inbox_of(table, recipient) == [
            ("follow", "cat", recipient),
            ("like", "ben", "post-1"),
            ("like", "dan", "post-2"),
        ]
        assert len(notification_items(table, recipient)) == 4
        assert reader.unread_count(recipient).count == 3


def test_writes_that_exhaust_their_retries_fail_their_records_and_a_redelivery_of_those_completes_the_set(
    ingest: Handler, dynamodb_faults: Faults, table: Any, store: Store, fixed_user: str, reader: InboxReader
) -> None:
    # Given a batch of likes and follows for six recipients, and a seeded quarter of the notification
    # writes throttled or failing on every attempt
    actions = []
    for index in range(6):
        recipient = f"{fixed_user}-{index}"
        actions += [Action("like", actor, recipient) for actor in ("ann", "ben")]
        actions += [Action("follow", actor, recipient) for actor in ("cat", "dan")]
    event, by_record = batch_of(actions)
    dynamodb_faults.rule = persistent(seed=11, rate=0.25, codes=sorted(DYNAMODB_ERRORS), among=notification_write)

    # When the ingest function handles it
    response = ingest(event)

    # Then exactly the records whose write botocore gave up on are reported, with their recipient's later
    # records (held back to keep each recipient's order); some records failed, others did not
    exhausted = dynamodb_faults.exhausted()
    expected: set[Identifier] = set()
    for index in range(6):
        recipient = f"{fixed_user}-{index}"
        theirs = [record for record in in_order(event) if by_record[record].recipient == recipient]
        broken = [i for i, record in enumerate(theirs) if f'"N#{by_record[record].notification_id}"' in str(exhausted)]
        expected |= set(theirs[broken[0] :]) if broken else set()
    failed = failures(response)
    assert failed == expected
    assert 0 < len(failed) < len(actions)
    # And no record is lost: each one is stored, or reported failed and absent from the table
    for record, action in by_record.items():
        stored = action.notification_id in notification_items(table, action.recipient)
        assert stored != (record in failed), action

    # When the faults pass and Kafka redelivers only the failed records
    dynamodb_faults.rule = None
    assert ingest(only(event, failed)) == {"batchItemFailures": []}

    # Then every action is stored exactly once, and each recipient counts four unread
    for index in range(6):
        recipient = f"{fixed_user}-{index}"
        expected_inbox = sorted(action.shown for action in actions if action.recipient == recipient)
        assert inbox_of(table, recipient) == expected_inbox
        assert reader.unread_count(recipient).count == 4


# -- 3. stream fan-out faults ---------------------------------------------------------------------


def created_record(table: Any, user: str, notification_id: str) -> dict[str, Any]:
    """The stream's INSERT record of a stored notification, from the item as it is in the table."""
    item = table.get_item(Key={"pk": f"U#{user}", "sk": f"N#{notification_id}"}, ConsistentRead=True)["Item"]
    return insert_record(item, f"{uuid.uuid4().int % 10**21:021d}", table.latest_stream_arn)


def notify(ingest: Handler, table: Any, actor: str, user: str) -> tuple[str, dict[str, Any]]:
    """Ingest a like of the user's post by ``actor``; its notification id and its stream record."""
    assert ingest(kafka_event(like(actor, user))) == {"batchItemFailures": []}
    notification_id = Action("like", actor, user).notification_id
    return notification_id, created_record(table, user, notification_id)


def received(stub: Any, connection_id: str) -> list[str]:
    """The notification ids a tab was sent, in order."""
    return [message["notification"]["id"] for message in stub.messages[connection_id]]


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
    notification_id, record = notify(ingest, table, "ann", user)

    # When the stream brings the new notification
    response = fanout({"Records": [record]})

    # Then the batch succeeds, the live tabs got the notification, and the gone ones are forgotten
    assert response == {"batchItemFailures": []}
    assert [received(stub, tab) for tab in tabs] == [[notification_id], [], [notification_id], []]
    assert sorted(store.connections.of(user)) == [tabs[0], tabs[2]]


def test_a_connection_answering_500_fails_its_record_and_a_retry_reaches_it_without_a_visible_duplicate(
    ingest: Handler, fanout: Handler, stub: Any, table: Any, store: Store, user: str
) -> None:
    # Given the user's working and broken tabs, and another user's tab
    other = f"{user}-other"
    working, broken, others_tab = f"{user}-working", f"{user}-broken", f"{other}-tab"
    for owner, tab in ((user, working), (user, broken), (other, others_tab)):
        store.connections.add(owner, tab)
    stub.failing.add(broken)
    mine, my_record = notify(ingest, table, "ann", user)
    theirs, their_record = notify(ingest, table, "ben", other)

    # When one batch brings both notifications
    response = fanout({"Records": [my_record, their_record]})

    # Then only the user's record failed; the working tab and the other user got theirs
    assert failed_records(response) == {sequence_of(my_record)}
    assert received(stub, working) == [mine]
    assert received(stub, others_tab) == [theirs]
    # And the broken tab is not forgotten: it is not gone, it failed
    assert sorted(store.connections.of(user)) == sorted([working, broken])

    # When the broken tab recovers and the failed record is retried
    stub.failing.clear()
    assert fanout({"Records": [my_record]}) == {"batchItemFailures": []}

    # Then the broken tab has it; the working tab was sent it again, under the same id, which it dedupes
    assert received(stub, broken) == [mine]
    assert received(stub, working) == [mine, mine]
    assert received(stub, others_tab) == [theirs]


def test_a_connection_slower_than_the_read_timeout_fails_its_record_without_holding_up_the_rest(
    ingest: Handler, fanout: Handler, function: Any, stub: Any, table: Any, store: Store, user: str
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

    # When one batch brings both notifications
    began = time.monotonic()
    response = fanout({"Records": [my_record, their_record]})
    elapsed = time.monotonic() - began

    # Then the slow tab fails the user's record once the client's attempts timed out
    assert failed_records(response) == {sequence_of(my_record)}
    assert elapsed >= timeout * attempts
    # And everything else was delivered: the quick tab, the phone, and the other user
    assert received(stub, quick) == [mine]
    assert pushes_to(phone) == [mine]
    assert received(stub, others_tab) == [theirs]


def test_a_disabled_push_endpoint_is_switched_off_and_the_other_phones_and_tabs_are_served(
    ingest: Handler, fanout: Handler, function: Any, stub: Any, table: Any, store: Store, user: str
) -> None:
    # Given the user's tab and three phones, one of whose SNS endpoints the platform has disabled
    store.connections.add(user, f"{user}-tab")
    phones = [register_phone(function, store, user, f"token-{index}-{user}") for index in range(3)]
    (_, first), (dead, dead_arn), (_, third) = phones
    boto3.client("sns").set_endpoint_attributes(EndpointArn=dead_arn, Attributes={"Enabled": "false"})
    notification_id, record = notify(ingest, table, "ann", user)

    # When the stream brings a new notification
    response = fanout({"Records": [record]})

    # Then nothing failed: the live phones and the tab have it, and the disabled phone is switched off
    assert response == {"batchItemFailures": []}
    assert (pushes_to(first), pushes_to(dead_arn), pushes_to(third)) == ([notification_id], [], [notification_id])
    assert received(stub, f"{user}-tab") == [notification_id]
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
    notification_id, record = notify(ingest, table, "ann", user)

    # When the stream brings a new notification
    response = fanout({"Records": [record]})

    # Then the record fails once botocore's retries are spent, the phone got nothing and stays enabled
    assert failed_records(response) == {sequence_of(record)}
    assert [call.attempt for call, _ in sns_faults.injected] == [1, 2, 3, 4, 5, 6]
    assert pushes_to(phone) == []
    assert stored_device(store, user, device).device.enabled
    # And the tab was told anyway
    assert received(stub, f"{user}-tab") == [notification_id]

    # When the throttling passes and the record is retried
    sns_faults.rule = None
    assert fanout({"Records": [record]}) == {"batchItemFailures": []}

    # Then the phone has it once; the tab was sent it again under the same id
    assert pushes_to(phone) == [notification_id]
    assert received(stub, f"{user}-tab") == [notification_id, notification_id]


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
    notification_id, record = notify(ingest, table, "ann", user)

    # When the stream brings a new notification
    response = fanout({"Records": [record]})

    # Then the record fails, and the second phone and the tab were served all the same
    assert failed_records(response) == {sequence_of(record)}
    assert (pushes_to(first), pushes_to(second)) == ([], [notification_id])
    assert received(stub, f"{user}-tab") == [notification_id]


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
    short_backoff: None,
    stub: Any,
    store: Store,
    user: str,
) -> None:
    # Given the fan-out mapping's poller feeding the fan-out function (botocore's retry delays shortened,
    # the same attempts in the same order), and a tab of the user that always fails
    poller, path = stream_poller
    store.connections.add(user, f"{user}-working")
    store.connections.add(user, f"{user}-broken")
    stub.failing.add(f"{user}-broken")

    # When a like of the user's post is ingested
    assert ingest(kafka_event(like("ann", user))) == {"batchItemFailures": []}
    notification_id = Action("like", "ann", user).notification_id

    # Then after the first attempt and every retry the record is written to the dead letters file, with why
    lines = wait_for(lambda: written_lines(path))
    [letter] = [json.loads(line) for line in lines]
    assert (letter["source"], letter["function"]) == ("dynamodb-stream", "FanoutFunction")
    attempts = poller.mapping.max_retries + 1
    assert letter["reason"] == f"reported in batchItemFailures (1 of 1 records), after {attempts} attempts"
    [record] = letter["records"]
    assert record["dynamodb"]["Keys"]["sk"] == {"S": f"N#{notification_id}"}
    assert record["dynamodb"]["NewImage"]["a"] == {"S": "ann"}
    # And the working tab was sent the notification on each attempt, always under the same id
    assert received(stub, f"{user}-working") == [notification_id] * attempts
