"""HTTP: GET /notifications through the local stack, next to the same queries issued in-process.

Concurrent clients list one user's newest 20 for a fixed time; the reference runs the
store's listing (the same two Query requests) directly with boto3 in this process, on as
many threads. The ratio is what the gateway, the authorizer and the function's runtime cost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from inbox.api.reader import InboxReader

from inbox_dev.bench.stats import ratio, summary
from inbox_dev.capacity import fill
from inbox_dev.stack_process import store_of

CLIENTS = 8
SECONDS = 5.0
REPETITIONS = 3
NOTIFICATIONS = 200
USER = "http-bench-user"


def _rate(call: Callable[[], bool], clients: int, seconds: float) -> tuple[float, int]:
    """Calls per second over ``clients`` threads for ``seconds``, and how many failed."""
    done, failed = [0] * clients, [0] * clients
    deadline = time.monotonic() + seconds

    def client(index: int) -> None:
        while time.monotonic() < deadline:
            if call():
                done[index] += 1
            else:
                failed[index] += 1

    threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / seconds, sum(failed)


def measure(state: dict[str, Any]) -> dict[str, Any]:
    """``state``: what the running local stack wrote about itself (its URLs and functions' environments)."""
    store = store_of(state)
    fill(store, USER, NOTIFICATIONS)
    token = requests.post(f"{state['page']}/dev/token", json={"user": USER}, timeout=10).json()["token"]
    local = threading.local()

    def over_http() -> bool:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.headers["Authorization"] = f"Bearer {token}"
        response = local.session.get(f"{state['http_api']}/notifications", params={"limit": 20}, timeout=10)
        return response.status_code == 200 and len(response.json()["items"]) == 20

    def direct() -> bool:
        return len(InboxReader(store.queries).page(USER, limit=20).items) == 20

    http_rates, direct_rates, errors = [], [], 0
    for _ in range(REPETITIONS):
        rate, failed = _rate(over_http, CLIENTS, SECONDS)
        http_rates.append(rate)
        errors += failed
        rate, failed = _rate(direct, CLIENTS, SECONDS)
        direct_rates.append(rate)
        errors += failed
    http_rps, direct_rps = summary(http_rates), summary(direct_rates)
    return {
        "clients": CLIENTS,
        "requests_per_s": http_rps,
        "direct_requests_per_s": direct_rps,
        "direct_ratio": ratio(http_rps["median"], direct_rps["median"]),
        "errors": errors,
    }
