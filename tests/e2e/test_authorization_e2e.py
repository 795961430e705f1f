"""Bad tokens against the running local stack: the HTTP API answers 401, the WebSocket refuses the handshake.

Forgeries are made from what anyone can get: the issuer's published key set and a token of one's
own. Expiry, audience and issuer checks with the issuer's own key need its private key, which
never leaves the stack's process: tests/integration/test_jwt.py covers them on the same
``JwtAuthorizer`` and authorizer function.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from inbox_dev.tokens import TokenIssuer
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.e2e


def b64(value: bytes | dict[str, Any]) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True)
class Forger:
    """Someone holding a valid token of their own and the issuer's public key set."""

    own_token: str
    kid: str
    public_pem: bytes

    @property
    def own_claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(self.own_token, options={"verify_signature": False})
        return claims

    def unsigned(self, alg: str, claims: dict[str, Any]) -> str:
        return f"{b64({'alg': alg, 'typ': 'JWT', 'kid': self.kid})}.{b64(claims)}"

    def alg_none(self) -> str:
        return self.unsigned("none", self.own_claims) + "."

    def hs256_with_the_public_key(self) -> str:
        signing_input = self.unsigned("HS256", self.own_claims)
        signature = hmac.new(self.public_pem, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{b64(signature)}"

    def edited(self, **changes: Any) -> str:
        """The own token with its claims edited and its signature kept."""
        header, _, signature = self.own_token.split(".")
        return f"{header}.{b64({**self.own_claims, **changes})}.{signature}"

    def another_key_same_kid(self) -> str:
        claims = self.own_claims
        impostor = TokenIssuer(issuer=claims["iss"], audience=claims["aud"], key_id=self.kid)
        return impostor.mint(claims["sub"])


@pytest.fixture(scope="module")
def forger(local_stack: RunningStack) -> Forger:
    own_token = local_stack.token(f"mallory-{uuid.uuid4().hex[:8]}")
    [key] = requests.get(f"{local_stack.page}/.well-known/jwks.json", timeout=10).json()["keys"]
    public_key = jwt.PyJWK(key).key
    return Forger(own_token, key["kid"], public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))


BAD_TOKENS: dict[str, Callable[[Forger], str]] = {
    "alg-none": Forger.alg_none,
    "hs256-with-the-rsa-public-key": Forger.hs256_with_the_public_key,
    "another-key-same-kid": Forger.another_key_same_kid,
    "sub-changed": lambda forger: forger.edited(sub="alice"),
    "exp-extended": lambda forger: forger.edited(exp=int(time.time()) + 365 * 86_400),
    "aud-changed": lambda forger: forger.edited(aud="another-app"),
    "garbage": lambda forger: "not-a-jwt",
}


def test_the_forgers_own_token_works_on_both_apis(local_stack: RunningStack, forger: Forger) -> None:
    # When the token the issuer gave is used as it is
    response = local_stack.api("GET", "/notifications/unread-count", forger.own_token)
    with connect(f"{local_stack.websocket}?token={forger.own_token}") as socket:
        # Then both APIs accept it: the refusals below are about the tokens, not the stack
        assert response.status_code == 200
        socket.send(json.dumps({"type": "ping"}))
        assert json.loads(socket.recv(timeout=10)) == {"type": "pong"}


@pytest.mark.parametrize("kind", list(BAD_TOKENS))
def test_a_bad_token_gets_401_from_the_http_api(local_stack: RunningStack, forger: Forger, kind: str) -> None:
    # When a request carries a bad bearer token
    response = local_stack.api("GET", "/notifications", BAD_TOKENS[kind](forger))

    # Then API Gateway's authorizer refuses it before the function runs
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Basic bWFsbG9yeTpzZWNyZXQ="],
    ids=["missing-header", "scheme-without-token", "basic-credentials"],
)
def test_a_request_without_a_bearer_token_gets_401(local_stack: RunningStack, header: str | None) -> None:
    # When the Authorization header is missing or holds no bearer token
    headers = {} if header is None else {"Authorization": header}
    response = requests.get(f"{local_stack.http_api}/notifications", headers=headers, timeout=10)

    # Then the answer is 401
    assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})


def test_a_20_kb_token_is_refused_by_both_apis_without_a_server_error(
    local_stack: RunningStack, forger: Forger
) -> None:
    # Given a token padded to 20 KB
    token = forger.own_token + "A" * 20_000

    # When it is sent as the bearer token, and in a WebSocket handshake's URL
    response = local_stack.api("GET", "/notifications", token)
    handshake = requests.get(
        f"{local_stack.websocket.replace('ws://', 'http://', 1)}?token={token}",
        headers={
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Key": base64.b64encode(uuid.uuid4().bytes).decode(),
            "Sec-WebSocket-Version": "13",
        },
        timeout=10,
    )

    # Then both are refused as too large by the HTTP server's 8 KB line limit, never a 5xx
    # (its HTTP/1.0 answer is one a WebSocket client cannot parse, hence the plain request)
    assert response.status_code == 400
    assert handshake.status_code == 400


@pytest.mark.parametrize("kind", list(BAD_TOKENS))
def test_a_websocket_with_a_bad_token_is_refused_with_403(local_stack: RunningStack, forger: Forger, kind: str) -> None:
    # When a client connects with a bad token
    with pytest.raises(InvalidStatus) as refusal:
        connect(f"{local_stack.websocket}?token={BAD_TOKENS[kind](forger)}")

    # Then the authorizer's Deny refuses the handshake
    assert refusal.value.response.status_code == 403


@pytest.mark.parametrize(("query", "status"), [("", 401), ("?token=", 401)], ids=["no-token", "empty-token"])
def test_a_websocket_without_a_token_is_refused_with_401(local_stack: RunningStack, query: str, status: int) -> None:
    # When a client connects without a token
    with pytest.raises(InvalidStatus) as refusal:
        connect(f"{local_stack.websocket}{query}")

    # Then API Gateway refuses the handshake before any authorizer runs
    assert refusal.value.response.status_code == status
