"""A digest's email, rendered from Jinja2 templates: an HTML part and a plain-text part.

Usernames and excerpts come from producers: the HTML part escapes everything it is given
(autoescaping is on for it), so no producer can put markup into an email.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from inbox.delivery.push import title
from inbox.models import Notification

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class DigestLine:
    title: str
    excerpt: str | None
    when: str


@dataclass(frozen=True)
class DigestEmail:
    subject: str
    text: str
    html: str
    unsubscribe_url: str
    lines: int


def line_of(notification: Notification) -> DigestLine:
    """One line per entry: a group of likes is one line ("Alice, Bob and 3 others liked your post")."""
    return DigestLine(
        title=title(notification),
        excerpt=notification.resource.excerpt,
        when=notification.updated_at.strftime("%d %b %Y, %H:%M UTC"),
    )


@cache
def templates() -> Environment:
    """The product's templates, loaded and compiled once per process; every ``.html.j2`` one escapes
    what it is given."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def unsubscribe_page(*, action: str, done: bool) -> str:
    """The link's page: a button that posts (a GET never unsubscribes: mail scanners follow links), then the result."""
    return templates().get_template("unsubscribe.html.j2").render(action=action, done=done)


class DigestComposer:
    def __init__(self, inbox_url: str) -> None:
        self._inbox_url = inbox_url
        self._templates = templates()

    def compose(
        self, notifications: list[Notification], *, more: bool, frequency: str, unsubscribe_url: str
    ) -> DigestEmail:
        count = f"{len(notifications)}{'+' if more else ''}"
        subject = f"{count} new notification{'' if count == '1' else 's'} in your inbox"
        context = {
            "subject": subject,
            "lines": [line_of(notification) for notification in notifications],
            "more": more,
            "frequency": frequency,
            "inbox_url": self._inbox_url,
            "unsubscribe_url": unsubscribe_url,
        }
        return DigestEmail(
            subject=subject,
            text=self._templates.get_template("digest.txt.j2").render(context),
            html=self._templates.get_template("digest.html.j2").render(context),
            unsubscribe_url=unsubscribe_url,
            lines=len(notifications),
        )
