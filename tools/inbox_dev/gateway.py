"""A local API Gateway, driven by template.yaml: the HTTP API and the WebSocket API.

The HTTP API routes each request of the template's HttpApi events to its function as a payload
v2 event, after a JWT authorizer that checks tokens the way API Gateway does (RS256 against the
issuer's keys, issuer, audience, expiry; claims into ``requestContext.authorizer.jwt.claims``).
The WebSocket API runs $connect through the route's REQUEST authorizer and integration,
$disconnect when a socket closes, and serves the Management API (``/@connections/{id}``) that
the fanout function posts to. Functions cannot tell these events from API Gateway's.

Both APIs write access logs in the template's formats, and the HTTP API throttles each route as
its stage does (429 with API Gateway's body), so a client's handling of 429 can be tried here.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fnmatch
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import jwt
from aiohttp import WSCloseCode, WSMsgType, web

from inbox_dev.runtime import ACCOUNT_ID, REGION, FunctionError
from inbox_dev.template import HttpRoute, Throttle, WebSocketRoute

# API Gateway's limits: a WebSocket frame or Management API message is at most 128 KB.
MAX_WEBSOCKET_MESSAGE_BYTES = 128 * 1024
# An HTTP API takes at most 10 KB of request line and headers: a longer Authorization header never
# reaches API Gateway's JWT authorizer.
MAX_AUTHORIZATION_HEADER_CHARS = 10 * 1024
HTTP_API_ID = "local-http"
WEBSOCKET_API_ID = "local-ws"


def _request_time(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def _request_id() -> str:
    return base64.b64encode(secrets.token_bytes(12)).decode()


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response(body, status=status, headers=headers)


# -- throttling and access logs ----------------------------------------------------------------

# API Gateway's own answer to a throttled request, byte for byte.
TOO_MANY_REQUESTS = {"message": "Too Many Requests"}
TOO_MANY_REQUESTS_BODY = json.dumps(TOO_MANY_REQUESTS, separators=(",", ":"))
# API Gateway answers 401 (not 500) when a Lambda authorizer fails with exactly this message.
UNAUTHORIZED_ERROR = "Unauthorized"
SUBPROTOCOL_HEADER = "sec-websocket-protocol"
_CONTEXT_VARIABLE = re.compile(r"\$context\.([A-Za-z0-9_.]+)")


class TokenBucket:
    """API Gateway's throttling of one route: ``burst`` requests at once, refilled at ``rate`` per second."""

    def __init__(self, throttle: Throttle, clock: Callable[[], float] = time.monotonic) -> None:
        self._throttle = throttle
        self._clock = clock
        self._tokens = float(throttle.burst)
        self._at = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self._throttle.burst), self._tokens + (now - self._at) * self._throttle.rate)
            self._at = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True


@dataclass
class AccessLog:
    """An API's access log: one line per request in the template's format, written to a file.

    ``$context`` variables the local gateway does not know are written as API Gateway writes a
    missing value, "-".
    """

    format: str
    path: Path
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def write(self, variables: Mapping[str, Any]) -> None:
        def value(match: re.Match[str]) -> str:
            found = variables.get(match.group(1))
            return "-" if found is None or found == "" else str(found).replace('"', '\\"')

        line = _CONTEXT_VARIABLE.sub(value, self.format)
        with self._lock, self.path.open("a") as log:
            log.write(line + "\n")


@dataclass
class _Logged:
    """What a request's access log line says beyond the request itself, filled in as it is handled."""

    route_key: str | None = None
    request_id: str | None = None
    user: str | None = None
    error_message: str | None = None
    integration_error: str | None = None


_LOGGED = web.RequestKey("access_log", _Logged)


def _logged(request: web.Request) -> _Logged:
    if _LOGGED not in request:
        request[_LOGGED] = _Logged()
    return request[_LOGGED]


class Invocable(Protocol):
    """A function the gateway can invoke: a worker process of the stack, or a handler in this process."""

    def invoke(self, event: dict[str, Any]) -> Any: ...


class FunctionInvoker:
    """Runs blocking function invocations off the event loop."""

    def __init__(self, functions: Mapping[str, Invocable], threads: int = 16) -> None:
        self._functions = functions
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="gateway")

    async def invoke(self, name: str, event: dict[str, Any]) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._functions[name].invoke, event)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


