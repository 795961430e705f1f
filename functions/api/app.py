"""Inbox HTTP API: list, count, mark read, delete, preferences and devices of the token's user."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from inbox.api.errors import refusal, register_error_handlers
from inbox.api.routes import devices, notifications, preferences
from inbox.observability import logger, metrics

app = APIGatewayHttpResolver(enable_validation=True)
app.configure_openapi(
    title="Notification inbox",
    version="1.0.0",
    security_schemes={"bearer": HTTPBearer(bearerFormat="JWT")},
    security=[{"bearer": []}],
)
app.enable_swagger(path="/docs")
register_error_handlers(app)
for routes in (notifications, preferences, devices):
    app.include_router(routes.router)


@app.get("/openapi.json", include_in_schema=False)
def openapi_document() -> Response[str]:
    return Response(200, content_types.APPLICATION_JSON, app.get_openapi_json_schema())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return refusal(event) or app.resolve(event, context)
