"""Mobile push payloads for SNS platform endpoints (APNs and FCM), within each platform's limit."""

from __future__ import annotations

import json
from typing import Any

from inbox.models import Notification, fit_excerpt

# APNs and FCM both refuse payloads over 4 KB; the excerpt is shortened until the payload fits.
PLATFORM_PAYLOAD_LIMIT = 4096

TITLES = {
    "like": "{who} liked your {what}",
    "follow": "{who} followed you",
    "reply": "{who} replied to your {what}",
    "repost": "{who} reposted your {what}",
    "mention": "{who} mentioned you",
}


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


def publish_kwargs(endpoint_arn: str, notification: Notification) -> dict[str, Any]:
    return {"TargetArn": endpoint_arn, "MessageStructure": "json", "Message": push_message(notification)}
