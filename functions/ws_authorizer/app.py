"""WebSocket $connect authorizer: the client's token (subprotocol pair or ?token=) must be a valid JWT of the issuer."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponseWebSocket,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from inbox.auth import InvalidToken, verify
from inbox.observability import logger
from inbox.settings import auth_settings
from inbox.sockets.handshake import offered_token

settings = auth_settings()
# API Gateway answers 401 when the authorizer fails with exactly this message, and 403 to a Deny.
UNAUTHORIZED = "Unauthorized"


@logger.inject_lambda_context
@event_source(data_class=APIGatewayAuthorizerRequestEvent)
def lambda_handler(event: APIGatewayAuthorizerRequestEvent, context: LambdaContext) -> dict[str, Any]:
    # The authorizer has no identity source (the token may come in either of two places), so
    # API Gateway calls it for a handshake without any token too: that one gets 401, as before.
    token = offered_token(event.get("headers"), event.get("queryStringParameters"))
    if not token:
        raise Exception(UNAUTHORIZED)
    try:
        user_id = verify(token, settings)
    except InvalidToken as error:
        logger.info("connection refused", extra={"reason": str(error)})
        refusal = APIGatewayAuthorizerResponseWebSocket.from_route_arn(event.method_arn, principal_id="anonymous")
        refusal.deny_all_routes()
        return refusal.asdict()
    policy = APIGatewayAuthorizerResponseWebSocket.from_route_arn(
        event.method_arn, principal_id=user_id, context={"userId": user_id}
    )
    policy.allow_all_routes()
    return policy.asdict()
