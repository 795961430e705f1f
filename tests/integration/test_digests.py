"""Email digests: one email of a user's unseen entries at the hour they chose, or none; the
one-click unsubscribe; what producers write never becomes markup; the capacity a digest costs."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import jwt
import pytest
from inbox_dev.capacity_meter import CapacityMeter
from inbox_dev.email_local import LocalEmail
from inbox_dev.samples import sample_event

from tests.integration.helpers import http_event, kafka_event

DUE_HOUR_LOCAL = 9
PARIS = "Europe/Paris"


def address(user: str) -> str:
    return f"{user}@example.com"


def emails_to(user: str) -> list[dict[str, Any]]:
    return [email for email in LocalEmail.sent() if email["to"] == address(user)]


def event(topic: str, actor: str, recipient: str, post: str, **fields: Any) -> tuple[str, bytes]:
    value = sample_event(topic, actor=actor, recipient=recipient, resource_id=post, rng=random.Random(7))
    return topic, json.dumps({**value, **fields}).encode()


def ask_for_daily_digests(function: Any, context: Any, user: str, *, verified: bool = True) -> dict[str, Any]:
    """The user saves preferences with a daily digest at 09:00 Paris time, with a token carrying their email."""
    body = {"digest": {"frequency": "daily", "hour": DUE_HOUR_LOCAL, "timezone": PARIS}}
    claims = {"email": address(user), "email_verified": "true" if verified else "false"}
    response = function("api").lambda_handler(
        http_event("PUT", "/preferences", user, body=body, claims=claims), context
    )
    assert response["statusCode"] == 200
    saved: dict[str, Any] = json.loads(response["body"])
    return saved


def due_hour(after: datetime) -> datetime:
    """The UTC hour of the next 09:00 in Paris."""
    from zoneinfo import ZoneInfo

    local = after.astimezone(ZoneInfo(PARIS))
    due = local.replace(hour=DUE_HOUR_LOCAL, minute=0, second=0, microsecond=0)
    if due <= local:
        due += timedelta(days=1)
    return due.astimezone(UTC)


def run_digests(function: Any, context: Any, hour: datetime) -> dict[str, Any]:
    """The digest function as the hourly schedule invokes it."""
    result: dict[str, Any] = function("digest").lambda_handler({"scheduledTime": hour.isoformat()}, context)
    return result


def three_groups_and_two_replies(function: Any, context: Any, user: str) -> None:
    records = [
        event("message-liked", "ann", user, "p1"),
        event("message-liked", "ben", user, "p1"),
        event("message-liked", "cid", user, "p2"),
        event("message-liked", "dan", user, "p2"),
        event("post-reposted", "eve", user, "p1"),
        event("post-reposted", "fay", user, "p1"),
        event("post-created", "gus", user, "r1"),
        event("post-created", "hal", user, "r2"),
    ]
    response = function("ingest").lambda_handler(kafka_event(*records), context)
    assert response == {"batchItemFailures": []}


def test_a_user_with_three_groups_and_two_replies_unseen_gets_one_email_of_five_lines(
    function: Any, context: Any, user: str
) -> None:
    # Given a user who asked for a daily digest, and eight actions in three groups and two replies
    ask_for_daily_digests(function, context, user)
    three_groups_and_two_replies(function, context, user)

    # When the schedule runs at her due hour
    result = run_digests(function, context, due_hour(datetime.now(UTC)))

    # Then she got one email, with one line per entry: a group is one line
    assert user in result["sentTo"]
    [email] = emails_to(user)
    lines = [line for line in email["text"].splitlines() if line.startswith("- ")]
    assert len(lines) == 5
    assert email["html"].count('class="digest-line"') == 5
    assert any(line.startswith("- Ben and Ann liked your post") for line in lines)
    assert any(line.startswith("- Fay and Eve reposted your post") for line in lines)
    assert sum(line.startswith(("- Gus replied", "- Hal replied")) for line in lines) == 2
    assert email["subject"] == "5 new notifications in your inbox"
    # And it links to the inbox, with a one-click unsubscribe a mail client can use (RFC 8058)
    assert "https://app.inbox.test/inbox" in email["html"]
    assert email["listUnsubscribe"].startswith("<https://api.inbox.test/unsubscribe?token=")
    assert email["listUnsubscribePost"] == "List-Unsubscribe=One-Click"


def test_a_user_who_has_seen_everything_gets_no_email(function: Any, context: Any, call: Any, user: str) -> None:
    # Given a user who asked for a digest and has opened her inbox since her entries arrived
    ask_for_daily_digests(function, context, user)
    three_groups_and_two_replies(function, context, user)
    assert call("POST", "/notifications/seen-all", user)[0] == 204

    # When the schedule runs at her due hour
    result = run_digests(function, context, due_hour(datetime.now(UTC)))

    # Then she gets no email
    assert user not in result["sentTo"]
    assert emails_to(user) == []


def test_a_repeated_run_of_the_same_hour_sends_nothing_twice(function: Any, context: Any, user: str) -> None:
    # Given a user whose digest went out at her due hour
    ask_for_daily_digests(function, context, user)
    three_groups_and_two_replies(function, context, user)
    hour = due_hour(datetime.now(UTC))
    run_digests(function, context, hour)

    # When the schedule retries the same hour
    result = run_digests(function, context, hour)

    # Then she still has one email
    assert user not in result["sentTo"]
    assert len(emails_to(user)) == 1


def test_only_a_verified_address_from_the_token_gets_digests(function: Any, context: Any, call: Any, user: str) -> None:
    # Given a user whose token's address is not verified, and a body that names an address of its own
    saved = ask_for_daily_digests(function, context, user, verified=False)
    status, answer = call("PUT", "/preferences", user, body={"email": "attacker@example.com"})
    three_groups_and_two_replies(function, context, user)

    # When the schedule runs at her due hour
    run_digests(function, context, due_hour(datetime.now(UTC)))

    # Then no address was taken: none from the token, and the body's is refused
    assert saved["email"] is None
    assert (status, answer["error"]["code"]) == (400, "invalid_request")
    assert "email" in answer["error"]["message"]
    assert emails_to(user) == []
    assert [email for email in LocalEmail.sent() if email["to"] == "attacker@example.com"] == []


def test_usernames_and_excerpts_from_producers_never_become_markup(function: Any, context: Any, user: str) -> None:
    # Given a reply whose author's name and text are markup
    ask_for_daily_digests(function, context, user)
    hostile = event(
        "post-created",
        "mallory",
        user,
        "r9",
        actorUsername='<script>alert("name")</script>',
        postText='<img src=x onerror=alert("text")><a href="https://evil.example">win</a>',
    )
    function("ingest").lambda_handler(kafka_event(hostile), context)

    # When her digest is sent
    run_digests(function, context, due_hour(datetime.now(UTC)))

    # Then the HTML part shows the text escaped, with no element of the producer's
    [email] = emails_to(user)
    html = email["html"]
    assert "<script" not in html
    assert "<img" not in html
    assert 'href="https://evil.example"' not in html
    assert "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(&#34;text&#34;)&gt;" in html
    # And the plain-text part shows it as the text it is
    assert '<script>alert("name")</script> replied to your post' in email["text"]


def unsubscribe_request(function: Any, context: Any, method: str, link: str) -> dict[str, Any]:
    token = parse_qs(urlsplit(link).query)["token"][0]
    event = http_event(method, "/unsubscribe", None, query={"token": token})
    if method == "POST":
        # What a mail client posts for RFC 8058's one-click unsubscribe.
        event["body"] = "List-Unsubscribe=One-Click"
        event["headers"]["content-type"] = "application/x-www-form-urlencoded"
    response: dict[str, Any] = function("unsubscribe").lambda_handler(event, context)
    return response


def test_the_one_click_unsubscribe_link_turns_digests_off_without_a_login(
    function: Any, context: Any, call: Any, user: str
) -> None:
    # Given a user's digest
    ask_for_daily_digests(function, context, user)
    three_groups_and_two_replies(function, context, user)
    run_digests(function, context, due_hour(datetime.now(UTC)))
    [email] = emails_to(user)
    link = email["listUnsubscribe"].strip("<>")

    # When a mail scanner follows the link, and then her mail client posts to it
    shown = unsubscribe_request(function, context, "GET", link)
    digest_after_get = call("GET", "/preferences", user)[1]["digest"]["frequency"]
    done = unsubscribe_request(function, context, "POST", link)

    # Then the GET only showed a button; the POST turned her digests off, and nothing else
    assert (shown["statusCode"], digest_after_get) == (200, "daily")
    assert '<form method="post"' in shown["body"]
    assert done["statusCode"] == 200
    assert "You are unsubscribed" in done["body"]
    preferences = call("GET", "/preferences", user)[1]
    assert preferences["digest"]["frequency"] == "off"
    assert preferences["email"] == address(user)
    # And the next day's run sends her nothing
    three_groups_and_two_replies(function, context, user)
    run_digests(function, context, due_hour(datetime.now(UTC)) + timedelta(days=1))
    assert len(emails_to(user)) == 1


def secret_of(local_email: LocalEmail) -> str:
    client = boto3.client("secretsmanager", endpoint_url=local_email.endpoint, region_name="us-east-1")
    return str(client.get_secret_value(SecretId=local_email.secret_arn)["SecretString"])


@pytest.mark.parametrize("spoil", ["tampered", "another key", "expired", "missing"])
def test_a_tampered_or_expired_link_is_a_400_and_changes_nothing(
    function: Any, context: Any, call: Any, user: str, local_email: LocalEmail, spoil: str
) -> None:
    # Given a user with daily digests and a link of hers spoilt one way
    ask_for_daily_digests(function, context, user)
    now = datetime.now(UTC)
    claims = {"sub": user, "aud": "inbox-unsubscribe", "iat": now, "exp": now + timedelta(days=1)}
    good = jwt.encode(claims, secret_of(local_email), algorithm="HS256")
    token = {
        "tampered": good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
        "another key": jwt.encode(claims, "x" * 64, algorithm="HS256"),
        "expired": jwt.encode({**claims, "exp": now - timedelta(seconds=1)}, secret_of(local_email), algorithm="HS256"),
        "missing": "",
    }[spoil]

    # When it is posted
    event = http_event("POST", "/unsubscribe", None, query={"token": token} if token else None)
    response = function("unsubscribe").lambda_handler(event, context)

    # Then it is refused with a 400 naming the problem, and her digests stay on
    body = json.loads(response["body"])
    assert (response["statusCode"], body["error"]["code"]) == (400, "invalid_link")
    assert call("GET", "/preferences", user)[1]["digest"]["frequency"] == "daily"


def test_a_digest_costs_at_most_three_read_units_and_one_write_unit(
    function: Any, context: Any, call: Any, user: str, meter: CapacityMeter
) -> None:
    # Given a user with five unseen entries, due at 04:00 in Tokyo (an hour no other test uses)
    body = {"digest": {"frequency": "daily", "hour": 4, "timezone": "Asia/Tokyo"}}
    claims = {"email": address(user), "email_verified": "true"}
    assert call("PUT", "/preferences", user, body=body, claims=claims)[0] == 200
    three_groups_and_two_replies(function, context, user)
    now = datetime.now(UTC)
    hour = now.replace(hour=19, minute=0, second=0, microsecond=0) + timedelta(days=1 if now.hour >= 19 else 0)
    meter.reset()

    # When her digest is prepared and sent
    result = run_digests(function, context, hour)

    # Then it read 1.5 units (her shard's due items, her preferences, and one query of her watermarks
    # and unseen entries: 0.5 each) in one request per shard and three of her own, and wrote 1 (her
    # next digest, which is also the claim on this one). DynamoDB Local counts nothing for the other
    # shards' empty queries; DynamoDB charges each 0.5, so a lone user's digest reads 3 units there.
    assert result["sentTo"] == [user]
    shard_queries = digest_shards()
    assert (meter.read_units, meter.write_units, meter.requests) == (1.5, 1.0, shard_queries + 3)


def digest_shards() -> int:
    from inbox.store.digests import DIGEST_SHARDS

    return DIGEST_SHARDS
