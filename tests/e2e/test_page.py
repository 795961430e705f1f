"""The inbox page in a real browser (Debian's Chromium, driven by Playwright; nothing is downloaded)."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from inbox_dev.samples import sample_event
from inbox_dev.template import PROJECT_ROOT
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.e2e
# The README's picture; refreshed with INBOX_UPDATE_SCREENSHOT=1 so that test runs leave the tree clean.
README_SCREENSHOT = PROJECT_ROOT / "docs" / "inbox-page.png"
# Every wait that follows a round trip (the API, the WebSocket, Kafka) is generous: a busy machine is slow, not wrong.
ROUND_TRIP_TIMEOUT_MS = 30_000
# A badge that counts something: "1" to "99+".
SOME = re.compile(r"^[1-9]")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    assert executable, "Chromium is not installed: run `make install`"
    with sync_playwright() as playwright:
        # --no-sandbox: Chromium refuses to sandbox itself when run as root (CI runs as root).
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page_errors() -> Iterator[list[str]]:
    errors: list[str] = []
    yield errors
    assert errors == [], f"the page raised: {errors}"


@pytest.fixture
def page(browser: Browser, page_errors: list[str]) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    yield page
    context.close()


def sign_in(page: Page, url: str, user: str) -> None:
    page.goto(url)
    page.fill("#user", user)
    page.click("#sign-in")
    expect(page.locator("#signed-in-as")).to_contain_text(user, timeout=ROUND_TRIP_TIMEOUT_MS)
    expect(page.locator("#connection-status")).to_have_text("live", timeout=ROUND_TRIP_TIMEOUT_MS)


def fire(page: Page, topic: str, actor: str, post: str = "") -> None:
    """The page's own "Fire an event" form: the dev server produces the event on Kafka."""
    page.select_option("#fire-topic", topic)
    page.select_option("#fire-actor", actor)
    page.fill("#fire-post", post)
    page.click("#fire")
    expect(page.locator("#fire-result")).to_contain_text(f"{topic}: {actor}", timeout=ROUND_TRIP_TIMEOUT_MS)


def test_likes_group_the_badge_clears_when_the_inbox_is_opened_and_mentions_have_a_tab(
    local_stack: RunningStack, page: Page, page_errors: list[str], tmp_path: Path
) -> None:
    # Given alice signed in on the page, her inbox empty and live
    alice = f"alice-{uuid.uuid4().hex[:6]}"
    seen_calls: list[str] = []
    opens_inbox = re.compile(r"/notifications/(seen-all|open)\b")
    page.on("request", lambda request: seen_calls.append(request.url) if opens_inbox.search(request.url) else None)
    sign_in(page, local_stack.page, alice)
    expect(page.locator("#badge")).to_have_text("0", timeout=ROUND_TRIP_TIMEOUT_MS)
    expect(page.locator("li.notification")).to_have_count(0)

    # And her phone registered for push
    page.select_option("#device-platform", "apns")
    page.fill("#device-token", uuid.uuid4().hex * 2)
    page.click("#add-device")
    expect(page.locator("li.device")).to_have_count(1, timeout=ROUND_TRIP_TIMEOUT_MS)

    # When bob likes her post, through Kafka
    post = f"post-{uuid.uuid4().hex[:8]}"
    fire(page, "message-liked", "bob", post)

    # Then it appears at the top, unread, and the badge counts it as new
    item = page.locator("li.notification").first
    expect(item).to_have_text(re.compile(r"Bob liked your post"), timeout=ROUND_TRIP_TIMEOUT_MS)
    expect(item).to_have_class(re.compile(r"\bunread\b"), timeout=ROUND_TRIP_TIMEOUT_MS)
    expect(page.locator("#badge")).to_have_text("1", timeout=ROUND_TRIP_TIMEOUT_MS)
    # And the push SNS would have sent to her phone shows
    expect(page.locator("#pushes li", has_text="Bob")).not_to_have_count(0, timeout=ROUND_TRIP_TIMEOUT_MS)

    # When carol likes the same post
    fire(page, "message-liked", "carol", post)

    # Then the two likes are one entry, newest actor first, with both avatars
    group = page.locator("li.notification", has_text="liked your post")
    expect(group.locator(".sentence")).to_have_text("Carol and Bob liked your post", timeout=ROUND_TRIP_TIMEOUT_MS)
    expect(page.locator("li.notification")).to_have_count(1)
    expect(group.locator(".avatar")).to_have_count(2)
    expect(page.locator("#badge")).to_have_text(SOME, timeout=ROUND_TRIP_TIMEOUT_MS)

    # When she opens the inbox again, in a second tab
    second = page.context.new_page()
    second.on("pageerror", lambda error: page_errors.append(str(error)))
    sign_in(second, local_stack.page, alice)

    # Then the badge clears there, and in the first tab through the WebSocket; the entry stays unread
    expect(second.locator("#badge")).to_have_text("0", timeout=ROUND_TRIP_TIMEOUT_MS)
    expect(page.locator("#badge")).to_have_text("0", timeout=ROUND_TRIP_TIMEOUT_MS)
    assert len(seen_calls) == 1, "the first tab opened the inbox again: its badge must clear from the WebSocket counts"
    expect(second.locator("li.notification.unread")).to_have_count(1, timeout=ROUND_TRIP_TIMEOUT_MS)
    second.close()

    # When dave replies to her post, and erin mentions her in one of his own, through Kafka
    fire(page, "post-created", "dave")
    mention = sample_event("post-created", actor="erin", recipient=alice)
    del mention["replyToPostId"], mention["replyToUserId"]
    local_stack.produce("post-created", {**mention, "mentions": [alice]})
    expect(page.locator("li.notification")).to_have_count(3, timeout=ROUND_TRIP_TIMEOUT_MS)
    expect(page.locator("#badge")).to_have_text("2", timeout=ROUND_TRIP_TIMEOUT_MS)

    # And she reads the likes
    group.locator("button.mark-read").click()
    expect(group).not_to_have_class(re.compile(r"\bunread\b"), timeout=ROUND_TRIP_TIMEOUT_MS)
    expect(page.locator("#unread-count")).to_have_text("2 unread", timeout=ROUND_TRIP_TIMEOUT_MS)
    expect(page.locator("li.notification.fresh")).to_have_count(0, timeout=ROUND_TRIP_TIMEOUT_MS)
    page.mouse.move(0, 0)
    update = os.environ.get("INBOX_UPDATE_SCREENSHOT") == "1"
    page.screenshot(path=str(README_SCREENSHOT if update else tmp_path / "inbox-page.png"), full_page=True)

    # When she opens the Mentions tab
    page.click("#tab-mentions")

    # Then it lists the reply and the mention, and nothing else
    expect(page.locator("#tab-mentions")).to_have_attribute("aria-selected", "true")
    expect(page.locator("li.notification")).to_have_count(2, timeout=ROUND_TRIP_TIMEOUT_MS)
    expect(page.locator("li.notification[data-type=reply]")).to_contain_text("Dave replied to your post")
    expect(page.locator("li.notification[data-type=mention]")).to_contain_text("Erin mentioned you")

    # When she goes back to All and archives the likes
    page.click("#tab-all")
    expect(page.locator("li.notification")).to_have_count(3, timeout=ROUND_TRIP_TIMEOUT_MS)
    group.locator("button.archive").click()

    # Then they leave the inbox for the Archived view
    expect(page.locator("li.notification")).to_have_count(2, timeout=ROUND_TRIP_TIMEOUT_MS)
    page.click("#tab-archived")
    expect(page.locator("li.notification")).to_have_count(1, timeout=ROUND_TRIP_TIMEOUT_MS)
    expect(page.locator("li.notification .sentence")).to_have_text("Carol and Bob liked your post")


