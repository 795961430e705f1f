"""What the digest function is asked to do, and what it answers.

The schedule passes ``scheduledTime`` (EventBridge Scheduler's ``<aws.scheduler.scheduled-time>``),
so a late or retried invocation still sends the digests of the hour it was scheduled for. An
operator (or `make digest`) may name ``userIds`` to send their digests at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from inbox.digest.runner import DigestOutcome, DigestReport, DigestRun
from inbox.models import UserId
from inbox.observability import count, logger


class DigestRequest(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    scheduled_time: datetime | None = Field(default=None, alias="scheduledTime")
    user_ids: list[UserId] | None = Field(default=None, alias="userIds", max_length=1000)

    def run(self, digests: DigestRun) -> DigestReport:
        if self.user_ids is not None:
            return digests.send_now(self.user_ids)
        return digests.run_hour(self.scheduled_time)


METRICS = {
    DigestOutcome.SENT: "DigestsSent",
    DigestOutcome.NOTHING_NEW: "DigestsWithNothingNew",
    DigestOutcome.NOT_DUE: "DigestsNotDue",
    DigestOutcome.ALREADY_SENT: "DigestsAlreadySent",
    DigestOutcome.FAILED: "DigestsFailed",
}


def report_body(report: DigestReport) -> dict[str, Any]:
    for outcome, name in METRICS.items():
        count(name, report.outcomes[outcome])
    body = {outcome.value: number for outcome, number in report.outcomes.items()}
    logger.info("digests", extra=body)
    return {**body, "sentTo": report.sent_to}
