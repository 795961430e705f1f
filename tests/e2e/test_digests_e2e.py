"""Email digests through the running stack: `make digest` from the shell, the email SES accepted,
and its one-click unsubscribe over real HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests
from inbox_dev import cli
from inbox_dev.samples import sample_event

from tests.e2e.conftest import RunningStack, wait_until

pytestmark = pytest.mark.e2e


def test_make_digest_sends_the_email_and_its_one_click_unsubscribe_works(
    local_stack: RunningStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a user who saved a weekly digest with her token (which carries her verified address)
    user = f"gail-{uuid.uuid4().hex[:6]}"
    token = local_stack.token(user)
    saved = local_stack.api("PUT", "/preferences", token, json={"digest": {"frequency": "weekly"}})
    assert (saved.status_code, saved.json()["email"]) == (200, f"{user}@example.com")
    # And three likes of one post of hers, through Kafka
    post = f"post-{uuid.uuid4().hex[:8]}"
    for actor in ("ann", "ben", "cid"):
        local_stack.produce(
            "message-liked", sample_event("message-liked", actor=actor, recipient=user, resource_id=post)
        )
    wait_until(lambda: local_stack.api("GET", "/notifications", token).json()["items"])

    # When her digest is sent from the shell, as `make digest USERS=<her>` does
    status = cli.main(["digest", "--state-dir", str(local_stack.state_dir), "--user", user])

    # Then it went out, one line for the group, to her address
    assert status == 0
    assert user in capsys.readouterr().out
    emails: list[dict[str, Any]] = [
        email for email in local_stack.dev("/dev/emails")["items"] if email["to"] == f"{user}@example.com"
    ]
    assert len(emails) == 1
    lines = [line for line in emails[0]["text"].splitlines() if line.startswith("- ")]
    assert len(lines) == 1
    assert lines[0].startswith("- Cid, Ben and Ann liked your post")

    # When her mail client uses the one-click unsubscribe (RFC 8058), with no login
    link = emails[0]["listUnsubscribe"].strip("<>")
    assert link.startswith(f"{local_stack.http_api}/unsubscribe?token=")
    answer = requests.post(
        link,
        data="List-Unsubscribe=One-Click",
        timeout=30,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    # Then her digests are off
    assert answer.status_code == 200
    assert local_stack.api("GET", "/preferences", token).json()["digest"]["frequency"] == "off"
    # And a link whose signature was altered is refused
    spoilt = requests.post(link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb"), timeout=30)
    assert (spoilt.status_code, spoilt.json()["error"]["code"]) == (400, "invalid_link")
