"""Quiet hours: inside the window nothing is pushed, while the inbox and the live tabs still get
every entry; windows across midnight and both daylight-saving changes of a real zone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from inbox.api.routes.devices import registry as device_registry
from inbox.models import DeviceRegistration
from inbox.store import Store

from tests.builders import preferences
from tests.integration.helpers import connect, entry_item, inserted, kafka_event, like, pushed_titles

PARIS_NIGHTS = {"start": "22:00", "end": "07:00", "timezone": "Europe/Paris"}


def a_phone(store: Store, user: str) -> str:
    device = device_registry().register(user, DeviceRegistration(platform="fcm", token=f"token-{user}"))
    stored = store.devices.get(user, device.id)
    assert stored is not None
    return stored.endpoint_arn


def deliver_a_like_at(
    function: Any, context: Any, store: Store, user: str, at: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ann's like, stored and then fanned out with the fan-out's clock at ``at``."""
    fanout = function("fanout")
    monkeypatch.setattr(fanout.delivery, "_clock", lambda: at)
    function("ingest").lambda_handler(kafka_event(like("ann", user)), context)
    assert fanout.lambda_handler({"Records": [inserted(entry_item(store, user), "1")]}, context) == {
        "batchItemFailures": []
    }


def test_a_user_in_quiet_hours_gets_no_push_but_the_entry_and_the_live_message(
    function: Any, context: Any, stub: Any, store: Store, call: Any, user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a tab and a phone, and quiet hours from 22:00 to 07:00 in Paris
    connect(function, context, user, "tab")
    phone = a_phone(store, user)
    assert call("PUT", "/preferences", user, body={"quietHours": PARIS_NIGHTS})[0] == 200

    # When a like arrives at 23:30 in Paris (22:30 UTC in winter)
    deliver_a_like_at(function, context, store, user, datetime(2026, 12, 2, 22, 30, tzinfo=UTC), monkeypatch)

    # Then the phone stays quiet, while the tab got the entry live and the inbox holds it
    assert pushed_titles(phone) == []
    assert [message["type"] for message in stub.messages["tab"]] == ["notification.created"]
    status, page = call("GET", "/notifications", user)
    assert (status, [item["actor"]["id"] for item in page["items"]]) == (200, ["ann"])


def test_outside_quiet_hours_the_phone_is_pushed(
    function: Any, context: Any, store: Store, user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a phone, and the same quiet hours
    phone = a_phone(store, user)
    store.preferences.put(user, preferences(quietHours=PARIS_NIGHTS))

    # When a like arrives at 12:00 in Paris
    deliver_a_like_at(function, context, store, user, datetime(2026, 12, 2, 11, 0, tzinfo=UTC), monkeypatch)

    # Then the phone is pushed
    assert pushed_titles(phone) == ["Ann liked your post"]


@pytest.mark.parametrize(
    ("at", "wall_clock", "pushed"),
    [
        # Spring forward, 29 March 2026: 02:00 CET becomes 03:00 CEST.
        (datetime(2026, 3, 28, 5, 30, tzinfo=UTC), "06:30 CET, the day before", False),
        (datetime(2026, 3, 29, 5, 30, tzinfo=UTC), "07:30 CEST, the morning after the change", True),
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "01:30 CET, in the night of the change", False),
        # Fall back, 25 October 2026: 03:00 CEST becomes 02:00 CET.
        (datetime(2026, 10, 24, 5, 30, tzinfo=UTC), "07:30 CEST, the day before", True),
        (datetime(2026, 10, 25, 5, 30, tzinfo=UTC), "06:30 CET, the morning after the change", False),
        (datetime(2026, 10, 25, 20, 30, tzinfo=UTC), "21:30 CET, the evening after the change", True),
        (datetime(2026, 10, 25, 21, 0, tzinfo=UTC), "22:00 CET, the window opens", False),
    ],
)
def test_quiet_hours_follow_the_wall_clock_across_both_daylight_saving_changes(
    function: Any,
    context: Any,
    store: Store,
    user: str,
    monkeypatch: pytest.MonkeyPatch,
    at: datetime,
    wall_clock: str,
    pushed: bool,
) -> None:
    # Given a phone and quiet hours from 22:00 to 07:00 in Paris
    phone = a_phone(store, user)
    store.preferences.put(user, preferences(quietHours=PARIS_NIGHTS))

    # When a like arrives at the given instant
    deliver_a_like_at(function, context, store, user, at, monkeypatch)

    # Then the phone is pushed only outside the window on Paris's own clock
    assert (wall_clock, pushed_titles(phone)) == (wall_clock, ["Ann liked your post"] if pushed else [])


@pytest.mark.parametrize(
    ("quiet_hours", "problem"),
    [
        ({"start": "22:00", "end": "07:00", "timezone": "Mars/Olympus"}, "quietHours.timezone"),
        ({"start": "24:00", "end": "07:00", "timezone": "Europe/Paris"}, "quietHours.start"),
        ({"start": "7:00", "end": "08:00", "timezone": "Europe/Paris"}, "quietHours.start"),
        ({"start": "22:00", "end": "22:00", "timezone": "Europe/Paris"}, "start and end must differ"),
    ],
)
def test_a_bad_zone_or_time_is_a_400_and_changes_nothing(
    call: Any, user: str, quiet_hours: dict[str, str], problem: str
) -> None:
    # Given a user's saved quiet hours
    assert call("PUT", "/preferences", user, body={"quietHours": PARIS_NIGHTS})[0] == 200

    # When a bad window is sent
    status, answer = call("PUT", "/preferences", user, body={"quietHours": quiet_hours})

    # Then it is refused, naming the field, and the saved window stays
    assert (status, answer["error"]["code"]) == (400, "invalid_request")
    assert problem in answer["error"]["message"]
    assert call("GET", "/preferences", user)[1]["quietHours"] == PARIS_NIGHTS
