"""The HTTP API through its handler, with API Gateway's event shape, against DynamoDB Local and moto SNS."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.builders import preference_document
from tests.conftest import load_event
from tests.integration.helpers import kafka_event, like


@pytest.fixture
def inbox(function: Any, context: Any, user: str) -> None:
    """Five likes of five posts of the user (five entries), from actor-0 (oldest) to actor-4 (newest)."""
    for index in range(5):
        liked = like(f"actor-{index}", user, post=f"post-{index}")
        function("ingest").lambda_handler(kafka_event(liked, first_offset=index), context)


PATHS = {
    "/notifications",
    "/notifications/open",
    "/notifications/unread-count",
    "/notifications/read-all",
    "/notifications/counts",
    "/notifications/seen-all",
    "/notifications/clear-all",
    "/notifications/{id}/read",
    "/notifications/{id}/unread",
    "/notifications/{id}/archive",
    "/notifications/{id}/unarchive",
    "/notifications/{id}",
    "/preferences",
    "/devices",
    "/devices/{id}",
}
NEWEST_FIRST = ["actor-4", "actor-3", "actor-2", "actor-1", "actor-0"]


def actors(page: dict[str, Any]) -> list[str]:
    return [item["actor"]["id"] for item in page["items"]]


def test_every_sample_event_gets_its_answer(function: Any, context: Any, inbox: Any, user: str) -> None:
    # Given the sample events of the API (for `sam local invoke`), sent as the user, who has five likes
    api = function("api")

    def send(name: str) -> tuple[int, Any]:
        event = load_event(name)
        if "authorizer" in event["requestContext"]:
            event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = user
        response = api.lambda_handler(event, context)
        body = response.get("body")
        return response["statusCode"], json.loads(body) if body else None

    # When each is handled, in turn
    # Then the listings show her five likes newest first, all unread, and her count, preferences and devices
    status, page = send("api-list-notifications.json")
    assert (status, actors(page), page["nextCursor"]) == (200, NEWEST_FIRST, None)
    assert page["counts"] == {"unread": 5, "unseen": 5, "capped": False}
    assert [item["read"] for item in page["items"]] == [False] * 5
    status, unread = send("api-list-unread.json")
    assert (status, unread) == (200, page)
    assert send("api-unread-count.json") == (200, {"count": 5, "capped": False})
    assert send("api-get-preferences.json") == (200, preference_document())
    assert send("api-list-devices.json") == (200, [])
    assert send("api-counts.json") == (200, {"unread": 5, "unseen": 5, "capped": False})
    five_new = {"unread": 5, "unseen": 5, "capped": False}
    assert send("api-list-mentions.json") == (200, {"items": [], "nextCursor": None, "counts": five_new})
    assert send("api-list-archived.json") == (200, {"items": [], "nextCursor": None, "counts": five_new})
    # And opening the inbox answers its first page, every entry unseen until then, and the counts after it
    status, opened = send("api-open-inbox.json")
    assert (status, actors(opened), opened["counts"]) == (
        200,
        NEWEST_FIRST,
        {"unread": 5, "unseen": 0, "capped": False},
    )
    assert [item["seen"] for item in opened["items"]] == [False] * 5
    # And seen-all and marking all read answer 204 with no body; then nothing is unseen or unread
    assert send("api-seen-all.json") == (204, None)
    assert send("api-mark-all-read.json") == (204, None)
    assert send("api-counts.json") == (200, {"unread": 0, "unseen": 0, "capped": False})
    assert send("api-unread-count.json") == (200, {"count": 0, "capped": False})
    # And clearing the inbox leaves nothing listed
    assert send("api-clear-all.json") == (204, None)
    nothing = {"unread": 0, "unseen": 0, "capped": False}
    assert send("api-list-notifications.json") == (200, {"items": [], "nextCursor": None, "counts": nothing})
    # And the OpenAPI document describes every route
    status, document = send("api-openapi.json")
    assert (status, set(document["paths"])) == (200, PATHS)
    # And the ids the samples name are nobody's: 404 with the JSON error naming the id
    for name, missing in (
        ("api-mark-read.json", "notification mfrggzdfmztwq2lknnwg23tpoa"),
        ("api-mark-unread.json", "notification mfrggzdfmztwq2lknnwg23tpoa"),
        ("api-archive.json", "notification mfrggzdfmztwq2lknnwg23tpoa"),
        ("api-unarchive.json", "notification mfrggzdfmztwq2lknnwg23tpoa"),
        ("api-delete-notification.json", "notification mfrggzdfmztwq2lknnwg23tpoa"),
        ("api-delete-device.json", "device mfrggzdfmztwq2lk"),
    ):
        assert send(name) == (404, {"error": {"code": "not_found", "message": f"{missing} not found"}}), name


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
    # And only the first page carries the counts
    assert first["counts"] == {"unread": 5, "unseen": 5, "capped": False}
    assert [second["counts"], third["counts"]] == [None, None]
    item = first["items"][0]
    assert set(item) == {
        *("id", "type", "actor", "actors", "actorCount", "resource"),
        *("createdAt", "updatedAt", "occurredAt", "read", "seen", "archived"),
    }
    assert all(item[field].endswith("Z") for field in ("createdAt", "updatedAt", "occurredAt"))
    assert (item["read"], item["seen"], item["archived"], item["actorCount"]) == (False, False, False, 1)
    assert item["actors"] == [item["actor"]]


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
    assert everything["items"][0] == {**page["items"][0], "read": True, "seen": True}


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

    assert call("DELETE", f"/notifications/{oldest['id']}", user) == (204, None)
    assert call("DELETE", f"/notifications/{oldest['id']}", user) == (404, not_found("notification", oldest["id"]))
    # A redelivery of the same like must not bring it back
    function("ingest").lambda_handler(kafka_event(like("actor-0", user, post="post-0"), first_offset=0), context)

    _, after = call("GET", "/notifications", user)
    assert oldest["id"] not in [item["id"] for item in after["items"]]
    assert call("GET", "/notifications/unread-count", user)[1]["count"] == 4


def test_another_users_notifications_are_invisible(call: Any, inbox: Any, user: str, other_user: str) -> None:
    _, page = call("GET", "/notifications", user, query={"limit": "2"})
    theirs = page["items"][0]["id"]

    nothing = {"unread": 0, "unseen": 0, "capped": False}
    assert call("GET", "/notifications", other_user) == (200, {"items": [], "nextCursor": None, "counts": nothing})
    assert call("POST", f"/notifications/{theirs}/read", other_user) == (404, not_found("notification", theirs))
    assert call("DELETE", f"/notifications/{theirs}", other_user) == (404, not_found("notification", theirs))
    status, body = call("GET", "/notifications", other_user, query={"cursor": page["nextCursor"]})
    assert (status, body) == (400, {"error": {"code": "bad_cursor", "message": "cursor was made for another listing"}})
    # and the owner's notification is untouched
    assert call("GET", "/notifications/unread-count", user)[1]["count"] == 5


def not_found(kind: str, identifier: str) -> dict[str, Any]:
    return {"error": {"code": "not_found", "message": f"{kind} {identifier} not found"}}


def settings_of(call: Any, user: str) -> tuple[Any, Any]:
    """What a refused write could have changed: the user's preferences and devices."""
    return call("GET", "/preferences", user)[1], call("GET", "/devices", user)[1]


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "code", "names"),
    [
        ("GET", "/notifications", {"limit": "0"}, None, "invalid_request", "query.limit: "),
        ("GET", "/notifications", {"limit": "101"}, None, "invalid_request", "query.limit: "),
        ("GET", "/notifications", {"limit": "ten"}, None, "invalid_request", "query.limit: "),
        ("GET", "/notifications", {"cursor": "not-a-cursor"}, None, "bad_cursor", "cursor is malformed"),
        ("GET", "/notifications", {"unreadOnly": "maybe"}, None, "invalid_request", "query.unreadOnly: "),
        ("POST", "/notifications/NOT-AN-ID/read", None, None, "invalid_request", "path.id: "),
        ("PUT", "/preferences", None, "{not json", "invalid_request", "JSON decode error"),
        ("PUT", "/preferences", None, {"mutedTypes": ["spam"]}, "invalid_request", "mutedTypes.0: "),
        ("PUT", "/preferences", None, {"channels": {"push": "sometimes"}}, "invalid_request", "channels.push: "),
        ("POST", "/devices", None, {"platform": "blackberry", "token": "0123456789"}, "invalid_request", "platform: "),
        ("POST", "/devices", None, {"platform": "fcm"}, "invalid_request", "token: Field required"),
    ],
)
def test_bad_input_gets_a_400_with_a_json_error_naming_the_problem(
    call: Any, user: str, method: str, path: str, query: Any, body: Any, code: str, names: str
) -> None:
    # Given the user's preferences and devices
    before = settings_of(call, user)

    # When a request with one bad parameter or body is sent
    status, answer = call(method, path, user, query=query, body=body)

    # Then it is refused with 400 and the JSON error: its code, and a message naming the parameter or field
    assert (status, list(answer), answer["error"]["code"]) == (400, ["error"], code)
    assert list(answer["error"]) == ["code", "message"]
    assert names in answer["error"]["message"]
    # And nothing of the user's changed
    assert settings_of(call, user) == before


