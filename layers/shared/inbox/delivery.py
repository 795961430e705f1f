"""Delivery of inbox changes to open WebSocket connections and to phones.

Every connection and device of the recipient is tried, whatever happens to the others: a
gone connection (410) is forgotten, a disabled push endpoint is switched off, and any other
failure is raised once all were tried, so that the stream record is retried or dead-lettered.
Clients treat messages idempotently (by notification id), so a retried record is harmless.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from inbox.batches import in_order_per_key
from inbox.changes import InboxChange
from inbox.models import Notification, Preferences, StoredDevice, fit_excerpt
from inbox.push import publish_kwargs

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient
    from mypy_boto3_sns import SNSClient

    from inbox.repository import Repository

# API Gateway refuses WebSocket messages over 128 KB. A notification is a few hundred bytes
# (excerpts are capped at ingest); a larger one (an item written some other way) has its excerpt
# shortened to fit, as a push does, rather than being dropped.
WEBSOCKET_FRAME_LIMIT = 128 * 1024
ENDPOINT_DISABLED = {"EndpointDisabled", "EndpointDisabledException"}


class DeliveryFailed(Exception):
    pass


@dataclass
class DeliveryReport:
    sent: int = 0
    gone: list[str] = field(default_factory=list)
    pushed: int = 0
    disabled_devices: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _encoded(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode()


def websocket_message(change: InboxChange) -> bytes:
    """The change as one WebSocket message; a new notification's excerpt is shortened to fit the frame limit."""
    data = _encoded(change.message)
    if len(data) <= WEBSOCKET_FRAME_LIMIT or change.created is None:
        return data

    def with_notification(notification: Notification) -> bytes:
        return _encoded({**change.message, "notification": notification.model_dump(mode="json", by_alias=True)})

    fitted = fit_excerpt(
        change.created, lambda notification: len(with_notification(notification)), WEBSOCKET_FRAME_LIMIT
    )
    return with_notification(fitted)


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


Outcome = DeliveryReport | Exception


class Delivery:
    """Delivers a batch of changes: users side by side, each user's changes in stream order.

    A user's preferences, connections and devices are read once per batch, not once per
    change; posts to connections run on a bounded pool shared by the whole batch.
    """

    def __init__(
        self,
        repository: Repository,
        management_api: ApiGatewayManagementApiClient,
        sns: SNSClient,
        concurrency: int,
    ) -> None:
        self._repository = repository
        self._management_api = management_api
        self._sns = sns
        # Two pools: a user's thread waits for its posts, so posts must not queue behind users.
        self._users = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="user")
        self._posts = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="post")

    def deliver_all(self, changes: Sequence[tuple[str, InboxChange | None]]) -> dict[str, Outcome]:
        """The outcome of each keyed change: its report, or the error that should fail its record."""
        outcomes: dict[str, Outcome] = {key: DeliveryReport() for key, change in changes if change is None}
        deliverable = [(key, change) for key, change in changes if change is not None]
        for user_outcomes in in_order_per_key(self._users, deliverable, _user_of, self._deliver_user):
            outcomes.update(user_outcomes)
        return outcomes

    def _deliver_user(self, changes: list[tuple[str, InboxChange]]) -> dict[str, Outcome]:
        try:
            audience = self._audience(changes[0][1].user_id, any(change.created for _, change in changes))
        except (ClientError, BotoCoreError) as error:
            return {key: error for key, _ in changes}
        outcomes: dict[str, Outcome] = {}
        for key, change in changes:
            try:
                outcomes[key] = self._deliver(change, audience)
            except (DeliveryFailed, ClientError, BotoCoreError) as error:
                outcomes[key] = error
        return outcomes

    def _audience(self, user_id: str, with_devices: bool) -> Audience:
        preferences = self._repository.preferences(user_id)
        connections = self._repository.connections(user_id) if preferences.channels.websocket else []
        devices = []
        if with_devices and preferences.channels.push:
            devices = [stored for stored in self._repository.stored_devices(user_id) if stored.device.enabled]
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
        outcomes = self._posts.map(lambda connection_id: self._post(connection_id, data), connection_ids)
        for connection_id, outcome in zip(connection_ids, outcomes, strict=True):
            if outcome == "sent":
                report.sent += 1
            elif outcome == "gone":
                report.gone.append(connection_id)
                audience.connections.remove(connection_id)
                self._repository.remove_connection(change.user_id, connection_id)
            else:
                report.errors.append(f"connection {connection_id}: {outcome}")

    def _post(self, connection_id: str, data: bytes) -> str:
        try:
            self._management_api.post_to_connection(ConnectionId=connection_id, Data=data)
        except self._management_api.exceptions.GoneException:
            return "gone"
        except ClientError as error:
            return _error_code(error) or str(error)
        except BotoCoreError as error:
            # A timeout or a broken connection: this connection's failure, reported once all were tried.
            return type(error).__name__
        return "sent"

    def _to_devices(self, change: InboxChange, audience: Audience, report: DeliveryReport) -> None:
        assert change.created is not None
        for stored in list(audience.devices):
            try:
                self._sns.publish(**publish_kwargs(stored.endpoint_arn, change.created))
            except ClientError as error:
                if _error_code(error) in ENDPOINT_DISABLED:
                    report.disabled_devices.append(stored.device.id)
                    audience.devices.remove(stored)
                    self._repository.disable_device(change.user_id, stored.device.id)
                else:
                    report.errors.append(f"device {stored.device.id}: {_error_code(error) or error}")
            except BotoCoreError as error:
                # A timeout or a broken connection: the other phones are still pushed.
                report.errors.append(f"device {stored.device.id}: {type(error).__name__}")
            else:
                report.pushed += 1
