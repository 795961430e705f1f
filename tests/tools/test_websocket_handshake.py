"""The local WebSocket API's handshake as API Gateway's: the subprotocol $connect names, 401 and 403, access logs.

The gateway runs in this process with the template's routes and stand-ins for their functions.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from inbox.sockets.handshake import connect_answer, offered_token
from inbox_dev.gateway import AccessLog, FunctionInvoker, WebSocketApi
from inbox_dev.processes import free_port
from inbox_dev.runtime import FunctionError
from inbox_dev.template import access_log_format, websocket_routes

STAGE = "live"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLW9mLWFsaWNl"
WAIT_S = 30


@dataclass
class StandIn:
    answer: Callable[[dict[str, Any]], Any]
    events: list[dict[str, Any]] = field(default_factory=list)

    def invoke(self, event: dict[str, Any]) -> Any:
        self.events.append(event)
        return self.answer(event)


def authorizer(event: dict[str, Any]) -> dict[str, Any]:
    """Like the template's: no token is 'Unauthorized', a token other than TOKEN is denied, TOKEN is alice."""
    token = offered_token(event["headers"], event["queryStringParameters"])
    if not token:
        raise FunctionError("WsAuthorizerFunction: Exception: Unauthorized")
    effect = "Allow" if token == TOKEN else "Deny"
    statement = {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}
    return {"principalId": "alice", "policyDocument": {"Version": "2012-10-17", "Statement": [statement]}}


def connect(event: dict[str, Any]) -> dict[str, Any]:
    """Like the template's: names the bearer subprotocol back when the client offered it."""
    return connect_answer(event["headers"])


@asynccontextmanager
async def gateway(log: Path) -> AsyncIterator[str]:
    log_format = access_log_format("WebSocketStage")
    assert log_format is not None
    functions = {
        "WsAuthorizerFunction": StandIn(authorizer),
        "WsConnectFunction": StandIn(connect),
        "WsDisconnectFunction": StandIn(lambda event: {"statusCode": 200}),
        "WsMessageFunction": StandIn(lambda event: {"statusCode": 200, "body": json.dumps({"type": "pong"})}),
    }
    invoker = FunctionInvoker(functions)
    api = WebSocketApi(websocket_routes(), invoker, STAGE, access_log=AccessLog(log_format, log))
    runner = web.AppRunner(api.app())
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"ws://127.0.0.1:{port}/{STAGE}"
    finally:
        await runner.cleanup()
        invoker.close()


async def handshake(url: str, protocols: tuple[str, ...] = ()) -> tuple[int, str | None]:
    """The handshake's status and the subprotocol it chose (101 and the socket's protocol if it opened)."""
    async with aiohttp.ClientSession() as session:
        try:
            timeout = aiohttp.ClientWSTimeout(ws_close=WAIT_S)
            async with session.ws_connect(url, protocols=protocols, timeout=timeout) as socket:
                await socket.send_str(json.dumps({"type": "ping"}))
                await socket.receive(timeout=WAIT_S)
                return 101, socket.protocol
        except aiohttp.WSServerHandshakeError as refusal:
            return refusal.status, None


async def logged(log: Path, text: str, count: int) -> None:
    """Wait until ``text`` is in ``count`` lines of the log."""
    for _ in range(WAIT_S * 20):
        if log.exists() and log.read_text().count(text) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{text} did not reach {count} lines of {log}")


def test_a_token_in_the_subprotocols_opens_the_socket_with_the_bearer_subprotocol(tmp_path: Path) -> None:
    async def scenario() -> tuple[int, str | None]:
        async with gateway(tmp_path / "access.log") as url:
            # When a client offers the subprotocols bearer and its token, as a browser does
            return await handshake(url, ("bearer", TOKEN))

    # Then the socket opens, and the handshake's answer names the subprotocol $connect chose
    assert asyncio.run(scenario()) == (101, "bearer")


def test_a_token_in_the_query_still_opens_the_socket_without_a_subprotocol(tmp_path: Path) -> None:
    async def scenario() -> tuple[int, str | None]:
        async with gateway(tmp_path / "access.log") as url:
            return await handshake(f"{url}?token={TOKEN}")

    assert asyncio.run(scenario()) == (101, None)


def test_no_token_is_refused_with_401_and_a_bad_one_with_403(tmp_path: Path) -> None:
    async def scenario() -> list[tuple[int, str | None]]:
        async with gateway(tmp_path / "access.log") as url:
            return [
                # When a client comes without a token, with the token in a bad subprotocol, with a bad token
                await handshake(url),
                await handshake(url, (TOKEN,)),
                await handshake(url, ("bearer", "not-the-token")),
            ]

    # Then the authorizer's failure is API Gateway's 401, and its Deny a 403
    assert asyncio.run(scenario()) == [(401, None), (401, None), (403, None)]


def test_the_access_log_records_each_event_of_a_connection_and_never_its_token(tmp_path: Path) -> None:
    log = tmp_path / "access.log"

    async def scenario() -> None:
        async with gateway(log) as url:
            # When clients connect with the token as a subprotocol and in the query, and one is refused
            await handshake(url, ("bearer", TOKEN))
            await handshake(f"{url}?token={TOKEN}")
            await handshake(url, ("bearer", "not-the-token"))
            # (a disconnect is logged once the gateway has run its function)
            await logged(log, '"DISCONNECT"', 2)

    asyncio.run(scenario())

    # Then each connect, message and disconnect has a JSON line, and the token is in none
    text = log.read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    events = [(line["eventType"], line["status"]) for line in lines]
    assert events.count(("CONNECT", "200")) == 2
    assert events.count(("MESSAGE", "200")) == 2
    assert events.count(("DISCONNECT", "200")) == 2
    assert ("CONNECT", "403") in events
    assert {line["user"] for line in lines if line["status"] == "200"} == {"alice"}
    assert TOKEN not in text
    assert TOKEN.split(".")[2] not in text
