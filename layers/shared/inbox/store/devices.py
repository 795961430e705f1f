"""A user's phones: SNS endpoint per device, switched off when the platform disables it."""

from __future__ import annotations

from inbox.errors import NotFound
from inbox.models import Device, StoredDevice
from inbox.store.items import device_item, stored_device
from inbox.store.keys import ItemKind, key
from inbox.store.table import TableGateway


class DeviceStore:
    def __init__(self, gateway: TableGateway) -> None:
        self._gateway = gateway

    def put(self, user_id: str, device: Device, endpoint_arn: str) -> None:
        self._gateway.call("put_item", Item=device_item(user_id, device, endpoint_arn))

    def of(self, user_id: str) -> list[StoredDevice]:
        return [
            stored_device(item) for item in self._gateway.user_items(user_id, ItemKind.DEVICE.value, live_only=False)
        ]

    def get(self, user_id: str, device_id: str) -> StoredDevice | None:
        item = self._gateway.call("get_item", Key=key(user_id, ItemKind.DEVICE, device_id)).get("Item")
        return stored_device(item) if item else None

    def delete(self, user_id: str, device_id: str) -> str:
        """Forget a device and return its endpoint ARN, so that the caller can delete it too."""
        response = self._gateway.call(
            "delete_item", Key=key(user_id, ItemKind.DEVICE, device_id), ReturnValues="ALL_OLD"
        )
        old = response.get("Attributes")
        if not old:
            raise NotFound(f"device {device_id} not found")
        return str(old["arn"])

    def disable(self, user_id: str, device_id: str) -> None:
        self._gateway.conditional(
            "update_item",
            Key=key(user_id, ItemKind.DEVICE, device_id),
            UpdateExpression="SET enabled = :false",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":false": False},
        )
