"""The HTTP API through its handler, with API Gateway's event shape, against DynamoDB Local and moto SNS."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import load_event
from tests.integration.helpers import kafka_event, like


@pytest.fixture
def inbox(function: Any, context: Any, user: str) -> None:
    """Five likes for the user, from actor-0 (oldest) to actor-4 (newest)."""
    for index in range(5):
        function("ingest").lambda_handler(kafka_event(like(f"actor-{index}", user), first_offset=index), context)


def test_every_sample_event_gets_a_well_formed_answer(function: Any, context: Any) -> None:
    api = function("api")
    for name in (
        "api-list-notifications.json",
        "api-list-unread.json",
        "api-unread-count.json",
        "api-get-preferences.json",
        "api-list-devices.json",
        "api-mark-all-read.json",
        "api-openapi.json",
    ):
        response = api.lambda_handler(load_event(name), context)
        assert response["statusCode"] in (200, 204), name
    for name in ("api-mark-read.json", "api-delete-notification.json", "api-delete-device.json"):
        response = api.lambda_handler(load_event(name), context)
        assert response["statusCode"] == 404, name
        assert json.loads(response["body"])["error"]["code"] == "not_found"


def test_the_inbox_lists_newest_first_across_pages(call: Any, inbox: Any, user: str) -> None:
    # When the user pages through with limit 2
    status, first = call("GET", "/notifications", user, query={"limit": "2"})
    _, second = call("GET", "/notifications", user, query={"limit": "2", "cursor": first["nextCursor"]})
    _, third = call("GET", "/notifications", user, query={"limit": "2", "cursor": second["nextCursor"]})

    # Then every notification shows once, newest first, and the last page has no cursor
    actors = [item["actor"]["id"] for page in (first, second, third) for item in page["items"]]
    assert status == 200
    assert actors == ["actor-4", "actor-3", "actor-2", "actor-1", "actor-0"]
    assert third["nextCursor"] is None
    item = first["items"][0]
    assert set(item) == {"id", "type", "actor", "resource", "createdAt", "read"}
    assert item["createdAt"].endswith("Z")
    assert item["read"] is False


def test_reading_updates_the_count_and_the_unread_listing(call: Any, inbox: Any, user: str) -> None:
    _, page = call("GET", "/notifications", user)
    newest = page["items"][0]["id"]

    # When the newest is marked read
    status, _ = call("POST", f"/notifications/{newest}/read", user)

    # Then the count drops, the unread listing skips it, and the full listing shows it read
    assert status == 204
    assert call("GET", "/notifications/unread-count", user)[1] == {"count": 4, "capped": False}
    _, unread = call("GET", "/notifications", user, query={"unreadOnly": "true"})
    assert newest not in [item["id"] for item in unread["items"]]
    _, everything = call("GET", "/notifications", user)
    assert everything["items"][0] == {**page["items"][0], "read": True}


def test_mark_all_read_then_a_new_notification_is_the_only_unread(
    call: Any, inbox: Any, user: str, function: Any, context: Any
) -> None:
    assert call("POST", "/notifications/read-all", user)[0] == 204
    assert call("GET", "/notifications/unread-count", user)[1] == {"count": 0, "capped": False}

    function("ingest").lambda_handler(kafka_event(like("late-actor", user), first_offset=50), context)

    _, page = call("GET", "/notifications", user)
    assert [(item["actor"]["id"], item["read"]) for item in page["items"][:2]] == [
        ("late-actor", False),
        ("actor-4", True),
    ]
    assert call("GET", "/notifications/unread-count", user)[1] == {"count": 1, "capped": False}


def test_a_deleted_notification_is_gone_and_stays_gone(
    call: Any, inbox: Any, user: str, function: Any, context: Any
) -> None:
    _, page = call("GET", "/notifications", user)
    oldest = page["items"][-1]

    assert call("DELETE", f"/notifications/{oldest['id']}", user)[0] == 204
    assert call("DELETE", f"/notifications/{oldest['id']}", user)[0] == 404
    # A redelivery of the same like must not bring it back
    function("ingest").lambda_handler(kafka_event(like("actor-0", user), first_offset=0), context)

    _, after = call("GET", "/notifications", user)
    assert oldest["id"] not in [item["id"] for item in after["items"]]
    assert call("GET", "/notifications/unread-count", user)[1]["count"] == 4


def test_another_users_notifications_are_invisible(call: Any, inbox: Any, user: str, other_user: str) -> None:
    _, page = call("GET", "/notifications", user, query={"limit": "2"})
    theirs = page["items"][0]["id"]

    assert call("GET", "/notifications", other_user)[1] == {"items": [], "nextCursor": None}
    assert call("POST", f"/notifications/{theirs}/read", other_user)[0] == 404
    assert call("DELETE", f"/notifications/{theirs}", other_user)[0] == 404
    status, body = call("GET", "/notifications", other_user, query={"cursor": page["nextCursor"]})
    assert (status, body["error"]["code"]) == (400, "bad_cursor")
    # and the owner's notification is untouched
    assert call("GET", "/notifications/unread-count", user)[1]["count"] == 5


@pytest.mark.parametrize(
    ("method", "path", "query", "body"),
    [
        ("GET", "/notifications", {"limit": "0"}, None),
        ("GET", "/notifications", {"limit": "101"}, None),
        ("GET", "/notifications", {"limit": "ten"}, None),
        ("GET", "/notifications", {"cursor": "not-a-cursor"}, None),
        ("GET", "/notifications", {"unreadOnly": "maybe"}, None),
        ("POST", "/notifications/NOT-AN-ID/read", None, None),
        ("PUT", "/preferences", None, "{not json"),
        ("PUT", "/preferences", None, {"mutedTypes": ["spam"]}),
        ("PUT", "/preferences", None, {"channels": {"push": "sometimes"}}),
        ("POST", "/devices", None, {"platform": "blackberry", "token": "0123456789"}),
        ("POST", "/devices", None, {"platform": "fcm"}),
    ],
)
def test_bad_input_gets_a_400_with_a_json_error(
    call: Any, user: str, method: str, path: str, query: Any, body: Any
) -> None:
    status, answer = call(method, path, user, query=query, body=body)
    assert status == 400
    assert set(answer["error"]) == {"code", "message"}
    assert answer["error"]["message"]


def test_without_identity_the_answer_is_401(call: Any) -> None:
    status, answer = call("GET", "/notifications", None)
    assert (status, answer["error"]["code"]) == (401, "unauthorized")


def test_preferences_round_trip(call: Any, user: str) -> None:
    assert call("GET", "/preferences", user)[1] == {"mutedTypes": [], "channels": {"websocket": True, "push": True}}
    wanted = {"mutedTypes": ["repost", "like", "like"], "channels": {"websocket": True, "push": False}}
    status, saved = call("PUT", "/preferences", user, body=wanted)
    assert status == 200
    assert saved == {"mutedTypes": ["like", "repost"], "channels": {"websocket": True, "push": False}}
    assert call("GET", "/preferences", user)[1] == saved


def test_devices_register_refresh_list_and_delete(call: Any, user: str, other_user: str) -> None:
    registration = {"platform": "apns", "token": "a" * 64}
    status, device = call("POST", "/devices", user, body=registration)
    again_status, again = call("POST", "/devices", user, body=registration)

    assert (status, again_status) == (201, 201)
    assert again == device
    assert call("GET", "/devices", user)[1] == [device]
    assert call("DELETE", f"/devices/{device['id']}", other_user)[0] == 404
    assert call("DELETE", f"/devices/{device['id']}", user)[0] == 204
    assert call("GET", "/devices", user)[1] == []


def test_the_openapi_document_describes_every_route(call: Any) -> None:
    status, document = call("GET", "/openapi.json", None)
    assert status == 200
    assert {"/notifications", "/notifications/unread-count", "/preferences", "/devices"} <= set(document["paths"])
