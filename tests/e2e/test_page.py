"""The inbox page in a real browser (Debian's Chromium, driven by Playwright; nothing is downloaded)."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from inbox_dev.template import PROJECT_ROOT
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.e2e
# The README's picture; refreshed with INBOX_UPDATE_SCREENSHOT=1 so that test runs leave the tree clean.
README_SCREENSHOT = PROJECT_ROOT / "docs" / "inbox-page.png"
# Every wait that follows a round trip (the API, the WebSocket, Kafka) is generous: a busy machine is slow, not wrong.
ROUND_TRIP_TIMEOUT_MS = 30_000


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
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], f"the page raised: {errors}"


def test_sign_in_see_a_like_arrive_live_and_read_it(local_stack: RunningStack, page: Page, tmp_path: Path) -> None:
    # Given alice signed in on the page, her inbox empty and live
    alice = f"alice-{uuid.uuid4().hex[:6]}"
    page.goto(local_stack.page)
    page.fill("#user", alice)
    page.click("#sign-in")
    expect(page.locator("#signed-in-as")).to_contain_text(alice, timeout=ROUND_TRIP_TIMEOUT_MS)
    expect(page.locator("#connection-status")).to_have_text("live", timeout=ROUND_TRIP_TIMEOUT_MS)
    expect(page.locator("#badge")).to_have_text("0", timeout=ROUND_TRIP_TIMEOUT_MS)

    # And her phone registered for push
    page.select_option("#device-platform", "apns")
    page.fill("#device-token", uuid.uuid4().hex * 2)
    page.click("#add-device")
    expect(page.locator("li.device")).to_have_count(1, timeout=ROUND_TRIP_TIMEOUT_MS)

    # When she fires a like from bob through Kafka
    page.select_option("#fire-topic", "message-liked")
    page.locator("#fire-actor").select_option("bob")
    page.click("#fire")

    # Then it appears at the top, unread, and the badge counts it
    item = page.locator("li.notification").first
    expect(item).to_have_class(re.compile(r"\bunread\b"), timeout=ROUND_TRIP_TIMEOUT_MS)
    expect(item).to_contain_text("Bob", timeout=ROUND_TRIP_TIMEOUT_MS)
    expect(page.locator("#badge")).to_have_text("1", timeout=ROUND_TRIP_TIMEOUT_MS)
    # And the push SNS would have sent to her phone shows
    expect(page.locator("#pushes li", has_text="Bob")).not_to_have_count(0, timeout=ROUND_TRIP_TIMEOUT_MS)

    # When a second event arrives and she marks the first one read
    page.select_option("#fire-topic", "user-followed")
    page.click("#fire")
    expect(page.locator("li.notification")).to_have_count(2, timeout=ROUND_TRIP_TIMEOUT_MS)
    expect(page.locator("#badge")).to_have_text("2", timeout=ROUND_TRIP_TIMEOUT_MS)
    page.locator("li.notification", has_text="liked").locator("button.mark-read").click()

    # Then the badge drops and the item shows read
    expect(page.locator("#badge")).to_have_text("1", timeout=ROUND_TRIP_TIMEOUT_MS)
    expect(page.locator("li.notification.unread")).to_have_count(1, timeout=ROUND_TRIP_TIMEOUT_MS)
    update = os.environ.get("INBOX_UPDATE_SCREENSHOT") == "1"
    page.screenshot(path=str(README_SCREENSHOT if update else tmp_path / "inbox-page.png"), full_page=True)
