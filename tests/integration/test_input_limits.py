"""Every limit on client input, enforced with a clear 4xx: the HTTP API in-process, and both authorizers.

Each limit is tested at its edge: the largest accepted value is accepted, one more is refused
with a JSON error that says what was wrong, never with a 5xx.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import pytest
from inbox import auth
from inbox.api.cursor import MAX_CURSOR_CHARS
from inbox.api.errors import MAX_BODY_BYTES
from inbox.models import NotificationType
from inbox.settings import AuthSettings
from inbox_dev.gateway import MAX_AUTHORIZATION_HEADER_CHARS, JwtAuthorizer
from inbox_dev.tokens import TokenIssuer

from tests.integration.helpers import http_event

pytestmark = pytest.mark.integration

MAX_MUTED_TYPES = len(NotificationType)
MAX_DEVICE_TOKEN_CHARS = 4096


@pytest.fixture
def call(function: Any, context: Any) -> Any:
    """The API function with an API Gateway event; ``headers`` and ``base64_body`` shape the raw request."""
    api = function("api")

    def request(
        method: str,
        path: str,
        user: str | None,
        *,
        headers: dict[str, str] | None = None,
        base64_body: bytes | None = None,
        **kwargs: Any,
    ) -> tuple[int, Any]:
        event = http_event(method, path, user, **kwargs)
        event["headers"].update(headers or {})
        if base64_body is not None:
            event["body"] = base64.b64encode(base64_body).decode()
            event["isBase64Encoded"] = True
        response = api.lambda_handler(event, context)
        assert response["statusCode"] < 500, response
        body = response.get("body")
        return response["statusCode"], json.loads(body) if body else None

    return request


def refused(answer: tuple[int, Any], status: int, *words: str) -> bool:
    """The answer is ``status`` with a JSON error whose message names every one of ``words``."""
    code, body = answer
    assert code == status, answer
    assert set(body["error"]) == {"code", "message"}
    assert all(word in body["error"]["message"] for word in words), body
    return True


# -- query: limit and cursor ------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["1", "100"])
def test_a_limit_from_1_to_100_is_accepted(call: Any, user: str, limit: str) -> None:
    assert call("GET", "/notifications", user, query={"limit": limit})[0] == 200


@pytest.mark.parametrize("limit", ["0", "101", "-1", "1000000000000000000000", "ten", "1.5"])
def test_a_limit_outside_1_to_100_is_refused(call: Any, user: str, limit: str) -> None:
    assert refused(call("GET", "/notifications", user, query={"limit": limit}), 400, "limit")


def test_a_cursor_over_the_length_limit_is_refused_before_it_is_decoded(call: Any, user: str) -> None:
    answer = call("GET", "/notifications", user, query={"cursor": "A" * (MAX_CURSOR_CHARS + 1)})
    assert refused(answer, 400, "cursor", str(MAX_CURSOR_CHARS))


def test_a_cursor_within_the_length_limit_but_forged_is_a_bad_cursor(call: Any, user: str) -> None:
    status, body = call("GET", "/notifications", user, query={"cursor": "A" * MAX_CURSOR_CHARS})
    assert (status, body["error"]["code"]) == (400, "bad_cursor")


# -- path: ids ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/notifications/{}/read", "/notifications/{}", "/devices/{}"],
)
def test_an_overlong_id_is_refused(call: Any, user: str, path: str) -> None:
    method = "POST" if path.endswith("/read") else "DELETE"
    assert refused(call(method, path.format("a" * 65), user), 400, "id")


# -- bodies: preferences and devices --------------------------------------------------------------


def test_muted_types_up_to_one_per_type_are_accepted(call: Any, user: str) -> None:
    every_type = [kind.value for kind in NotificationType]
    status, saved = call("PUT", "/preferences", user, body={"mutedTypes": every_type})
    assert (status, sorted(saved["mutedTypes"])) == (200, sorted(every_type))


def test_a_muted_types_list_longer_than_the_number_of_types_is_refused(call: Any, user: str) -> None:
    muted = ["like"] * (MAX_MUTED_TYPES + 1)
    assert refused(call("PUT", "/preferences", user, body={"mutedTypes": muted}), 400, "mutedTypes")
    # and nothing was saved
    assert call("GET", "/preferences", user)[1]["mutedTypes"] == []


def test_a_device_token_of_the_maximum_length_is_accepted(call: Any, user: str) -> None:
    registration = {"platform": "fcm", "token": "t" * MAX_DEVICE_TOKEN_CHARS}
    assert call("POST", "/devices", user, body=registration)[0] == 201


@pytest.mark.parametrize("token", ["t" * (MAX_DEVICE_TOKEN_CHARS + 1), "short", ""])
def test_a_device_token_too_long_or_too_short_is_refused(call: Any, user: str, token: str) -> None:
    assert refused(call("POST", "/devices", user, body={"platform": "fcm", "token": token}), 400, "token")
    assert call("GET", "/devices", user)[1] == []


def test_a_body_at_the_size_limit_is_read(call: Any, user: str) -> None:
    # Given a valid body padded with whitespace to exactly the limit (preferences refuse unknown fields)
    document = json.dumps({"types": {"like": {"inbox": False}}})
    body = document + " " * (MAX_BODY_BYTES - len(document))
    assert len(body) == MAX_BODY_BYTES

    # Then it is accepted
    assert call("PUT", "/preferences", user, body=body)[0] == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/preferences"), ("POST", "/devices"), ("GET", "/notifications"), ("POST", "/notifications/read-all")],
)
def test_a_body_over_the_size_limit_is_refused_with_413(call: Any, user: str, method: str, path: str) -> None:
    body = json.dumps({"mutedTypes": [], "platform": "fcm", "token": "t" * 64, "padding": "x" * MAX_BODY_BYTES})
    answer = call(method, path, user, body=body)
    assert refused(answer, 413, str(MAX_BODY_BYTES))
    assert answer[1]["error"]["code"] == "payload_too_large"


def test_a_binary_body_over_the_size_limit_is_refused_with_413(call: Any, user: str) -> None:
    answer = call("PUT", "/preferences", user, base64_body=b"\x00" * (MAX_BODY_BYTES + 1))
    assert refused(answer, 413, str(MAX_BODY_BYTES))


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "multipart/form-data", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded"],
)
def test_a_body_that_is_not_json_is_refused_with_415(call: Any, user: str, content_type: str) -> None:
    # A multipart type without a boundary used to be a 500 (Powertools' parser raised ValueError)
    headers = {"content-type": content_type}
    answer = call("PUT", "/preferences", user, body='{"mutedTypes": []}', headers=headers)
    assert refused(answer, 415, "JSON")
    assert answer[1]["error"]["code"] == "unsupported_media_type"


def test_a_json_body_that_is_not_utf8_is_refused_with_400(call: Any, user: str) -> None:
    # The gateway hands such a body over base64-encoded; decoding it used to be a 500
    answer = call("POST", "/devices", user, base64_body=b'{"platform": "fcm", "token": "\xff\xfe\xfd\xfc"}')
    assert refused(answer, 400, "UTF-8")


def test_invalid_json_is_refused_with_400(call: Any, user: str) -> None:
    assert refused(call("PUT", "/preferences", user, body="\u00e9{"), 400, "JSON")


# -- tokens: the Authorization header and the WebSocket token --------------------------------------


def test_the_gateway_refuses_an_authorization_header_over_its_limit(issuer: TokenIssuer) -> None:
    # API Gateway takes at most 10 KB of headers: a larger Authorization never reaches its authorizer
    keys = jwt.PyJWKSet.from_dict(issuer.jwks())
    authorizer = JwtAuthorizer(issuer=issuer.issuer, audience=(issuer.audience,), keys=keys)
    token = issuer.mint("alice")
    assert authorizer.claims(f"Bearer {token}") is not None
    assert authorizer.claims("Bearer " + "x" * MAX_AUTHORIZATION_HEADER_CHARS) is None


def test_the_websocket_authorizer_refuses_a_token_over_its_limit_before_any_key_lookup() -> None:
    # The key set URL goes nowhere: a refusal on length alone never fetches it
    settings = AuthSettings(JWT_ISSUER="https://issuer.test", JWT_AUDIENCE="inbox", JWKS_URL="http://127.0.0.1:9/jwks")
    with pytest.raises(auth.InvalidToken, match="too long"):
        auth.verify("x" * (auth.MAX_TOKEN_CHARS + 1), settings)
