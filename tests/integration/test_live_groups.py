"""Live delivery of grouped entries: every tab gets the same entry and counts; phones hear of a group
once per interval; replicated changes are left to their region; push settings and registrations."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from inbox.api.routes.devices import registry as device_registry
from inbox.delivery.changes import ChangeKind
from inbox.models import DeviceRegistration
from inbox.settings import push_settings
from inbox.store import Store

from tests.builders import preferences
from tests.conftest import load_event
from tests.integration.helpers import connect, entry_item, inserted, kafka_event, like, modified, pushed_titles


def test_a_like_joining_a_group_reaches_both_tabs_as_the_same_updated_entry_with_counts(
    function: Any, context: Any, stub: Any, store: Store, user: str
) -> None:
    # Given two tabs of the user and ann's like of her post
    for tab in ("tab-1", "tab-2"):
        connect(function, context, user, tab)
    function("ingest").lambda_handler(kafka_event(like("ann", user, post="p1")), context)
    before = entry_item(store, user)

    # When ben's like of the same post joins the group and the stream brings the change
    function("ingest").lambda_handler(kafka_event(like("ben", user, post="p1"), first_offset=1), context)
    after = entry_item(store, user)
    function("fanout").lambda_handler({"Records": [modified(before, after, "1")]}, context)

    # Then both tabs got the same updated entry, "ben and ann", with the same counts
    first, second = (stub.messages[tab][-1] for tab in ("tab-1", "tab-2"))
    assert first == second
    assert first["type"] == ChangeKind.UPDATED.value
    assert [actor["id"] for actor in first["notification"]["actors"]] == ["ben", "ann"]
    assert first["notification"]["actorCount"] == 2
    assert first["counts"] == {"unread": 1, "unseen": 1}


def test_a_group_is_pushed_for_its_first_member_and_then_at_most_once_per_interval(
    function: Any, context: Any, store: Store, user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a phone, and ann's like that starts a group
    device = device_registry().register(user, DeviceRegistration(platform="fcm", token=f"token-{user}"))
    stored = store.devices.get(user, device.id)
    assert stored is not None
    fanout = function("fanout")
    function("ingest").lambda_handler(kafka_event(like("ann", user, post="p1")), context)
    started = entry_item(store, user)
    fanout.lambda_handler({"Records": [inserted(started, "1")]}, context)

    # When ben and then cat join within the interval
    grown = []
    for offset, name in enumerate(("ben", "cat"), start=1):
        before = entry_item(store, user)
        function("ingest").lambda_handler(kafka_event(like(name, user, post="p1"), first_offset=offset), context)
        grown.append(modified(before, entry_item(store, user), str(offset + 1)))
    fanout.lambda_handler({"Records": grown}, context)

    # Then the phone heard of the first like only
    assert pushed_titles(stored.endpoint_arn) == ["Ann liked your post"]

    # And once the interval has passed, the next member is pushed with the group's summary
    monkeypatch.setattr(fanout.delivery, "_push_group_interval_ms", 0)
    before = entry_item(store, user)
    function("ingest").lambda_handler(kafka_event(like("dan", user, post="p1"), first_offset=9), context)
    fanout.lambda_handler({"Records": [modified(before, entry_item(store, user), "9")]}, context)
    assert pushed_titles(stored.endpoint_arn) == ["Ann liked your post", "Dan, Cat and 2 others liked your post"]


def test_push_switched_off_keeps_the_phone_quiet_while_the_tab_is_told(
    function: Any, context: Any, stub: Any, store: Store, user: str
) -> None:
    # Given a tab and a registered phone, and push switched off
    connect(function, context, user, "tab")
    device = device_registry().register(user, DeviceRegistration(platform="fcm", token=f"token-{user}"))
    stored = store.devices.get(user, device.id)
    assert stored is not None
    store.preferences.put(user, preferences(channels={"websocket": True, "push": False}))

    # When a notification is created
    function("ingest").lambda_handler(kafka_event(like("ann", user)), context)
    function("fanout").lambda_handler({"Records": [inserted(entry_item(store, user), "1")]}, context)

    # Then the tab got it and the phone did not
    assert [message["type"] for message in stub.messages["tab"]] == ["notification.created"]
    assert pushed_titles(stored.endpoint_arn) == []


@pytest.mark.parametrize("index", [0, 1, 2, 3], ids=["created", "read", "deleted", "read-all"])
def test_a_change_replicated_from_another_region_is_not_fanned_out_here(
    function: Any, context: Any, stub: Any, user: str, index: int
) -> None:
    # Given the user's tab and a stream record of each kind, written in another region
    connect(function, context, user, "tab")
    event = json.loads(json.dumps(load_event("fanout-stream.json")).replace('"U#alice', f'"U#{user}'))
    record = event["Records"][index]
    record["dynamodb"]["NewImage"]["rg"] = {"S": "eu-central-1"}

    # When this region's fan-out reads it
    response = function("fanout").lambda_handler({"Records": [record]}, context)

    # Then nothing is sent and nothing fails: eu-central-1's fan-out sends it
    assert response == {"batchItemFailures": []}
    assert stub.messages["tab"] == []


def test_a_platform_without_configuration_is_a_422(call: Any, user: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given push to APNs is not configured
    unconfigured = push_settings().model_copy(update={"apns_platform_application_arn": ""})
    monkeypatch.setattr(device_registry(), "_settings", unconfigured)

    # When a phone registers for it
    status, body = call("POST", "/devices", user, body={"platform": "apns", "token": "token-apns-0001"})

    # Then it is told so, and nothing is stored
    assert (status, body["error"]["code"]) == (422, "platform_unavailable")
    assert call("GET", "/devices", user) == (200, [])


def test_registering_a_disabled_phone_again_turns_it_back_on(call: Any, store: Store, user: str) -> None:
    # Given a phone whose endpoint the platform disabled, and the fan-out switched it off
    status, device = call("POST", "/devices", user, body={"platform": "fcm", "token": f"token-{user}-again"})
    assert status == 201
    stored = store.devices.get(user, device["id"])
    assert stored is not None
    boto3.client("sns").set_endpoint_attributes(EndpointArn=stored.endpoint_arn, Attributes={"Enabled": "false"})
    store.devices.disable(user, device["id"])

    # When the app registers the same token again
    status, again = call("POST", "/devices", user, body={"platform": "fcm", "token": f"token-{user}-again"})

    # Then it is the same device, enabled, and its endpoint is enabled at SNS
    assert (status, again["id"], again["enabled"]) == (201, device["id"], True)
    attributes = boto3.client("sns").get_endpoint_attributes(EndpointArn=stored.endpoint_arn)["Attributes"]
    assert attributes["Enabled"] == "true"
