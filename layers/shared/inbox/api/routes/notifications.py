"""Routes of /notifications: list (tabs, archive), open, counts, seen, read, unread, archive, clear, delete."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from inbox import wiring
from inbox.api.cursor import MAX_CURSOR_CHARS
from inbox.api.errors import documented
from inbox.api.reader import InboxOpener, InboxReader
from inbox.api.routes import current_user, no_content
from inbox.errors import InvalidInput
from inbox.models import Counts, InboxPage, NotificationType, UnreadCount
from inbox.store.listing import Listing, Status

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]  # its __init__ is not annotated
NotificationId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z2-7]{26}$")]
TYPES = ", ".join(kind.value for kind in NotificationType)


@lru_cache(maxsize=1)
def reader() -> InboxReader:
    return InboxReader(wiring.store().queries)


@lru_cache(maxsize=1)
def opener() -> InboxOpener:
    store = wiring.store()
    return InboxOpener(store.queries, store.watermarks)


def types_of(value: str | None) -> frozenset[NotificationType]:
    names = {name.strip() for name in (value or "").split(",") if name.strip()}
    unknown = sorted(names - {kind.value for kind in NotificationType})
    if unknown:
        raise InvalidInput(f"type: unknown {', '.join(unknown)}; the types are {TYPES}")
    return frozenset(NotificationType(name) for name in names)


@router.get(
    "/notifications",
    summary="Newest entries first (by updatedAt), a page at a time: the inbox, a tab or the archive; "
    "the first page also carries the counts",
    responses=documented(200, "A page", 400),
)
def list_notifications(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR_CHARS)] = None,
    unread_only: Annotated[bool, Query(alias="unreadOnly")] = False,
    status: Annotated[Literal["inbox", "archived"], Query()] = "inbox",
    type: Annotated[  # noqa: A002 - the query parameter's name
        str | None, Query(max_length=64, description=f"Comma-separated types ({TYPES}); mention,reply is a tab")
    ] = None,
) -> InboxPage:
    listing = Listing(status=Status(status), unread_only=unread_only, types=types_of(type))
    return reader().page(current_user(router), limit=limit, cursor=cursor or None, listing=listing)


@router.post(
    "/notifications/open",
    summary="The inbox was opened: its first page with the counts, and everything it showed is seen. Each "
    "entry's `seen` is as it was before, so that the app can mark what is new",
    responses=documented(200, "The first page, and the counts after the open", 400, 415),
)
def open_inbox(limit: Annotated[int, Query(ge=1, le=100)] = 20) -> InboxPage:
    return opener().open(current_user(router), limit=limit)


@router.get(
    "/notifications/unread-count",
    summary="Unread entries, exact up to 99",
    responses=documented(200, "The count"),
)
def unread_count() -> UnreadCount:
    return reader().unread_count(current_user(router))


@router.get(
    "/notifications/counts",
    summary="Unread and unseen entries, each exact up to 99 (capped: 99 or more)",
    responses=documented(200, "The counts"),
)
def counts() -> Counts:
    return reader().counts(current_user(router))


@router.post(
    "/notifications/seen-all",
    summary="The inbox was opened: everything in it is seen (nothing is written when nothing is unseen)",
    responses=documented(204, "Done", 400, 415),
)
def seen_all() -> Response[Any]:
    wiring.store().watermarks.seen_all(current_user(router))
    return no_content()


@router.post("/notifications/read-all", summary="Mark every entry read", responses=documented(204, "Done", 400, 415))
def mark_all_read() -> Response[Any]:
    wiring.store().watermarks.read_all(current_user(router))
    return no_content()


@router.post(
    "/notifications/clear-all",
    summary="Hide everything in the inbox now; later entries show as usual",
    responses=documented(204, "Done", 400, 415),
)
def clear_all() -> Response[Any]:
    wiring.store().watermarks.clear_all(current_user(router))
    return no_content()


# Path parameters are named as in template.yaml's routes ({id}), so that the document matches the API.
@router.post(
    "/notifications/<id>/read", summary="Mark one entry read", responses=documented(204, "Done", 400, 404, 415)
)
def mark_read(id: NotificationId) -> Response[Any]:  # noqa: A002
    wiring.store().entries.mark_read(current_user(router), id)
    return no_content()


@router.post(
    "/notifications/<id>/unread", summary="Mark one entry unread", responses=documented(204, "Done", 400, 404, 415)
)
def mark_unread(id: NotificationId) -> Response[Any]:  # noqa: A002
    wiring.store().entries.mark_unread(current_user(router), id)
    return no_content()


@router.post(
    "/notifications/<id>/archive",
    summary="Archive one entry: it leaves the inbox for ?status=archived",
    responses=documented(204, "Done", 400, 404, 415),
)
def archive(id: NotificationId) -> Response[Any]:  # noqa: A002
    wiring.store().entries.archive(current_user(router), id)
    return no_content()


@router.post(
    "/notifications/<id>/unarchive",
    summary="Bring one entry back from the archive",
    responses=documented(204, "Done", 400, 404, 415),
)
def unarchive(id: NotificationId) -> Response[Any]:  # noqa: A002
    wiring.store().entries.unarchive(current_user(router), id)
    return no_content()


@router.delete("/notifications/<id>", summary="Delete one entry", responses=documented(204, "Done", 400, 404))
def delete_notification(id: NotificationId) -> Response[Any]:  # noqa: A002
    wiring.store().entries.delete(current_user(router), id)
    return no_content()
