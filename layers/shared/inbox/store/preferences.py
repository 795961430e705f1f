"""A user's preferences: one item, read once per recipient per batch on the hot paths.

Stored compactly (capacity is billed by size): ``off`` lists the "type:channel" pairs turned
off, ``chOff`` the global channels turned off, ``qh`` quiet hours, ``dg`` the digest schedule,
and ``em`` the verified address.
Items of the first version (``muted`` types, ``ws`` and ``push`` switches) still read as they
meant: a muted type's inbox is off.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from inbox.models import NotificationType
from inbox.preferences.model import (
    Channel,
    DigestSchedule,
    GlobalChannels,
    Preferences,
    QuietHours,
    TypeChannels,
    TypeGrid,
)
from inbox.store.keys import PREFS_SK, user_of, user_pk
from inbox.store.table import TableGateway


def _key(user_id: str) -> dict[str, str]:
    return {"pk": user_pk(user_id), "sk": PREFS_SK}


def preferences_from_item(item: Mapping[str, Any] | None) -> Preferences:
    if not item:
        return Preferences()
    off = {tuple(str(pair).split(":", 1)) for pair in item.get("off", [])}
    off |= {(str(kind), Channel.INBOX.value) for kind in item.get("muted", [])}
    grid = {
        kind.value: TypeChannels(**{channel.value: (kind.value, channel.value) not in off for channel in Channel})
        for kind in NotificationType
    }
    global_off = set(item.get("chOff", []))
    if item.get("ws") is False:
        global_off.add("websocket")
    if item.get("push") is False:
        global_off.add("push")
    quiet = item.get("qh")
    digest = item.get("dg")
    return Preferences(
        types=TypeGrid(**grid),
        channels=GlobalChannels(**{name: name not in global_off for name in GlobalChannels.model_fields}),
        quiet_hours=QuietHours(start=quiet["s"], end=quiet["e"], timezone=quiet["tz"]) if quiet else None,
        digest=(
            DigestSchedule(frequency=digest["f"], hour=int(digest["h"]), weekday=digest["d"], timezone=digest["tz"])
            if digest
            else DigestSchedule()
        ),
        email=item.get("em"),
    )


def _item(user_id: str, preferences: Preferences) -> dict[str, Any]:
    item: dict[str, Any] = {
        **_key(user_id),
        "off": sorted(
            f"{kind.value}:{channel.value}"
            for kind in NotificationType
            for channel in Channel
            if not getattr(preferences.types.of(kind), channel.value)
        ),
        "chOff": sorted(name for name in GlobalChannels.model_fields if not getattr(preferences.channels, name)),
    }
    if preferences.quiet_hours:
        quiet = preferences.quiet_hours
        item["qh"] = {"s": quiet.start, "e": quiet.end, "tz": quiet.timezone}
    digest = preferences.digest
    item["dg"] = {"f": digest.frequency.value, "h": digest.hour, "d": digest.weekday, "tz": digest.timezone}
    if preferences.email:
        item["em"] = preferences.email
    return item


class PreferenceStore:
    def __init__(self, gateway: TableGateway) -> None:
        self._gateway = gateway

    def get(self, user_id: str) -> Preferences:
        return preferences_from_item(self._gateway.call("get_item", Key=_key(user_id)).get("Item"))

    def get_many(self, user_ids: Collection[str]) -> dict[str, Preferences]:
        """Every user's preferences, in one request per hundred users (0.5 RCU each)."""
        wanted = sorted(set(user_ids))
        found = {user_of(item["pk"]): item for item in self._gateway.batch_get([_key(user) for user in wanted])}
        return {user: preferences_from_item(found.get(user)) for user in wanted}

    def put(self, user_id: str, preferences: Preferences) -> None:
        self._gateway.call("put_item", Item=_item(user_id, preferences))
