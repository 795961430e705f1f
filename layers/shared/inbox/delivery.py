"""Delivery of inbox changes to open WebSocket connections and to phones.

Every connection and device of the recipient is tried, whatever happens to the others: a
gone connection (410) is forgotten, a disabled push endpoint is switched off, and any other
failure is raised once all were tried, so that the stream record is retried or dead-lettered.
Clients treat messages idempotently (by notification id), so a retried record is harmless.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from inbox.changes import InboxChange
from inbox.push import publish_kwargs

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient
    from mypy_boto3_sns import SNSClient

    from inbox.repository import Repository

# API Gateway refuses WebSocket frames over 128 KB. A notification is a few hundred bytes
# (excerpts are capped at ingest), so this guards against a bug rather than trims content.
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


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class Delivery:
    def __init__(
        self,
        repository: Repository,
        management_api: ApiGatewayManagementApiClient,
        sns: SNSClient,
        pool: ThreadPoolExecutor,
    ) -> None:
        self._repository = repository
        self._management_api = management_api
        self._sns = sns
        self._pool = pool

    def deliver(self, change: InboxChange) -> DeliveryReport:
        report = DeliveryReport()
        preferences = self._repository.preferences(change.user_id)
        if preferences.channels.websocket:
            self._to_connections(change, report)
        if change.created is not None and preferences.channels.push:
            self._to_devices(change, report)
        if report.errors:
            raise DeliveryFailed("; ".join(report.errors))
        return report

    def _to_connections(self, change: InboxChange, report: DeliveryReport) -> None:
        data = json.dumps(change.message, separators=(",", ":")).encode()
        if len(data) > WEBSOCKET_FRAME_LIMIT:
            report.errors.append(f"message of {len(data)} bytes exceeds the WebSocket frame limit")
            return
        connection_ids = self._repository.connections(change.user_id)
        outcomes = self._pool.map(lambda connection_id: self._post(connection_id, data), connection_ids)
        for connection_id, outcome in zip(connection_ids, outcomes, strict=True):
            if outcome == "sent":
                report.sent += 1
            elif outcome == "gone":
                report.gone.append(connection_id)
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
        return "sent"

    def _to_devices(self, change: InboxChange, report: DeliveryReport) -> None:
        assert change.created is not None
        devices = [stored for stored in self._repository.stored_devices(change.user_id) if stored.device.enabled]
        for stored in devices:
            try:
                self._sns.publish(**publish_kwargs(stored.endpoint_arn, change.created))
            except ClientError as error:
                if _error_code(error) in ENDPOINT_DISABLED:
                    report.disabled_devices.append(stored.device.id)
                    self._repository.disable_device(change.user_id, stored.device.id)
                else:
                    report.errors.append(f"device {stored.device.id}: {_error_code(error) or error}")
            else:
                report.pushed += 1