# -- HTTP API ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class JwtAuthorizer:
    """API Gateway's JWT authorizer: ``Authorization: Bearer <token>``, checked against the issuer."""

    issuer: str
    audience: tuple[str, ...]
    keys: jwt.PyJWKSet

    def claims(self, header: str | None) -> dict[str, Any] | None:
        if header is not None and len(header) > MAX_AUTHORIZATION_HEADER_CHARS:
            return None
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            key = self.keys[jwt.get_unverified_header(token).get("kid", "")]
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=list(self.audience),
                issuer=self.issuer,
                options={"require": ["exp", "iss"]},
            )
        except (jwt.PyJWTError, KeyError, ValueError):
            return None
        return claims


@dataclass
class HttpApi:
    routes: list[HttpRoute]
    functions: FunctionInvoker
    authorizer: JwtAuthorizer
    cors: Mapping[str, Any] = field(default_factory=dict)
    # By route key, as template.http_throttles reads them; a route without one is not throttled.
    throttles: Mapping[str, Throttle] = field(default_factory=dict)
    access_log: AccessLog | None = None
    # The buckets' time; a test may hold it still, so that a burst's count does not depend on its speed.
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, TokenBucket] = field(init=False, default_factory=dict)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        # Literal paths first, so that /notifications/read-all is not taken for /notifications/{id}.
        for route in sorted(self.routes, key=lambda route: route.path.count("{")):
            app.router.add_route(route.method, route.path, self._handler(route))
        app.router.add_route("OPTIONS", "/{tail:.*}", self._preflight)
        self._buckets = {key: TokenBucket(throttle, self.clock) for key, throttle in self.throttles.items()}
        app.middlewares.append(self._access_logging)
        app.middlewares.append(self._api_gateway_errors)
        return app

    @web.middleware
    async def _access_logging(self, request: web.Request, handler: Any) -> web.StreamResponse:
        started = time.time()
        logged = _logged(request)
        response: web.StreamResponse = await handler(request)
        if self.access_log is not None:
            self.access_log.write(
                {
                    "requestId": logged.request_id or _request_id(),
                    "requestTime": _request_time(started),
                    "identity.sourceIp": request.remote,
                    "httpMethod": request.method,
                    "routeKey": logged.route_key,
                    "status": response.status,
                    "protocol": f"HTTP/{request.version.major}.{request.version.minor}",
                    "responseLength": response.content_length,
                    "responseLatency": int((time.time() - started) * 1000),
                    "authorizer.claims.sub": logged.user,
                    "error.message": logged.error_message,
                    "integrationErrorMessage": logged.integration_error,
                }
            )
        return response

    def _admit(self, request: web.Request, route: HttpRoute) -> bool:
        """Whether the route's bucket has room for this request.

        Checked before the token: AWS does not document the order for an HTTP API's JWT authorizer, and
        this way a flood of requests without a valid token is throttled too.
        """
        bucket = self._buckets.get(route.route_key)
        if bucket is None or bucket.take():
            return True
        _logged(request).error_message = TOO_MANY_REQUESTS["message"]
        return False

    def _cors_headers(self, request: web.Request) -> dict[str, str]:
        origins = self.cors.get("AllowOrigins", [])
        origin = request.headers.get("Origin")
        if not origin or not ("*" in origins or origin in origins):
            return {}
        return {"Access-Control-Allow-Origin": "*" if "*" in origins else origin, "Vary": "Origin"}

    async def _preflight(self, request: web.Request) -> web.Response:
        headers = self._cors_headers(request)
        if headers:
            headers["Access-Control-Allow-Methods"] = ",".join(self.cors.get("AllowMethods", []))
            headers["Access-Control-Allow-Headers"] = ",".join(self.cors.get("AllowHeaders", []))
        return web.Response(status=204, headers=headers)

    @web.middleware
    async def _api_gateway_errors(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handler(request)
        except web.HTTPNotFound:
            response = _json(404, {"message": "Not Found"})
        except web.HTTPMethodNotAllowed:
            response = _json(404, {"message": "Not Found"})
        response.headers.update(self._cors_headers(request))
        return response

    def _handler(self, route: HttpRoute) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.Response:
            logged = _logged(request)
            logged.route_key = route.route_key
            if not self._admit(request, route):
                return web.Response(status=429, text=TOO_MANY_REQUESTS_BODY, content_type="application/json")
            claims = None
            if route.authorized:
                claims = self.authorizer.claims(request.headers.get("Authorization"))
                if claims is None:
                    logged.error_message = "Unauthorized"
                    return _json(401, {"message": "Unauthorized"}, {"www-authenticate": 'Bearer error="invalid_token"'})
                logged.user = claims.get("sub")
            event = await self._event(request, route, claims)
            logged.request_id = event["requestContext"]["requestId"]
            try:
                result = await self.functions.invoke(route.function, event)
            except FunctionError:
                logged.error_message = "Internal Server Error"
                logged.integration_error = "The function failed"
                return _json(500, {"message": "Internal Server Error"})
            return _proxy_response(result)

        return handle

    async def _event(self, request: web.Request, route: HttpRoute, claims: dict[str, Any] | None) -> dict[str, Any]:
        now = time.time()
        body = await request.read()
        # A text body that is not UTF-8 is passed on as binary (base64), as API Gateway does.
        text_body = not body or (request.content_type.startswith(("text/", "application/json")) and _is_utf8(body))
        headers: dict[str, str] = {}
        for name, value in request.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]},{value}" if key in headers else value
        query: dict[str, str] = {}
        for name, value in request.query.items():
            query[name] = f"{query[name]},{value}" if name in query else value
        context: dict[str, Any] = {
            "accountId": ACCOUNT_ID,
            "apiId": HTTP_API_ID,
            "domainName": request.host,
            "domainPrefix": HTTP_API_ID,
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": f"HTTP/{request.version.major}.{request.version.minor}",
                "sourceIp": request.remote or "127.0.0.1",
                "userAgent": request.headers.get("User-Agent", ""),
            },
            "requestId": _request_id(),
            "routeKey": route.route_key,
            "stage": "$default",
            "time": _request_time(now),
            "timeEpoch": int(now * 1000),
        }
        if claims is not None:
            # API Gateway hands every claim over as a string.
            context["authorizer"] = {
                "jwt": {"claims": {name: _claim_text(value) for name, value in claims.items()}, "scopes": None}
            }
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route.route_key,
            "rawPath": request.path,
            "rawQueryString": request.query_string,
            "headers": headers,
            "requestContext": context,
            "isBase64Encoded": not text_body,
        }
        if request.cookies:
            event["cookies"] = [f"{name}={value}" for name, value in request.cookies.items()]
        if query:
            event["queryStringParameters"] = query
        if request.match_info:
            event["pathParameters"] = dict(request.match_info)
        if body:
            event["body"] = body.decode() if text_body else base64.b64encode(body).decode()
        return event


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