def test_without_identity_the_answer_is_401(call: Any) -> None:
    status, answer = call("GET", "/notifications", None)
    assert (status, answer["error"]["code"]) == (401, "unauthorized")


def test_preferences_of_the_first_version_still_round_trip(call: Any, user: str) -> None:
    # Given a client of the first version, which sends muted types and two channel switches
    wanted = {"mutedTypes": ["repost", "like", "like"], "channels": {"websocket": True, "push": False}}

    # When it saves them
    status, saved = call("PUT", "/preferences", user, body=wanted)

    # Then the muted types' inbox is off and push is off everywhere, and its own fields read back as it sent them
    assert status == 200
    assert (saved["mutedTypes"], saved["types"]["like"]["inbox"], saved["types"]["repost"]["inbox"]) == (
        ["like", "repost"],
        False,
        False,
    )
    assert (saved["channels"]["websocket"], saved["channels"]["push"]) == (True, False)
    assert call("GET", "/preferences", user)[1] == saved


def test_devices_register_refresh_list_and_delete(call: Any, user: str, other_user: str) -> None:
    registration = {"platform": "apns", "token": "a" * 64}
    status, device = call("POST", "/devices", user, body=registration)
    again_status, again = call("POST", "/devices", user, body=registration)

    assert (status, again_status) == (201, 201)
    assert again == device
    assert call("GET", "/devices", user)[1] == [device]
    assert call("DELETE", f"/devices/{device['id']}", other_user) == (404, not_found("device", device["id"]))
    assert call("DELETE", f"/devices/{device['id']}", user) == (204, None)
    assert call("GET", "/devices", user)[1] == []