def test_a_digest_sent_from_the_page_shows_in_the_emails_panel(local_stack: RunningStack, page: Page) -> None:
    # Given erin signed in, with a daily email digest saved in her preferences
    erin = f"erin-{uuid.uuid4().hex[:6]}"
    sign_in(page, local_stack.page, erin)
    expect(page.locator("#pref-like-inbox")).to_be_checked(timeout=ROUND_TRIP_TIMEOUT_MS)
    page.select_option("#digest-frequency", "daily")
    page.click("#save-preferences")
    expect(page.locator("#preferences-status")).to_contain_text("Saved", timeout=ROUND_TRIP_TIMEOUT_MS)
    expect(page.locator("#digest-address")).to_have_text(f"{erin}@example.com")

    # And two likes of one post and a reply reach her inbox through Kafka, unseen
    post = f"post-{uuid.uuid4().hex[:8]}"
    fire(page, "message-liked", "bob", post)
    fire(page, "message-liked", "carol", post)
    fire(page, "post-created", "dave")
    expect(page.locator("li.notification")).to_have_count(2, timeout=ROUND_TRIP_TIMEOUT_MS)
    group = page.locator("li.notification", has_text="liked your post").locator(".sentence")
    expect(group).to_have_text("Carol and Bob liked your post", timeout=ROUND_TRIP_TIMEOUT_MS)

    # When she presses "Send digest now"
    page.click("#send-digest")

    # Then the email SES sent shows in the Emails panel, rendered: the group is one line
    expect(page.locator("#digest-status")).to_contain_text(f"Sent to {erin}", timeout=ROUND_TRIP_TIMEOUT_MS)
    email = page.locator("li.email", has_text=f"to {erin}@example.com")
    expect(email.locator(".email-subject")).to_have_text("2 new notifications in your inbox")
    body = email.locator("iframe.email-body").content_frame
    expect(body.locator(".digest-line")).to_have_count(2, timeout=ROUND_TRIP_TIMEOUT_MS)
    expect(body.locator(".digest-line", has_text="Carol and Bob liked your post")).to_have_count(1)
    expect(body.locator(".digest-line", has_text="Dave replied to your post")).to_have_count(1)
    expect(body.get_by_role("link", name="Unsubscribe")).to_have_attribute("href", re.compile(r"/unsubscribe\?token="))
