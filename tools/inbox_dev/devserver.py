"""The developer's side of the local stack: the inbox page, tokens, sample events, pushes, emails, dead letters.

It also plays the token issuer: the JWKS the functions and the local gateway trust is served here.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from confluent_kafka import Producer
from inbox.models import UserId
from pydantic import TypeAdapter, ValidationError

from inbox_dev.dead_letters import DeadLetters
from inbox_dev.samples import sample_event
from inbox_dev.tokens import TokenIssuer

PAGE_DIR = Path(__file__).parent / "page"
DEMO_USERS = ("alice", "bob", "carol", "dave")
_USER_ID = TypeAdapter(UserId)


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


@dataclass
class DevServer:
    issuer: TokenIssuer
    http_api_url: str
    websocket_url: str
    topics: Sequence[str]
    producer: Producer
    pushes: Callable[[], list[dict[str, Any]]]
    dead_letters: DeadLetters
    emails: Callable[[], list[dict[str, Any]]]
    digests: Callable[[dict[str, Any]], Any]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self._asset("index.html"))
        app.router.add_get("/app.js", self._asset("app.js"))
        app.router.add_get("/style.css", self._asset("style.css"))
        app.router.add_get("/.well-known/jwks.json", self._jwks)
        app.router.add_get("/dev/config", self._config)
        app.router.add_post("/dev/token", self._token)
        app.router.add_post("/dev/events", self._fire)
        app.router.add_get("/dev/pushes", self._pushes)
        app.router.add_get("/dev/dead-letters", self._dead_letters)
        app.router.add_get("/dev/emails", self._emails)
        app.router.add_post("/dev/digests", self._run_digests)
        return app

    def _asset(self, name: str) -> Callable[[web.Request], Any]:
        async def serve(request: web.Request) -> web.FileResponse:
            return web.FileResponse(PAGE_DIR / name)

        return serve

    async def _jwks(self, request: web.Request) -> web.Response:
        return web.json_response(self.issuer.jwks())

    async def _config(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "httpApiUrl": self.http_api_url,
                "webSocketUrl": self.websocket_url,
                "topics": list(self.topics),
                "users": list(DEMO_USERS),
            }
        )

    async def _body(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            raise web.HTTPBadRequest() from None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest()
        return body

    @staticmethod
    def _user(value: Any, field: str) -> str:
        try:
            return _USER_ID.validate_python(value)
        except ValidationError:
            raise ValueError(f"{field} must be a user id (1 to 128 characters)") from None

    async def _token(self, request: web.Request) -> web.Response:
        try:
            user = self._user((await self._body(request)).get("user"), "user")
        except (ValueError, web.HTTPBadRequest) as error:
            return _error(400, "invalid_input", str(error) or 'send {"user": "alice"}')
        # A verified address, as an identity provider puts it in the token: digests go there.
        token = self.issuer.mint(user, lifetime=12 * 3600, email=f"{user}@example.com", email_verified=True)
        return web.json_response({"token": token})

    async def _fire(self, request: web.Request) -> web.Response:
        try:
            body = await self._body(request)
            topic = str(body.get("topic", ""))
            actor = self._user(body.get("actor"), "actor")
            recipient = self._user(body.get("recipient"), "recipient")
            value = sample_event(topic, actor=actor, recipient=recipient, resource_id=body.get("resourceId"))
        except (ValueError, web.HTTPBadRequest) as error:
            return _error(400, "invalid_input", str(error) or 'send {"topic", "actor", "recipient"}')
        await asyncio.get_running_loop().run_in_executor(None, self._produce, topic, recipient, value)
        return web.json_response({"topic": topic, "value": value}, status=202)

    def _produce(self, topic: str, key: str, value: dict[str, Any]) -> None:
        self.producer.produce(topic, key=key.encode(), value=json.dumps(value).encode())
        self.producer.flush(10)

    async def _pushes(self, request: web.Request) -> web.Response:
        return web.json_response({"items": self.pushes()})

    async def _dead_letters(self, request: web.Request) -> web.Response:
        items = self.dead_letters.items()
        return web.json_response({"items": items}, dumps=lambda value: json.dumps(value, default=str))

    async def _emails(self, request: web.Request) -> web.Response:
        return web.json_response({"items": self.emails()})

    async def _run_digests(self, request: web.Request) -> web.Response:
        """``{"users": [...]}`` sends those users' digests now; ``{}`` runs this hour's, as the schedule does."""
        try:
            body = await self._body(request)
            users = body.get("users")
            if users is not None and not isinstance(users, list):
                raise ValueError("users must be a list of user ids")
            request_body = {} if users is None else {"userIds": [self._user(user, "users") for user in users]}
        except (ValueError, web.HTTPBadRequest) as error:
            return _error(400, "invalid_input", str(error) or 'send {"users": ["alice"]} or {}')
        result = await asyncio.get_running_loop().run_in_executor(None, self.digests, request_body)
        return web.json_response(result)