def test_the_openapi_document_describes_every_route(call: Any) -> None:
    status, document = call("GET", "/openapi.json", None)
    assert (status, set(document["paths"])) == (200, PATHS)


def test_the_socket_and_stream_samples_get_their_answers(function: Any, context: Any, stub: Any, user: str) -> None:
    # Given the user's tab, and the samples of a sync message and of a group growing, sent as the user
    connect = load_event("ws-connect.json")
    connect["requestContext"]["authorizer"] = {"principalId": user}
    assert function("ws_connect").lambda_handler(connect, context)["statusCode"] == 200
    sync = load_event("ws-sync.json")
    sync["requestContext"]["authorizer"] = {"principalId": user, "userId": user}
    grew = json.loads(json.dumps(load_event("fanout-group-grew.json")).replace('"U#alice', f'"U#{user}'))

    # When the sync is answered and the stream record fanned out
    answer = function("ws_message").lambda_handler(sync, context)
    response = function("fanout").lambda_handler(grew, context)

    # Then the sync brings an (empty) page and the counts, and the tab is told the group grew
    assert json.loads(answer["body"]) == {
        "type": "sync",
        "page": {"items": [], "nextCursor": None},
        "counts": {"unread": 0, "unseen": 0},
    }
    assert response == {"batchItemFailures": []}
    [message] = stub.messages[connect["requestContext"]["connectionId"]]
    assert (message["type"], message["notification"]["actorCount"]) == ("notification.updated", 2)
