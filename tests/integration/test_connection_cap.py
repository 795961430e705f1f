"""The cap on a user's WebSocket connections, through the connect and fan-out functions on DynamoDB Local.

$connect records the connection and closes the user's oldest beyond MAX_CONNECTIONS_PER_USER (10
here, the template's default) through the Management API stub: a closing message, then DELETE. The
fan-out reads a user's connections in one query of at most the cap plus a margin, with their phones.
"""

from __future__ import annotations

import copy
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from inbox.models import Device
from inbox.settings import TableSettings
from inbox.store import Store
from inbox.store.connections import READ_MARGIN, ConnectionStore
from inbox.store.keys import ItemKind, key
from inbox.store.table import TableGateway
from inbox_dev.capacity_meter import CapacityMeter
from inbox_dev.management_api import ManagementApiStub

from tests.conftest import load_event

CAP = 10
CLOSED = {"type": "closed", "reason": "too_many_connections"}


def connect_event(user: str, connection_id: str, subprotocols: str | None = None) -> dict[str, Any]:
    event = copy.deepcopy(load_event("ws-connect.json"))
    event["requestContext"]["connectionId"] = connection_id
    event["requestContext"]["authorizer"] = {"principalId": user, "userId": user}
    if subprotocols is not None:
        event["headers"]["Sec-WebSocket-Protocol"] = subprotocols
    return event


def created_notification_for(user: str) -> dict[str, Any]:
    """The sample stream batch's first record, a new notification, retargeted at the user."""
    text = json.dumps(load_event("fanout-stream.json")).replace('"U#alice', f'"U#{user}')
    event: dict[str, Any] = json.loads(text)
    event["Records"] = event["Records"][:1]
    return event


def test_fifty_connections_leave_the_ten_newest_and_the_forty_oldest_are_told_and_closed(
    function: Any, context: Any, stub: ManagementApiStub, store: Store, meter: CapacityMeter, user: str
) -> None:
    # Given a user who opens 50 connections, one after another
    connect = function("ws_connect").lambda_handler
    names = [f"tab-{index:02d}" for index in range(50)]
    per_connect = []
    for name in names:
        meter.reset()
        assert connect(connect_event(user, name), context) == {"statusCode": 200}
        per_connect.append((meter.read_units, meter.write_units, meter.requests))

    # Then the ten newest remain
    assert sorted(store.connections.of(user)) == names[-CAP:]
    # And each of the forty oldest got the closing message, then was ended, oldest first
    assert stub.deleted == names[:-CAP]
    for name in names[:-CAP]:
        assert stub.messages[name] == [CLOSED]
    for name in names[-CAP:]:
        assert stub.messages[name] == []
    # And no connect read more than 1 unit or wrote more than 2: a query and a put up to the cap, then
    # a query, a put and the oldest's deletion (DynamoDB Local reports nothing for the first query,
    # which finds no item; DynamoDB bills half a unit for it)
    assert per_connect == [(0.0, 1.0, 2)] + [(0.5, 1.0, 2)] * (CAP - 1) + [(0.5, 2.0, 3)] * (50 - CAP)


def test_a_notification_reaches_the_ten_remaining_connections_only(
    function: Any, context: Any, stub: ManagementApiStub, store: Store, user: str
) -> None:
    # Given a user who opened 50 connections, ten of which remain
    connect = function("ws_connect").lambda_handler
    for index in range(50):
        connect(connect_event(user, f"tab-{index:02d}"), context)
    closing = {name: list(messages) for name, messages in stub.messages.items()}

    # When a notification of the user's is created
    response = function("fanout").lambda_handler(created_notification_for(user), context)

    # Then it was posted to the ten remaining connections, once each, and to none of the closed ones
    assert response == {"batchItemFailures": []}
    received = {name for name, messages in stub.messages.items() if len(messages) > len(closing.get(name, []))}
    assert received == {f"tab-{index:02d}" for index in range(40, 50)}
    assert all(len(stub.messages[name]) == 1 for name in received)


def test_the_fan_outs_read_of_a_users_connections_is_one_bounded_query(
    function: Any, context: Any, stub: ManagementApiStub, store: Store, meter: CapacityMeter, user: str, other_user: str
) -> None:
    # Given a user with 50 connection items (connects that raced, disconnects that never came)
    # and another with the ten of the cap
    for index in range(50):
        store.connections.add(user, f"stale-{index:02d}")
    for index in range(CAP):
        store.connections.add(other_user, f"tab-{index:02d}")

    # When the fan-out reads each one's connections
    meter.reset()
    crowded = store.connections.of(user)
    crowded_units = (meter.read_units, meter.requests)
    meter.reset()
    capped = store.connections.of(other_user)
    capped_units = (meter.read_units, meter.requests)

    # Then each read is one query of half a unit: the crowded user's is cut at the cap plus the margin
    assert len(crowded) == CAP + READ_MARGIN
    assert len(capped) == CAP
    assert crowded_units == capped_units == (0.5, 1)


def test_a_whole_fan_out_batch_reads_no_more_for_a_crowded_user_than_for_one_at_the_cap(
    function: Any, context: Any, stub: ManagementApiStub, store: Store, meter: CapacityMeter, user: str, other_user: str
) -> None:
    # Given a user with 50 connection items and another with ten
    for index in range(50):
        store.connections.add(user, f"stale-{index:02d}")
    for index in range(CAP):
        store.connections.add(other_user, f"tab-{index:02d}")

    # When each gets a new notification through the fan-out
    fanout = function("fanout").lambda_handler
    meter.reset()
    fanout(created_notification_for(user), context)
    crowded = meter.read_units
    meter.reset()
    fanout(created_notification_for(other_user), context)
    capped = meter.read_units

    # Then the crowded user's batch reads exactly what the other's does, and posts to the cap plus the margin
    assert crowded == capped
    posted = [name for name in stub.messages if name.startswith("stale-") and stub.messages[name]]
    assert len(posted) == CAP + READ_MARGIN


