"""A user's preferences: one item, read once per recipient per batch on the hot paths."""

from __future__ import annotations

from inbox.models import Channels, NotificationType, Preferences
from inbox.store.keys import PREFS_SK, user_pk
from inbox.store.table import TableGateway


class PreferenceStore:
    def __init__(self, gateway: TableGateway) -> None:
        self._gateway = gateway

    def get(self, user_id: str) -> Preferences:
        item = self._gateway.call("get_item", Key={"pk": user_pk(user_id), "sk": PREFS_SK}).get("Item")
        if not item:
            return Preferences()
        return Preferences(
            muted_types=[NotificationType(kind) for kind in item.get("muted", [])],
            channels=Channels(websocket=bool(item.get("ws", True)), push=bool(item.get("push", True))),
        )

    def put(self, user_id: str, preferences: Preferences) -> Preferences:
        normalised = preferences.normalised()
        self._gateway.call(
            "put_item",
            Item={
                "pk": user_pk(user_id),
                "sk": PREFS_SK,
                "muted": [kind.value for kind in normalised.muted_types],
                "ws": normalised.channels.websocket,
                "push": normalised.channels.push,
            },
        )
        return normalised
