"""Mobile push through SNS platform endpoints: device registration and payloads."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from inbox.errors import NotFound, PushUnavailable
from inbox.models import Device, DeviceRegistration, Notification, fit_excerpt, utc_now

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

    from inbox.repository import Repository
    from inbox.settings import PushSettings

_EXISTING_ENDPOINT = re.compile(r"Endpoint (arn:\S+) already exists with the same [Tt]oken")
# APNs and FCM both refuse payloads over 4 KB; the excerpt is shortened until the payload fits.
PLATFORM_PAYLOAD_LIMIT = 4096

TITLES = {
    "like": "{who} liked your {what}",
    "follow": "{who} followed you",
    "reply": "{who} replied to your {what}",
    "repost": "{who} reposted your {what}",
    "mention": "{who} mentioned you",
}


def device_id(platform: str, token: str) -> str:
    digest = hashlib.sha256(f"{platform}\x1f{token}".encode()).digest()[:10]
    return base64.b32encode(digest).decode().lower()


def title(notification: Notification) -> str:
    who = notification.actor.username or notification.actor.id
    return TITLES[notification.type.value].format(who=who, what=notification.resource.type)


def _platform_payloads(notification: Notification) -> dict[str, str]:
    data = notification.model_dump(mode="json", by_alias=True)
    text = title(notification)
    body = notification.resource.excerpt or ""
    apns = json.dumps({"aps": {"alert": {"title": text, "body": body}, "sound": "default"}, "notification": data})
    fcm = json.dumps({"notification": {"title": text, "body": body}, "data": {"notification": json.dumps(data)}})
    return {"default": text, "APNS": apns, "APNS_SANDBOX": apns, "GCM": fcm}


def _largest_payload(notification: Notification) -> int:
    return max(len(payload.encode()) for payload in _platform_payloads(notification).values())


def push_message(notification: Notification) -> str:
    """The SNS message (MessageStructure=json) for every platform, within each platform's limit."""
    return json.dumps(_platform_payloads(fit_excerpt(notification, _largest_payload, PLATFORM_PAYLOAD_LIMIT)))


class DeviceRegistry:
    def __init__(self, repository: Repository, sns: SNSClient, settings: PushSettings) -> None:
        self._repository = repository
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
                self._repository.delete_device(previous_owner, identifier)
        existing = self._repository.device(user_id, identifier)
        created_at = existing.device.created_at if existing else utc_now()
        device = Device(id=identifier, platform=registration.platform, enabled=True, created_at=created_at)
        self._repository.put_device(user_id, device, endpoint_arn)
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
                raise
            endpoint_arn = existing.group(1)
            attributes = self._sns.get_endpoint_attributes(EndpointArn=endpoint_arn)["Attributes"]
            previous_owner = attributes.get("CustomUserData") or None
        self._sns.set_endpoint_attributes(
            EndpointArn=endpoint_arn, Attributes={"Enabled": "true", "Token": token, "CustomUserData": user_id}
        )
        return endpoint_arn, previous_owner if previous_owner != user_id else None

    def unregister(self, user_id: str, identifier: str) -> None:
        endpoint_arn = self._repository.delete_device(user_id, identifier)
        self._sns.delete_endpoint(EndpointArn=endpoint_arn)


def publish_kwargs(endpoint_arn: str, notification: Notification) -> dict[str, Any]:
    return {"TargetArn": endpoint_arn, "MessageStructure": "json", "Message": push_message(notification)}
