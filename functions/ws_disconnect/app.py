"""WebSocket $disconnect: forget the connection (a missed one expires with its TTL)."""

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
    connection_id = event.request_context["connectionId"]
    if user_id:
        connections.remove(user_id, connection_id)
    else:
        logger.warning(
            "disconnect without a user; the connection expires with its TTL", extra={"connection": connection_id}
        )
    return {"statusCode": 200}
