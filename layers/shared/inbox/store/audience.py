"""Where a user's changes go: their open WebSocket connections and their phones, in one query.

Connection items (``C#``) sort right before device items (``D#``) in the user's partition, so one
query of that range, read backwards, returns the devices and then the connections: the fan-out's
read of a user it pushes to. Connections stay bounded as ConnectionStore reads them (a user with
more connection items than the read takes, connects that raced or $disconnects that never came,
costs no more); only a user with more phones than usual gets their devices read on.
"""

from __future__ import annotations

from typing import Any

from inbox.models import StoredDevice
from inbox.store.connections import ConnectionStore
from inbox.store.devices import DeviceStore
from inbox.store.items import stored_device
from inbox.store.keys import ItemKind, id_of, user_pk
from inbox.store.table import TableGateway, query_arguments
from inbox.timestamps import now_s

# Phones a user usually has: the combined read takes this many items beyond the connections'.
USUAL_DEVICES = 5
# Above every device id: sort keys of the range end here.
RANGE_END = "\uffff"


class AudienceStore:
    def __init__(self, gateway: TableGateway, connections: ConnectionStore, devices: DeviceStore) -> None:
        self._gateway = gateway
        self._connections = connections
        self._devices = devices

    def of(self, user_id: str, *, connections: bool, devices: bool) -> tuple[list[str], list[StoredDevice]]:
        """The user's live connection ids (at most ConnectionStore's read limit) and devices, each read
        only if asked for."""
        if not (connections and devices):
            live = self._connections.of(user_id) if connections else []
            return live, self._devices.of(user_id) if devices else []
        read_limit = self._connections.read_limit
        arguments = query_arguments(
            "pk = :pk AND sk BETWEEN :first AND :last",
            {":pk": user_pk(user_id), ":first": ItemKind.CONNECTION.value, ":last": ItemKind.DEVICE.value + RANGE_END},
            live_only=False,
        )
        response = self._gateway.query(**arguments, ScanIndexForward=False, Limit=read_limit + USUAL_DEVICES)
        items: list[dict[str, Any]] = response["Items"]
        last = response.get("LastEvaluatedKey")
        if last is not None and str(last["sk"]).startswith(ItemKind.DEVICE.value):
            # More phones than usual: read each kind as it is read alone.
            return self._connections.of(user_id), self._devices.of(user_id)
        phones = [stored_device(item) for item in items if str(item["sk"]).startswith(ItemKind.DEVICE.value)]
        connection_items = [item for item in items if str(item["sk"]).startswith(ItemKind.CONNECTION.value)]
        now = now_s()
        # As ConnectionStore.of: at most read_limit items, those past their TTL left out.
        live = [
            id_of(str(item["sk"]), ItemKind.CONNECTION) or ""
            for item in connection_items[:read_limit]
            if "ttl" not in item or int(item["ttl"]) > now
        ]
        return live, phones
