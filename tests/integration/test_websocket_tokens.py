"""The WebSocket authorizer takes the token from the subprotocols (bearer, <token>) or from ?token=.

API Gateway answers 401 when the authorizer fails with the message "Unauthorized" (no token at all)
and 403 to its Deny (a token that is not valid).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from inbox_dev.tokens import TokenIssuer

from tests.conftest import load_event


def authorize(function: Any, context: Any, *, subprotocols: str | None = None, query_token: str | None = None) -> Any:
    event = copy.deepcopy(load_event("ws-authorizer.json"))
    event["queryStringParameters"] = {"token": query_token} if query_token is not None else {}
    event["multiValueQueryStringParameters"] = {}
    if subprotocols is not None:
        event["headers"]["Sec-WebSocket-Protocol"] = subprotocols
    return function("ws_authorizer").lambda_handler(event, context)


def effect(policy: dict[str, Any]) -> str:
    return str(policy["policyDocument"]["Statement"][0]["Effect"])


def test_a_token_in_the_bearer_subprotocol_is_allowed_as_its_user(
    function: Any, context: Any, issuer: TokenIssuer, user: str
) -> None:
    # When a browser connects with new WebSocket(url, ["bearer", token])
    policy = authorize(function, context, subprotocols=f"bearer, {issuer.mint(user)}")

    # Then the connection is allowed as the token's user
    assert effect(policy) == "Allow"
    assert policy["context"] == {"userId": user}


def test_a_token_in_the_query_is_still_allowed(function: Any, context: Any, issuer: TokenIssuer, user: str) -> None:
    policy = authorize(function, context, query_token=issuer.mint(user))
    assert (effect(policy), policy["context"]) == ("Allow", {"userId": user})


@pytest.mark.parametrize(
    "template",
    ["{token}", "Bearer, {token}", "{token}, bearer", "jwt, {token}", "bearer"],
    ids=["token-alone", "capital-bearer", "token-before-bearer", "another-name", "bearer-without-token"],
)
def test_the_same_valid_token_in_a_bad_subprotocol_is_refused_with_401(
    function: Any, context: Any, issuer: TokenIssuer, user: str, template: str
) -> None:
    # When a valid token travels in the subprotocols, but not right after "bearer"
    subprotocols = template.format(token=issuer.mint(user))

    # Then the client presents no token: the authorizer fails as API Gateway turns into 401
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(function, context, subprotocols=subprotocols)


def test_a_bad_token_in_the_bearer_subprotocol_is_denied_even_with_a_valid_one_in_the_query(
    function: Any, context: Any, issuer: TokenIssuer, user: str
) -> None:
    # When the bearer subprotocol carries a bad token and the query a valid one
    policy = authorize(function, context, subprotocols="bearer, not-a-jwt", query_token=issuer.mint(user))

    # Then the subprotocol's token is the one checked, and refused (403)
    assert effect(policy) == "Deny"


def test_a_handshake_without_any_token_is_refused_with_401(function: Any, context: Any) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(function, context)
