"""The local HTTP API's edges, as the template sets them: per-route throttling (429), CORS origins, access logs.

The gateway runs in this process with the template's routes, a stand-in for the API function, and
the template's settings resolved with the parameters a deployment would give.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from aiohttp.test_utils import TestClient, TestServer
from inbox_dev.gateway import AccessLog, FunctionInvoker, HttpApi, JwtAuthorizer, TokenBucket
from inbox_dev.template import Throttle, access_log_format, http_routes, http_throttles, resolve, resource
from inbox_dev.tokens import TokenIssuer

ISSUER = "https://issuer.inbox.test"
AUDIENCE = "inbox-app"
WRITE_LIMITS = {"HttpWriteThrottlingBurstLimit": "3", "HttpWriteThrottlingRateLimit": "1"}
# API Gateway's own answer to a throttled request, byte for byte.
TOO_MANY_REQUESTS_BODY = '{"message":"Too Many Requests"}'


@dataclass
class Answering:
    """A stand-in for the API function: 204 to everything, and a count of what reached it."""

    calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def invoke(self, event: dict[str, Any]) -> Any:
        with self._lock:
            self.calls += 1
        return {"statusCode": 204}


@dataclass
class StillClock:
    """Time that stands still unless a test moves it."""

    now: float = 1_000.0

    def __call__(self) -> float:
        return self.now


def local_api(
    values: Mapping[str, str], function: Answering, clock: StillClock, issuer: TokenIssuer, log: Path | None = None
) -> HttpApi:
    authorizer = JwtAuthorizer(issuer=ISSUER, audience=(AUDIENCE,), keys=jwt.PyJWKSet.from_dict(issuer.jwks()))
    log_format = access_log_format("HttpApi")
    assert log_format is not None
    return HttpApi(
        http_routes(),
        FunctionInvoker({"ApiFunction": function}),
        authorizer,
        cors=resolve(resource("HttpApi")["Properties"]["CorsConfiguration"], values),
        throttles=http_throttles(values),
        access_log=AccessLog(log_format, log) if log else None,
        clock=clock,
    )


async def burst(api: HttpApi, requests: list[tuple[str, str]], headers: dict[str, str]) -> list[tuple[int, str]]:
    """All the requests at once; each answer's status and body."""
    async with TestClient(TestServer(api.app(), host="127.0.0.1")) as client:

        async def one(method: str, path: str) -> tuple[int, str]:
            response = await client.request(method, path, headers=headers)
            return response.status, await response.text()

        return await asyncio.gather(*(one(method, path) for method, path in requests))


def test_a_token_bucket_takes_the_burst_at_once_then_the_rate() -> None:
    # Given a bucket of 3 at once and 2 per second, whose clock stands still
    clock = StillClock()
    bucket = TokenBucket(Throttle(burst=3, rate=2), clock)

    # When 5 requests come at once, then 5 more a second later
    first = [bucket.take() for _ in range(5)]
    clock.now += 1
    second = [bucket.take() for _ in range(5)]

    # Then the burst passes, then what a second refilled (never more than the burst)
    assert first == [True, True, True, False, False]
    assert second == [True, True, False, False, False]


def test_every_write_route_has_the_write_limits_and_every_read_route_the_default(tmp_path: Path) -> None:
    # When the template's throttling is read with lower write limits
    throttles = http_throttles(WRITE_LIMITS)

    # Then routes that change data take the write limits, the others the stage's default; opening the
    # inbox, the app's most frequent call, is read first and written only when something was unseen
    writes = {key for key in throttles if key.split()[0] in {"POST", "PUT", "DELETE", "PATCH"}}
    writes -= {"POST /notifications/open"}
    assert writes
    assert {throttles[key] for key in writes} == {Throttle(burst=3, rate=1.0)}
    assert {throttles[key] for key in set(throttles) - writes} == {Throttle(burst=500, rate=1000.0)}
    assert set(throttles) == {route.route_key for route in http_routes()}


def test_a_burst_over_a_routes_limit_gets_api_gateways_429_and_never_a_5xx(tmp_path: Path) -> None:
    # Given the local API with a write burst limit of 3, its clock standing still, and a valid token
    issuer, function, clock = TokenIssuer(issuer=ISSUER, audience=AUDIENCE), Answering(), StillClock()
    api = local_api(WRITE_LIMITS, function, clock, issuer)
    headers = {"Authorization": f"Bearer {issuer.mint('alice')}"}

    # When 20 mark-all-read requests and 20 unread counts arrive at once
    requests = [("POST", "/notifications/read-all")] * 20 + [("GET", "/notifications/unread-count")] * 20
    answers = asyncio.run(burst(api, requests, headers))

    # Then 3 writes reach the function and 17 get API Gateway's 429; the reads, in a bucket of their own, all pass
    writes, reads = answers[:20], answers[20:]
    assert sorted(status for status, _ in writes) == [204] * 3 + [429] * 17
    assert {body for status, body in writes if status == 429} == {TOO_MANY_REQUESTS_BODY}
    assert [status for status, _ in reads] == [204] * 20
    assert function.calls == 23
    assert all(status < 500 for status, _ in answers)


