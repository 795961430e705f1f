"""Inbox HTTP API: list, count, mark read, delete, preferences and devices of the token's user."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from inbox.api import documents
from inbox.api.errors import refusal, register_error_handlers
from inbox.api.routes import devices, notifications, preferences
from inbox.observability import logger, metrics

app = APIGatewayHttpResolver(enable_validation=True)
register_error_handlers(app)
for routes in (notifications, preferences, devices):
    app.include_router(routes.router)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    documents.serve_when_asked(app, event)
    return refusal(event) or app.resolve(event, context)
