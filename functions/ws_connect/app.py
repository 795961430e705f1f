"""WebSocket $connect: remember the connection under the user the authorizer vouched for."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from inbox import wiring
from inbox.observability import logger

repository = wiring.repository()


@logger.inject_lambda_context
@event_source(data_class=APIGatewayWebSocketEvent)
def lambda_handler(event: APIGatewayWebSocketEvent, context: LambdaContext) -> dict[str, Any]:
    authorizer = event.request_context.get("authorizer") or {}
    user_id = authorizer.get("principalId") or authorizer.get("userId")
    if not user_id:
        return {"statusCode": 401, "body": "Unauthorized"}
    repository.add_connection(user_id, event.request_context["connectionId"])
    return {"statusCode": 200}
