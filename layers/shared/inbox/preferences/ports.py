"""What saving preferences needs from storage."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from inbox.preferences.model import Preferences


class PreferenceRepository(Protocol):
    def get(self, user_id: str) -> Preferences: ...

    def put(self, user_id: str, preferences: Preferences) -> None: ...


class DigestScheduler(Protocol):
    def schedule(self, user_id: str, hour: datetime, since_ms: int | None = None) -> bool: ...
