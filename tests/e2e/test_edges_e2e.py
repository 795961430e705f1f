"""The edges under abuse, end to end on a local stack of their own, started with a deployment's parameters.

The stack runs with AllowedOrigins set to one origin and a write burst limit of 5 (1 per second), as
`make dev ARGS="--parameter-overrides ..."` runs it; the cap on connections is the template's 10.
Every token the module uses is kept, and the last test stops the stack and looks for them in
everything it wrote.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from confluent_kafka import Producer
from inbox_dev.samples import sample_event
from inbox_dev.stack_process import READY_LINE, STARTUP_SECONDS, StackProcess, port_flags, stack_command, stack_ports
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

pytestmark = pytest.mark.e2e

CAP = 10
ALLOWED_ORIGIN = "http://app.inbox.test"
WRITE_BURST = 5
OVERRIDES = [
    f"AllowedOrigins={ALLOWED_ORIGIN}",
    f"HttpWriteThrottlingBurstLimit={WRITE_BURST}",
    "HttpWriteThrottlingRateLimit=1",
]
TOO_MANY_REQUESTS_BODY = '{"message":"Too Many Requests"}'
WAIT_S = 30
# Every token this module hands out: none may appear in anything the stack writes.
TOKENS: list[str] = []


@dataclass
class EdgeStack:
    process: StackProcess
    state_dir: Path
    page: str
    http_api: str
    websocket: str
    kafka: str

    def token(self, user: str) -> str:
        response = requests.post(f"{self.page}/dev/token", json={"user": user}, timeout=10)
        response.raise_for_status()
        token = str(response.json()["token"])
        TOKENS.append(token)
        return token

    def produce(self, topic: str, value: dict[str, Any]) -> None:
        producer = Producer({"bootstrap.servers": self.kafka})
        producer.produce(topic, value=json.dumps(value).encode())
        assert producer.flush(10) == 0


@pytest.fixture(scope="module")
def edge_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeStack]:
    ports = stack_ports()
    state_dir = tmp_path_factory.mktemp("edge-stack")
    command = stack_command(
        "--quiet", "--state-dir", str(state_dir), *port_flags(ports), "--parameter-overrides", *OVERRIDES
    )
    stack = StackProcess.start(command, ports)
    try:
        stack.wait_for(READY_LINE, STARTUP_SECONDS)
        yield EdgeStack(
            process=stack,
            state_dir=state_dir,
            page=f"http://127.0.0.1:{ports['page']}",
            http_api=f"http://127.0.0.1:{ports['http']}",
            websocket=f"ws://127.0.0.1:{ports['websocket']}/live",
            kafka=f"127.0.0.1:{ports['kafka']}",
        )
    finally:
        stack.kill()


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def offered(*names: str) -> list[Subprotocol]:
    """Subprotocols a client offers, as a browser's new WebSocket(url, names) does."""
    return [Subprotocol(name) for name in names]


def message(socket: ClientConnection) -> dict[str, Any]:
    received: dict[str, Any] = json.loads(socket.recv(timeout=WAIT_S))
    return received


def test_fifty_connections_of_a_user_leave_ten_and_a_notification_reaches_those_ten(edge_stack: EdgeStack) -> None:
    # Given a user who opens 50 connections one after another, half with the token as a subprotocol
    user = unique("tabs")
    token = edge_stack.token(user)
    with ExitStack() as opened:
        sockets = [
            opened.enter_context(
                connect(f"{edge_stack.websocket}?token={token}")
                if index % 2
                else connect(edge_stack.websocket, subprotocols=offered("bearer", token))
            )
            for index in range(50)
        ]

        # Then each of the 40 oldest was told why, then closed
        for socket in sockets[:-CAP]:
            assert message(socket) == {"type": "closed", "reason": "too_many_connections"}
            with pytest.raises(ConnectionClosed):
                socket.recv(timeout=WAIT_S)

        # When a notification of the user's is created
        edge_stack.produce("message-liked", sample_event("message-liked", actor=unique("bob"), recipient=user))

        # Then each of the ten remaining connections gets it
        for socket in sockets[-CAP:]:
            created = message(socket)
            assert created["type"] == "notification.created"
            assert created["notification"]["type"] == "like"


