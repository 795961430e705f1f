"""`make produce` (`python -m inbox_dev produce TOPIC FILE`): each JSON line becomes a record on a topic of the
running stack's broker, here a broker of the test's own that the state directory names as the stack's."""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from inbox_dev.cli import main
from inbox_dev.processes import free_port
from inbox_dev.stack import STATE_FILE_NAME, create_topics, tansu_broker

pytestmark = pytest.mark.integration

TOPIC = "message-liked"
LIKES = [{"type": "like", "actor": actor, "recipient": "alice"} for actor in ("bob", "carol", "dave")]


@dataclass
class RunningBroker:
    servers: str
    state_dir: Path


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[RunningBroker]:
    """A broker with the topic, named in the state directory as `make dev` names its own."""
    with tansu_broker("127.0.0.1", free_port()) as servers:
        create_topics(servers, [TOPIC])
        (tmp_path / STATE_FILE_NAME).write_text(json.dumps({"pid": os.getpid(), "kafka": servers}))
        yield RunningBroker(servers, tmp_path)


def json_lines_file(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


def first_records(servers: str, count: int, timeout: float = 30) -> list[dict[str, object]]:
    """The topic's first ``count`` records (it has one partition), read without joining a consumer group."""
    consumer = Consumer({"bootstrap.servers": servers, "group.id": "unused", "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition(TOPIC, 0, OFFSET_BEGINNING)])
        records: list[dict[str, object]] = []
        deadline = time.monotonic() + timeout
        while len(records) < count and time.monotonic() < deadline:
            message = consumer.poll(1)
            if message is not None and message.error() is None and (value := message.value()) is not None:
                records.append(json.loads(value))
        return records
    finally:
        consumer.close()


def test_each_json_line_of_a_file_is_sent_in_order_and_counted(
    broker: RunningBroker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a file of three likes, one per line, and a blank line
    lines = [json.dumps(like) for like in LIKES]
    path = json_lines_file(tmp_path / "likes.jsonl", [lines[0], "", *lines[1:]])

    # When it is produced to the topic
    status = main(["produce", "--state-dir", str(broker.state_dir), TOPIC, str(path)])

    # Then the command says how many records it sent, and where
    assert status == 0
    assert capsys.readouterr().out == f"Sent 3 records to {TOPIC} ({broker.servers}).\n"
    # And the topic holds the three likes, in the file's order
    assert first_records(broker.servers, 3) == LIKES


def test_lines_are_read_from_stdin_with_a_dash(
    broker: RunningBroker, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a like on stdin
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(f"{json.dumps(LIKES[0])}\n".encode())))

    # When stdin is produced to the topic
    status = main(["produce", "--state-dir", str(broker.state_dir), TOPIC, "-"])

    # Then the like is on the topic
    assert status == 0
    assert capsys.readouterr().out.startswith("Sent 1 record to ")
    assert first_records(broker.servers, 1) == LIKES[:1]


def test_a_line_that_is_not_json_is_named_and_nothing_of_its_file_is_sent(
    broker: RunningBroker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a file whose second line is not JSON
    bad = json_lines_file(tmp_path / "bad.jsonl", [json.dumps(LIKES[0]), "{not json", json.dumps(LIKES[1])])

    # When it is produced, and then a good file
    status = main(["produce", "--state-dir", str(broker.state_dir), TOPIC, str(bad)])
    error = capsys.readouterr().err
    good = json_lines_file(tmp_path / "good.jsonl", [json.dumps(LIKES[2])])
    assert main(["produce", "--state-dir", str(broker.state_dir), TOPIC, str(good)]) == 0

    # Then the bad file is refused, its line named; the topic starts with the good file's record
    assert status == 1
    assert f"{bad}: line 2 is not JSON" in error
    assert "nothing was sent" in error
    assert first_records(broker.servers, 1) == LIKES[2:]


def test_a_topic_the_broker_lacks_is_refused_with_the_topics_it_has(
    broker: RunningBroker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a file of one like
    path = json_lines_file(tmp_path / "likes.jsonl", [json.dumps(LIKES[0])])

    # When it is produced to a topic that does not exist
    status = main(["produce", "--state-dir", str(broker.state_dir), "no-such-topic", str(path)])

    # Then the command fails, naming the topics there are
    assert status == 1
    assert f"the broker has no topic 'no-such-topic'; it has {TOPIC}" in capsys.readouterr().err


def test_without_a_running_stack_it_says_how_to_start_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given no running stack
    path = json_lines_file(tmp_path / "likes.jsonl", [json.dumps(LIKES[0])])

    # When a file is produced
    status = main(["produce", "--state-dir", str(tmp_path), TOPIC, str(path)])

    # Then it fails with the way out
    assert status == 1
    assert "start it with `make dev`" in capsys.readouterr().err
