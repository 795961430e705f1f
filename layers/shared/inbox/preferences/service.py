"""Saving a user's preferences, and the one-click unsubscribe of digest emails."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from inbox.preferences.model import Frequency, Preferences, PreferencesUpdate
from inbox.preferences.ports import DigestScheduler, PreferenceRepository
from inbox.timestamps import utc_now


class PreferenceService:
    def __init__(
        self,
        preferences: PreferenceRepository,
        schedules: DigestScheduler,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._preferences = preferences
        self._schedules = schedules
        self._clock = clock

    def get(self, user_id: str) -> Preferences:
        return self._preferences.get(user_id)

    def save(self, user_id: str, update: PreferencesUpdate, verified_email: str | None) -> Preferences:
        """Replace the user's preferences; the address is the token's verified one, or none.

        A digest schedule or address that changed makes the user due at the schedule's next hour
        (one write); an unchanged one keeps the schedule the last digest wrote.
        """
        before = self._preferences.get(user_id)
        after = Preferences.from_update(update, verified_email)
        self._preferences.put(user_id, after)
        changed = (before.digest, before.email, before.digests_on) != (after.digest, after.email, after.digests_on)
        if after.digests_on and changed:
            due = after.digest.next_due(self._clock())
            if due is not None:
                self._schedules.schedule(user_id, due)
        return after

    def unsubscribe(self, user_id: str) -> Preferences:
        """Digests off; every other preference as it was."""
        preferences = self._preferences.get(user_id)
        if preferences.digest.frequency is Frequency.OFF:
            return preferences
        digest = preferences.digest.model_copy(update={"frequency": Frequency.OFF})
        unsubscribed = preferences.model_copy(update={"digest": digest})
        self._preferences.put(user_id, unsubscribed)
        return unsubscribed
