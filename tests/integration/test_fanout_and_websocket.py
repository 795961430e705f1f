"""Stream fan-out to the Management API stub and moto SNS; the WebSocket authorizer, connect and disconnect."""

from __future__ import annotations

import copy
import json
import time
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from inbox.api.routes.devices import registry as device_registry
from inbox.models import Device, DeviceRegistration
from inbox.store import Store
from inbox_dev.capacity_meter import CapacityMeter

from tests.builders import preferences
from tests.conftest import load_event


def stream_event_for(user: str) -> dict[str, Any]:
    """The sample stream event (created, read, deleted, read-all) retargeted at the given user."""
    text = json.dumps(load_event("fanout-stream.json")).replace('"U#alice', f'"U#{user}')
    event: dict[str, Any] = json.loads(text)
    return event


def connect(function: Any, context: Any, user: str, connection_id: str) -> None:
    event = copy.deepcopy(load_event("ws-connect.json"))
    event["requestContext"]["connectionId"] = connection_id
    event["requestContext"]["authorizer"] = {"principalId": user}
    assert function("ws_connect").lambda_handler(event, context) == {"statusCode": 200}


def test_each_change_reaches_every_live_connection_and_gone_ones_are_forgotten(
    function: Any, context: Any, stub: Any, store: Store, user: str
) -> None:
    # Given three connections of the user, one of which API Gateway reports gone
    for connection_id in ("tab-1", "tab-2", "phone-web"):
        connect(function, context, user, connection_id)
    stub.gone.add("tab-2")

    # When the stream brings a created, a read, a deleted and a read-all change
    response = function("fanout").lambda_handler(stream_event_for(user), context)

    # Then the live connections got all four messages in order, and the gone one is forgotten
    assert response == {"batchItemFailures": []}
    for connection_id in ("tab-1", "phone-web"):
        kinds = [message["type"] for message in stub.messages[connection_id]]
        assert kinds == ["notification.created", "notification.read", "notification.deleted", "notifications.read_all"]
    created = stub.messages["tab-1"][0]["notification"]
    assert set(created) == {
        *("id", "type", "actor", "actors", "actorCount", "resource"),
        *("createdAt", "updatedAt", "occurredAt", "read", "seen", "archived"),
    }
    # And every message carries the user's counts
    assert all(set(message["counts"]) == {"unread", "unseen"} for message in stub.messages["tab-1"])
    assert sorted(store.connections.of(user)) == ["phone-web", "tab-1"]


def test_a_failing_connection_loses_its_messages_without_failing_a_record(
    function: Any, context: Any, stub: Any, user: str
) -> None:
    # Given two tabs of the user, one whose posts keep failing (500)
    connect(function, context, user, "ok-tab")
    connect(function, context, user, "broken-tab")
    stub.failing.add("broken-tab")

    # When the stream brings four changes
    response = function("fanout").lambda_handler(stream_event_for(user), context)

    # Then the working tab got all four, and no record failed: a retry would send them to it again,
    # while the broken tab catches up with its next sync
    assert [message["type"] for message in stub.messages["ok-tab"]] == [
        "notification.created",
        "notification.read",
        "notification.deleted",
        "notifications.read_all",
    ]
    assert response == {"batchItemFailures": []}
    assert stub.messages["broken-tab"] == []


def test_a_new_notification_is_pushed_to_enabled_devices_and_a_disabled_endpoint_is_switched_off(
    function: Any, context: Any, stub: Any, store: Store, user: str
) -> None:
    # Given two registered phones, one whose SNS endpoint has been disabled by the platform
    working = device_registry().register(user, DeviceRegistration(platform="fcm", token="token-working-0001"))
    dead = device_registry().register(user, DeviceRegistration(platform="apns", token="token-dead-000001"))
    sns = boto3.client("sns")
    dead_device = store.devices.get(user, dead.id)
    assert dead_device is not None
    dead_arn = dead_device.endpoint_arn
    sns.set_endpoint_attributes(EndpointArn=dead_arn, Attributes={"Enabled": "false"})

    # When a notification is created
    event = stream_event_for(user)
    event["Records"] = event["Records"][:1]
    response = function("fanout").lambda_handler(event, context)

    # Then the batch succeeds and the dead phone is disabled, the working one still enabled
    assert response == {"batchItemFailures": []}
    devices = {stored.device.id: stored.device.enabled for stored in store.devices.of(user)}
    assert devices == {working.id: True, dead.id: False}


def test_preferences_switch_off_the_websocket_channel(
    function: Any, context: Any, stub: Any, store: Store, user: str
) -> None:
    connect(function, context, user, "quiet-tab")
    store.preferences.put(user, preferences(channels={"websocket": False, "push": False}))

    function("fanout").lambda_handler(stream_event_for(user), context)

    assert stub.messages["quiet-tab"] == []


def nothing_to_push_for(user: str) -> dict[str, Any]:
    """The sample stream event without its new notification: read, deleted and read-all."""
    event = stream_event_for(user)
    event["Records"] = event["Records"][1:]
    return event


