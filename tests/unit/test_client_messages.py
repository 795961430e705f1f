"""What the WebSocket API answers to client messages: a pong, a sync, or one clear error for anything else."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from inbox.models import LiveCounts, NotificationPage
from inbox.sockets.replies import SYNC_PAGE_SIZE, answer

from tests.builders import AT, entry


class RecordingInbox:
    """The sync's source: one entry and fixed counts; it records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, datetime | None, int]] = []

    def changed_since(self, user_id: str, since: datetime | None, *, limit: int) -> NotificationPage:
        self.asked.append((user_id, since, limit))
        return NotificationPage(items=[entry("hi")], next_cursor=None)

    def live_counts(self, user_id: str) -> LiveCounts:
        return LiveCounts(unread=4, unseen=2)


def reply_to(body: str | None, user_id: str | None = "alice") -> dict[str, Any]:
    return answer(body, user_id, RecordingInbox())


def test_a_ping_gets_a_pong() -> None:
    assert reply_to(json.dumps({"type": "ping"})) == {"type": "pong"}


@pytest.mark.parametrize("since", [None, "2026-11-23T00:00:00.000Z"])
def test_a_sync_answers_with_the_first_page_and_the_counts(since: str | None) -> None:
    # Given a reconnecting tab of alice's, with or without the newest updatedAt it holds
    inbox = RecordingInbox()
    message = {"type": "sync"} if since is None else {"type": "sync", "since": since}

    # When it sends a sync
    reply = answer(json.dumps(message), "alice", inbox)

    # Then it gets the page and the counts in one answer, asked for alice since that time
    assert reply == {
        "type": "sync",
        "page": {"items": [entry("hi").model_dump(mode="json", by_alias=True)], "nextCursor": None},
        "counts": {"unread": 4, "unseen": 2},
    }
    assert inbox.asked == [("alice", AT if since else None, SYNC_PAGE_SIZE)]


@pytest.mark.parametrize("since", ["yesterday", "2026-11-23T00:00:00", 17])
def test_a_sync_with_a_bad_since_is_a_clear_error(since: object) -> None:
    reply = reply_to(json.dumps({"type": "sync", "since": since}))
    assert reply["type"] == "error"
    assert reply["error"]["code"] == "invalid_message"


def test_a_sync_without_a_user_is_refused() -> None:
    assert reply_to(json.dumps({"type": "sync"}), user_id=None)["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    "body",
    [None, "", "not json", "[1, 2]", '{"type": "subscribe"}', '"ping"', "[" * 100_000, "x" * 200_000],
    ids=["no-body", "empty", "text", "array", "other-type", "bare-string", "deep-nesting", "huge"],
)
def test_anything_else_gets_the_unsupported_message_error(body: str | None) -> None:
    # Given a message the socket does not take
    # When it is answered
    reply = reply_to(body)

    # Then the answer is the clear error, never an exception
    assert reply["type"] == "error"
    assert reply["error"]["code"] == "unsupported_message"
    assert "HTTP API" in reply["error"]["message"]
    assert "sync" in reply["error"]["message"]


@settings(deadline=None)
@given(st.text(max_size=2000))
def test_no_text_makes_the_answer_fail(body: str) -> None:
    assert reply_to(body)["type"] in {"pong", "sync", "error"}
