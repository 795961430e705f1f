"""The rules that turn canonical events into stored notifications.

* Nobody is notified of their own action.
* Muted types are not stored.
* One entry per action, or one group of them (ingest/grouping.py): exactly once per action, by a
  conditional put on the action's key.
* An unlike retracts the like it undoes, if it is still there. A like after an unlike does
  not notify again: the retraction leaves a tombstone on the action's key, so toggling a
  like cannot flood the recipient (until the tombstone expires with the notification TTL).
* Flood control (ingest/flood.py) before storing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from inbox.batch import in_order_per_key
from inbox.ingest.flood import FloodGate, FloodLimits, FloodMemory
from inbox.ingest.grouping import Groups, group_key, lookups
from inbox.ingest.outcomes import IngestOutcome
from inbox.ingest.ports import FloodWindows, NotificationWriter, PreferenceReader
from inbox.models import NotificationEvent, NotificationType, Retraction
from inbox.settings import DAY_SECONDS
from inbox.store.notifications import Stored, Undone

STORED: dict[Stored, IngestOutcome] = {
    Stored.CREATED: IngestOutcome.CREATED,
    Stored.JOINED: IngestOutcome.GROUPED,
    Stored.DUPLICATE: IngestOutcome.DUPLICATE,
}

Event = NotificationEvent | Retraction
# A record's outcome: what happened to each of its events, or why the record must be retried.
RecordOutcome = list[IngestOutcome] | Exception


class EarlierEventFailed(Exception):
    """A recipient's event is held back because one before it failed: it is retried in order."""


class Ingestor:
    """Applies a batch's events: recipients side by side, each recipient's events in record order.

    Preferences are read once per batch, for every recipient at once. Once an event of a recipient fails, that
    recipient's later events in the batch fail with it, so that the retry applies them in order
    (an unlike must never overtake the like it undoes).
    """

    def __init__(
        self,
        notifications: NotificationWriter,
        preferences: PreferenceReader,
        flood_windows: FloodWindows,
        concurrency: int,
        limits: FloodLimits | None = None,
        clock: Callable[[], float] = time.time,
        group_window_seconds: int = DAY_SECONDS,
    ) -> None:
        self._notifications = notifications
        self._preferences = preferences
        self._flood_windows = flood_windows
        # Lives as long as the container: what it stored, and read, of recipients' flood windows.
        self._flood_memory = FloodMemory()
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="recipient")
        self._limits = limits or FloodLimits()
        self._clock = clock
        self._group_window_ms = group_window_seconds * 1000

    def apply_all(self, records: Sequence[tuple[str, list[Event]]]) -> dict[str, RecordOutcome]:
        """The outcome of each keyed record's events."""
        outcomes: dict[str, RecordOutcome] = {key: [] for key, _ in records}
        keyed_events = [(key, event) for key, events in records for event in events]
        muted = self._muted_types(keyed_events)
        starts = self._group_starts(keyed_events)

        def apply_for_recipient(
            recipient_events: list[tuple[str, Event]],
        ) -> list[tuple[str, IngestOutcome | Exception]]:
            return self._apply_for_recipient(recipient_events, muted, starts.get(_recipient_of(recipient_events[0])))

        for results in in_order_per_key(self._pool, keyed_events, _recipient_of, apply_for_recipient):
            for key, result in results:
                known = outcomes[key]
                if isinstance(result, Exception):
                    outcomes[key] = known if isinstance(known, Exception) else result
                elif isinstance(known, list):
                    known.append(result)
        return outcomes

    def _apply_for_recipient(
        self,
        keyed_events: list[tuple[str, Event]],
        muted_types: Mapping[str, frozenset[NotificationType] | Exception],
        group_starts: Mapping[str, int | None] | None,
    ) -> list[tuple[str, IngestOutcome | Exception]]:
        # Any failure fails this recipient's records only (Lambda retries them), never the batch.
        recipient = _recipient_of(keyed_events[0])
        muted = muted_types.get(recipient, frozenset())
        if isinstance(muted, Exception):
            return [(key, muted) for key, _ in keyed_events]
        flood = FloodGate(self._flood_windows, self._flood_memory, recipient, self._limits, self._clock)
        groups = Groups(self._notifications, recipient, self._group_window_ms, group_starts)
        failed: Exception | None = None
        results: list[tuple[str, IngestOutcome | Exception]] = []
        for key, event in keyed_events:
            if failed is not None:
                results.append((key, EarlierEventFailed(f"an earlier event for this recipient failed: {failed}")))
                continue
            try:
                results.append((key, self._apply(event, muted, flood, groups)))
            except Exception as error:  # reported per record by the caller
                failed = error
                results.append((key, error))
        return results

    def _muted_types(
        self, keyed_events: list[tuple[str, Event]]
    ) -> Mapping[str, frozenset[NotificationType] | Exception]:
        """Each recipient's types not to store, read in one request per hundred recipients, only for
        recipients some event could notify; a failed read fails those recipients' records."""
        recipients = {event.recipient_id for event in _notifying(keyed_events)}
        if not recipients:
            return {}
        try:
            preferences = self._preferences.get_many(recipients)
        except Exception as error:  # reported per record by the caller
            return dict.fromkeys(recipients, error)
        return {recipient: frozenset(preferences[recipient].muted_types) for recipient in recipients}

    def _group_starts(self, keyed_events: list[tuple[str, Event]]) -> dict[str, dict[str, int | None]]:
        """Per recipient, the starts of the groups the batch's actions may join, read in one request per
        hundred groups; if that read fails, each group is looked up on its own when it is joined."""
        now_ms = int(self._clock() * 1000)
        wanted = lookups(_notifying(keyed_events), now_ms, self._group_window_ms)
        if not wanted:
            return {}
        try:
            found = self._notifications.group_starts(wanted)
        except Exception:
            return {}
        starts: dict[str, dict[str, int | None]] = {}
        for (recipient, entry_id), started in found.items():
            starts.setdefault(recipient, {})[entry_id] = started
        return starts

    def _apply(
        self, event: Event, muted: frozenset[NotificationType], flood: FloodGate, groups: Groups
    ) -> IngestOutcome:
        if isinstance(event, Retraction):
            undone = self._notifications.retract(event)
            return IngestOutcome.RETRACTED if undone is Undone.RETRACTED else IngestOutcome.NOTHING_TO_RETRACT
        if event.is_self_action:
            return IngestOutcome.SELF_ACTION
        if event.type in muted:
            return IngestOutcome.MUTED
        if not flood.admit(event):
            return IngestOutcome.FLOOD_DROPPED
        now_ms = int(self._clock() * 1000)
        group = group_key(event)
        if group is None:
            stored = self._notifications.put(event, at_ms=now_ms)
        else:
            stored = self._notifications.add_to_group(event, groups.entry_for(group, now_ms), at_ms=now_ms)
        if stored is not Stored.DUPLICATE:
            flood.stored(event)
        return STORED[stored]


def _notifying(keyed_events: list[tuple[str, Event]]) -> Iterator[NotificationEvent]:
    """The events that could notify their recipient: neither retractions nor self-actions."""
    for _, event in keyed_events:
        if isinstance(event, NotificationEvent) and not event.is_self_action:
            yield event


def _recipient_of(keyed_event: tuple[str, Event]) -> str:
    return keyed_event[1].recipient_id
