"""The hourly digest run: every user due this hour gets one email of their unseen entries, or none.

Per user: the due item (from the hour's query), their preferences (one batch read for a
hundred users), and one listing query of their unseen entries. Before sending, the next digest
is scheduled with a conditional put: that put is the claim, so a repeated run of the same hour
sends nothing twice. If sending fails, the next digest is set to cover this one's time too: the
user's entries are delayed a period, never lost, and the user stays scheduled.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from inbox.digest.compose import DigestComposer
from inbox.digest.ports import DigestSchedules, LinkSigner, Mailer, PreferenceBatchReader, UnseenEntries
from inbox.models import Notification, NotificationType
from inbox.observability import logger
from inbox.preferences.model import Preferences
from inbox.store.digests import DueDigest, hour_of
from inbox.timestamps import to_ms, utc_now

# An email lists at most this many entries (a group is one); the rest is "more in your inbox".
DIGEST_MAX_LINES = 20
HOUR = timedelta(hours=1)


class DigestOutcome(StrEnum):
    SENT = "sent"
    NOTHING_NEW = "nothing_new"  # no email: nothing unseen the user wants by email
    NOT_DUE = "not_due"  # a schedule the user has changed since, digests off, or no address
    ALREADY_SENT = "already_sent"  # a repeated run of the same hour
    FAILED = "failed"


@dataclass
class DigestReport:
    outcomes: dict[DigestOutcome, int] = field(default_factory=lambda: dict.fromkeys(DigestOutcome, 0))
    sent_to: list[str] = field(default_factory=list)

    def count(self, user_id: str, outcome: DigestOutcome) -> None:
        self.outcomes[outcome] += 1
        if outcome is DigestOutcome.SENT:
            self.sent_to.append(user_id)


class DigestRun:
    def __init__(
        self,
        preferences: PreferenceBatchReader,
        schedules: DigestSchedules,
        inbox: UnseenEntries,
        mailer: Mailer,
        composer: DigestComposer,
        links: LinkSigner,
        concurrency: int = 16,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._preferences = preferences
        self._schedules = schedules
        self._inbox = inbox
        self._mailer = mailer
        self._composer = composer
        self._links = links
        self._concurrency = concurrency
        self._clock = clock

    def run_hour(self, hour: datetime | None = None) -> DigestReport:
        """Digests of everyone due at ``hour`` (this hour by default)."""
        hour = hour_of(hour or self._clock())
        due = list(self._schedules.due(hour))
        preferences = self._preferences.get_many({digest.user_id for digest in due})
        return self._each(due, lambda digest: self._scheduled(digest, preferences[digest.user_id], hour))

    def send_now(self, user_ids: Collection[str]) -> DigestReport:
        """Digests of these users at once, whatever their schedule (an operator's or developer's run);
        the schedule is left as it is, and a user with nothing unseen still gets nothing."""
        preferences = self._preferences.get_many(user_ids)
        due = [DueDigest(user_id, None) for user_id in sorted(set(user_ids))]
        return self._each(due, lambda digest: self._send(digest.user_id, preferences[digest.user_id], 0))

    def _each(self, due: list[DueDigest], send: Callable[[DueDigest], DigestOutcome]) -> DigestReport:
        report = DigestReport()
        with ThreadPoolExecutor(max_workers=self._concurrency, thread_name_prefix="digest") as pool:
            for digest, outcome in zip(due, pool.map(send, due), strict=True):
                report.count(digest.user_id, outcome)
        return report

    def _scheduled(self, digest: DueDigest, preferences: Preferences, hour: datetime) -> DigestOutcome:
        schedule = preferences.digest
        if not preferences.digests_on or schedule.next_due(hour - HOUR) != hour:
            return DigestOutcome.NOT_DUE
        next_hour = schedule.next_due(hour)
        now = self._clock()
        if next_hour is None or not self._schedules.schedule(digest.user_id, next_hour, since_ms=to_ms(now)):
            return DigestOutcome.ALREADY_SENT
        since = digest.since_ms if digest.since_ms is not None else to_ms(hour - schedule.period)
        outcome = self._send(digest.user_id, preferences, since)
        if outcome is DigestOutcome.FAILED:
            self._schedules.reschedule(digest.user_id, next_hour, since_ms=since)
        return outcome

    def _send(self, user_id: str, preferences: Preferences, since_ms: int) -> DigestOutcome:
        if not preferences.email or not preferences.email_types:
            return DigestOutcome.NOT_DUE
        try:
            notifications, more = self._unseen(user_id, preferences.email_types, since_ms)
            if not notifications:
                return DigestOutcome.NOTHING_NEW
            email = self._composer.compose(
                notifications,
                more=more,
                frequency=preferences.digest.frequency.value,
                unsubscribe_url=self._links.url_for(user_id),
            )
            self._mailer.send(preferences.email, email)
        except Exception:  # one user's failure must not stop the others' digests
            logger.exception("digest failed", extra={"user": user_id})
            return DigestOutcome.FAILED
        return DigestOutcome.SENT

    def _unseen(
        self, user_id: str, types: frozenset[NotificationType], since_ms: int
    ) -> tuple[list[Notification], bool]:
        every_type = types == frozenset(NotificationType)
        return self._inbox.unseen_entries(user_id, since_ms, DIGEST_MAX_LINES, frozenset() if every_type else types)
