"""Two users on every route: nothing user A sends reaches, changes or reveals user B's data.

The HTTP API's handler in-process, with the payload v2 events API Gateway sends after its JWT
authorizer, against DynamoDB Local and moto SNS. A is ``alice``, B is ``bob``.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.builders import preference_document
from tests.integration.helpers import http_event, kafka_event, like

pytestmark = pytest.mark.integration

# Well-formed ids that nobody has: what a guess looks like when it misses.
UNKNOWN_NOTIFICATION_ID = "a" * 26
UNKNOWN_DEVICE_ID = "a" * 16


@dataclass(frozen=True)
class Account:
    user: str
    actors: list[str]
    notification_ids: list[str]
    device_id: str | None


def view(call: Any, user: str) -> dict[str, Any]:
    """Everything a user can see of their own data, through every route that reads."""
    return {
        "notifications": call("GET", "/notifications", user, query={"limit": "100"})[1],
        "unread": call("GET", "/notifications", user, query={"limit": "100", "unreadOnly": "true"})[1],
        "count": call("GET", "/notifications/unread-count", user)[1],
        "preferences": call("GET", "/preferences", user)[1],
        "devices": call("GET", "/devices", user)[1],
    }


def ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


def seed(call: Any, function: Any, context: Any, user: str, likes: int, *, with_device: bool) -> Account:
    actors = [f"fan-of-{user}-{index}" for index in range(likes)]
    function("ingest").lambda_handler(kafka_event(*(like(actor, user) for actor in actors)), context)
    _, page = call("GET", "/notifications", user, query={"limit": "100"})
    assert len(page["items"]) == likes
    device_id = None
    if with_device:
        registration = {"platform": "fcm", "token": f"fcm-token-of-{user}-{uuid.uuid4().hex}"}
        status, device = call("POST", "/devices", user, body=registration)
        assert status == 201
        device_id = device["id"]
    return Account(user=user, actors=actors, notification_ids=ids(page), device_id=device_id)


@pytest.fixture
def alice(call: Any, function: Any, context: Any, user: str) -> Account:
    """A: three notifications of her own, default preferences, no device."""
    return seed(call, function, context, user, 3, with_device=False)


@pytest.fixture
def bob(call: Any, function: Any, context: Any, other_user: str) -> Account:
    """B: five unread notifications, a muted type, push switched off and a phone."""
    account = seed(call, function, context, other_user, 5, with_device=True)
    preferences = {"mutedTypes": ["repost"], "channels": {"websocket": True, "push": False}}
    assert call("PUT", "/preferences", other_user, body=preferences)[0] == 200
    return account


def assert_reveals_nothing_of(answer: Any, owner: Account) -> None:
    text = json.dumps(answer)
    for secret in [owner.user, *owner.actors, *owner.notification_ids, owner.device_id]:
        assert secret is None or secret not in text


def test_every_reading_route_shows_a_only_her_own_data(call: Any, alice: Account, bob: Account) -> None:
    # Given A and B, each with notifications; B also with preferences and a phone
    # When A reads every route that lists or counts
    seen = view(call, alice.user)

    # Then she sees her own notifications, her own count, default preferences and no phone
    assert ids(seen["notifications"]) == alice.notification_ids
    assert ids(seen["unread"]) == alice.notification_ids
    assert seen["count"] == {"count": 3, "capped": False}
    assert seen["preferences"] == preference_document()
    assert seen["devices"] == []
    # And nothing of B's (ids, actors, phone) appears anywhere in her answers
    assert_reveals_nothing_of(seen, bob)


@pytest.mark.parametrize(
    ("method", "route", "kind"),
    [
        ("POST", "/notifications/{id}/read", "notification"),
        ("DELETE", "/notifications/{id}", "notification"),
        ("DELETE", "/devices/{id}", "device"),
    ],
    ids=["mark-read", "delete-notification", "delete-device"],
)
def test_bs_real_ids_used_by_a_are_not_found_and_change_nothing(
    call: Any, alice: Account, bob: Account, method: str, route: str, kind: str
) -> None:
    # Given B's view of his own data, and A who knows the ids of B's newest notification and phone
    before = view(call, bob.user)
    real_id = bob.notification_ids[0] if kind == "notification" else str(bob.device_id)
    unknown_id = UNKNOWN_NOTIFICATION_ID if kind == "notification" else UNKNOWN_DEVICE_ID

    # When A uses B's id, and then an id nobody has
    status, answer = call(method, route.format(id=real_id), alice.user)
    unknown_status, unknown_answer = call(method, route.format(id=unknown_id), alice.user)

    # Then she gets 404 exactly as for the unknown id: the answer does not tell that B's exists
    assert (status, answer["error"]["code"]) == (404, "not_found")
    assert unknown_status == 404
    assert answer["error"]["message"].replace(real_id, "?") == unknown_answer["error"]["message"].replace(
        unknown_id, "?"
    )
    # And B's data is exactly as it was
    assert view(call, bob.user) == before


@pytest.mark.parametrize("unread_only", [False, True], ids=["all", "unread-only"])
def test_a_cursor_of_bs_listing_is_refused_for_a(call: Any, alice: Account, bob: Account, unread_only: bool) -> None:
    # Given a next-page cursor of B's listing
    listing = {"unreadOnly": "true"} if unread_only else {}
    _, page = call("GET", "/notifications", bob.user, query={"limit": "2", **listing})
    assert page["nextCursor"]

    # When A presents it on the same listing
    status, answer = call("GET", "/notifications", alice.user, query={"cursor": page["nextCursor"], **listing})

    # Then it is a bad cursor, and nothing of B's is in the answer
    assert (status, answer["error"]["code"]) == (400, "bad_cursor")
    assert_reveals_nothing_of(answer, bob)


@pytest.mark.parametrize("unread_only", [False, True], ids=["all", "unread-only"])
def test_a_cursor_of_b_rewritten_to_name_a_only_pages_through_as_own_inbox(
    call: Any, alice: Account, bob: Account, unread_only: bool
) -> None:
    # Given B's cursor, decoded and rewritten to name A (cursors are opaque, not secret); A's three
    # notifications are older than any of B's, so all of them lie past the position it names
    listing = {"unreadOnly": "true"} if unread_only else {}
    _, page = call("GET", "/notifications", bob.user, query={"limit": "2", **listing})
    document = json.loads(base64.urlsafe_b64decode(page["nextCursor"] + "=" * (-len(page["nextCursor"]) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**document, "u": alice.user}).encode()).decode().rstrip("=")

    # When A presents the forgery
    status, answer = call("GET", "/notifications", alice.user, query={"cursor": forged, **listing})

    # Then the listing is read from A's inbox only: her own notifications, newest first, and nothing of B's
    assert status == 200
    assert ids(answer) == alice.notification_ids
    assert answer["nextCursor"] is None
    assert_reveals_nothing_of(answer, bob)


def test_as_mark_all_read_leaves_bs_notifications_unread(call: Any, alice: Account, bob: Account) -> None:
    # Given B with five unread notifications
    before = view(call, bob.user)
    assert before["count"] == {"count": 5, "capped": False}

    # When A marks all read
    assert call("POST", "/notifications/read-all", alice.user)[0] == 204

    # Then A's are read, and B's count, listings and read state are exactly as they were
    assert call("GET", "/notifications/unread-count", alice.user)[1] == {"count": 0, "capped": False}
    assert view(call, bob.user) == before


def test_as_own_notifications_actions_do_not_reach_b(call: Any, alice: Account, bob: Account) -> None:
    # Given B's view of his data
    before = view(call, bob.user)

    # When A reads one of her notifications and deletes another
    assert call("POST", f"/notifications/{alice.notification_ids[0]}/read", alice.user)[0] == 204
    assert call("DELETE", f"/notifications/{alice.notification_ids[1]}", alice.user)[0] == 204

    # Then B's view is unchanged
    assert view(call, bob.user) == before


def test_as_preferences_and_devices_are_hers_alone(call: Any, alice: Account, bob: Account) -> None:
    # Given B's view of his data
    before = view(call, bob.user)

    # When A replaces her preferences and registers a phone of her own
    mine = {"mutedTypes": ["like", "follow"], "channels": {"websocket": False, "push": True}}
    assert call("PUT", "/preferences", alice.user, body=mine)[0] == 200
    status, device = call(
        "POST", "/devices", alice.user, body={"platform": "apns", "token": f"apns-{uuid.uuid4().hex}"}
    )

    # Then she sees her own, B's are unchanged, and her answers tell nothing of B
    assert status == 201
    seen = view(call, alice.user)
    assert seen["preferences"] == preference_document(mutedTypes=["follow", "like"], channels={"websocket": False})
    assert seen["devices"] == [device]
    assert view(call, bob.user) == before
    assert_reveals_nothing_of(seen, bob)


def test_a_phone_token_registered_by_a_moves_from_b_to_a_without_a_server_error(
    call: Any, alice: Account, bob: Account
) -> None:
    # Given B's phone, registered with its push token
    token = f"shared-phone-{uuid.uuid4().hex}"
    _, device = call("POST", "/devices", bob.user, body={"platform": "fcm", "token": token})
    before = view(call, bob.user)

    # When A registers the same token (the phone now signs in as A)
    status, registered = call("POST", "/devices", alice.user, body={"platform": "fcm", "token": token})

    # Then the phone is A's: B's pushes no longer go to it, and nothing else of B's changed
    assert status == 201
    assert registered["id"] == device["id"]
    assert [phone["id"] for phone in view(call, alice.user)["devices"]] == [device["id"]]
    assert device not in view(call, bob.user)["devices"]
    assert {**view(call, bob.user), "devices": before["devices"]} == before


ROUTES = [
    ("GET", "/notifications", None),
    ("GET", "/notifications?unreadOnly=true", None),
    ("GET", "/notifications/unread-count", None),
    ("POST", f"/notifications/{UNKNOWN_NOTIFICATION_ID}/read", None),
    ("POST", "/notifications/read-all", None),
    ("DELETE", f"/notifications/{UNKNOWN_NOTIFICATION_ID}", None),
    ("GET", "/preferences", None),
    ("PUT", "/preferences", {"mutedTypes": [], "channels": {"websocket": True, "push": True}}),
    ("POST", "/devices", {"platform": "fcm", "token": "f" * 64}),
    ("GET", "/devices", None),
    ("DELETE", f"/devices/{UNKNOWN_DEVICE_ID}", None),
]


def without_identity(event: dict[str, Any], shape: str) -> dict[str, Any]:
    context = event["requestContext"]
    if shape == "no-authorizer":
        context.pop("authorizer", None)
    elif shape == "no-jwt":
        context["authorizer"] = {"jwt": None}
    elif shape == "no-sub":
        context["authorizer"]["jwt"]["claims"].pop("sub")
    elif shape == "empty-sub":
        context["authorizer"]["jwt"]["claims"]["sub"] = ""
    elif shape == "lambda-authorizer-context":
        context["authorizer"] = {"lambda": {"userId": "bob", "sub": "bob"}}
    return event


@pytest.mark.parametrize("shape", ["no-authorizer", "no-jwt", "no-sub", "empty-sub", "lambda-authorizer-context"])
@pytest.mark.parametrize(("method", "target", "body"), ROUTES, ids=[f"{m} {t}" for m, t, _ in ROUTES])
def test_a_request_without_identity_gets_401_on_every_route(
    function: Any, context: Any, method: str, target: str, body: Any, shape: str
) -> None:
    # Given a request that reached the function without a user (the authorizer context is missing or empty)
    path, _, query_string = target.partition("?")
    query = dict(pair.split("=") for pair in query_string.split("&")) if query_string else None
    event = without_identity(http_event(method, path, "someone", query=query, body=body), shape)

    # When the API handles it
    response = function("api").lambda_handler(event, context)

    # Then it answers 401 with the JSON error, never a 5xx
    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"] == {
        "code": "unauthorized",
        "message": "a valid bearer token is required",
    }
