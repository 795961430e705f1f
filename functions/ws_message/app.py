"""WebSocket $default: answers what clients send (a ping, a sync, or anything else with a clear error)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from inbox import wiring
from inbox.api.reader import InboxReader
from inbox.observability import logger
from inbox.sockets.principal import connection_user
from inbox.sockets.replies import answer

inbox = InboxReader(wiring.store().queries)


@logger.inject_lambda_context
@event_source(data_class=APIGatewayWebSocketEvent)
def lambda_handler(event: APIGatewayWebSocketEvent, context: LambdaContext) -> dict[str, Any]:
    # The route response sends this body back on the same connection.
    reply = answer(event.body, connection_user(event.request_context), inbox)
    return {"statusCode": 200, "body": json.dumps(reply, separators=(",", ":"))}