def phone(index: int) -> Device:
    return Device(id=f"phone{index:012d}", platform="fcm", enabled=True, created_at=datetime(2026, 1, 1, tzinfo=UTC))


def add_phones(store: Store, user: str, count: int) -> set[str]:
    for index in range(count):
        store.devices.put(user, phone(index), f"arn:aws:sns:us-east-1:123456789012:endpoint/GCM/inbox-fcm/{index}")
    return {phone(index).id for index in range(count)}


@pytest.mark.parametrize(
    ("connections", "phones", "requests"),
    [
        (2, 1, 1),  # the usual user: one query
        (50, 1, 1),  # connects that raced, disconnects that never came: still one query
        (2, 0, 1),
        (2, 25, 2 + 1),  # more phones than the query takes: each kind read as it is alone
    ],
)
def test_the_fan_out_reads_a_users_connections_and_phones_in_one_query(
    store: Store, meter: CapacityMeter, user: str, connections: int, phones: int, requests: int
) -> None:
    # Given a user with connection items and phones
    for index in range(connections):
        store.connections.add(user, f"tab-{index:02d}")
    expected_phones = add_phones(store, user, phones)

    # When the fan-out reads where the user's changes go
    meter.reset()
    live, devices = store.audience.of(user, connections=True, devices=True)

    # Then it has every phone and the connections up to the cap plus the margin, in the requests on record
    assert {stored.device.id for stored in devices} == expected_phones
    assert len(live) == min(connections, CAP + READ_MARGIN)
    assert set(live) <= {f"tab-{index:02d}" for index in range(connections)}
    assert meter.requests == requests


def test_the_audience_read_leaves_out_connections_past_their_ttl(store: Store, user: str) -> None:
    # Given a live connection, one whose $disconnect never came and whose TTL has passed, and a phone
    store.connections.add(user, "tab-live")
    store.table.put_item(Item={**key(user, ItemKind.CONNECTION, "tab-gone"), "at": 1, "ttl": int(time.time()) - 60})
    expected_phones = add_phones(store, user, 1)

    # When the fan-out reads where the user's changes go
    live, devices = store.audience.of(user, connections=True, devices=True)

    # Then only the live connection is posted to, and the phone is there
    assert (live, {stored.device.id for stored in devices}) == (["tab-live"], expected_phones)


def test_connect_names_the_bearer_subprotocol_back_when_the_client_offered_it(
    function: Any, context: Any, stub: ManagementApiStub, user: str
) -> None:
    # When a client that sent its token as a subprotocol connects
    answer = function("ws_connect").lambda_handler(connect_event(user, "tab-1", "bearer, a.b.c"), context)

    # Then $connect names the bearer subprotocol back, as API Gateway requires
    assert answer == {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "bearer"}}


def test_at_the_templates_largest_cap_one_read_of_a_long_named_users_connections_is_one_unit(
    store: Store, meter: CapacityMeter
) -> None:
    # Given the largest cap the template takes, and a user with a 128-character id and more
    # connection items than a read takes (API Gateway's connection ids are 16 characters)
    largest = TableSettings.model_fields["max_connections_per_user"].metadata
    cap = next(item.le for item in largest if hasattr(item, "le"))
    connections = ConnectionStore(TableGateway(store.table), ttl_seconds=7_800, max_per_user=cap)
    user = "u" * 128
    for index in range(cap + READ_MARGIN + 5):
        connections.add(user, f"{index:015d}=")

    # When $connect or the fan-out reads them
    meter.reset()
    read = connections.stored(user)

    # Then it is one query of at most one read unit
    assert len(read) == cap + READ_MARGIN
    assert (meter.requests, meter.read_units) == (1, 1.0)


def test_a_new_connection_is_kept_when_its_closing_message_to_the_oldest_fails(
    function: Any, context: Any, stub: ManagementApiStub, store: Store, user: str
) -> None:
    # Given a user at the cap whose oldest connection's posts fail (500)
    connect = function("ws_connect").lambda_handler
    for index in range(CAP):
        connect(connect_event(user, f"tab-{index:02d}"), context)
    stub.failing.add("tab-00")

    # When the user opens one more
    answer = connect(connect_event(user, "tab-new"), context)

    # Then the new one is kept, and the oldest is still ended and forgotten
    assert answer == {"statusCode": 200}
    assert stub.deleted == ["tab-00"]
    assert sorted(store.connections.of(user)) == [*(f"tab-{index:02d}" for index in range(1, CAP)), "tab-new"]


def test_an_oldest_connection_that_is_gone_already_is_only_forgotten(
    function: Any, context: Any, stub: ManagementApiStub, store: Store, user: str
) -> None:
    # Given a user at the cap whose oldest connection ended without a $disconnect
    connect = function("ws_connect").lambda_handler
    for index in range(CAP):
        connect(connect_event(user, f"tab-{index:02d}"), context)
    stub.gone.add("tab-00")

    # When the user opens one more
    connect(connect_event(user, "tab-new"), context)

    # Then nothing was sent to it or deleted, and it is forgotten
    assert stub.messages["tab-00"] == []
    assert stub.deleted == []
    assert "tab-00" not in store.connections.of(user)
    assert len(store.connections.of(user)) == CAP
