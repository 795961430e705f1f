"""Routes of /preferences: muted types and delivery channels."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from inbox import wiring
from inbox.api.errors import documented
from inbox.api.routes import current_user
from inbox.models import Preferences

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]  # its __init__ is not annotated


@router.get("/preferences", summary="Muted types and delivery channels", responses=documented(200, "The preferences"))
def get_preferences() -> Preferences:
    return wiring.store().preferences.get(current_user(router))


@router.put(
    "/preferences",
    summary="Replace muted types and delivery channels",
    responses=documented(200, "The preferences as saved", 400, 415),
)
def put_preferences(preferences: Preferences) -> Preferences:
    return wiring.store().preferences.put(current_user(router), preferences)