def test_a_throttled_route_takes_requests_again_as_its_bucket_refills(tmp_path: Path) -> None:
    # Given a write route whose 3 requests at once are spent
    issuer, function, clock = TokenIssuer(issuer=ISSUER, audience=AUDIENCE), Answering(), StillClock()
    api = local_api(WRITE_LIMITS, function, clock, issuer)
    headers = {"Authorization": f"Bearer {issuer.mint('alice')}"}

    async def scenario() -> tuple[list[int], list[int]]:
        async with TestClient(TestServer(api.app(), host="127.0.0.1")) as client:
            spent = [(await client.post("/notifications/read-all", headers=headers)).status for _ in range(4)]
            # When two seconds pass at a rate of one per second
            clock.now += 2
            later = [(await client.post("/notifications/read-all", headers=headers)).status for _ in range(3)]
            return spent, later

    spent, later = asyncio.run(scenario())

    # Then two more pass, and the next is throttled again
    assert spent == [204, 204, 204, 429]
    assert later == [204, 204, 429]


def test_a_request_without_a_token_counts_against_the_routes_limit_too(tmp_path: Path) -> None:
    # Given a write route whose burst is spent by a valid user
    issuer, function, clock = TokenIssuer(issuer=ISSUER, audience=AUDIENCE), Answering(), StillClock()
    api = local_api(WRITE_LIMITS, function, clock, issuer)
    valid = {"Authorization": f"Bearer {issuer.mint('alice')}"}

    async def scenario() -> int:
        async with TestClient(TestServer(api.app(), host="127.0.0.1")) as client:
            for _ in range(3):
                await client.post("/notifications/read-all", headers=valid)
            # When a request without a token comes next
            return (await client.post("/notifications/read-all")).status

    # Then it is throttled: the local gateway counts every request against the route, token or not
    assert asyncio.run(scenario()) == 429


def cors_answers(values: Mapping[str, str], origin: str) -> tuple[dict[str, str], dict[str, str]]:
    """The CORS headers of a preflight and of a GET from a page of ``origin``."""
    issuer, function, clock = TokenIssuer(issuer=ISSUER, audience=AUDIENCE), Answering(), StillClock()
    api = local_api(values, function, clock, issuer)

    async def scenario() -> tuple[dict[str, str], dict[str, str]]:
        async with TestClient(TestServer(api.app(), host="127.0.0.1")) as client:
            preflight = await client.options(
                "/notifications",
                headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
            )
            get = await client.get(
                "/notifications", headers={"Origin": origin, "Authorization": f"Bearer {issuer.mint('alice')}"}
            )

            def cors(headers: Mapping[str, str]) -> dict[str, str]:
                return {name: value for name, value in headers.items() if name.lower().startswith("access-control-")}

            return cors(preflight.headers), cors(get.headers)

    return asyncio.run(scenario())


def test_a_page_of_an_allowed_origin_gets_cors_headers() -> None:
    # When the API allows one origin and a page of it calls
    preflight, get = cors_answers({"AllowedOrigins": "https://app.example.com"}, "https://app.example.com")

    # Then the browser is told that origin may read the answers
    assert preflight["Access-Control-Allow-Origin"] == get["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "POST" in preflight["Access-Control-Allow-Methods"]


def test_a_page_of_a_disallowed_origin_gets_no_cors_headers() -> None:
    # When the API allows two origins and a page of a third calls
    values = {"AllowedOrigins": "https://app.example.com,https://admin.example.com"}
    preflight, get = cors_answers(values, "https://evil.example.net")

    # Then neither the preflight nor the answer carries a CORS header: the browser keeps the answer from the page
    assert preflight == {}
    assert get == {}


def test_by_default_a_page_of_any_origin_may_call_as_in_dev() -> None:
    preflight, get = cors_answers({}, "http://127.0.0.1:8080")
    assert preflight["Access-Control-Allow-Origin"] == get["Access-Control-Allow-Origin"] == "*"


def test_the_access_log_has_a_json_line_per_request_and_no_token(tmp_path: Path) -> None:
    # Given the local API writing the template's access log format
    issuer, function, clock = TokenIssuer(issuer=ISSUER, audience=AUDIENCE), Answering(), StillClock()
    log = tmp_path / "HttpApi-access.log"
    api = local_api(WRITE_LIMITS, function, clock, issuer, log)
    token = issuer.mint("alice")

    # When a request with a token in its header and in its query, one without a token and a throttled burst come
    async def scenario() -> None:
        async with TestClient(TestServer(api.app(), host="127.0.0.1")) as client:
            await client.get(f"/notifications?limit=5&token={token}", headers={"Authorization": f"Bearer {token}"})
            await client.get("/notifications")
            for _ in range(4):
                await client.post("/notifications/read-all", headers={"Authorization": f"Bearer {token}"})

    asyncio.run(scenario())

    # Then each request has a JSON line with its route and status, and the token is in none
    text = log.read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    assert [(line["routeKey"], line["status"]) for line in lines] == [
        ("GET /notifications", "204"),
        ("GET /notifications", "401"),
        *[("POST /notifications/read-all", "204")] * 3,
        ("POST /notifications/read-all", "429"),
    ]
    assert lines[0]["user"] == "alice"
    assert lines[-1]["error"] == "Too Many Requests"
    assert token not in text
    assert token.split(".")[2] not in text