def test_changes_with_nothing_to_push_read_no_preferences_of_a_user_with_no_open_connection(
    function: Any, context: Any, store: Store, meter: CapacityMeter, user: str
) -> None:
    # Given a user with no open connection, whose read, delete and read-all reach the fan-out
    meter.reset()

    # When the fan-out handles them
    response = function("fanout").lambda_handler(nothing_to_push_for(user), context)

    # Then it read only where they could go, one query: no preferences, no counts (DynamoDB Local
    # reports nothing for a query that finds nothing; DynamoDB bills it half a unit)
    assert response == {"batchItemFailures": []}
    assert (meter.requests, meter.read_units) == (1, 0)


def test_changes_with_nothing_to_push_follow_the_websocket_channel_of_a_connected_user(
    function: Any, context: Any, stub: Any, store: Store, meter: CapacityMeter, user: str, other_user: str
) -> None:
    # Given one connected user with the WebSocket channel off, and another with it on
    connect(function, context, user, "quiet-tab")
    connect(function, context, other_user, "live-tab")
    store.preferences.put(user, preferences(channels={"websocket": False}))

    # When each one's read, delete and read-all reach the fan-out
    for someone in (user, other_user):
        function("fanout").lambda_handler(nothing_to_push_for(someone), context)

    # Then only the other user's tab hears of them
    assert stub.messages["quiet-tab"] == []
    kinds = [message["type"] for message in stub.messages["live-tab"]]
    assert kinds == ["notification.read", "notification.deleted", "notifications.read_all"]


def test_disconnect_forgets_the_connection(function: Any, context: Any, store: Store, user: str) -> None:
    # Given the user's open connection, the one the sample $disconnect event names
    event = load_event("ws-disconnect.json")
    connection_id = event["requestContext"]["connectionId"]
    event["requestContext"]["authorizer"].update({"principalId": user, "userId": user})
    connect(function, context, user, connection_id)
    assert store.connections.of(user) == [connection_id]

    # When API Gateway reports that it closed
    assert function("ws_disconnect").lambda_handler(event, context) == {"statusCode": 200}

    # Then the user has no connection left
    assert store.connections.of(user) == []


def authorize(function: Any, context: Any, token: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("ws-authorizer.json"))
    event["queryStringParameters"] = {"token": token}
    answer: dict[str, Any] = function("ws_authorizer").lambda_handler(event, context)
    return answer


def test_a_valid_token_is_allowed_as_its_user(function: Any, context: Any, issuer: Any, user: str) -> None:
    # When the user's valid token is presented on $connect
    policy = authorize(function, context, issuer.mint(user))

    # Then the connection is allowed as the user, whom the connect function is told
    assert policy["principalId"] == user
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert policy["context"] == {"userId": user}


@pytest.mark.parametrize(
    "make_token",
    [
        lambda issuer: "garbage",
        lambda issuer: issuer.mint("alice", exp=int(time.time()) - 3600),
        lambda issuer: issuer.mint("alice", nbf=int(time.time()) + 3600),
        lambda issuer: issuer.mint("alice", iss="https://evil.example.com"),
        lambda issuer: issuer.mint("alice", aud="another-app"),
        lambda issuer: type(issuer)(issuer=issuer.issuer, audience=issuer.audience).mint("alice"),
        lambda issuer: type(issuer)(issuer=issuer.issuer, audience=issuer.audience, key_id="unknown").mint("alice"),
    ],
    ids=[
        "garbage",
        "expired",
        "not-yet-valid",
        "wrong-issuer",
        "wrong-audience",
        "wrong-key",
        "unknown-kid",
    ],
)
def test_a_bad_token_is_refused(function: Any, context: Any, issuer: Any, make_token: Any) -> None:
    policy = authorize(function, context, make_token(issuer))
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert "context" not in policy or policy["context"] in (None, {})


def test_a_batch_for_many_users_reads_each_users_audience_once_and_isolates_failures(
    function: Any, context: Any, stub: Any, store: Store, meter: CapacityMeter, user: str, other_user: str
) -> None:
    # Given two users with one tab each, the other user with a phone whose endpoint SNS does not know
    connect(function, context, user, f"{user}-tab")
    connect(function, context, other_user, f"{other_user}-tab")
    lost = Device(id="abcdefghijklmnop", platform="fcm", enabled=True, created_at=datetime(2026, 1, 1, tzinfo=UTC))
    store.devices.put(other_user, lost, "arn:aws:sns:us-east-1:123456789012:endpoint/GCM/inbox-fcm/unknown")

    # When one batch brings both users' four changes, interleaved
    mine, theirs = stream_event_for(user)["Records"], stream_event_for(other_user)["Records"]
    for index, record in enumerate(theirs):
        record["dynamodb"]["SequenceNumber"] = f"9{index}"
    batch = {"Records": [record for pair in zip(mine, theirs, strict=True) for record in pair]}
    meter.reset()
    response = function("fanout").lambda_handler(batch, context)

    # Then both users' tabs got every change in order, and only the other user's new notification
    # failed (its push), to be retried
    for tab in (f"{user}-tab", f"{other_user}-tab"):
        kinds = [message["type"] for message in stub.messages[tab]]
        assert kinds == ["notification.created", "notification.read", "notification.deleted", "notifications.read_all"]
    failed = sorted(failure["itemIdentifier"] for failure in response["batchItemFailures"])
    assert failed == ["90"]
    # And both users' preferences were read in one request, and each one's connections and devices
    # (one query) and counts once for the batch
    assert meter.requests == 1 + 2 * 2
