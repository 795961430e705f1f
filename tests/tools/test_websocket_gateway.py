"""The local WebSocket API hands what the $connect authorizer returned to $disconnect, as API Gateway does.

Without it the disconnect function cannot tell whose connection ended ("disconnect without a user"),
whether the client closed the socket or the local stack stopped with the socket still open.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from inbox_dev.gateway import FunctionInvoker, WebSocketApi
from inbox_dev.processes import free_port
from inbox_dev.template import WebSocketRoute

STAGE = "live"
# The template's routes, with stand-ins for its functions.
ROUTES = [
    WebSocketRoute("$connect", "Connect", "Authorizer", ("route.request.querystring.token",)),
    WebSocketRoute("$disconnect", "Disconnect", None),
]
WAIT_S = 30


@dataclass
class RecordingFunction:
    """A function that answers with ``answer(event)`` and keeps every event it was given."""

    answer: Callable[[dict[str, Any]], Any]
    events: list[dict[str, Any]] = field(default_factory=list)
    invoked: threading.Event = field(default_factory=threading.Event)

    def invoke(self, event: dict[str, Any]) -> Any:
        self.events.append(event)
        self.invoked.set()
        return self.answer(event)


def allow_alice(event: dict[str, Any]) -> dict[str, Any]:
    """A REQUEST authorizer that lets the connection in as alice, with her id in its context."""
    statement = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}
    return {
        "principalId": "alice",
        "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
        "context": {"userId": "alice"},
    }


@dataclass
class Gateway:
    url: str
    connect: RecordingFunction
    disconnect: RecordingFunction
    runner: web.AppRunner


@asynccontextmanager
async def websocket_gateway() -> AsyncIterator[Gateway]:
    connect = RecordingFunction(lambda event: {"statusCode": 200})
    disconnect = RecordingFunction(lambda event: {"statusCode": 200})
    authorizer = RecordingFunction(allow_alice)
    invoker = FunctionInvoker({"Authorizer": authorizer, "Connect": connect, "Disconnect": disconnect})
    runner = web.AppRunner(WebSocketApi(ROUTES, invoker, STAGE).app())
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield Gateway(f"ws://127.0.0.1:{port}/{STAGE}?token=t", connect, disconnect, runner)
    finally:
        await runner.cleanup()
        invoker.close()


async def invoked(function: RecordingFunction) -> bool:
    return await asyncio.to_thread(function.invoked.wait, WAIT_S)


def test_disconnect_gets_the_connect_authorizers_context_when_the_client_closes() -> None:
    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        async with websocket_gateway() as gateway, aiohttp.ClientSession() as session:
            # Given a connection the authorizer let in as alice
            async with session.ws_connect(gateway.url):
                assert await invoked(gateway.connect)

            # When the client closes it
            # Then $disconnect runs with the authorizer's context of $connect
            assert await invoked(gateway.disconnect)
            return gateway.connect.events[0], gateway.disconnect.events[0]

    connect, disconnect = asyncio.run(scenario())
    assert disconnect["requestContext"]["eventType"] == "DISCONNECT"
    assert disconnect["requestContext"]["authorizer"] == connect["requestContext"]["authorizer"]
    assert disconnect["requestContext"]["authorizer"]["principalId"] == "alice"
    assert disconnect["requestContext"]["authorizer"]["userId"] == "alice"


def test_disconnect_gets_the_connect_authorizers_context_when_the_gateway_stops() -> None:
    async def scenario() -> dict[str, Any]:
        async with websocket_gateway() as gateway, aiohttp.ClientSession() as session:
            # Given a connection the authorizer let in as alice
            async with session.ws_connect(gateway.url) as socket:
                assert await invoked(gateway.connect)

                # When the gateway stops with the connection open, as on Ctrl-C of `make dev`
                await gateway.runner.cleanup()

                # Then the client is told the server is going away, and $disconnect runs as alice's
                closing = await socket.receive(timeout=WAIT_S)
                assert (closing.type, closing.data) == (aiohttp.WSMsgType.CLOSE, aiohttp.WSCloseCode.GOING_AWAY)
                assert await invoked(gateway.disconnect)
            return gateway.disconnect.events[0]

    disconnect = asyncio.run(scenario())
    assert disconnect["requestContext"]["authorizer"]["principalId"] == "alice"
