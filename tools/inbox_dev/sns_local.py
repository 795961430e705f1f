"""SNS on loopback (moto's server mode) with the platform applications the template expects."""

from __future__ import annotations

import json
import logging
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from inbox_dev.runtime import ACCOUNT_ID, REGION

PLATFORMS = {"apns": "APNS", "apns_sandbox": "APNS_SANDBOX", "fcm": "GCM"}


class LocalSns:
    def __init__(self, host: str, port: int) -> None:
        self.endpoint = f"http://{host}:{port}"
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self.application_arns: dict[str, str] = {}

    def start(self) -> None:
        # moto's server logs every request; the pushes are on the page instead.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server.start()
        sns = boto3.client("sns", endpoint_url=self.endpoint, region_name=REGION)
        for platform, sns_platform in PLATFORMS.items():
            response = sns.create_platform_application(
                Name=f"inbox-local-{platform}", Platform=sns_platform, Attributes={}
            )
            self.application_arns[platform] = response["PlatformApplicationArn"]

    def stop(self) -> None:
        self._server.stop()

    @staticmethod
    def pushes() -> list[dict[str, Any]]:
        """Every message published to a platform endpoint, oldest first (moto keeps them in memory)."""
        from moto.sns.models import sns_backends

        backend = sns_backends[ACCOUNT_ID][REGION]
        pushes = []
        for arn, endpoint in backend.platform_endpoints.items():
            for message_id, message in endpoint.messages.items():
                try:
                    body: Any = json.loads(message)
                except ValueError:
                    body = message
                pushes.append({"endpointArn": arn, "messageId": message_id, "message": body})
        return pushes
