"""The functions' handlers in this process, against a private DynamoDB Local and a Management API stub.

Handlers read their settings when imported, so the environment is set before the first import.
The functions' own modules are imported as ``functions.<name>.app``, as the tests do.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3

from inbox_dev.dynamodb_local import create_table, dynamodb_local
from inbox_dev.management_api import ManagementApiStub
from inbox_dev.runtime import LambdaContext
from inbox_dev.template import PROJECT_ROOT
from inbox_dev.tokens import TokenIssuer

TABLE_NAME = "notifications-bench"
# The Management API's answer time in the fan-out measurement: a remote API's latency.
MANAGEMENT_API_DELAY_S = 0.020


@dataclass
class InProcessAws:
    dynamodb_endpoint: str
    management_api: ManagementApiStub
    issuer: TokenIssuer

    def table(self) -> Any:
        return boto3.resource("dynamodb", endpoint_url=self.dynamodb_endpoint).Table(TABLE_NAME)

    @staticmethod
    def event(name: str) -> dict[str, Any]:
        """A sample event of events/, as `sam local invoke` would send it."""
        event: dict[str, Any] = json.loads((PROJECT_ROOT / "events" / name).read_text())
        return event

    @staticmethod
    def module(function: str) -> ModuleType:
        return importlib.import_module(f"functions.{function}.app")

    @staticmethod
    def context(function: str) -> LambdaContext:
        return LambdaContext(function, memory_mb=512, timeout_s=900)


@contextmanager
def in_process_aws() -> Iterator[InProcessAws]:
    issuer = TokenIssuer(issuer="https://issuer.bench.local", audience="inbox-bench")
    stub = ManagementApiStub(jwks=issuer.jwks(), delay_s=MANAGEMENT_API_DELAY_S)
    with dynamodb_local() as endpoint, stub.running():
        os.environ.update(
            {
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench",
                "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
                "TABLE_NAME": TABLE_NAME,
                "WEBSOCKET_CALLBACK_URL": stub.url,
                "JWT_ISSUER": issuer.issuer,
                "JWT_AUDIENCE": issuer.audience,
                "JWKS_URL": f"{stub.url}/.well-known/jwks.json",
                "POWERTOOLS_SERVICE_NAME": "notification-inbox",
                "POWERTOOLS_LOG_LEVEL": "ERROR",
                "POWERTOOLS_METRICS_NAMESPACE": "NotificationInboxBench",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_TRACE_DISABLED": "true",
            }
        )
        # The package's logger may exist already (the bench imports the event adapters to build its
        # batches), made before the level above was set.
        from inbox.observability import logger

        logger.setLevel("ERROR")
        create_table(endpoint, TABLE_NAME)
        if str(PROJECT_ROOT) not in sys.path:
            sys.path.insert(0, str(PROJECT_ROOT))
        yield InProcessAws(endpoint, stub, issuer)
