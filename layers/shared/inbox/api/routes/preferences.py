"""Routes of /preferences: the type-by-channel grid, quiet hours and the email digest."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from inbox import wiring
from inbox.api.errors import documented
from inbox.api.principal import verified_email
from inbox.api.routes import current_user
from inbox.preferences.model import Preferences, PreferencesUpdate

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]  # its __init__ is not annotated


@router.get("/preferences", summary="The effective preferences", responses=documented(200, "The preferences"))
def get_preferences() -> Preferences:
    return wiring.preference_service().get(current_user(router))


@router.put(
    "/preferences",
    summary="Replace the preferences (the digest address is the token's verified email)",
    responses=documented(200, "The preferences as saved", 400, 415),
)
def put_preferences(update: PreferencesUpdate) -> Preferences:
    claims = router.current_event.request_context.authorizer.jwt_claim
    return wiring.preference_service().save(current_user(router), update, verified_email(claims))
