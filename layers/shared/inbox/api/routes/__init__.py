"""The HTTP API's routes, one Router per resource; functions/api/app.py joins them."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from inbox.api.principal import user_of_claims


def current_user(router: APIGatewayHttpRouter) -> str:
    return user_of_claims(router.current_event.request_context.authorizer.jwt_claim)


def no_content() -> Response[Any]:
    return Response(status_code=204, content_type=content_types.APPLICATION_JSON, body="")
