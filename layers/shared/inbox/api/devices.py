"""Phones registered for push: an SNS platform endpoint per device token."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
from typing import TYPE_CHECKING

from inbox.errors import InvalidInput, NotFound, PushUnavailable
from inbox.models import Device, DeviceRegistration
from inbox.timestamps import utc_now

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

    from inbox.api.ports import DeviceRecords
    from inbox.settings import PushSettings


_EXISTING_ENDPOINT = re.compile(r"Endpoint (arn:\S+) already exists with the same [Tt]oken")


def device_id(platform: str, token: str) -> str:
    digest = hashlib.sha256(f"{platform}\x1f{token}".encode()).digest()[:10]
    return base64.b32encode(digest).decode().lower()


class DeviceRegistry:
    def __init__(self, devices: DeviceRecords, sns: SNSClient, settings: PushSettings) -> None:
        self._devices = devices
        self._sns = sns
        self._settings = settings

    def register(self, user_id: str, registration: DeviceRegistration) -> Device:
        """Create the SNS platform endpoint for a token, or re-enable it if SNS knows it already."""
        application_arn = self._settings.platform_application_arn(registration.platform)
        if not application_arn:
            raise PushUnavailable(f"push to {registration.platform} is not configured")
        endpoint_arn, previous_owner = self._endpoint(application_arn, registration.token, user_id)
        identifier = device_id(registration.platform, registration.token)
        if previous_owner:
            # The phone now signs in as this user: the previous user's pushes must not reach it.
            with contextlib.suppress(NotFound):
                self._devices.delete(previous_owner, identifier)
        existing = self._devices.get(user_id, identifier)
        created_at = existing.device.created_at if existing else utc_now()
        device = Device(id=identifier, platform=registration.platform, enabled=True, created_at=created_at)
        self._devices.put(user_id, device, endpoint_arn)
        return device

    def _endpoint(self, application_arn: str, token: str, user_id: str) -> tuple[str, str | None]:
        """The token's endpoint, enabled and owned by ``user_id``, and its previous owner if another user.

        CreatePlatformEndpoint is idempotent only for the same attributes: for a token another
        user registered, SNS refuses and names the existing endpoint (the AWS-documented way to
        find it), which is then taken over.
        """
        previous_owner = None
        try:
            endpoint_arn = self._sns.create_platform_endpoint(
                PlatformApplicationArn=application_arn, Token=token, CustomUserData=user_id
            )["EndpointArn"]
        except self._sns.exceptions.InvalidParameterException as error:
            existing = _EXISTING_ENDPOINT.search(str(error))
            if existing is None:
                # The platform's own checks on the token (an APNs token must be hex, say).
                raise InvalidInput(
                    f"the token was refused: {error.response.get('Error', {}).get('Message', '')}"
                ) from None
            endpoint_arn = existing.group(1)
            attributes = self._sns.get_endpoint_attributes(EndpointArn=endpoint_arn)["Attributes"]
            previous_owner = attributes.get("CustomUserData") or None
        self._sns.set_endpoint_attributes(
            EndpointArn=endpoint_arn, Attributes={"Enabled": "true", "Token": token, "CustomUserData": user_id}
        )
        return endpoint_arn, previous_owner if previous_owner != user_id else None

    def unregister(self, user_id: str, identifier: str) -> None:
        endpoint_arn = self._devices.delete(user_id, identifier)
        self._sns.delete_endpoint(EndpointArn=endpoint_arn)
