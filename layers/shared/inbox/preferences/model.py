"""The preference document clients read and write, and the rules that read it.

Each type (like, follow, reply, repost, mention) has three channels: ``inbox`` (stored, and
sent live), ``push`` (phones) and ``email`` (included in digests). Global switches sit on top,
with ``websocket`` kept from the first version (live messages on or off for every type). A type
or channel a client does not name keeps its default: everything on, digests off.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, available_timezones

from pydantic import AfterValidator, ConfigDict, Field, StrictBool, StrictInt, computed_field, model_validator

from inbox.models import ApiModel, NotificationType


class Channel(StrEnum):
    INBOX = "inbox"
    PUSH = "push"
    EMAIL = "email"


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def _zone(name: str) -> str:
    # Checked against the list of zones, not by loading one: a name such as "Europe" is a folder
    # of the zone database, and loading it fails with an OS error rather than a clear refusal.
    if name not in _zone_names():
        raise ValueError(f"{name!r} is not an IANA time zone (for example Europe/Paris)")
    return name


def _clock(value: str) -> str:
    try:
        parsed = time.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a time of day as HH:MM (00:00 to 23:59)") from None
    if len(value) != 5 or parsed.second or parsed.tzinfo:
        raise ValueError(f"{value!r} is not a time of day as HH:MM (00:00 to 23:59)")
    return value


TimeZoneName = Annotated[str, Field(max_length=64), AfterValidator(_zone)]
ClockTime = Annotated[str, Field(max_length=5), AfterValidator(_clock)]


class Strict(ApiModel):
    """Input shapes refuse what they do not know: a misspelt type or channel is a 400 naming it."""

    model_config = ConfigDict(extra="forbid")


class TypeChannels(Strict):
    inbox: StrictBool = True
    push: StrictBool = True
    email: StrictBool = True


class TypeGrid(Strict):
    like: TypeChannels = TypeChannels()
    follow: TypeChannels = TypeChannels()
    reply: TypeChannels = TypeChannels()
    repost: TypeChannels = TypeChannels()
    mention: TypeChannels = TypeChannels()

    def of(self, kind: NotificationType) -> TypeChannels:
        channels: TypeChannels = getattr(self, kind.value)
        return channels


class GlobalChannels(Strict):
    inbox: StrictBool = True
    websocket: StrictBool = True
    push: StrictBool = True
    email: StrictBool = True


class QuietHours(Strict):
    """No pushes from ``start`` to ``end`` on the wall clock of ``timezone`` (the window may cross midnight)."""

    start: ClockTime
    end: ClockTime
    timezone: TimeZoneName

    @model_validator(mode="after")
    def _a_window(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("start and end must differ")
        return self

    def covers(self, at: datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.timezone)).time().replace(tzinfo=None)
        start, end = time.fromisoformat(self.start), time.fromisoformat(self.end)
        if start < end:
            return start <= local < end
        return local >= start or local < end


class Frequency(StrEnum):
    OFF = "off"
    DAILY = "daily"
    WEEKLY = "weekly"


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[Weekday, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class DigestSchedule(Strict):
    """Daily at ``hour`` local time, or weekly on ``weekday`` at that hour."""

    frequency: Frequency = Frequency.OFF
    hour: StrictInt = Field(default=8, ge=0, le=23)
    weekday: Weekday = "monday"
    timezone: TimeZoneName = "UTC"

    @property
    def period(self) -> timedelta:
        return timedelta(days=7 if self.frequency is Frequency.WEEKLY else 1)

    def next_due(self, after: datetime) -> datetime | None:
        """The first UTC hour strictly after ``after`` at which this schedule's digest is due.

        A local hour is turned into UTC on its own date, so daylight-saving changes move the UTC
        hour, not the local one. A due time between two UTC hours (zones with half-hour offsets)
        is rounded up: a digest never goes out before the hour asked for.
        """
        if self.frequency is Frequency.OFF:
            return None
        zone = ZoneInfo(self.timezone)
        local_day = after.astimezone(zone).date()
        for offset in range(9):
            day = local_day + timedelta(days=offset)
            if self.frequency is Frequency.WEEKLY and WEEKDAYS[day.weekday()] != self.weekday:
                continue
            due = _hour_ceiling(datetime(day.year, day.month, day.day, self.hour, tzinfo=zone).astimezone(UTC))
            if due > after:
                return due
        return None  # unreachable: a week always holds the day


def _hour_ceiling(moment: datetime) -> datetime:
    floor = moment.replace(minute=0, second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(hours=1)


class PreferencesUpdate(Strict):
    """What ``PUT /preferences`` takes: every part optional, defaults for what is left out.

    ``mutedTypes`` is the first version's way to turn a type's inbox off; it still works.
    The email address is never taken from here: it comes from the token.
    """

    types: TypeGrid = TypeGrid()
    channels: GlobalChannels = GlobalChannels()
    quiet_hours: QuietHours | None = None
    digest: DigestSchedule = DigestSchedule()
    muted_types: list[NotificationType] = Field(default_factory=list, max_length=len(NotificationType))


class Preferences(ApiModel):
    """The effective preferences, as stored and as ``GET /preferences`` shows them."""

    types: TypeGrid = TypeGrid()
    channels: GlobalChannels = GlobalChannels()
    quiet_hours: QuietHours | None = None
    digest: DigestSchedule = DigestSchedule()
    # Where digests go: the token's verified address when the preferences were last saved.
    email: str | None = None

    @classmethod
    def from_update(cls, update: PreferencesUpdate, email: str | None) -> Preferences:
        types = update.types
        for kind in update.muted_types:
            types = types.model_copy(update={kind.value: types.of(kind).model_copy(update={"inbox": False})})
        return cls(
            types=types, channels=update.channels, quiet_hours=update.quiet_hours, digest=update.digest, email=email
        )

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented use on a property
    @property
    def muted_types(self) -> list[NotificationType]:
        """Types that are not stored at all (their inbox is off, or every inbox is): the first version's field."""
        return sorted(kind for kind in NotificationType if not self.wants(kind, Channel.INBOX))

    def wants(self, kind: NotificationType, channel: Channel) -> bool:
        return bool(getattr(self.channels, channel.value)) and bool(getattr(self.types.of(kind), channel.value))

    @property
    def live(self) -> bool:
        return self.channels.inbox and self.channels.websocket

    def may_push(self, kind: NotificationType, at: datetime) -> bool:
        return self.wants(kind, Channel.PUSH) and not (self.quiet_hours and self.quiet_hours.covers(at))

    @property
    def email_types(self) -> frozenset[NotificationType]:
        return frozenset(kind for kind in NotificationType if self.wants(kind, Channel.EMAIL))

    @property
    def digests_on(self) -> bool:
        return self.digest.frequency is not Frequency.OFF and bool(self.email) and bool(self.email_types)
