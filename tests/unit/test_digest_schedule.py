"""When a digest is due: a local hour on the user's own clock, daily or weekly, across both
daylight-saving changes, never before the hour asked for."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from inbox.preferences.model import DigestSchedule, Frequency, QuietHours
from pydantic import ValidationError


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("after", "due"),
    [
        # 09:00 in Paris is 08:00 UTC in winter and 07:00 UTC in summer.
        ("2026-03-28T09:00", "2026-03-29T07:00"),  # the day of the spring change: 09:00 CEST
        ("2026-03-27T09:00", "2026-03-28T08:00"),  # the day before: 09:00 CET
        ("2026-10-24T08:00", "2026-10-25T08:00"),  # the day of the autumn change: 09:00 CET
        ("2026-10-23T08:00", "2026-10-24T07:00"),  # the day before: 09:00 CEST
        ("2026-12-02T07:59", "2026-12-02T08:00"),  # later the same day
    ],
)
def test_a_daily_digest_is_due_at_the_local_hour_across_daylight_saving_changes(after: str, due: str) -> None:
    schedule = DigestSchedule(frequency=Frequency.DAILY, hour=9, timezone="Europe/Paris")
    assert schedule.next_due(at(after)) == at(due)


def test_a_weekly_digest_is_due_on_its_weekday() -> None:
    schedule = DigestSchedule(frequency=Frequency.WEEKLY, weekday="friday", hour=17, timezone="America/New_York")
    # Wednesday 2 December 2026: the next Friday is the 4th, 17:00 EST = 22:00 UTC.
    assert schedule.next_due(at("2026-12-02T12:00")) == at("2026-12-04T22:00")
    assert schedule.next_due(at("2026-12-04T22:00")) == at("2026-12-11T22:00")


def test_a_half_hour_zone_is_rounded_up_never_early() -> None:
    # 08:00 in Kolkata is 02:30 UTC: the digest goes at 03:00 UTC, not before the hour asked for.
    schedule = DigestSchedule(frequency=Frequency.DAILY, hour=8, timezone="Asia/Kolkata")
    assert schedule.next_due(at("2026-12-02T00:00")) == at("2026-12-02T03:00")


def test_digests_off_are_never_due() -> None:
    assert DigestSchedule().next_due(at("2026-12-02T00:00")) is None


@pytest.mark.parametrize(
    ("start", "end", "local", "quiet"),
    [
        ("22:00", "07:00", "23:59", True),
        ("22:00", "07:00", "00:00", True),
        ("22:00", "07:00", "06:59", True),
        ("22:00", "07:00", "07:00", False),
        ("22:00", "07:00", "21:59", False),
        ("13:00", "14:00", "13:30", True),
        ("13:00", "14:00", "14:00", False),
    ],
)
def test_quiet_hours_cover_their_window_even_across_midnight(start: str, end: str, local: str, quiet: bool) -> None:
    window = QuietHours(start=start, end=end, timezone="UTC")
    assert window.covers(at(f"2026-12-02T{local}")) is quiet


@pytest.mark.parametrize("zone", ["Europe", "Europe/", "..", "/etc/passwd", "zone.tab", "Mars/Olympus", "UTC\x00", ""])
def test_only_a_zone_of_the_iana_database_is_accepted(zone: str) -> None:
    with pytest.raises(ValidationError, match="timezone"):
        QuietHours(start="22:00", end="07:00", timezone=zone)
