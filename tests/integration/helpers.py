"""Builders for Lambda events shaped like AWS's, for the tests' own users and records."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

from inbox.models import StoredDevice
from inbox.store import Store
from inbox_dev.sns_local import LocalSns
from inbox_dev.stream_records import insert_record, modify_record

from tests.conftest import load_event


def stored_device(store: Store, user: str, device_id: str) -> StoredDevice:
    device = store.devices.get(user, device_id)
    assert device is not None, f"device {device_id} of {user} is not stored"
    return device


def kafka_event(*records: tuple[str, bytes], first_offset: int = 0) -> dict[str, Any]:
    """An MSK event with the given (topic, raw value) records on partition 0."""
    event = load_event("ingest-msk.json")
    event["records"] = {}
    for offset, (topic, raw) in enumerate(records, start=first_offset):
        event["records"].setdefault(f"{topic}-0", []).append(
            {
                "topic": topic,
                "partition": 0,
                "offset": offset,
                "timestamp": 1_795_000_000_000 + offset,
                "timestampType": "CREATE_TIME",
                "key": None,
                "value": base64.b64encode(raw).decode(),
                "headers": [],
            }
        )
    return event


def post_of(actor: str) -> str:
    """A post of its own for each actor's like by default: likes of one post group into one entry."""
    return f"post-of-{actor}"


def like(actor: str, recipient: str, post: str | None = None) -> tuple[str, bytes]:
    value = {
        "actorId": actor,
        "actorUsername": actor.title(),
        "postId": post or post_of(actor),
        "postText": "a post",
        "postAuthorId": recipient,
    }
    return "message-liked", json.dumps(value).encode()


def unlike(actor: str, recipient: str, post: str | None = None) -> tuple[str, bytes]:
    value = {
        "owner": recipient,
        "trigger_user": actor,
        "action": 5,
        "resource_type": "POST",
        "resource_id": post or post_of(actor),
    }
    return "notifications.post.unlike", json.dumps(value).encode()


def exobook_like(actor: str, recipient: str, post: str | None = None) -> tuple[str, bytes]:
    value = {
        "owner": recipient,
        "trigger_user": actor,
        "action": 1,
        "resource_type": "POST",
        "resource_id": post or post_of(actor),
    }
    return "notifications.post.like", json.dumps(value).encode()


def http_event(
    method: str,
    path: str,
    user: str | None,
    *,
    query: dict[str, str] | None = None,
    body: Any = None,
    claims: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An HTTP API (payload v2) event as API Gateway sends it after the JWT authorizer (``claims``
    added to the token's, as text, as API Gateway passes them)."""
    event = load_event("api-list-notifications.json")
    event = copy.deepcopy(event)
    event["rawPath"] = path
    event["routeKey"] = f"{method} {path}"
    event["requestContext"]["http"].update({"method": method, "path": path})
    event["queryStringParameters"] = query or None
    event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in (query or {}).items())
    if user is None:
        del event["requestContext"]["authorizer"]
    else:
        event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = user
        event["requestContext"]["authorizer"]["jwt"]["claims"].update(claims or {})
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    return event


# Fan-out: connections, entries as the stream carries them, and the pushes phones got.


def connect(function: Any, context: Any, user: str, connection_id: str) -> None:
    event = copy.deepcopy(load_event("ws-connect.json"))
    event["requestContext"]["connectionId"] = connection_id
    event["requestContext"]["authorizer"] = {"principalId": user}
    assert function("ws_connect").lambda_handler(event, context) == {"statusCode": 200}


STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/inbox-tests/stream/2026-12-02T00:00:00.000"


def modified(old: dict[str, Any], new: dict[str, Any], sequence: str) -> dict[str, Any]:
    return modify_record(old, new, sequence, STREAM)


def inserted(item: dict[str, Any], sequence: str) -> dict[str, Any]:
    return insert_record(item, sequence, STREAM)


def entry_item(store: Store, user: str) -> dict[str, Any]:
    [item] = [
        item
        for item in store.table.query(
            KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": f"U#{user}"}
        )["Items"]
        if str(item["sk"]).startswith("N#")
    ]
    return dict(item)


def pushed_titles(endpoint_arn: str) -> list[str]:
    return [
        json.loads(push["message"]["GCM"])["notification"]["title"]
        for push in LocalSns.pushes()
        if push["endpointArn"] == endpoint_arn
    ]
