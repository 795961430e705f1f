"""One Kafka batch with every kind of bad record among good ones, through the ingest function and DynamoDB Local.

Every bad record is reported as a partial batch failure (so that Lambda sends it to the
on-failure destination) and logged with where it came from and why; every good record of the
same batch is stored; an enormous excerpt is shortened, not refused.
"""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from inbox.api.reader import InboxReader
from inbox.models import EXCERPT_MAX_CHARS
from inbox.store import Store

from tests.integration.helpers import exobook_like, kafka_event, like

pytestmark = pytest.mark.integration

Logs = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def logs(function: Any) -> Iterator[Logs]:
    """The JSON lines the functions' Powertools Logger writes (to stdout on Lambda), read back."""
    function("ingest")
    from inbox.observability import logger

    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
    handler.setStream(previous)


def value(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


def test_every_bad_record_is_reported_and_logged_and_every_good_one_is_stored(
    function: Any, context: Any, store: Store, user: str, logs: Logs, reader: InboxReader
) -> None:
    # Given one batch: good records of both producers, and every kind of bad record between them
    long_text = "a very long post " * 3_000  # 51,000 characters
    enormous = value(actorId="eve", postId="p9", postText=long_text, postAuthorId=user)
    action_9 = value(owner=user, trigger_user="zed", action=9, resource_type="POST", resource_id="p1")
    reply = value(owner=user, trigger_user="fay", action=3, resource_type="POST", resource_id="p2", excerpt="re")
    records: list[tuple[str, str, tuple[str, bytes]]] = [
        ("good", "like", like("ann", user)),
        ("bad", "truncated base64", ("message-liked", b"replaced below")),
        ("bad", "invalid UTF-8", ("message-liked", b'{"actorId": "\xff\xfe", "postAuthorId": "x"}')),
        ("good", "exobook like", exobook_like("cat", user)),
        ("bad", "JSON that is not an object", ("user-followed", b'["actorId", "followedUserId"]')),
        ("bad", "wrong types", ("user-followed", value(actorId=42, followedUserId=["x"]))),
        ("bad", "missing recipient", ("message-liked", value(actorId="zed", postId="p1", postText="hi"))),
        ("good", "follow", ("user-followed", value(actorId="dan", followedUserId=user))),
        ("bad", "unknown topic", ("billing-updated", value(actorId="zed", followedUserId=user))),
        ("good", "enormous excerpt", ("message-liked", enormous)),
        ("good", "undocumented action code", ("notifications.post.like", action_9)),
        ("bad", "empty value", ("message-liked", b"")),
        ("bad", "null value", ("user-followed", b"replaced below")),
        ("good", "exobook reply", ("notifications.reply.post", reply)),
    ]
    event = kafka_event(*(record for _, _, record in records))
    by_offset = {record["offset"]: record for batch in event["records"].values() for record in batch}
    by_offset[1]["value"] = base64.b64encode(value(actorId="zed", postAuthorId=user, postId="p")).decode()[:-3]
    by_offset[12]["value"] = None
    bad = {
        (f"{records[offset][2][0]}-0", offset): kind
        for offset, (quality, kind, _) in enumerate(records)
        if quality == "bad"
    }

    # When the ingest function handles it
    response = function("ingest").lambda_handler(event, context)

    # Then exactly the bad records are reported, each by its partition and offset
    failures = {
        (f["itemIdentifier"]["partition"], f["itemIdentifier"]["offset"]) for f in response["batchItemFailures"]
    }
    assert failures == set(bad), {bad.get(key, key) for key in failures ^ set(bad)}

    # And each is logged once, with where it came from and a reason
    warnings = [line for line in logs() if line.get("message") == "bad record"]
    logged = {(f"{line['topic']}-{line['partition']}", line["offset"]): line for line in warnings}
    assert len(warnings) == len(bad)
    assert set(logged) == set(bad)
    assert all(line["level"] == "WARNING" and line["reason"] for line in warnings)
    reasons = {bad[key]: line["reason"] for key, line in logged.items()}
    assert "base64" in reasons["truncated base64"]
    assert "UTF-8" in reasons["invalid UTF-8"]
    assert "not an object" in reasons["JSON that is not an object"]
    assert "actorId" in reasons["wrong types"]
    assert "postAuthorId is required" in reasons["missing recipient"]
    assert "unknown topic" in reasons["unknown topic"]
    assert "not JSON" in reasons["empty value"]
    assert "null" in reasons["null value"]

    # And every good record is stored, the enormous excerpt shortened to the preview length
    stored = reader.page(user, limit=100).items
    assert sorted((item.type.value, item.actor.id) for item in stored) == [
        ("follow", "dan"),
        ("like", "ann"),
        ("like", "cat"),
        ("like", "eve"),
        ("like", "zed"),
        ("reply", "fay"),
    ]
    [eves] = [item for item in stored if item.actor.id == "eve"]
    assert eves.resource.excerpt is not None
    assert len(eves.resource.excerpt) == EXCERPT_MAX_CHARS
    assert eves.resource.excerpt.endswith("…")
    assert " ".join(long_text.split()).startswith(eves.resource.excerpt[:-1])


def test_a_record_without_a_value_key_is_reported_not_fatal(
    function: Any, context: Any, store: Store, user: str, reader: InboxReader
) -> None:
    # Given a record whose value is missing altogether (a tombstone as some clients hand it over)
    event = kafka_event(like("ann", user), ("message-liked", b""))
    del event["records"]["message-liked-0"][1]["value"]

    # When it is ingested, then only that record fails and the other is stored
    response = function("ingest").lambda_handler(event, context)
    assert response == {"batchItemFailures": [{"itemIdentifier": {"partition": "message-liked-0", "offset": 1}}]}
    assert [item.actor.id for item in reader.page(user, limit=10).items] == ["ann"]


def test_bad_records_and_flood_drops_are_counted_in_the_batchs_metrics(
    function: Any, context: Any, user: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a batch of one bad record and 21 likes from one actor (one past the flood limit of 20)
    ingest = function("ingest")
    records = [("message-liked", b"not json"), *(like("bob", user, post=f"post-{index}") for index in range(21))]
    capsys.readouterr()

    # When it is ingested
    ingest.lambda_handler(kafka_event(*records), context)

    # Then the batch's metrics (CloudWatch's embedded format, on stdout) count one bad record, one
    # flood drop and twenty created notifications
    metrics: dict[str, float] = {}
    for line in capsys.readouterr().out.splitlines():
        document = json.loads(line) if line.startswith("{") else {}
        if "_aws" in document:
            for definition in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                metrics[definition["Name"]] = sum(document[definition["Name"]])
    assert metrics == {"BadRecords": 1.0, "FloodDropped": 1.0, "NotificationsCreated": 20.0}
