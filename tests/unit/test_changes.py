"""Which stream records reach open inboxes: with replicas, only the writer's region fans a change out."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from inbox.delivery.changes import change_of

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
    assert change.created is not None
    assert change.message["type"] == "notification.created"


def test_a_notification_replicated_from_another_region_is_left_to_that_region() -> None:
    # Given a new notification written in us-east-1 and replicated to eu-west-1
    record = inserted("us-east-1")

    # When the fan-out of eu-west-1 reads it from its replica's stream
    change = change_of(record, "eu-west-1")

    # Then it sends nothing: us-east-1's fan-out does, once
    assert change is None
