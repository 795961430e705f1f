"""Inbox HTTP API: list, count, mark read, delete, preferences and devices of the token's user."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from inbox import clients, wiring
from inbox.cursor import MAX_CURSOR_CHARS
from inbox.errors import Unauthorized
from inbox.http import register_error_handlers
from inbox.models import Device, DeviceRegistration, NotificationPage, Preferences, UnreadCount
from inbox.observability import logger, metrics
from inbox.push import DeviceRegistry
from inbox.settings import push_settings

repository = wiring.repository()
devices = DeviceRegistry(repository, clients.sns(), push_settings())

app = APIGatewayHttpResolver(enable_validation=True)
app.enable_swagger(path="/docs", title="Notification inbox", version="1.0.0")
register_error_handlers(app)

NotificationId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z2-7]{26}$")]
DeviceId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z2-7]{16}$")]


def current_user() -> str:
    claims = app.current_event.request_context.authorizer.jwt_claim or {}
    user_id = claims.get("sub")
    if not isinstance(user_id, str) or not user_id:
        raise Unauthorized("a valid bearer token is required")
    return user_id


def no_content() -> Response[Any]:
    return Response(status_code=204, content_type=content_types.APPLICATION_JSON, body="")


@app.get("/openapi.json", include_in_schema=False)
def openapi_document() -> Response[str]:
    return Response(200, content_types.APPLICATION_JSON, app.get_openapi_json_schema(title="Notification inbox"))


@app.get("/notifications", summary="Newest notifications first, a page at a time")
def list_notifications(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR_CHARS)] = None,
    unread_only: Annotated[bool, Query(alias="unreadOnly")] = False,
) -> NotificationPage:
    return repository.list_notifications(current_user(), limit=limit, cursor=cursor or None, unread_only=unread_only)


@app.get("/notifications/unread-count", summary="Unread notifications, exact up to 99")
def unread_count() -> UnreadCount:
    return repository.unread_count(current_user())


@app.post("/notifications/read-all", summary="Mark every notification read")
def mark_all_read() -> Response[Any]:
    repository.mark_all_read(current_user())
    return no_content()


@app.post("/notifications/<notification_id>/read", summary="Mark one notification read")
def mark_read(notification_id: NotificationId) -> Response[Any]:
    repository.mark_read(current_user(), notification_id)
    return no_content()


@app.delete("/notifications/<notification_id>", summary="Delete one notification")
def delete_notification(notification_id: NotificationId) -> Response[Any]:
    repository.delete(current_user(), notification_id)
    return no_content()


@app.get("/preferences", summary="Muted types and delivery channels")
def get_preferences() -> Preferences:
    return repository.preferences(current_user())


@app.put("/preferences", summary="Replace muted types and delivery channels")
def put_preferences(preferences: Preferences) -> Preferences:
    return repository.put_preferences(current_user(), preferences)


@app.post("/devices", summary="Register a phone for push, or refresh its registration")
def register_device(registration: DeviceRegistration) -> tuple[Device, int]:
    return devices.register(current_user(), registration), 201


@app.get("/devices", summary="The user's phones")
def list_devices() -> list[Device]:
    return [stored.device for stored in repository.stored_devices(current_user())]


@app.delete("/devices/<device_id>", summary="Stop pushing to a phone")
def delete_device(device_id: DeviceId) -> Response[Any]:
    devices.unregister(current_user(), device_id)
    return no_content()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
