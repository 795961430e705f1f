"""The preference grid: each type's inbox, push and email channels, global switches on top; the
whole document is validated, and the hot paths honour it."""

from __future__ import annotations

from typing import Any

import pytest
from inbox.api.routes.devices import registry as device_registry
from inbox.models import DeviceRegistration
from inbox.store import Store

from tests.integration.helpers import connect, entry_item, inserted, kafka_event, like, pushed_titles

EVERYTHING_ON = {"inbox": True, "push": True, "email": True}
DEFAULTS = {
    "types": dict.fromkeys(("like", "follow", "reply", "repost", "mention"), EVERYTHING_ON),
    "channels": {"inbox": True, "websocket": True, "push": True, "email": True},
    "quietHours": None,
    "digest": {"frequency": "off", "hour": 8, "weekday": "monday", "timezone": "UTC"},
    "email": None,
    "mutedTypes": [],
}


def test_a_new_user_gets_every_type_on_every_channel_and_no_digest(call: Any, user: str) -> None:
    assert call("GET", "/preferences", user) == (200, DEFAULTS)


def test_the_grid_round_trips_and_what_is_left_out_keeps_its_default(call: Any, user: str) -> None:
    # Given a user who wants likes in the inbox only, and mentions by email only
    wanted = {
        "types": {"like": {"push": False, "email": False}, "mention": {"inbox": True, "push": False}},
        "quietHours": {"start": "23:00", "end": "06:30", "timezone": "America/New_York"},
        "digest": {"frequency": "weekly", "weekday": "friday", "hour": 17, "timezone": "America/New_York"},
    }

    # When she saves it
    status, saved = call("PUT", "/preferences", user, body=wanted)

    # Then the saved grid is hers, with defaults for what she left out
    assert status == 200
    assert saved["types"]["like"] == {"inbox": True, "push": False, "email": False}
    assert saved["types"]["mention"] == {"inbox": True, "push": False, "email": True}
    assert saved["types"]["follow"] == EVERYTHING_ON
    assert saved["quietHours"] == wanted["quietHours"]
    assert saved["digest"] == wanted["digest"]
    assert call("GET", "/preferences", user)[1] == saved


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"types": {"poke": {"inbox": False}}}, "types.poke"),
        ({"types": {"like": {"sms": True}}}, "types.like.sms"),
        ({"channels": {"pigeon": False}}, "channels.pigeon"),
        ({"types": {"like": {"push": 0}}}, "types.like.push"),
        ({"channels": {"push": "false"}}, "channels.push"),
        ({"digest": {"frequency": "hourly"}}, "digest.frequency"),
        ({"digest": {"frequency": "daily", "hour": 24}}, "digest.hour"),
        ({"digest": {"frequency": "weekly", "weekday": "someday"}}, "digest.weekday"),
    ],
)
def test_unknown_types_channels_and_loose_booleans_are_a_400_naming_them(
    call: Any, user: str, body: dict[str, Any], named: str
) -> None:
    # When a document with one problem is sent
    status, answer = call("PUT", "/preferences", user, body=body)

    # Then it is refused, naming the field, and nothing is saved
    assert (status, answer["error"]["code"]) == (400, "invalid_request")
    assert named in answer["error"]["message"]
    assert call("GET", "/preferences", user)[1] == DEFAULTS


def test_a_type_whose_inbox_is_off_is_not_stored(function: Any, context: Any, call: Any, user: str) -> None:
    # Given a user who turned the inbox off for likes
    assert call("PUT", "/preferences", user, body={"types": {"like": {"inbox": False}}})[0] == 200

    # When a like and a follow arrive
    follow = ("user-followed", b'{"actorId": "ann", "followedUserId": "%s"}' % user.encode())
    function("ingest").lambda_handler(kafka_event(like("ann", user), follow), context)

    # Then only the follow is in her inbox
    assert [item["type"] for item in call("GET", "/notifications", user)[1]["items"]] == ["follow"]


def test_a_type_whose_push_is_off_is_stored_and_sent_live_but_not_pushed(
    function: Any, context: Any, stub: Any, store: Store, call: Any, user: str
) -> None:
    # Given a tab and a phone, and push turned off for likes only
    connect(function, context, user, "tab")
    device = device_registry().register(user, DeviceRegistration(platform="fcm", token=f"token-{user}"))
    stored = store.devices.get(user, device.id)
    assert stored is not None
    assert call("PUT", "/preferences", user, body={"types": {"like": {"push": False}}})[0] == 200

    # When a like arrives and the stream brings it
    function("ingest").lambda_handler(kafka_event(like("ann", user)), context)
    function("fanout").lambda_handler({"Records": [inserted(entry_item(store, user), "1")]}, context)

    # Then the inbox holds it and the tab got it, and the phone did not
    assert len(call("GET", "/notifications", user)[1]["items"]) == 1
    assert [message["type"] for message in stub.messages["tab"]] == ["notification.created"]
    assert pushed_titles(stored.endpoint_arn) == []


def test_preferences_stored_by_the_first_version_read_as_they_meant(store: Store, call: Any, user: str) -> None:
    # Given preferences as the first version stored them: reposts muted, live messages and push off
    store.table.put_item(Item={"pk": f"U#{user}", "sk": "PREFS", "muted": ["repost"], "ws": False, "push": False})

    # When the user reads them
    status, shown = call("GET", "/preferences", user)

    # Then reposts are not stored, and live messages and push are off for every type
    assert status == 200
    assert shown["types"]["repost"]["inbox"] is False
    assert shown["types"]["like"] == EVERYTHING_ON
    assert shown["channels"] == {"inbox": True, "websocket": False, "push": False, "email": True}
    assert shown["mutedTypes"] == ["repost"]
