"""Fan-out: a stream batch of new notifications to users with 3 open connections each.

The Management API is a loopback stub that answers each post after 20 ms, as a remote API
would. The reference posts the same messages one after another with the same client.
"""

from __future__ import annotations

import json
import time
from typing import Any

from inbox_dev.bench.inprocess import InProcessAws
from inbox_dev.bench.stats import ratio, summary
from inbox_dev.capacity import like_entry
from inbox_dev.stream_records import insert_record

NOTIFICATIONS = 100
USERS = 50
CONNECTIONS_PER_USER = 3
REPETITIONS = 3
# A first batch opens the clients' connections (DynamoDB, the Management API) as a new container's
# first invocation does; it is not measured, as the reference's posts reuse those connections too.
WARM_UP = 1
STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/notifications-bench/stream/bench"


def stream_event(items: list[dict[str, Any]]) -> dict[str, Any]:
    """A DynamoDB Streams event with an INSERT record per item."""
    return {
        "Records": [insert_record(item, f"{sequence:021d}", STREAM_ARN) for sequence, item in enumerate(items, start=1)]
    }


def measure(aws: InProcessAws) -> dict[str, Any]:
    from inbox import aws_clients, wiring
    from inbox.settings import fanout_settings, table_settings

    module = aws.module("fanout")
    store = wiring.store()
    management_api = aws_clients.management_api(
        str(fanout_settings().websocket_callback_url), fanout_settings().delivery_concurrency
    )
    parallel, sequential = [], []
    for repetition in range(WARM_UP + REPETITIONS):
        users = [f"fanout-{repetition}-user-{index}" for index in range(USERS)]
        for user in users:
            for connection in range(CONNECTIONS_PER_USER):
                store.connections.add(user, f"{user}-conn-{connection}")
        now_ms, ttl_seconds = int(time.time() * 1000), table_settings().notification_ttl_seconds
        items = [like_entry(users[index % USERS], index, now_ms, ttl_seconds) for index in range(NOTIFICATIONS)]
        event = stream_event(items)
        aws.management_api.reset()
        began = time.perf_counter()
        response = module.lambda_handler(event, aws.context("FanoutFunction"))
        fanned_out = time.perf_counter() - began
        if response.get("batchItemFailures"):
            raise RuntimeError(f"fan-out failed records: {response['batchItemFailures']}")
        posts = [
            (connection_id, data)
            for connection_id, messages in aws.management_api.messages.items()
            for data in (json.dumps(message).encode() for message in messages)
        ]
        if len(posts) != NOTIFICATIONS * CONNECTIONS_PER_USER:
            raise RuntimeError(f"fan-out posted {len(posts)} messages, not {NOTIFICATIONS * CONNECTIONS_PER_USER}")
        began = time.perf_counter()
        for connection_id, data in posts:
            management_api.post_to_connection(ConnectionId=connection_id, Data=data)
        if repetition >= WARM_UP:
            parallel.append(fanned_out)
            sequential.append(time.perf_counter() - began)
    fanout_ms = summary([seconds * 1000 for seconds in parallel])
    sequential_ms = summary([seconds * 1000 for seconds in sequential])
    return {
        "notifications": NOTIFICATIONS,
        "users": USERS,
        "connections_per_user": CONNECTIONS_PER_USER,
        "management_api_delay_ms": round(aws.management_api.delay_s * 1000),
        "wall_ms": fanout_ms,
        "sequential_ms": sequential_ms,
        "sequential_ratio": ratio(fanout_ms["median"], sequential_ms["median"]),
    }
