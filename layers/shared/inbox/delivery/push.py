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


def who(notification: Notification) -> str:
    """The actors as a group's text names them: "Alice", "Alice and Bob", "Alice, Bob and 3 others"."""
    names = [actor.username or actor.id for actor in notification.actors] or [notification.actor.username or "Someone"]
    count = max(notification.actor_count, len(names))
    if count == 1:
        return names[0]
    if count == 2 and len(names) >= 2:
        return f"{names[0]} and {names[1]}"
    if count == 3 and len(names) >= 3:
        return f"{names[0]}, {names[1]} and {names[2]}"
    shown = names[:2] if len(names) >= 2 else names[:1]
    others = count - len(shown)
    return f"{', '.join(shown)} and {others} {'other' if others == 1 else 'others'}"


def title(notification: Notification) -> str:
    return TITLES[notification.type.value].format(who=who(notification), what=notification.resource.type)


def _platform_payloads(notification: Notification) -> dict[str, str]:
    """Per platform; the entry's id collapses the pushes of one group into one on the phone."""
    data = notification.model_dump(mode="json", by_alias=True)
    text = title(notification)
    body = notification.resource.excerpt or ""
    alert = {"alert": {"title": text, "body": body}, "sound": "default", "thread-id": notification.id}
    apns = json.dumps({"aps": alert, "notification": data})
    fcm = json.dumps(
        {
            "collapse_key": notification.id,
            "notification": {"title": text, "body": body, "tag": notification.id},
            "data": {"notification": json.dumps(data)},
        }
    )
    return {"default": text, "APNS": apns, "APNS_SANDBOX": apns, "GCM": fcm}


def _largest_payload(notification: Notification) -> int:
    return max(len(payload.encode()) for payload in _platform_payloads(notification).values())


def push_message(notification: Notification) -> str:
    """The SNS message (MessageStructure=json) for every platform, within each platform's limit."""
    return json.dumps(_platform_payloads(fit_excerpt(notification, _largest_payload, PLATFORM_PAYLOAD_LIMIT)))


def publish_kwargs(endpoint_arn: str, notification: Notification) -> dict[str, Any]:
    # SNS hands this attribute to APNs as the apns-collapse-id header.
    collapse = {"AWS.SNS.MOBILE.APNS.COLLAPSE_ID": {"DataType": "String", "StringValue": notification.id}}
    return {
        "TargetArn": endpoint_arn,
        "MessageStructure": "json",
        "Message": push_message(notification),
        "MessageAttributes": collapse,
    }
