"""Inbox HTTP API: list, count, mark read, delete, preferences and devices of the token's user."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from inbox import clients, wiring
from inbox.cursor import MAX_CURSOR_CHARS
from inbox.errors import Unauthorized
from inbox.http import documented, refusal, register_error_handlers
from inbox.models import Device, DeviceRegistration, NotificationPage, Preferences, UnreadCount
from inbox.observability import logger, metrics
from inbox.push import DeviceRegistry
from inbox.settings import push_settings

repository = wiring.repository()
devices = DeviceRegistry(repository, clients.sns(), push_settings())

app = APIGatewayHttpResolver(enable_validation=True)
app.configure_openapi(
    title="Notification inbox",
    version="1.0.0",
    security_schemes={"bearer": HTTPBearer(bearerFormat="JWT")},
    security=[{"bearer": []}],
)
app.enable_swagger(path="/docs")
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
    return Response(200, content_types.APPLICATION_JSON, app.get_openapi_json_schema())


@app.get(
    "/notifications", summary="Newest notifications first, a page at a time", responses=documented(200, "A page", 400)
)
def list_notifications(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR_CHARS)] = None,
    unread_only: Annotated[bool, Query(alias="unreadOnly")] = False,
) -> NotificationPage:
    return repository.list_notifications(current_user(), limit=limit, cursor=cursor or None, unread_only=unread_only)


@app.get(
    "/notifications/unread-count",
    summary="Unread notifications, exact up to 99",
    responses=documented(200, "The count"),
)
def unread_count() -> UnreadCount:
    return repository.unread_count(current_user())


@app.post(
    "/notifications/read-all", summary="Mark every notification read", responses=documented(204, "Done", 400, 415)
)
def mark_all_read() -> Response[Any]:
    repository.mark_all_read(current_user())
    return no_content()


# Path parameters are named as in template.yaml's routes ({id}), so that the document matches the API.
@app.post(
    "/notifications/<id>/read",
    summary="Mark one notification read",
    responses=documented(204, "Done", 400, 404, 415),
)
def mark_read(id: NotificationId) -> Response[Any]:  # noqa: A002
    repository.mark_read(current_user(), id)
    return no_content()


@app.delete("/notifications/<id>", summary="Delete one notification", responses=documented(204, "Done", 400, 404))
def delete_notification(id: NotificationId) -> Response[Any]:  # noqa: A002
    repository.delete(current_user(), id)
    return no_content()


@app.get("/preferences", summary="Muted types and delivery channels", responses=documented(200, "The preferences"))
def get_preferences() -> Preferences:
    return repository.preferences(current_user())


@app.put(
    "/preferences",
    summary="Replace muted types and delivery channels",
    responses=documented(200, "The preferences as saved", 400, 415),
)
def put_preferences(preferences: Preferences) -> Preferences:
    return repository.put_preferences(current_user(), preferences)


@app.post(
    "/devices",
    summary="Register a phone for push, or refresh its registration",
    status_code=201,
    responses=documented(201, "The device", 400, 415, 422),
)
def register_device(registration: DeviceRegistration) -> Device:
    return devices.register(current_user(), registration)


@app.get("/devices", summary="The user's phones", responses=documented(200, "The devices"))
def list_devices() -> list[Device]:
    return [stored.device for stored in repository.stored_devices(current_user())]


@app.delete("/devices/<id>", summary="Stop pushing to a phone", responses=documented(204, "Done", 400, 404))
def delete_device(id: DeviceId) -> Response[Any]:  # noqa: A002
    devices.unregister(current_user(), id)
    return no_content()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return refusal(event) or app.resolve(event, context)
