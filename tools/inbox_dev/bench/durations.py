"""How long each handler runs per invocation, in this process: what Lambda bills as duration.

Each handler gets the sample event a deployed function would typically see (events/), repeated;
the median is kept. Beside the wall time (``ms``) the process's CPU time (``cpu_ms``, every thread's)
is kept: Lambda gives a function CPU in proportion to its memory, so the cost model stretches the
CPU part, not the waiting, when it models a smaller memory size (inbox_dev.cost.memory).
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable
from typing import Any

from inbox_dev.bench.fanout import stream_event
from inbox_dev.bench.ingest import msk_batch
from inbox_dev.bench.inprocess import InProcessAws
from inbox_dev.bench.stats import summary
from inbox_dev.capacity import fill, filled_item, like_entry

REPETITIONS = 20
# Records per invocation: the mappings' batches are small unless traffic is heavy.
INGEST_RECORDS = 50
FANOUT_RECORDS = 10
USER = "durations-user"
INBOX_ENTRIES = 200
UNREAD_ENTRIES = 6  # a day's new entries (Usage: 10 notifications a day, half of the grouped joining)


def _median_ms(invoke: Callable[[int], Any]) -> dict[str, Any]:
    """``ms``: wall time; ``cpu_ms``: CPU time of the same invocations (the median of each)."""
    samples, cpu_samples = [], []
    for repetition in range(REPETITIONS):
        began, cpu_began = time.perf_counter(), time.process_time()
        invoke(repetition)
        samples.append((time.perf_counter() - began) * 1000)
        cpu_samples.append((time.process_time() - cpu_began) * 1000)
    return {"ms": summary(samples), "cpu_ms": summary(cpu_samples)}


def _http(aws: InProcessAws, name: str) -> dict[str, Any]:
    event = copy.deepcopy(aws.event(name))
    event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = USER
    return event


def measure(aws: InProcessAws) -> dict[str, Any]:
    from inbox import wiring

    store = wiring.store()
    fill(store, USER, INBOX_ENTRIES)
    # The cost model's user: a full inbox, read every day (read-all), with a day's few entries unread.
    store.watermarks.read_all(USER)
    later = int(time.time() * 1000) + 1
    with store.table.batch_writer() as batch:
        for index in range(INBOX_ENTRIES, INBOX_ENTRIES + UNREAD_ENTRIES):
            batch.put_item(Item=filled_item(USER, index, later + index))
    rng = random.Random(7)  # noqa: S311 - a reproducible workload
    ingest, fanout, api = aws.module("ingest"), aws.module("fanout"), aws.module("api")
    connect, disconnect = aws.module("ws_connect"), aws.module("ws_disconnect")
    authorizer, messages = aws.module("ws_authorizer"), aws.module("ws_message")
    # The bill's HTTP requests are nearly all opens of the inbox (POST /notifications/open).
    opening = _http(aws, "api-open-inbox.json")
    connecting, disconnecting = aws.event("ws-connect.json"), aws.event("ws-disconnect.json")
    authorizing = aws.event("ws-authorizer.json")
    pinging = {**aws.event("ws-connect.json"), "body": '{"type": "ping"}'}
    pinging["requestContext"] = {**pinging["requestContext"], "routeKey": "$default", "eventType": "MESSAGE"}
    authorizing["queryStringParameters"] = {"token": aws.issuer.mint(USER)}
    for event in (connecting, disconnecting):
        event["requestContext"]["authorizer"]["principalId"] = USER
    for index in range(3):
        store.connections.add(USER, f"{USER}-conn-{index}")
    batches = [msk_batch(INGEST_RECORDS, f"durations-{index}", rng) for index in range(REPETITIONS)]
    now_ms = int(time.time() * 1000)
    streams = [
        stream_event([like_entry(USER, index * 100 + record, now_ms, 86_400) for record in range(FANOUT_RECORDS)])
        for index in range(REPETITIONS)
    ]

    def context(name: str) -> Any:
        return aws.context(name)

    return {
        "IngestFunction": {
            "records_per_invocation": INGEST_RECORDS,
            **_median_ms(lambda index: ingest.lambda_handler(batches[index], context("IngestFunction"))),
        },
        "FanoutFunction": {
            "records_per_invocation": FANOUT_RECORDS,
            **_median_ms(lambda index: fanout.lambda_handler(streams[index], context("FanoutFunction"))),
        },
        "ApiFunction": _median_ms(lambda index: api.lambda_handler(opening, context("ApiFunction"))),
        "WsAuthorizerFunction": _median_ms(
            lambda index: authorizer.lambda_handler(authorizing, context("WsAuthorizerFunction"))
        ),
        "WsConnectFunction": _median_ms(lambda index: connect.lambda_handler(connecting, context("WsConnectFunction"))),
        "WsMessageFunction": _median_ms(lambda index: messages.lambda_handler(pinging, context("WsMessageFunction"))),
        "WsDisconnectFunction": _median_ms(
            lambda index: disconnect.lambda_handler(disconnecting, context("WsDisconnectFunction"))
        ),
    }
