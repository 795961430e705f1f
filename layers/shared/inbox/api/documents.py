"""The OpenAPI document (/openapi.json) and its Swagger UI (/docs), set up by the first request for one.

Powertools' OpenAPI models and Swagger UI are a fifth of the API function's imports
(`python -X importtime`), and no other route needs them: every cold start would pay for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

# The package is imported by the function already; its OpenAPI models are what costs.
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

PATHS = ("/openapi.json", "/docs")


def serve_when_asked(app: APIGatewayHttpResolver, event: Mapping[str, Any]) -> None:
    """Adds the documents' routes to ``app`` before the first request that asks for one of them."""
    if str(event.get("rawPath", "")).endswith(PATHS):
        _add_routes(app)


@lru_cache(maxsize=1)
def _add_routes(app: APIGatewayHttpResolver) -> None:
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    app.configure_openapi(
        title="Notification inbox",
        version="1.0.0",
        security_schemes={"bearer": HTTPBearer(bearerFormat="JWT")},
        security=[{"bearer": []}],
    )
    app.enable_swagger(path="/docs")

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_document() -> Response[str]:
        return Response(200, content_types.APPLICATION_JSON, app.get_openapi_json_schema())
