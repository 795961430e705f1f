"""WebSocket $default: answers what clients send (a ping, or anything else with a clear error)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from inbox.observability import logger
from inbox.sockets.replies import answer


@logger.inject_lambda_context
@event_source(data_class=APIGatewayWebSocketEvent)
def lambda_handler(event: APIGatewayWebSocketEvent, context: LambdaContext) -> dict[str, Any]:
    # The route response sends this body back on the same connection.
    return {"statusCode": 200, "body": json.dumps(answer(event.body), separators=(",", ":"))}
