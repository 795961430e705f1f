"""Where a WebSocket client's token travels, and the subprotocol $connect names back."""

from __future__ import annotations

import pytest
from inbox.sockets.handshake import connect_answer, offered_token

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"


def test_a_token_after_the_bearer_subprotocol_is_the_clients_token() -> None:
    # When a browser opens new WebSocket(url, ["bearer", token])
    token = offered_token({"Sec-WebSocket-Protocol": f"bearer, {TOKEN}"}, None)

    # Then the token is the one it named after "bearer"
    assert token == TOKEN


def test_the_header_is_found_whatever_its_case() -> None:
    assert offered_token({"sec-websocket-protocol": f"bearer,{TOKEN}"}, None) == TOKEN


def test_a_token_in_the_query_still_works() -> None:
    assert offered_token({"Host": "example"}, {"token": TOKEN}) == TOKEN


@pytest.mark.parametrize(
    "subprotocols",
    [TOKEN, f"Bearer, {TOKEN}", f"{TOKEN}, bearer", f"jwt, {TOKEN}", "bearer", "bearer, "],
    ids=["token-alone", "capital-bearer", "token-before-bearer", "another-name", "bearer-alone", "bearer-empty"],
)
def test_a_token_anywhere_else_in_the_subprotocols_is_no_token(subprotocols: str) -> None:
    # When the token travels in the header but not right after "bearer"
    token = offered_token({"Sec-WebSocket-Protocol": subprotocols}, None)

    # Then the client presents no token
    assert token == ""


def test_a_client_naming_bearer_presents_that_token_and_not_the_querys() -> None:
    # When a client names the bearer subprotocol without a token after it, and has one in the query
    token = offered_token({"Sec-WebSocket-Protocol": "bearer"}, {"token": TOKEN})

    # Then the query does not stand in for it
    assert token == ""


def test_connect_names_bearer_back_to_a_client_that_offered_it() -> None:
    assert connect_answer({"Sec-WebSocket-Protocol": f"bearer, {TOKEN}"}) == {
        "statusCode": 200,
        "headers": {"Sec-WebSocket-Protocol": "bearer"},
    }


@pytest.mark.parametrize("headers", [None, {}, {"Sec-WebSocket-Protocol": "chat"}], ids=["none", "empty", "other"])
def test_connect_names_no_subprotocol_to_a_client_that_did_not_offer_bearer(headers: dict[str, str] | None) -> None:
    assert connect_answer(headers) == {"statusCode": 200}
