"""WebSocket $connect: remember the connection under the user the authorizer vouched for, within the user's cap."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from inbox import aws_clients, wiring
from inbox.observability import logger
from inbox.settings import socket_settings
from inbox.sockets.admission import Admission
from inbox.sockets.handshake import connect_answer
from inbox.sockets.management import ManagementApiCloser
from inbox.sockets.principal import connection_user

# Closing is rare and one connection at a time: a small pool.
MANAGEMENT_API_POOL = 2

connections = wiring.store().connections
callback_url = str(socket_settings().websocket_callback_url)
admission = Admission(
    connections,
    ManagementApiCloser(lambda: aws_clients.management_api(callback_url, MANAGEMENT_API_POOL)),
    max_per_user=connections.max_per_user,
)


@logger.inject_lambda_context
@event_source(data_class=APIGatewayWebSocketEvent)
def lambda_handler(event: APIGatewayWebSocketEvent, context: LambdaContext) -> dict[str, Any]:
    user_id = connection_user(event.request_context)
    if not user_id:
        return {"statusCode": 401, "body": "Unauthorized"}
    admission.admit(user_id, event.request_context["connectionId"])
    return connect_answer(event.get("headers"))
