"""End to end through real protocols: Kafka in, WebSocket and HTTP out, on the local stack."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from inbox_dev.samples import sample_event
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.e2e.conftest import RunningStack, wait_until

pytestmark = pytest.mark.e2e


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def next_message(connection: ClientConnection, timeout: float = 30) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(connection.recv(timeout=timeout))
    return message


def test_a_like_reaches_every_tab_the_inbox_and_read_state_syncs(local_stack: RunningStack) -> None:
    # Given alice with two open tabs, and bob
    alice, bob = unique("alice"), unique("bob")
    token = local_stack.token(alice)
    url = f"{local_stack.websocket}?token={token}"
    with connect(url) as first_tab, connect(url) as second_tab:
        # When bob's like of alice's post arrives on Kafka
        local_stack.produce("message-liked", sample_event("message-liked", actor=bob, recipient=alice))

        # Then both tabs are told at once, with the notification as the API shows it
        created = [next_message(first_tab), next_message(second_tab)]
        assert [message["type"] for message in created] == ["notification.created"] * 2
        notification = created[0]["notification"]
        assert created[1]["notification"] == notification
        assert (notification["type"], notification["actor"]["id"], notification["read"]) == ("like", bob, False)

        # And the inbox lists it, unread, and counts it
        listing = local_stack.api("GET", "/notifications", token).json()
        assert listing["items"] == [notification]
        assert local_stack.api("GET", "/notifications/unread-count", token).json() == {"count": 1, "capped": False}

        # When alice reads it in the first tab
        response = local_stack.api("POST", f"/notifications/{notification['id']}/read", token)

        # Then the second tab (and the first) learn it, and the count drops
        assert response.status_code == 204
        read = {"type": "notification.read", "id": notification["id"], "counts": {"unread": 0, "unseen": 0}}
        assert next_message(second_tab) == read
        assert next_message(first_tab) == read
        assert local_stack.api("GET", "/notifications/unread-count", token).json() == {"count": 0, "capped": False}


def test_a_like_joining_a_group_shows_the_same_entry_and_counts_in_both_tabs_and_sync_catches_up(
    local_stack: RunningStack,
) -> None:
    # Given alice with two open tabs, and bob's like of her post
    alice, bob, cat, dan = unique("alice"), unique("bob"), unique("cat"), unique("dan")
    token = local_stack.token(alice)
    url = f"{local_stack.websocket}?token={token}"
    post = unique("post")

    def like(actor: str) -> None:
        local_stack.produce(
            "message-liked", sample_event("message-liked", actor=actor, recipient=alice, resource_id=post)
        )

    with connect(url) as first_tab, connect(url) as second_tab:
        like(bob)
        created = [next_message(first_tab), next_message(second_tab)]
        assert [message["type"] for message in created] == ["notification.created"] * 2

        # When cat likes the same post
        like(cat)

        # Then both tabs get the same grown entry, "cat and bob", and the same counts
        updated = [next_message(first_tab), next_message(second_tab)]
        assert updated[0] == updated[1]
        assert updated[0]["type"] == "notification.updated"
        entry = updated[0]["notification"]
        assert ([actor["id"] for actor in entry["actors"]], entry["actorCount"]) == ([cat, bob], 2)
        assert updated[0]["counts"] == {"unread": 1, "unseen": 1}
        assert local_stack.api("GET", "/notifications", token).json()["items"] == [entry]

    # When dan likes it while alice has no tab open, and a tab reconnects with what it last held
    like(dan)
    wait_until(lambda: local_stack.api("GET", "/notifications", token).json()["items"][0]["actorCount"] == 3, 60)
    with connect(url) as tab:
        tab.send(json.dumps({"type": "sync", "since": entry["updatedAt"]}))
        sync = next_message(tab)
        if sync["type"] == "notification.updated":
            # dan's change reached the fan-out after the tab connected: it is delivered live too
            assert sync["notification"]["actorCount"] == 3
            sync = next_message(tab)

    # Then one answer brings the grown entry and the counts
    assert sync["type"] == "sync"
    [caught_up] = sync["page"]["items"]
    assert ([actor["id"] for actor in caught_up["actors"]], caught_up["actorCount"]) == ([dan, cat, bob], 3)
    assert sync["counts"] == {"unread": 1, "unseen": 1}


def test_a_client_message_gets_a_clear_answer_and_the_socket_stays_open(local_stack: RunningStack) -> None:
    # Given a connected user
    user = unique("carol")
    token = local_stack.token(user)
    with connect(f"{local_stack.websocket}?token={token}") as tab:
        # When the client pings, then sends what the socket does not take (JSON, text, bytes)
        tab.send(json.dumps({"type": "ping"}))
        pong = next_message(tab)
        answers = []
        for unsupported in (json.dumps({"action": "hello"}), "not json at all"):
            tab.send(unsupported)
            answers.append(next_message(tab))

        # Then the ping is answered, everything else gets the same clear error
        assert pong == {"type": "pong"}
        assert {answer["error"]["code"] for answer in answers} == {"unsupported_message"}
        assert all(answer["type"] == "error" for answer in answers)
        # And the connection still delivers notifications
        local_stack.produce("message-liked", sample_event("message-liked", actor=unique("dave"), recipient=user))
        assert next_message(tab)["type"] == "notification.created"


def test_a_binary_frame_ends_the_connection_as_api_gateway_does(local_stack: RunningStack) -> None:
    # Given a connected user
    with connect(f"{local_stack.websocket}?token={local_stack.token(unique('erin'))}") as tab:
        # When the client sends a binary frame
        tab.send(b"\x00\xff")

        # Then the connection is closed with 1003 (unsupported data)
        with pytest.raises(ConnectionClosed):
            tab.recv(timeout=30)
        assert tab.close_code == 1003


@pytest.mark.parametrize(
    ("query", "status"),
    [("", 401), ("?token=", 401), ("?token=not-a-jwt", 403)],
    ids=["no-token", "empty-token", "garbage-token"],
)
def test_a_websocket_without_a_valid_token_is_refused(local_stack: RunningStack, query: str, status: int) -> None:
    # When a client connects without a valid token
    with pytest.raises(InvalidStatus) as refusal:
        connect(f"{local_stack.websocket}{query}")

    # Then the handshake is refused, as API Gateway refuses it
    assert refusal.value.response.status_code == status


def test_a_token_of_another_issuer_is_refused_by_both_apis(local_stack: RunningStack) -> None:
    # Given a well-formed RS256 token signed by a key the issuer never published
    from inbox_dev.tokens import TokenIssuer

    forged = TokenIssuer(issuer=local_stack.page, audience="inbox-local").mint("mallory")

    # When it is used on the HTTP API and the WebSocket API
    http = local_stack.api("GET", "/notifications", forged)
    with pytest.raises(InvalidStatus) as refusal:
        connect(f"{local_stack.websocket}?token={forged}")

    # Then both refuse it
    assert http.status_code == 401
    assert refusal.value.response.status_code == 403


def test_a_bad_record_is_dead_lettered_and_the_rest_of_its_batch_is_stored(local_stack: RunningStack) -> None:
    # Given dave, and a producer that sends a broken record between two good ones
    dave, erin = unique("dave"), unique("erin")
    token = local_stack.token(dave)
    before = len(local_stack.dev("/dev/dead-letters")["items"])

    # When the three records arrive on one topic
    local_stack.produce("user-followed", sample_event("user-followed", actor=erin, recipient=dave))
    local_stack.produce("user-followed", b'{"actorId": "erin", "followedUserId": ')
    local_stack.produce("message-liked", sample_event("message-liked", actor=erin, recipient=dave))

    # Then both good records are stored
    def inbox_types() -> list[str]:
        items = local_stack.api("GET", "/notifications", token).json()["items"]
        return sorted(item["type"] for item in items)

    assert wait_until(lambda: inbox_types() == ["follow", "like"])

    # And the broken one ends in the dead letters, with the reason and where it came from
    def new_dead_letters() -> list[dict[str, Any]]:
        return list(local_stack.dev("/dev/dead-letters")["items"][before:])

    dead = wait_until(new_dead_letters, timeout=60)
    assert dead[0]["source"] == "kafka"
    assert dead[0]["function"] == "IngestFunction"
    assert [record["topic"] for record in dead[0]["records"]] == ["user-followed"]


def test_the_http_api_refuses_a_request_without_a_token(local_stack: RunningStack) -> None:
    # When the inbox is asked for without a token
    response = local_stack.api("GET", "/notifications", None)

    # Then API Gateway's authorizer answers, not the function
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
