"""What the WebSocket API answers to client messages: a pong, or one clear error for anything else."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from inbox.sockets.replies import answer


def test_a_ping_gets_a_pong() -> None:
    assert answer(json.dumps({"type": "ping"})) == {"type": "pong"}


@pytest.mark.parametrize(
    "body",
    [None, "", "not json", "[1, 2]", '{"type": "subscribe"}', '"ping"', "[" * 100_000, "x" * 200_000],
    ids=["no-body", "empty", "text", "array", "other-type", "bare-string", "deep-nesting", "huge"],
)
def test_anything_else_gets_the_unsupported_message_error(body: str | None) -> None:
    # Given a message the socket does not take
    # When it is answered
    reply = answer(body)

    # Then the answer is the clear error, never an exception
    assert reply["type"] == "error"
    assert reply["error"]["code"] == "unsupported_message"
    assert "HTTP API" in reply["error"]["message"]


@settings(deadline=None)
@given(st.text(max_size=2000))
def test_no_text_makes_the_answer_fail(body: str) -> None:
    assert answer(body)["type"] in {"pong", "error"}
