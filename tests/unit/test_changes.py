"""Which stream records reach open inboxes: with replicas, only the writer's region fans a change out."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from boto3.dynamodb.types import TypeSerializer
from inbox.delivery.changes import ChangeKind, change_of

from tests.conftest import load_event


def inserted(region: str | None) -> DynamoDBRecord:
    """The sample stream's new notification, written in ``region`` (None: written before regions were recorded)."""
    raw: dict[str, Any] = copy.deepcopy(load_event("fanout-stream.json")["Records"][0])
    assert raw["eventName"] == "INSERT"
    if region is not None:
        raw["dynamodb"]["NewImage"]["rg"] = {"S": region}
    return DynamoDBRecord(raw)


@pytest.mark.parametrize("written_in", ["eu-west-1", None])
def test_a_notification_written_in_this_region_or_before_regions_were_recorded_is_sent(
    written_in: str | None,
) -> None:
    # Given a new notification written in this region (or carrying no region)
    record = inserted(written_in)

    # When the fan-out of eu-west-1 reads it
    change = change_of(record, "eu-west-1")

    # Then it goes to the recipient's inboxes and phones
    assert change is not None
    assert (change.kind, change.grew) == (ChangeKind.CREATED, True)
    assert change.item is not None


def test_a_notification_replicated_from_another_region_is_left_to_that_region() -> None:
    # Given a new notification written in us-east-1 and replicated to eu-west-1
    record = inserted("us-east-1")

    # When the fan-out of eu-west-1 reads it from its replica's stream
    change = change_of(record, "eu-west-1")

    # Then it sends nothing: us-east-1's fan-out does, once
    assert change is None


U, R, A = "U#alice#U", "U#alice#R", "U#alice#A"
ENTRY = {"pk": "U#alice", "sk": "N#" + "a" * 26, "t": "like", "n": 2, "u": 5, "g1pk": U, "g1sk": "x"}
# The first version's entry: one action, no actor count, its time in "s".
FIRST_VERSION = {"pk": "U#alice", "sk": "N#" + "b" * 26, "t": "like", "s": 5, "g1pk": U, "g1sk": "x"}


def modified(old: dict[str, Any], new: dict[str, Any]) -> DynamoDBRecord:
    serializer = TypeSerializer()

    def image(item: dict[str, Any]) -> dict[str, Any]:
        return {name: serializer.serialize(value) for name, value in item.items()}

    keys = {"pk": old.get("pk", new["pk"]), "sk": old.get("sk", new["sk"])}
    return DynamoDBRecord(
        {
            "eventName": "MODIFY",
            "dynamodb": {"Keys": image(keys), "OldImage": image(old), "NewImage": image(new), "SequenceNumber": "1"},
        }
    )


@pytest.mark.parametrize(
    ("old", "new", "kind", "grew"),
    [
        (ENTRY, {**ENTRY, "n": 3, "u": 9}, ChangeKind.UPDATED, True),
        (ENTRY, {**ENTRY, "n": 1}, ChangeKind.UPDATED, False),
        ({**ENTRY, "g1pk": R}, {**ENTRY, "n": 3, "u": 9}, ChangeKind.UPDATED, True),
        (ENTRY, {**ENTRY, "g1pk": R}, ChangeKind.READ, False),
        (FIRST_VERSION, {**FIRST_VERSION, "g1pk": R}, ChangeKind.READ, False),
        ({**ENTRY, "g1pk": R}, ENTRY, ChangeKind.UNREAD, False),
        (ENTRY, {**ENTRY, "ux": 7}, ChangeKind.UNREAD, False),
        (ENTRY, {**ENTRY, "g1pk": A}, ChangeKind.ARCHIVED, False),
        ({**ENTRY, "g1pk": A}, {**ENTRY, "g1pk": R}, ChangeKind.UNARCHIVED, False),
        (
            ENTRY,
            {key: value for key, value in ENTRY.items() if key not in ("g1pk", "g1sk")} | {"gone": "deleted"},
            ChangeKind.DELETED,
            False,
        ),
        (
            {key: value for key, value in ENTRY.items() if key not in ("g1pk", "g1sk")} | {"gone": "retracted"},
            {**ENTRY, "n": 1},
            ChangeKind.CREATED,
            True,
        ),
    ],
    ids=[
        "grew",
        "lost-an-actor",
        "grew-while-read",
        "read",
        "read-of-a-first-version-entry",
        "unread",
        "unread-under-read-all",
        "archived",
        "unarchived",
        "deleted",
        "back-after-its-last-unlike",
    ],
)
def test_each_change_of_an_entry_is_the_message_its_tabs_need(
    old: dict[str, Any], new: dict[str, Any], kind: ChangeKind, grew: bool
) -> None:
    # Given an entry's stream record, when the fan-out reads it
    change = change_of(modified(old, new))

    # Then it is that change, and only a growing group may reach phones
    assert change is not None
    assert (change.kind, change.grew) == (kind, grew)


def test_a_groups_last_push_time_alone_changes_no_inbox() -> None:
    assert change_of(modified(ENTRY, {**ENTRY, "lp": 123})) is None


@pytest.mark.parametrize(
    ("watermark", "kind", "field"),
    [
        ("w", ChangeKind.READ_ALL, "readAt"),
        ("sw", ChangeKind.SEEN_ALL, "seenAt"),
        ("cw", ChangeKind.CLEARED, "clearedAt"),
    ],
)
def test_each_watermark_that_moves_is_its_change(watermark: str, kind: ChangeKind, field: str) -> None:
    # Given the STATE item with one watermark moved
    state = {"pk": "U#alice", "sk": "STATE", "w": 1, "sw": 1, "cw": 1}
    moved = {**state, watermark: 1_795_000_000_000}

    # When the fan-out reads it, then it is that change with the watermark's time
    change = change_of(modified(state, moved))
    assert change is not None
    assert change.kind is kind
    assert change.fields == {field: "2026-11-18T11:06:40.000Z"}
