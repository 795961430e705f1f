"""WebSocket $connect: remember the connection under the user the authorizer vouched for."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from inbox import wiring
from inbox.observability import logger
from inbox.sockets.principal import connection_user

connections = wiring.store().connections


@logger.inject_lambda_context
@event_source(data_class=APIGatewayWebSocketEvent)
def lambda_handler(event: APIGatewayWebSocketEvent, context: LambdaContext) -> dict[str, Any]:
    user_id = connection_user(event.request_context)
    if not user_id:
        return {"statusCode": 401, "body": "Unauthorized"}
    connections.add(user_id, event.request_context["connectionId"])
    return {"statusCode": 200}
