"""Shared fixtures: the local parts a user of this app would meet, started once per session.

DynamoDB Local (Amazon's own) with the table created from template.yaml, SNS, SES and Secrets
Manager in moto's server mode, and a loopback Management API / JWKS server. Handlers read their settings at
import, so function modules are imported only after the environment below is set.
"""

from __future__ import annotations

import importlib
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from inbox_dev.capacity_meter import CapacityMeter, metering
from inbox_dev.dynamodb_local import create_table, dynamodb_local
from inbox_dev.email_local import FROM_ADDRESS, LocalEmail
from inbox_dev.management_api import ManagementApiStub
from inbox_dev.runtime import LambdaContext
from inbox_dev.template import PROJECT_ROOT
from inbox_dev.tokens import TokenIssuer

if TYPE_CHECKING:
    from inbox.api.reader import InboxReader
    from inbox.store import Store

EVENTS_DIR = PROJECT_ROOT / "events"
TABLE_NAME = "inbox-tests"
ISSUER = "https://issuer.inbox.test"
AUDIENCE = "inbox-app"

# Settings every function reads; credentials are dummies for the local servers.
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "NotificationInboxTests",
        "POWERTOOLS_SERVICE_NAME": "notification-inbox",
        "TABLE_NAME": TABLE_NAME,
        "JWT_ISSUER": ISSUER,
        "JWT_AUDIENCE": AUDIENCE,
    }
)


@pytest.fixture(scope="session")
def issuer() -> TokenIssuer:
    return TokenIssuer(issuer=ISSUER, audience=AUDIENCE)


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[str]:
    with dynamodb_local() as endpoint:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
        yield endpoint


@pytest.fixture(scope="session")
def table(dynamodb_endpoint: str) -> Iterator[Any]:
    """The notifications table, created from template.yaml's own definition."""
    create_table(dynamodb_endpoint, TABLE_NAME)
    yield boto3.resource("dynamodb", endpoint_url=dynamodb_endpoint).Table(TABLE_NAME)
    boto3.client("dynamodb", endpoint_url=dynamodb_endpoint).delete_table(TableName=TABLE_NAME)


@pytest.fixture(scope="session")
def sns_endpoint() -> Iterator[str]:
    from inbox_dev.processes import free_port
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ["AWS_ENDPOINT_URL_SNS"] = endpoint
    sns = boto3.client("sns", endpoint_url=endpoint)
    for variable, platform in (
        ("APNS_PLATFORM_APPLICATION_ARN", "APNS"),
        ("APNS_SANDBOX_PLATFORM_APPLICATION_ARN", "APNS_SANDBOX"),
        ("FCM_PLATFORM_APPLICATION_ARN", "GCM"),
    ):
        arn = sns.create_platform_application(Name=f"inbox-{platform.lower()}", Platform=platform, Attributes={})[
            "PlatformApplicationArn"
        ]
        os.environ[variable] = arn
    yield endpoint
    server.stop()


@pytest.fixture(scope="session")
def local_email(sns_endpoint: str) -> LocalEmail:
    """SES and Secrets Manager in the same moto server: the digests' sender and the links' key."""
    email = LocalEmail(sns_endpoint)
    email.start()
    os.environ.update(
        {
            "AWS_ENDPOINT_URL_SESV2": sns_endpoint,
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": sns_endpoint,
            "EMAIL_FROM_ADDRESS": FROM_ADDRESS,
            "INBOX_URL": "https://app.inbox.test/inbox",
            "UNSUBSCRIBE_URL": "https://api.inbox.test/unsubscribe",
            "UNSUBSCRIBE_SECRET_ARN": email.secret_arn,
        }
    )
    return email


@pytest.fixture(scope="session")
def management_api(issuer: TokenIssuer) -> Iterator[ManagementApiStub]:
    with ManagementApiStub(jwks=issuer.jwks()).running() as stub:
        os.environ["WEBSOCKET_CALLBACK_URL"] = stub.url
        os.environ["JWKS_URL"] = f"{stub.url}/.well-known/jwks.json"
        yield stub


@pytest.fixture(scope="session")
def local_aws(table: Any, sns_endpoint: str, local_email: LocalEmail, management_api: ManagementApiStub) -> Any:
    """Every local part up and the environment set: handlers can now be imported."""
    return table


@pytest.fixture
def stub(management_api: ManagementApiStub) -> Iterator[ManagementApiStub]:
    management_api.reset()
    yield management_api
    management_api.reset()


@pytest.fixture
def function(local_aws: Any) -> Any:
    """Import a function's handler module (functions/<name>/app.py) once the local parts run."""

    def load(name: str) -> ModuleType:
        return importlib.import_module(f"functions.{name}.app")

    return load


@pytest.fixture
def store(local_aws: Any) -> Store:
    """The functions' own store, on the tests' table."""
    from inbox import wiring

    return wiring.store()


@pytest.fixture
def reader(store: Store) -> InboxReader:
    from inbox.api.reader import InboxReader

    return InboxReader(store.queries)


@pytest.fixture
def meter(store: Store) -> Iterator[CapacityMeter]:
    """Capacity units and requests of every table request the test makes, as DynamoDB reports them."""
    with metering(store.table.meta.client) as recorded:
        yield recorded


@pytest.fixture
def user() -> str:
    """A user of its own for each test: tests never see each other's items."""
    return f"user-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def other_user() -> str:
    return f"user-{uuid.uuid4().hex[:12]}"


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(Path(EVENTS_DIR, name).read_text())
    return event


@pytest.fixture
def context() -> LambdaContext:
    """The context Lambda passes to a handler, with a deadline of 30 s (the local stack's own)."""
    return LambdaContext("test", memory_mb=512, timeout_s=30)
