"""Routes of /notifications: list, count, mark read, delete."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from inbox import wiring
from inbox.api.cursor import MAX_CURSOR_CHARS
from inbox.api.errors import documented
from inbox.api.reader import InboxReader
from inbox.api.routes import current_user, no_content
from inbox.models import NotificationPage, UnreadCount

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]  # its __init__ is not annotated
NotificationId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z2-7]{26}$")]


@lru_cache(maxsize=1)
def reader() -> InboxReader:
    return InboxReader(wiring.store().notifications)


@router.get(
    "/notifications", summary="Newest notifications first, a page at a time", responses=documented(200, "A page", 400)
)
def list_notifications(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR_CHARS)] = None,
    unread_only: Annotated[bool, Query(alias="unreadOnly")] = False,
) -> NotificationPage:
    return reader().page(current_user(router), limit=limit, cursor=cursor or None, unread_only=unread_only)


@router.get(
    "/notifications/unread-count",
    summary="Unread notifications, exact up to 99",
    responses=documented(200, "The count"),
)
def unread_count() -> UnreadCount:
    return reader().unread_count(current_user(router))


@router.post(
    "/notifications/read-all", summary="Mark every notification read", responses=documented(204, "Done", 400, 415)
)
def mark_all_read() -> Response[Any]:
    wiring.store().notifications.mark_all_read(current_user(router))
    return no_content()


# Path parameters are named as in template.yaml's routes ({id}), so that the document matches the API.
@router.post(
    "/notifications/<id>/read",
    summary="Mark one notification read",
    responses=documented(204, "Done", 400, 404, 415),
)
def mark_read(id: NotificationId) -> Response[Any]:  # noqa: A002
    wiring.store().notifications.mark_read(current_user(router), id)
    return no_content()


@router.delete("/notifications/<id>", summary="Delete one notification", responses=documented(204, "Done", 400, 404))
def delete_notification(id: NotificationId) -> Response[Any]:  # noqa: A002
    wiring.store().notifications.delete(current_user(router), id)
    return no_content()
