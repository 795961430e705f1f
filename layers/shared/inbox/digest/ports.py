"""What the digest run needs: preferences, schedules, the inbox, and a way to send mail."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from datetime import datetime
from typing import Protocol

from inbox.digest.compose import DigestEmail
from inbox.models import Notification, NotificationType
from inbox.preferences.model import Preferences
from inbox.store.digests import DueDigest


class PreferenceBatchReader(Protocol):
    def get_many(self, user_ids: Collection[str]) -> Mapping[str, Preferences]: ...


class DigestSchedules(Protocol):
    def due(self, hour: datetime) -> Iterator[DueDigest]: ...

    def schedule(self, user_id: str, hour: datetime, since_ms: int | None = None) -> bool: ...

    def reschedule(self, user_id: str, hour: datetime, since_ms: int) -> None: ...


class UnseenEntries(Protocol):
    def unseen_entries(
        self, user_id: str, since_ms: int, limit: int, types: frozenset[NotificationType] = frozenset()
    ) -> tuple[list[Notification], bool]: ...


class Mailer(Protocol):
    def send(self, recipient: str, email: DigestEmail) -> str: ...


class LinkSigner(Protocol):
    def url_for(self, user_id: str) -> str: ...
