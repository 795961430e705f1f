"""Closing a connection through API Gateway's Management API: a last message, then DELETE."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from inbox.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient


class ManagementApiCloser:
    """Closes connections with the client ``client`` makes, on the first close: most connects close
    nothing, and a client made at import would lengthen every cold start of $connect."""

    def __init__(self, client: Callable[[], ApiGatewayManagementApiClient]) -> None:
        self._make_client = client

    def close(self, connection_id: str, message: Mapping[str, str]) -> bool:
        """Send ``message``, then end the connection; False when API Gateway says it has ended already.

        Any other failure is logged, not raised: the new connection that asked for the close is
        recorded already, and must not be refused because an old one could not be closed.
        """
        client = self._make_client()
        gone = client.exceptions.GoneException
        try:
            client.post_to_connection(ConnectionId=connection_id, Data=json.dumps(message).encode())
        except gone:
            return False
        except (ClientError, BotoCoreError) as error:
            logger.warning("the closing message was not sent", extra={"connection": connection_id, "error": str(error)})
        try:
            client.delete_connection(ConnectionId=connection_id)
        except gone:
            return False
        except (ClientError, BotoCoreError) as error:
            logger.warning("the connection was not closed", extra={"connection": connection_id, "error": str(error)})
        return True
