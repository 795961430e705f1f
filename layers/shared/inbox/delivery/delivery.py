"""Delivery of inbox changes to open WebSocket connections and to phones.

Every connection and device of the recipient is tried, whatever happens to the others: a gone
connection (410) is forgotten and a disabled push endpoint is switched off. A WebSocket post that
still fails after its retries is dropped and logged, never failing the stream record: a retried
record would send every later record of the batch again to connections that already had them,
and the inbox holds the entry for the client's next sync. A push that fails is raised once all
were tried, so that the record is retried; collapse ids make a repeated push replace the first
(two fan-outs that push one group's growth at once are harmless for the same reason).
Each user's counts are read once per batch, and only for users with an open connection.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from inbox.batch import in_order_per_key
from inbox.delivery.changes import ChangeKind, InboxChange
from inbox.delivery.messages import WEBSOCKET_FRAME_LIMIT, entry_of, websocket_message
from inbox.delivery.push import publish_kwargs
from inbox.models import LiveCounts, NotificationType, StoredDevice
from inbox.observability import logger
from inbox.preferences.model import Preferences
from inbox.store.items import InboxState
from inbox.store.table import UnprocessedKeys
from inbox.timestamps import now_ms, utc_now

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient
    from mypy_boto3_sns import SNSClient

    from inbox.delivery.ports import (
        AudienceDirectory,
        ConnectionDirectory,
        DeviceDirectory,
        LiveState,
        PreferenceReader,
        PushClaims,
    )

ENDPOINT_DISABLED = {"EndpointDisabled", "EndpointDisabledException"}


class DeliveryFailed(Exception):
    pass


class PostResult(StrEnum):
    SENT = "sent"
    GONE = "gone"


@dataclass
class DeliveryReport:
    sent: int = 0
    dropped: int = 0
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
    state: InboxState
    counts: LiveCounts | None  # None without an open connection: nobody to tell


class Delivery:
    """Delivers a batch of changes: users side by side, each user's changes in stream order.

    A user's preferences, connections and devices are read once per batch, not once per change,
    connections and devices in one query. The preferences of the users with something to push are
    read together; the others' only once an open connection is found. Posts to connections run on
    a bounded pool shared by the whole batch.
    """

    def __init__(
        self,
        preferences: PreferenceReader,
        audience: AudienceDirectory,
        connections: ConnectionDirectory,
        devices: DeviceDirectory,
        live: LiveState,
        pushes: PushClaims,
        management_api: ApiGatewayManagementApiClient,
        sns: SNSClient,
        concurrency: int,
        push_group_interval_ms: int = 15 * 60 * 1000,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._clock = clock
        self._preferences = preferences
        self._audience_of = audience.of
        self._connections = connections
        self._devices = devices
        self._live = live
        self._pushes = pushes
        self._push_group_interval_ms = push_group_interval_ms
        self._management_api = management_api
        self._sns = sns
        # Two pools: a user's thread waits for its posts, so posts must not queue behind users.
        self._users = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="user")
        self._posts = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="post")

    def deliver_all(self, changes: Sequence[tuple[str, InboxChange | None]]) -> dict[str, DeliveryOutcome]:
        """The outcome of each keyed change; a record that changes no inbox is delivered with nothing to do."""
        outcomes: dict[str, DeliveryOutcome] = {key: DeliveryReport() for key, change in changes if change is None}
        deliverable = [(key, change) for key, change in changes if change is not None]
        if not deliverable:
            return outcomes
        # Only a user with something to push needs their preferences whatever happens; the others'
        # (read, seen, archived) go to open connections only, so theirs are read once one is found.
        pushing = {change.user_id for _, change in deliverable if change.grew}
        try:
            preferences = self._preferences.get_many(pushing) if pushing else {}
        except (ClientError, BotoCoreError, UnprocessedKeys) as error:
            return outcomes | {key: error for key, _ in deliverable}

        def deliver_user(user_changes: list[tuple[str, InboxChange]]) -> dict[str, DeliveryOutcome]:
            return self._deliver_user(user_changes, preferences.get(user_changes[0][1].user_id))

        for user_outcomes in in_order_per_key(self._users, deliverable, _user_of, deliver_user):
            outcomes.update(user_outcomes)
        return outcomes

    def _deliver_user(
        self, changes: list[tuple[str, InboxChange]], preferences: Preferences | None
    ) -> dict[str, DeliveryOutcome]:
        user_id = changes[0][1].user_id
        try:
            if preferences is None:
                audience = self._live_audience(user_id)
            else:
                audience = self._audience(user_id, preferences, any(change.grew for _, change in changes))
        except (ClientError, BotoCoreError, UnprocessedKeys) as error:
            return {key: error for key, _ in changes}
        outcomes: dict[str, DeliveryOutcome] = {}
        for key, change in changes:
            try:
                outcomes[key] = self._deliver(change, audience)
            except (DeliveryFailed, ClientError, BotoCoreError) as error:
                outcomes[key] = error
        return outcomes

    def _audience(self, user_id: str, preferences: Preferences, with_devices: bool) -> Audience:
        connections, devices = self._audience_of(
            user_id, connections=preferences.live, devices=with_devices and preferences.channels.push
        )
        return self._with_counts(user_id, preferences, connections, [item for item in devices if item.device.enabled])

    def _live_audience(self, user_id: str) -> Audience:
        """Where changes with nothing to push go: the open connections, if the user wants them live."""
        connections, _ = self._audience_of(user_id, connections=True, devices=False)
        preferences = self._preferences.get_many({user_id})[user_id] if connections else Preferences()
        return self._with_counts(user_id, preferences, connections if preferences.live else [], [])

    def _with_counts(
        self, user_id: str, preferences: Preferences, connections: list[str], devices: list[StoredDevice]
    ) -> Audience:
        """The audience, with the watermarks and counts its messages carry when a connection is open."""
        state, counts = InboxState(), None
        if connections:
            stored, state = self._live.live(user_id)
            counts = LiveCounts(unread=stored.unread, unseen=stored.unseen)
        return Audience(preferences, connections, devices, state, counts)

    def _deliver(self, change: InboxChange, audience: Audience) -> DeliveryReport:
        report = DeliveryReport()
        self._to_connections(change, audience, report)
        if change.grew and audience.devices and self._may_push(change, audience.preferences):
            self._to_devices(change, audience, report)
            if change.kind is ChangeKind.UPDATED and change.entry_id is not None and not report.errors:
                # Recorded once pushed: a failed push fails the record, and its retry pushes again.
                self._pushes.record_push(change.user_id, change.entry_id, now_ms())
        if report.errors:
            raise DeliveryFailed("; ".join(report.errors))
        return report

    def _to_connections(self, change: InboxChange, audience: Audience, report: DeliveryReport) -> None:
        if not audience.connections:
            return
        data = websocket_message(change, audience.state, audience.counts)
        if len(data) > WEBSOCKET_FRAME_LIMIT:
            logger.warning("message dropped: over the frame limit", extra={"bytes": len(data), "user": change.user_id})
            report.dropped += len(audience.connections)
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
                # The next sync brings what the connection missed: the record is not failed for it.
                logger.warning("message dropped", extra={"connection": connection_id, "reason": result})
                report.dropped += 1

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

    def _may_push(self, change: InboxChange, preferences: Preferences) -> bool:
        """Pushed if the user wants this type on their phones and is not in quiet hours; a group's first
        member is pushed, later members at most once per interval per group."""
        if change.item is None or not preferences.may_push(NotificationType(change.item["t"]), self._clock()):
            return False
        if change.kind is ChangeKind.CREATED or change.entry_id is None:
            return change.kind is ChangeKind.CREATED
        return now_ms() - int(change.item.get("lp", 0)) >= self._push_group_interval_ms

    def _to_devices(self, change: InboxChange, audience: Audience, report: DeliveryReport) -> None:
        entry = entry_of(change, audience.state)
        if entry is None:
            return
        for stored in list(audience.devices):
            try:
                self._sns.publish(**publish_kwargs(stored.endpoint_arn, entry))
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
