"""The one place that calls DynamoDB: requests, conditional writes and paging.

Expressions are written as strings. boto3's Key() and Attr() conditions are turned into
expressions by one builder per client, whose placeholder counters every thread shares: queries
running side by side garbled each other's expressions (seen under load). Strings do not go
through it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from inbox.store.keys import user_pk
from inbox.timestamps import now_s

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

CONDITIONAL_CHECK_FAILED = "ConditionalCheckFailedException"
BATCH_GET_LIMIT = 100
UNPROCESSED_ATTEMPTS = 6
_DESERIALIZER = TypeDeserializer()


class UnprocessedKeys(Exception):
    """Keys DynamoDB still left unread after every attempt: the caller's batch is retried."""


def is_conditional_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == CONDITIONAL_CHECK_FAILED


def query_arguments(
    key_condition: str, values: Mapping[str, Any], *, live_only: bool, projection: str | None = None
) -> dict[str, Any]:
    """Query arguments; ``live_only`` hides items past their TTL."""
    arguments: dict[str, Any] = {"KeyConditionExpression": key_condition, "ExpressionAttributeValues": dict(values)}
    if live_only:
        # DynamoDB deletes expired items within days, not at once: reads hide them meanwhile.
        arguments["FilterExpression"] = "attribute_not_exists(#ttl) OR #ttl > :now_s"
        arguments["ExpressionAttributeNames"] = {"#ttl": "ttl"}
        arguments["ExpressionAttributeValues"][":now_s"] = now_s()
    if projection:
        arguments["ProjectionExpression"] = projection
    return arguments


class TableGateway:
    """A table's requests, in the resource API's Python types."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def call(self, operation: str, **kwargs: Any) -> Any:
        return getattr(self.table, operation)(**kwargs)

    def conditional(self, operation: str, **kwargs: Any) -> Mapping[str, Any] | None:
        """Run a conditional write; None when the condition held, else the item as it was ({} if none)."""
        held, old = self.conditional_with_old(operation, **kwargs)
        return None if held else old

    def conditional_with_old(self, operation: str, **kwargs: Any) -> tuple[bool, Mapping[str, Any]]:
        """Run a conditional write: whether the condition held, and the item as it was before ({} if none).

        Both ways the old item comes with the write's answer, at no extra capacity.
        """
        try:
            response = self.call(
                operation, ReturnValues="ALL_OLD", ReturnValuesOnConditionCheckFailure="ALL_OLD", **kwargs
            )
        except ClientError as error:
            if not is_conditional_failure(error):
                raise
            # The resource API leaves the error's item in DynamoDB JSON.
            raw: dict[str, Any] = error.response.get("Item") or {}  # type: ignore[assignment]
            return False, {name: _DESERIALIZER.deserialize(value) for name, value in raw.items()}
        return True, response.get("Attributes") or {}

    def put_new(self, item: Mapping[str, Any]) -> bool:
        """Put an item whose key is not taken yet; False when it is."""
        try:
            self.call("put_item", Item=dict(item), ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if is_conditional_failure(error):
                return False
            raise
        return True

    def query(self, **arguments: Any) -> Any:
        return self.call("query", **arguments)

    def batch_get(self, keys: Sequence[Mapping[str, Any]], projection: str | None = None) -> list[dict[str, Any]]:
        """The items of ``keys`` that exist (``projection``: only those attributes, and the keys), read
        eventually consistent, 100 keys per request.

        DynamoDB may leave keys unprocessed under load; they are asked again after a short wait
        (botocore's retries cover failed requests, not partial answers).
        """
        found: list[dict[str, Any]] = []
        client = self.table.meta.client
        for start in range(0, len(keys), BATCH_GET_LIMIT):
            request: dict[str, Any] = {"Keys": [dict(key) for key in keys[start : start + BATCH_GET_LIMIT]]}
            if projection:
                request["ProjectionExpression"] = f"pk, sk, {projection}"
            pending: dict[str, Any] = {self.table.name: request}
            for attempt in range(UNPROCESSED_ATTEMPTS):
                response = client.batch_get_item(RequestItems=pending)
                found += response["Responses"].get(self.table.name, [])  # type: ignore[arg-type]
                pending = response.get("UnprocessedKeys") or {}  # type: ignore[assignment]
                if not pending:
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0))
            else:
                raise UnprocessedKeys(f"{len(pending[self.table.name]['Keys'])} keys left unprocessed")
        return found

    def items(self, arguments: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Every item a query returns, page after page.

        The resource's client carries boto3's type transformation, so its paginator speaks the
        same Python types as the Table methods.
        """
        paginator = self.table.meta.client.get_paginator("query")
        for page in paginator.paginate(TableName=self.table.name, **arguments):
            yield from page["Items"]  # type: ignore[misc]

    def user_items(
        self, user_id: str, prefix: str, *, live_only: bool, projection: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of the user's partition whose sort key starts with ``prefix``."""
        arguments = query_arguments(
            "pk = :pk AND begins_with(sk, :prefix)",
            {":pk": user_pk(user_id), ":prefix": prefix},
            live_only=live_only,
            projection=projection,
        )
        return self.items(arguments)