def _claim_text(value: Any) -> str:
    if isinstance(value, list):
        return "[" + " ".join(str(item) for item in value) + "]"
    return str(value)


def _proxy_response(result: Any) -> web.Response:
    """A Lambda result as API Gateway's payload v2 turns it into an HTTP response."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return _json(200, result)
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    response = web.Response(status=int(result["statusCode"]), body=data, headers=result.get("headers") or {})
    for cookie in result.get("cookies") or []:
        response.headers.add("Set-Cookie", cookie)
    return response


# -- WebSocket API ----------------------------------------------------------------------------


@dataclass
class _Connection:
    socket: web.WebSocketResponse
    connected_at: float
    source_ip: str
    user_agent: str
    last_active_at: float


@dataclass
class WebSocketApi:
    routes: list[WebSocketRoute]
    functions: FunctionInvoker
    stage: str
    connections: dict[str, _Connection] = field(default_factory=dict)
    access_log: AccessLog | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(f"/{self.stage}", self._connect)
        management = f"/{self.stage}/@connections/{{connection_id}}"
        app.router.add_post(management, self._post_to_connection)
        app.router.add_get(management, self._get_connection)
        app.router.add_delete(management, self._delete_connection)
        app.on_shutdown.append(self._close_connections)
        return app

    async def _close_connections(self, app: web.Application) -> None:
        """The gateway is stopping: each open connection ends, and gets its $disconnect, before the functions stop."""
        sockets = [connection.socket for connection in self.connections.values()]
        await asyncio.gather(*(socket.close(code=WSCloseCode.GOING_AWAY) for socket in sockets))

    def _route(self, key: str) -> WebSocketRoute | None:
        return next((route for route in self.routes if route.route_key == key), None)

    def _request_context(
        self, request: web.Request, connection_id: str, route_key: str, event_type: str, connected_at: float
    ) -> dict[str, Any]:
        now = time.time()
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": _request_id(),
            "requestTime": _request_time(now),
            "messageDirection": "IN",
            "stage": self.stage,
            "connectedAt": int(connected_at * 1000),
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": request.remote or "127.0.0.1", "userAgent": request.headers.get("User-Agent", "")},
            "requestId": _request_id(),
            "domainName": request.host,
            "connectionId": connection_id,
            "apiId": WEBSOCKET_API_ID,
        }

    async def _connect(self, request: web.Request) -> web.StreamResponse:
        connection_id = base64.b64encode(secrets.token_bytes(12)).decode()
        connected_at = time.time()
        headers = dict(request.headers)
        query = dict(request.query)
        context = self._request_context(request, connection_id, "$connect", "CONNECT", connected_at)
        route = self._route("$connect")
        # The subprotocol $connect names back (Sec-WebSocket-Protocol), which the handshake's answer carries.
        subprotocols: tuple[str, ...] = ()
        if route is not None:
            refusal, authorizer_context = await self._authorize(route, headers, query, context)
            if refusal is not None:
                self._log_access(context, refusal.status, error=refusal.text)
                return refusal
            if authorizer_context is not None:
                context["authorizer"] = authorizer_context
            event: dict[str, Any] = {
                "headers": headers,
                "queryStringParameters": query or None,
                "requestContext": context,
                "isBase64Encoded": False,
            }
            try:
                result = await self.functions.invoke(route.function, event)
            except FunctionError:
                self._log_access(context, 500, error="Internal server error")
                return _json(500, {"message": "Internal server error"})
            status = int(result.get("statusCode", 200)) if isinstance(result, dict) else 200
            if status >= 300:
                self._log_access(context, status)
                return web.Response(status=status, text=str(result.get("body", "")))
            subprotocols = _named_subprotocols(result)
        self._log_access(context, 200)
        socket = web.WebSocketResponse(max_msg_size=MAX_WEBSOCKET_MESSAGE_BYTES, protocols=subprotocols)
        await socket.prepare(request)
        connection = _Connection(
            socket, connected_at, request.remote or "127.0.0.1", request.headers.get("User-Agent", ""), connected_at
        )
        self.connections[connection_id] = connection
        try:
            async for message in socket:
                connection.last_active_at = time.time()
                if message.type == WSMsgType.TEXT:
                    await self._message(request, socket, connection_id, connected_at, context, message.data)
                elif message.type == WSMsgType.BINARY:
                    # API Gateway takes text frames only: a binary frame ends the connection with 1003.
                    await socket.close(code=WSCloseCode.UNSUPPORTED_DATA, message=b"binary frames are not supported")
        finally:
            self.connections.pop(connection_id, None)
            await self._disconnect(request, connection_id, connected_at, context, socket.close_code)
        return socket

    async def _authorize(
        self, route: WebSocketRoute, headers: dict[str, str], query: dict[str, str], context: dict[str, Any]
    ) -> tuple[web.Response | None, dict[str, Any] | None]:
        if route.authorizer_function is None:
            return None, None
        # A missing identity source is refused by API Gateway itself, before any authorizer runs.
        for source in route.identity_source:
            kind, _, name = source.removeprefix("route.request.").partition(".")
            if kind == "querystring":
                present = bool(query.get(name))
            else:
                present = any(key.lower() == name.lower() and value for key, value in headers.items())
            if not present:
                return web.Response(status=401, text="Unauthorized"), None
        method_arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{WEBSOCKET_API_ID}/{self.stage}/$connect"
        event = {
            "type": "REQUEST",
            "methodArn": method_arn,
            "headers": headers,
            "multiValueHeaders": {name: [value] for name, value in headers.items()},
            "queryStringParameters": query,
            "multiValueQueryStringParameters": {name: [value] for name, value in query.items()},
            "stageVariables": {},
            "requestContext": context,
        }
        try:
            policy = await self.functions.invoke(route.authorizer_function, event)
        except FunctionError as error:
            if str(error).rsplit(": ", 1)[-1] == UNAUTHORIZED_ERROR:
                return web.Response(status=401, text="Unauthorized"), None
            return _json(500, {"message": "Internal server error"}), None
        if not _allows(policy, method_arn):
            return web.Response(status=403, text="Forbidden"), None
        return None, {"principalId": policy["principalId"], **(policy.get("context") or {}), "integrationLatency": 0}

    async def _message(
        self,
        request: web.Request,
        socket: web.WebSocketResponse,
        connection_id: str,
        connected_at: float,
        connect_context: dict[str, Any],
        data: str,
    ) -> None:
        """A client's message goes to the $default route: the template routes no action of its own."""
        route = self._route("$default")
        if route is None:
            # Without a route for it, API Gateway answers so.
            await socket.send_json({"message": "Forbidden", "connectionId": connection_id, "requestId": _request_id()})
            return
        context = self._request_context(request, connection_id, "$default", "MESSAGE", connected_at)
        _keep_authorizer(context, connect_context)
        event = {"requestContext": context, "body": data, "isBase64Encoded": False}
        try:
            result = await self.functions.invoke(route.function, event)
        except FunctionError:
            self._log_access(context, 500, error="Internal server error")
            await socket.send_json(
                {"message": "Internal server error", "connectionId": connection_id, "requestId": _request_id()}
            )
            return
        self._log_access(context, 200)
        if route.answers and isinstance(result, dict) and result.get("body") is not None:
            await socket.send_str(str(result["body"]))

    async def _disconnect(
        self,
        request: web.Request,
        connection_id: str,
        connected_at: float,
        connect_context: dict[str, Any],
        code: int | None,
    ) -> None:
        route = self._route("$disconnect")
        if route is None:
            return
        context = self._request_context(request, connection_id, "$disconnect", "DISCONNECT", connected_at)
        _keep_authorizer(context, connect_context)
        context.update({"disconnectStatusCode": code or 1005, "disconnectReason": ""})
        event = {"headers": dict(request.headers), "requestContext": context, "isBase64Encoded": False}
        # API Gateway ignores a failing $disconnect too; the function's own logs say why.
        with contextlib.suppress(FunctionError):
            await self.functions.invoke(route.function, event)
        self._log_access(context, 200)

    def _log_access(self, context: Mapping[str, Any], status: int, error: str | None = None) -> None:
        """One access log line of a connect, a message or a disconnect, from its request context."""
        if self.access_log is None:
            return
        authorizer = context.get("authorizer") or {}
        self.access_log.write(
            {
                "requestId": context["requestId"],
                "requestTime": context["requestTime"],
                "identity.sourceIp": context["identity"]["sourceIp"],
                "eventType": context["eventType"],
                "routeKey": context["routeKey"],
                "connectionId": context["connectionId"],
                "status": status,
                "authorizer.principalId": authorizer.get("principalId"),
                "error.message": error,
            }
        )

    # Management API ----------------------------------------------------------------------

    def _gone(self, connection_id: str) -> web.Response:
        return _json(410, {"message": f"connection {connection_id} is gone"}, {"x-amzn-ErrorType": "GoneException"})

    async def _post_to_connection(self, request: web.Request) -> web.Response:
        connection_id = request.match_info["connection_id"]
        data = await request.read()
        if len(data) > MAX_WEBSOCKET_MESSAGE_BYTES:
            return _json(413, {"message": "message too large"}, {"x-amzn-ErrorType": "PayloadTooLargeException"})
        connection = self.connections.get(connection_id)
        if connection is None or connection.socket.closed:
            return self._gone(connection_id)
        await connection.socket.send_str(data.decode())
        return web.Response(status=200)

    async def _get_connection(self, request: web.Request) -> web.Response:
        connection_id = request.match_info["connection_id"]
        connection = self.connections.get(connection_id)
        if connection is None:
            return self._gone(connection_id)

        def stamp(moment: float) -> str:
            return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")

        return _json(
            200,
            {
                "ConnectedAt": stamp(connection.connected_at),
                "Identity": {"SourceIp": connection.source_ip, "UserAgent": connection.user_agent},
                "LastActiveAt": stamp(connection.last_active_at),
            },
        )

    async def _delete_connection(self, request: web.Request) -> web.Response:
        connection_id = request.match_info["connection_id"]
        connection = self.connections.get(connection_id)
        if connection is None:
            return self._gone(connection_id)
        await connection.socket.close()
        return web.Response(status=204)


def _named_subprotocols(result: Any) -> tuple[str, ...]:
    """The subprotocol a $connect integration named in its answer's Sec-WebSocket-Protocol header, if any."""
    headers = (result.get("headers") if isinstance(result, dict) else None) or {}
    named = next((str(value).strip() for key, value in headers.items() if key.lower() == SUBPROTOCOL_HEADER), "")
    return (named,) if named else ()


def _keep_authorizer(context: dict[str, Any], connect_context: Mapping[str, Any]) -> None:
    """API Gateway hands what the $connect authorizer returned to every later route of the connection."""
    if "authorizer" in connect_context:
        context["authorizer"] = connect_context["authorizer"]


def _allows(policy: Any, method_arn: str) -> bool:
    """Whether an authorizer's IAM policy allows the route (an explicit Deny wins)."""
    if not isinstance(policy, dict) or not policy.get("principalId"):
        return False
    allowed = False
    for statement in policy.get("policyDocument", {}).get("Statement", []):
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        if not any(fnmatch.fnmatchcase(method_arn, pattern) for pattern in resources):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed
