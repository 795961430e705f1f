"""The JWT matrix: which tokens the two authorizers accept, and what refused tokens cost.

HTTP side: the local gateway's ``HttpApi`` with its ``JwtAuthorizer`` (API Gateway's JWT
authorizer, built as the local stack builds it), in-process on a loopback port, in front of the
API function. WebSocket side: the $connect authorizer function, which reads the issuer's JWKS
over loopback (``JWKS_URL``), as on AWS. Every refusal must be a clean deny: 401 from the HTTP
API, a Deny policy from the authorizer; never a 5xx and never an exception.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from inbox import auth
from inbox.settings import AuthSettings
from inbox_dev.gateway import FunctionInvoker, HttpApi, JwtAuthorizer
from inbox_dev.processes import free_port
from inbox_dev.template import http_routes
from inbox_dev.tokens import TokenIssuer

from tests.conftest import AUDIENCE, ISSUER, load_event

pytestmark = pytest.mark.integration

USER = "alice"


# -- tokens -----------------------------------------------------------------------------------


def b64(value: bytes | dict[str, Any]) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def claims(issuer: TokenIssuer, **changes: Any) -> dict[str, Any]:
    """A valid token's claims with some changed; a change to None removes the claim."""
    now = int(time.time())
    values = {"sub": USER, "iss": issuer.issuer, "aud": issuer.audience, "iat": now, "exp": now + 600, **changes}
    return {name: value for name, value in values.items() if value is not None}


def rs256(issuer: TokenIssuer, payload: dict[str, Any], *, kid: str | None = None) -> str:
    headers = {"kid": issuer.key_id if kid is None else kid}
    return jwt.encode(payload, issuer.private_key, algorithm="RS256", headers=headers)


def alg_none(issuer: TokenIssuer) -> str:
    return f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': issuer.key_id})}.{b64(claims(issuer))}."


def hs256_with_the_public_key(issuer: TokenIssuer) -> str:
    """Key confusion: HMAC-SHA256 keyed with the issuer's published RSA public key (PEM)."""
    public_pem = issuer.private_key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': issuer.key_id})}.{b64(claims(issuer))}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def without_kid(issuer: TokenIssuer) -> str:
    return jwt.encode(claims(issuer), issuer.private_key, algorithm="RS256")


def tampered(issuer: TokenIssuer) -> str:
    """A valid token of alice's with the payload swapped for bob's, signature kept."""
    header, _, signature = issuer.mint(USER).split(".")
    return f"{header}.{b64(claims(issuer, sub='bob'))}.{signature}"


def another_key_same_kid(issuer: TokenIssuer) -> str:
    return TokenIssuer(issuer=issuer.issuer, audience=issuer.audience, key_id=issuer.key_id).mint(USER)


def deeply_nested(issuer: TokenIssuer) -> str:
    """A payload nested deeper than Python's recursion limit, within the size limit."""
    payload = b"[" * 2500 + b"]" * 2500
    return f"{b64({'alg': 'RS256', 'typ': 'JWT', 'kid': issuer.key_id})}.{b64(payload)}.{b64(b'signature')}"


BAD_TOKENS: dict[str, Callable[[TokenIssuer], str]] = {
    "expired": lambda issuer: rs256(issuer, claims(issuer, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)),
    "not-yet-valid": lambda issuer: rs256(issuer, claims(issuer, nbf=int(time.time()) + 3600)),
    "issued-in-the-future": lambda issuer: rs256(issuer, claims(issuer, iat=int(time.time()) + 3600)),
    "no-exp": lambda issuer: rs256(issuer, claims(issuer, exp=None)),
    "wrong-issuer": lambda issuer: rs256(issuer, claims(issuer, iss="https://evil.example.com")),
    "wrong-audience": lambda issuer: rs256(issuer, claims(issuer, aud="another-app")),
    "alg-none": alg_none,
    "hs256-with-the-rsa-public-key": hs256_with_the_public_key,
    "unknown-kid": lambda issuer: rs256(issuer, claims(issuer), kid="rotated-out"),
    "no-kid": without_kid,
    "another-key-same-kid": another_key_same_kid,
    "tampered-payload": tampered,
    "deeply-nested-payload": deeply_nested,
    "garbage": lambda issuer: "not-a-jwt",
    "garbage-in-three-parts": lambda issuer: "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl",
    "empty": lambda issuer: "",
    "no-sub": lambda issuer: rs256(issuer, claims(issuer, sub=None)),
    "empty-sub": lambda issuer: rs256(issuer, claims(issuer, sub="")),
    "oversized": lambda issuer: rs256(issuer, claims(issuer, padding="x" * 20_000)),
}
# API Gateway's JWT authorizer does not require sub: such tokens pass it, and the function refuses them.
WITHOUT_USER = {"no-sub", "empty-sub"}


# -- HTTP side: the local API Gateway in front of the API function ---------------------------


class InProcess:
    """A function of the template run in this process, as the gateway's invoker expects."""

    def __init__(self, handler: Callable[[dict[str, Any], Any], Any], context: Any) -> None:
        self._handler = handler
        self._context = context

    def invoke(self, event: dict[str, Any]) -> Any:
        return self._handler(event, self._context)


@pytest.fixture(scope="module")
def gateway_authorizer(issuer: TokenIssuer) -> JwtAuthorizer:
    return JwtAuthorizer(issuer=ISSUER, audience=(AUDIENCE,), keys=jwt.PyJWKSet.from_dict(issuer.jwks()))


@pytest.fixture
def http_get(function: Any, context: Any, gateway_authorizer: JwtAuthorizer) -> Iterator[Callable[..., Any]]:
    """GET /notifications/unread-count through the local HTTP API with the given headers."""
    invoker = FunctionInvoker({"ApiFunction": InProcess(function("api").lambda_handler, context)})
    app = HttpApi(http_routes(), invoker, gateway_authorizer).app()

    async def get(headers: dict[str, str]) -> tuple[int, Any]:
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            response = await client.get("/notifications/unread-count", headers=headers)
            text = await response.text()
            return response.status, json.loads(text) if text.startswith("{") else text

    yield lambda headers: asyncio.run(get(headers))
    invoker.close()


def test_a_valid_token_is_accepted_by_the_http_api(http_get: Any, issuer: TokenIssuer, user: str) -> None:
    # When a request carries a valid bearer token of a user with an empty inbox
    status, body = http_get({"Authorization": f"Bearer {issuer.mint(user)}"})

    # Then the function answers for the token's user
    assert (status, body) == (200, {"count": 0, "capped": False})


@pytest.mark.parametrize("kind", list(BAD_TOKENS))
def test_the_gateways_jwt_authorizer_refuses_a_bad_token(
    gateway_authorizer: JwtAuthorizer, issuer: TokenIssuer, kind: str
) -> None:
    # Given a bad token
    token = BAD_TOKENS[kind](issuer)

    # When the gateway's JWT authorizer checks it
    accepted = gateway_authorizer.claims(f"Bearer {token}")

    # Then it is refused, except a token without a user, which API Gateway lets through
    if kind in WITHOUT_USER:
        assert accepted is not None
        assert not accepted.get("sub")
    else:
        assert accepted is None


@pytest.mark.parametrize("kind", list(BAD_TOKENS))
def test_the_http_api_answers_a_bad_token_with_401(http_get: Any, issuer: TokenIssuer, kind: str) -> None:
    # Given a bad token
    token = BAD_TOKENS[kind](issuer)

    # When it is sent as the bearer token
    status, body = http_get({"Authorization": f"Bearer {token}"})

    # Then the answer is 401: from the gateway, or from the function when the gateway found no user
    if kind == "oversized":
        # A header line over 8 KB is refused by the HTTP server before any route (API Gateway: 10 KB)
        assert status == 400
    elif kind in WITHOUT_USER:
        assert (status, body["error"]["code"]) == (401, "unauthorized")
    else:
        assert (status, body) == (401, {"message": "Unauthorized"})


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic YWxpY2U6c2VjcmV0", "token-without-scheme"],
    ids=["missing", "empty", "scheme-only", "scheme-and-space", "basic", "no-scheme"],
)
def test_the_http_api_answers_a_missing_or_malformed_header_with_401(
    http_get: Any, gateway_authorizer: JwtAuthorizer, header: str | None
) -> None:
    # When the Authorization header is missing or holds no bearer token
    status, body = http_get({} if header is None else {"Authorization": header})

    # Then the gateway refuses it
    assert gateway_authorizer.claims(header) is None
    assert (status, body) == (401, {"message": "Unauthorized"})


def test_the_gateway_refuses_a_header_larger_than_api_gateway_accepts(
    gateway_authorizer: JwtAuthorizer, issuer: TokenIssuer
) -> None:
    # Given a token signed correctly but over API Gateway's 10 KB limit for headers
    token = rs256(issuer, claims(issuer, padding="x" * 12_000))

    # When the JWT authorizer is handed it directly (no HTTP server in between)
    # Then it is refused
    assert gateway_authorizer.claims(f"Bearer {token}") is None


# -- WebSocket side: the $connect authorizer function ----------------------------------------


@pytest.fixture
def authorize(function: Any, context: Any) -> Callable[[str | None], dict[str, Any]]:
    handler = function("ws_authorizer").lambda_handler

    def run(token: str | None) -> dict[str, Any]:
        event = copy.deepcopy(load_event("ws-authorizer.json"))
        event["queryStringParameters"] = None if token is None else {"token": token}
        event["multiValueQueryStringParameters"] = None if token is None else {"token": [token]}
        result: dict[str, Any] = handler(event, context)
        return result

    return run


def effect(policy: dict[str, Any]) -> str:
    [statement] = policy["policyDocument"]["Statement"]
    return str(statement["Effect"])


def test_a_valid_token_is_allowed_by_the_websocket_authorizer(authorize: Any, issuer: TokenIssuer) -> None:
    # When a valid token is presented on $connect
    policy = authorize(issuer.mint(USER))

    # Then the connection is allowed as the token's user
    assert (effect(policy), policy["principalId"], policy["context"]) == ("Allow", USER, {"userId": USER})


