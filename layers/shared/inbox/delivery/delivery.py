"""Delivery of inbox changes to open WebSocket connections and to phones.

Every connection and device of the recipient is tried, whatever happens to the others: a
gone connection (410) is forgotten, a disabled push endpoint is switched off, and any other
failure is raised once all were tried, so that the stream record is retried or dead-lettered.
Clients treat messages idempotently (by notification id), so a retried record is harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from inbox.batch import in_order_per_key
from inbox.delivery.changes import InboxChange
from inbox.delivery.messages import WEBSOCKET_FRAME_LIMIT, websocket_message
from inbox.delivery.push import publish_kwargs
from inbox.models import Preferences, StoredDevice

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient
    from mypy_boto3_sns import SNSClient

    from inbox.delivery.ports import ConnectionDirectory, DeviceDirectory, PreferenceReader

ENDPOINT_DISABLED = {"EndpointDisabled", "EndpointDisabledException"}


class DeliveryFailed(Exception):
    pass


class PostResult(StrEnum):
    SENT = "sent"
    GONE = "gone"


@dataclass
class DeliveryReport:
    sent: int = 0
    gone: list[str] = field(default_factory=list)
    pushed: int = 0
    disabled_devices: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


# A change's outcome: its report, or the error that should fail its record.
DeliveryOutcome = DeliveryReport | Exception


def _user_of(keyed_change: tuple[str, InboxChange]) -> str:
    return keyed_change[1].user_id


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


@dataclass
class Audience:
    """Where a user's changes go, read once per batch: preferences, open connections, enabled phones."""

    preferences: Preferences
    connections: list[str]
    devices: list[StoredDevice]


class Delivery:
    """Delivers a batch of changes: users side by side, each user's changes in stream order.

    A user's preferences, connections and devices are read once per batch, not once per
    change; posts to connections run on a bounded pool shared by the whole batch.
    """

    def __init__(
        self,
        preferences: PreferenceReader,
        connections: ConnectionDirectory,
        devices: DeviceDirectory,
        management_api: ApiGatewayManagementApiClient,
        sns: SNSClient,
        concurrency: int,
    ) -> None:
        self._preferences = preferences
        self._connections = connections
        self._devices = devices
        self._management_api = management_api
        self._sns = sns
        # Two pools: a user's thread waits for its posts, so posts must not queue behind users.
        self._users = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="user")
        self._posts = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="post")

    def deliver_all(self, changes: Sequence[tuple[str, InboxChange | None]]) -> dict[str, DeliveryOutcome]:
        """The outcome of each keyed change; a record that changes no inbox is delivered with nothing to do."""
        outcomes: dict[str, DeliveryOutcome] = {key: DeliveryReport() for key, change in changes if change is None}
        deliverable = [(key, change) for key, change in changes if change is not None]
        for user_outcomes in in_order_per_key(self._users, deliverable, _user_of, self._deliver_user):
            outcomes.update(user_outcomes)
        return outcomes

    def _deliver_user(self, changes: list[tuple[str, InboxChange]]) -> dict[str, DeliveryOutcome]:
        try:
            audience = self._audience(changes[0][1].user_id, any(change.created for _, change in changes))
        except (ClientError, BotoCoreError) as error:
            return {key: error for key, _ in changes}
        outcomes: dict[str, DeliveryOutcome] = {}
        for key, change in changes:
            try:
                outcomes[key] = self._deliver(change, audience)
            except (DeliveryFailed, ClientError, BotoCoreError) as error:
                outcomes[key] = error
        return outcomes

    def _audience(self, user_id: str, with_devices: bool) -> Audience:
        preferences = self._preferences.get(user_id)
        connections = self._connections.of(user_id) if preferences.channels.websocket else []
        devices = []
        if with_devices and preferences.channels.push:
            devices = [stored for stored in self._devices.of(user_id) if stored.device.enabled]
        return Audience(preferences, connections, devices)

    def _deliver(self, change: InboxChange, audience: Audience) -> DeliveryReport:
        report = DeliveryReport()
        self._to_connections(change, audience, report)
        if change.created is not None:
            self._to_devices(change, audience, report)
        if report.errors:
            raise DeliveryFailed("; ".join(report.errors))
        return report

    def _to_connections(self, change: InboxChange, audience: Audience, report: DeliveryReport) -> None:
        data = websocket_message(change)
        if len(data) > WEBSOCKET_FRAME_LIMIT:
            report.errors.append(f"message of {len(data)} bytes exceeds the WebSocket frame limit")
            return
        connection_ids = list(audience.connections)
        results = self._posts.map(lambda connection_id: self._post(connection_id, data), connection_ids)
        for connection_id, result in zip(connection_ids, results, strict=True):
            if result is PostResult.SENT:
                report.sent += 1
            elif result is PostResult.GONE:
                report.gone.append(connection_id)
                audience.connections.remove(connection_id)
                self._connections.remove(change.user_id, connection_id)
            else:
                report.errors.append(f"connection {connection_id}: {result}")

    def _post(self, connection_id: str, data: bytes) -> PostResult | str:
        """The post's result, or the reason it failed."""
        try:
            self._management_api.post_to_connection(ConnectionId=connection_id, Data=data)
        except self._management_api.exceptions.GoneException:
            return PostResult.GONE
        except ClientError as error:
            return _error_code(error) or str(error)
        except BotoCoreError as error:
            # A timeout or a broken connection: this connection's failure, reported once all were tried.
            return type(error).__name__
        return PostResult.SENT

    def _to_devices(self, change: InboxChange, audience: Audience, report: DeliveryReport) -> None:
        assert change.created is not None
        for stored in list(audience.devices):
            try:
                self._sns.publish(**publish_kwargs(stored.endpoint_arn, change.created))
            except ClientError as error:
                if _error_code(error) in ENDPOINT_DISABLED:
                    report.disabled_devices.append(stored.device.id)
                    audience.devices.remove(stored)
                    self._devices.disable(change.user_id, stored.device.id)
                else:
                    report.errors.append(f"device {stored.device.id}: {_error_code(error) or error}")
            except BotoCoreError as error:
                # A timeout or a broken connection: the other phones are still pushed.
                report.errors.append(f"device {stored.device.id}: {type(error).__name__}")
            else:
                report.pushed += 1