def test_a_token_in_the_subprotocols_connects_and_the_same_token_in_a_bad_one_is_refused(edge_stack: EdgeStack) -> None:
    token = edge_stack.token(unique("alice"))

    # When a client offers the subprotocols bearer and its token, as the page does
    with connect(edge_stack.websocket, subprotocols=offered("bearer", token)) as socket:
        # Then the socket opens with the bearer subprotocol, and answers
        assert socket.subprotocol == "bearer"
        socket.send(json.dumps({"type": "ping"}))
        assert message(socket) == {"type": "pong"}

    # When the same token travels in a subprotocol that does not follow "bearer"
    for subprotocols in (offered(token), offered("Bearer", token), offered(token, "bearer")):
        with pytest.raises(InvalidStatus) as refusal:
            connect(edge_stack.websocket, subprotocols=subprotocols)

        # Then the handshake is refused as one without a token
        assert refusal.value.response.status_code == 401


def test_a_burst_of_writes_over_the_stage_limit_gets_429s_and_no_5xx(edge_stack: EdgeStack) -> None:
    # Given a user's valid token
    headers = {"Authorization": f"Bearer {edge_stack.token(unique('clicker'))}"}

    # When 30 mark-all-read requests arrive at once, six times the write burst limit
    def mark_all_read(_: int) -> requests.Response:
        return requests.post(f"{edge_stack.http_api}/notifications/read-all", headers=headers, timeout=WAIT_S)

    with ThreadPoolExecutor(max_workers=30) as pool:
        answers = list(pool.map(mark_all_read, range(30)))

    # Then some are done and the rest get API Gateway's 429, none a 5xx
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {204, 429}
    assert 204 in statuses
    assert statuses.count(429) >= 30 - WRITE_BURST - 5
    assert {answer.text for answer in answers if answer.status_code == 429} == {TOO_MANY_REQUESTS_BODY}
    # And reads, limited apart, still pass
    assert requests.get(f"{edge_stack.http_api}/notifications", headers=headers, timeout=WAIT_S).status_code == 200


def cors_headers(response: requests.Response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name.lower().startswith("access-control-")}


def test_a_page_of_a_disallowed_origin_gets_no_cors_headers(edge_stack: EdgeStack) -> None:
    headers = {"Authorization": f"Bearer {edge_stack.token(unique('alice'))}"}
    preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}

    # When a page of the allowed origin and one of another origin call the API
    allowed = requests.get(
        f"{edge_stack.http_api}/notifications", headers={**headers, "Origin": ALLOWED_ORIGIN}, timeout=WAIT_S
    )
    other = requests.get(
        f"{edge_stack.http_api}/notifications", headers={**headers, "Origin": "http://evil.test"}, timeout=WAIT_S
    )
    other_preflight = requests.options(
        f"{edge_stack.http_api}/notifications", headers={**preflight, "Origin": "http://evil.test"}, timeout=WAIT_S
    )

    # Then only the allowed origin is told it may read the answer
    assert cors_headers(allowed)["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert cors_headers(other) == {}
    assert cors_headers(other_preflight) == {}


def test_no_token_appears_in_anything_the_stack_wrote(edge_stack: EdgeStack) -> None:
    # Given the tokens of the tests above, used in URLs, subprotocols and Authorization headers
    assert len(TOKENS) >= 4

    # When the stack stops (its logs are complete)
    assert edge_stack.process.interrupt() == 0

    # Then no file it wrote, and none of its output, holds any of them, or a token's signature
    files = [path for path in edge_stack.state_dir.rglob("*") if path.is_file()]
    assert any(path.name.endswith("-access.log") for path in files)
    texts = {str(path): path.read_text(errors="replace") for path in files}
    texts["output"] = "\n".join(edge_stack.process.output)
    for token in TOKENS:
        signature = token.rsplit(".", 1)[1]
        leaks = [name for name, text in texts.items() if token in text or signature in text]
        assert leaks == []