@pytest.mark.parametrize("kind", [kind for kind in BAD_TOKENS if kind != "empty"])
def test_the_websocket_authorizer_denies_a_bad_token(authorize: Any, issuer: TokenIssuer, kind: str) -> None:
    # Given a bad token
    token = BAD_TOKENS[kind](issuer)

    # When it is presented on $connect
    policy = authorize(token)

    # Then the answer is a Deny for nobody (API Gateway's 403), with no context for the connect function
    assert (effect(policy), policy["principalId"]) == ("Deny", "anonymous")
    assert not policy.get("context")


@pytest.mark.parametrize("token", ["", None], ids=["empty", "no-query-string"])
def test_the_websocket_authorizer_fails_a_handshake_without_a_token_as_unauthorized(
    authorize: Any, token: str | None
) -> None:
    # When $connect carries no token (the authorizer has no identity source: a token may come in
    # the query or in the subprotocols, so API Gateway calls it without one too)
    # Then it fails with the message API Gateway answers with 401
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(token)


# -- the issuer's key set: what refused tokens cost --------------------------------------------


class KeySetServer:
    """A loopback JWKS endpoint that counts its fetches; its keys and answer can change."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        self.jwks = jwks
        self.broken: tuple[int, bytes] | None = None  # an answer other than the key set
        self.fetches = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
                return

            def do_GET(self) -> None:
                server.fetches += 1
                status, data = server.broken or (200, json.dumps(server.jwks).encode())
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/.well-known/jwks.json"
        threading.Thread(target=self._http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()


def settings_for(url: str) -> AuthSettings:
    return AuthSettings(JWT_ISSUER=ISSUER, JWT_AUDIENCE=AUDIENCE, JWKS_URL=url)


@pytest.fixture
def key_set(issuer: TokenIssuer) -> Iterator[KeySetServer]:
    # A fresh JWKS client for this server, and a fresh one again for the tests after
    auth._jwks_client.cache_clear()
    server = KeySetServer(issuer.jwks())
    yield server
    server.close()
    auth._jwks_client.cache_clear()


def test_a_flood_of_unknown_kids_fetches_the_key_set_once(key_set: KeySetServer, issuer: TokenIssuer) -> None:
    # Given an authorizer that has not fetched the issuer's keys yet
    settings = settings_for(key_set.url)

    # When fifty tokens name kids the issuer never published
    for index in range(50):
        with pytest.raises(auth.InvalidToken):
            auth.verify(rs256(issuer, claims(issuer), kid=f"unknown-{index}"), settings)

    # Then the key set was fetched once, and a valid token is still served from it
    assert key_set.fetches == 1
    assert auth.verify(issuer.mint(USER), settings) == USER
    assert key_set.fetches == 1


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "x" * (auth.MAX_TOKEN_CHARS + 1), "Bearer " + "x" * 20_000],
    ids=["empty", "garbage", "just-over-the-limit", "20-kb"],
)
def test_tokens_refused_before_any_key_lookup_never_fetch_the_key_set(key_set: KeySetServer, token: str) -> None:
    # When a token is refused on its size or shape
    with pytest.raises(auth.InvalidToken):
        auth.verify(token, settings_for(key_set.url))

    # Then the issuer's key set was not fetched for it
    assert key_set.fetches == 0


def test_a_key_the_issuer_withdraws_is_refused_once_the_key_set_is_refreshed(
    key_set: KeySetServer, issuer: TokenIssuer
) -> None:
    # Given a token accepted with the issuer's current key
    settings = settings_for(key_set.url)
    old_token = issuer.mint(USER)
    assert auth.verify(old_token, settings) == USER

    # When the issuer replaces its key (say it leaked) and the authorizer's key set is refreshed
    successor = TokenIssuer(issuer=ISSUER, audience=AUDIENCE, key_id="local-2")
    key_set.jwks = successor.jwks()
    auth._jwks_client(key_set.url).get_jwk_set(refresh=True)

    # Then tokens of the withdrawn key are refused, and those of the new key accepted
    with pytest.raises(auth.InvalidToken):
        auth.verify(old_token, settings)
    assert auth.verify(successor.mint(USER), settings) == USER


@pytest.mark.parametrize("failure", ["unreachable", "server-error", "not-json", "no-keys"])
def test_a_broken_key_set_endpoint_means_a_clean_refusal(
    key_set: KeySetServer, issuer: TokenIssuer, failure: str
) -> None:
    # Given an issuer's key set endpoint that does not answer with keys
    url = key_set.url
    if failure == "unreachable":
        url = f"http://127.0.0.1:{free_port()}/.well-known/jwks.json"
    elif failure == "server-error":
        key_set.broken = (500, b'{"message": "internal"}')
    elif failure == "not-json":
        key_set.broken = (200, b"<html>maintenance</html>")
    else:
        key_set.broken = (200, b'{"keys": []}')

    # When a valid token is verified
    # Then it is refused with InvalidToken, the authorizer's Deny, and nothing else escapes
    with pytest.raises(auth.InvalidToken):
        auth.verify(issuer.mint(USER), settings_for(url))
