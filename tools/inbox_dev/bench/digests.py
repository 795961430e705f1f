"""Email digests: one invocation's run for 2,000 users due in the same hour, each with 5 unseen entries.

What is measured is the digest run itself (the due query, preference batch reads, one listing
query per user, the claim on the next digest, Jinja2 rendering and the MIME message), against
DynamoDB Local. SES is a stand-in that builds the raw message and answers after 30 ms, a remote
API's answer time: its quotas and latency are the deployer's account's, not this code's.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from inbox_dev.bench.inprocess import InProcessAws
from inbox_dev.capacity import fill
from inbox_dev.capacity_meter import metering

USERS = 2_000
ENTRIES_PER_USER = 5
SES_ANSWER_S = 0.030


class SesStandIn:
    """Builds each raw message as SES would be sent it, and answers after SES_ANSWER_S."""

    def __init__(self) -> None:
        self.sent = 0

    def send(self, recipient: str, email: Any) -> str:
        from inbox.digest.mail import mime_message

        mime_message(email, "digests@bench.local", recipient)
        time.sleep(SES_ANSWER_S)
        self.sent += 1
        return f"message-{self.sent}"


def _due_users(hour: datetime) -> list[str]:
    from inbox import wiring
    from inbox.preferences.model import DigestSchedule, Frequency, Preferences

    store = wiring.store()
    users = [f"digest-user-{index:05d}" for index in range(USERS)]
    schedule = DigestSchedule(frequency=Frequency.DAILY, hour=hour.hour, timezone="UTC")

    def prepare(user: str) -> None:
        store.preferences.put(user, Preferences(digest=schedule, email=f"{user}@example.com"))
        store.digests.schedule(user, hour)
        fill(store, user, ENTRIES_PER_USER)

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(prepare, users))
    return users


def measure(aws: InProcessAws) -> dict[str, Any]:
    from inbox import wiring
    from inbox.digest.compose import DigestComposer
    from inbox.digest.links import UnsubscribeLinks
    from inbox.digest.runner import DigestOutcome, DigestRun

    now = datetime.now(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    users = _due_users(hour)
    store = wiring.store()
    ses = SesStandIn()
    run = DigestRun(
        preferences=store.preferences,
        schedules=store.digests,
        inbox=store.queries,
        mailer=ses,
        composer=DigestComposer("https://app.example.com/inbox"),
        links=UnsubscribeLinks("bench-key-" * 4, "https://api.example.com/unsubscribe"),
        clock=lambda: hour + timedelta(minutes=1),
    )
    with metering(store.table.meta.client) as meter:
        began = time.perf_counter()
        report = run.run_hour(hour)
        seconds = time.perf_counter() - began
    sent = report.outcomes[DigestOutcome.SENT]
    return {
        "users": len(users),
        "sent": sent,
        "seconds": round(seconds, 2),
        "per_s": round(sent / seconds, 1),
        "read_units_per_digest": round(meter.read_units / sent, 3),
        "write_units_per_digest": round(meter.write_units / sent, 3),
        "requests_per_digest": round(meter.requests / sent, 3),
        "ses_answer_ms": SES_ANSWER_S * 1000,
    }
