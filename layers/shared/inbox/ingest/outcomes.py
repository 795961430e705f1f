"""What ingest did with each event, and the metric that counts it."""

from __future__ import annotations

from enum import StrEnum


class IngestOutcome(StrEnum):
    CREATED = "created"
    GROUPED = "grouped"  # joined an existing group
    DUPLICATE = "duplicate"
    RETRACTED = "retracted"
    NOTHING_TO_RETRACT = "nothing_to_retract"
    MUTED = "muted"
    SELF_ACTION = "self_action"
    FLOOD_DROPPED = "flood_dropped"


METRIC_OF: dict[IngestOutcome, str] = {
    IngestOutcome.CREATED: "NotificationsCreated",
    IngestOutcome.GROUPED: "NotificationsGrouped",
    IngestOutcome.DUPLICATE: "DuplicatesSkipped",
    IngestOutcome.RETRACTED: "NotificationsRetracted",
    IngestOutcome.MUTED: "MutedSkipped",
    IngestOutcome.SELF_ACTION: "SelfActionsSkipped",
    IngestOutcome.FLOOD_DROPPED: "FloodDropped",
}
