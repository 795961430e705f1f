"""NotificationTtlDays per type: parsed by the settings, stamped by ingest's store, priced by `make cost`."""

from __future__ import annotations

import time
from typing import Any

import pytest
from inbox.models import NotificationType
from inbox.settings import DAY_SECONDS, NOTIFICATION_TYPES, TableSettings, ttl_days_by_type
from inbox.store import Store
from inbox.store.keys import ItemKind, key
from inbox_dev.capacity import like, mention
from pydantic import ValidationError

PER_TYPE = "like=30,repost=30,follow=90,reply=180,mention=180"


def test_one_number_keeps_every_type_as_long() -> None:
    # Given the old single-number form
    # When it is read
    days = ttl_days_by_type("90")

    # Then every type is kept 90 days
    assert days == {kind.value: 90 for kind in NotificationType}


def test_the_settings_know_every_notification_type() -> None:
    # Given the types the settings accept days for (spelled out: the settings import no models)
    # Then they are the notification types, no more and no fewer
    assert sorted(NOTIFICATION_TYPES) == sorted(kind.value for kind in NotificationType)


def test_days_per_type_and_a_bare_number_for_the_rest() -> None:
    # Given days for some types and a bare number
    # When it is read
    days = ttl_days_by_type("like=30,repost=30,120")

    # Then the named types have theirs and the others the bare number
    assert days == {"like": 30, "repost": 30, "follow": 120, "reply": 120, "mention": 120}


@pytest.mark.parametrize(
    "text",
    ["like=30,repost=30", "like=0,90", "like=30,like=40,90", "poke=3,90", "90,30", "like=x,90", "", "like=3651,90"],
)
def test_a_value_that_does_not_name_every_type_once_is_refused(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given NOTIFICATION_TTL_DAYS missing a type, naming one twice, an unknown type or days out of range
    monkeypatch.setenv("TABLE_NAME", "notifications")
    monkeypatch.setenv("NOTIFICATION_TTL_DAYS", text)

    # When the function's settings are read at cold start
    # Then they are refused with pydantic's message
    with pytest.raises(ValidationError, match="NOTIFICATION_TTL_DAYS"):
        TableSettings()  # type: ignore[call-arg]


def test_each_type_is_stored_with_its_own_expiry(local_aws: Any, user: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given ingest's store with likes kept 30 days and mentions 180 (NOTIFICATION_TTL_DAYS per type)
    from inbox import wiring

    monkeypatch.setenv("NOTIFICATION_TTL_DAYS", PER_TYPE)
    settings = TableSettings()  # type: ignore[call-arg]
    store = Store.on(
        wiring.store().table,
        notification_ttl_seconds=settings.notification_ttl_seconds_by_type,
        connection_ttl_seconds=settings.connection_ttl_seconds,
    )
    liked, mentioned = like(user, 1), mention(user, 2)
    began = int(time.time())

    # When a like starts a group and a mention is stored
    store.notifications.add_to_group(liked, "group-1")
    store.notifications.put(mentioned)

    # Then each item expires after its type's days (the like's member item too)
    def expires_in_days(kind: ItemKind, item_id: str) -> float:
        item = store.table.get_item(Key=key(user, kind, item_id))["Item"]
        return (int(str(item["ttl"])) - began) / DAY_SECONDS

    assert round(expires_in_days(ItemKind.NOTIFICATION, "group-1")) == 30
    assert round(expires_in_days(ItemKind.MEMBER, liked.notification_id)) == 30
    assert round(expires_in_days(ItemKind.NOTIFICATION, mentioned.notification_id)) == 180
