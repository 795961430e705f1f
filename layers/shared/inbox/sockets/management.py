"""Closing a connection through API Gateway's Management API: a last message, then DELETE."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from inbox.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient


class ManagementApiCloser:
    def __init__(self, client: ApiGatewayManagementApiClient) -> None:
        self._client = client

    def close(self, connection_id: str, message: Mapping[str, str]) -> bool:
        """Send ``message``, then end the connection; False when API Gateway says it has ended already.

        Any other failure is logged, not raised: the new connection that asked for the close is
        recorded already, and must not be refused because an old one could not be closed.
        """
        gone = self._client.exceptions.GoneException
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=json.dumps(message).encode())
        except gone:
            return False
        except (ClientError, BotoCoreError) as error:
            logger.warning("the closing message was not sent", extra={"connection": connection_id, "error": str(error)})
        try:
            self._client.delete_connection(ConnectionId=connection_id)
        except gone:
            return False
        except (ClientError, BotoCoreError) as error:
            logger.warning("the connection was not closed", extra={"connection": connection_id, "error": str(error)})
        return True
