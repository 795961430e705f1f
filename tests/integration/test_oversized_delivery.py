"""A stored notification too large for a WebSocket message or a push is delivered trimmed, never dropped.

The fan-out function gets a stream record of a notification with a 200 KB excerpt (the ingest caps
excerpts, but an item can be written by other means, a restore for one): the open tab gets it in
one message within API Gateway's 128 KB, the phone gets a push within the platforms' 4 KB, and the
record succeeds (a failure would retry it, pushing the phone again, and end in the dead letters).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from inbox.api.routes.devices import registry as device_registry
from inbox.delivery.messages import WEBSOCKET_FRAME_LIMIT
from inbox.delivery.push import PLATFORM_PAYLOAD_LIMIT
from inbox.models import DeviceRegistration
from inbox.store import Store
from inbox_dev.sns_local import LocalSns

from tests.conftest import load_event
from tests.integration.helpers import stored_device

pytestmark = pytest.mark.integration

EXCERPT = "An enormous post, " * 12_000  # 216,000 characters


def created_record_for(user: str, excerpt: str) -> dict[str, Any]:
    """The sample stream event's "created" record, for the given user, with the given excerpt."""
    event = copy.deepcopy(load_event("fanout-stream.json"))
    record = json.loads(json.dumps(event["Records"][0]).replace('"U#alice', f'"U#{user}'))
    record["dynamodb"]["NewImage"]["x"] = {"S": excerpt}
    return {"Records": [record]}


def test_a_notification_too_large_for_both_channels_reaches_both_with_a_shortened_excerpt(
    function: Any, context: Any, stub: Any, store: Store, user: str
) -> None:
    # Given an open tab and a phone
    store.connections.add(user, f"{user}-tab")
    device = device_registry().register(user, DeviceRegistration(platform="fcm", token=f"token-{user}"))
    endpoint_arn = stored_device(store, user, device.id).endpoint_arn

    # When the stream brings a new notification with a 216,000-character excerpt
    response = function("fanout").lambda_handler(created_record_for(user, EXCERPT), context)

    # Then the record succeeds
    assert response == {"batchItemFailures": []}

    # And the tab got it in one message within the limit, the excerpt shortened to fit
    [message] = stub.messages[f"{user}-tab"]
    assert len(json.dumps(message, separators=(",", ":")).encode()) <= WEBSOCKET_FRAME_LIMIT
    sent = message["notification"]["resource"]["excerpt"]
    assert sent.endswith("…")
    assert len(sent) > 100_000
    assert EXCERPT.startswith(sent[:-1])

    # And the phone got one push, every platform's payload within its limit
    [push] = [push for push in LocalSns.pushes() if push["endpointArn"] == endpoint_arn]
    for platform in ("APNS", "APNS_SANDBOX", "GCM"):
        assert len(push["message"][platform].encode()) <= PLATFORM_PAYLOAD_LIMIT
    fcm = json.loads(push["message"]["GCM"])
    assert fcm["notification"]["body"].endswith("…")
    assert EXCERPT.startswith(fcm["notification"]["body"][:-1])
    assert json.loads(fcm["data"]["notification"])["id"] == message["notification"]["id"]
