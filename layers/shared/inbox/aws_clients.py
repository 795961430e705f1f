"""AWS clients, one per process, created on first use.

Retries use botocore's standard mode (exponential backoff with jitter on throttling and
5xx answers) instead of a home-made loop. Endpoints come from AWS_ENDPOINT_URL and
AWS_ENDPOINT_URL_<SERVICE>, which boto3 reads itself.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sns import SNSClient

# The pool is sized for fan-out, which reads for many users at once.
RETRIES = Config(
    retries={"mode": "standard", "max_attempts": 5}, connect_timeout=2, read_timeout=5, max_pool_connections=32
)


@lru_cache(maxsize=4)
def dynamodb_table(name: str) -> Table:
    return boto3.resource("dynamodb", config=RETRIES).Table(name)


@lru_cache(maxsize=1)
def sns() -> SNSClient:
    return boto3.client("sns", config=RETRIES)


@lru_cache(maxsize=1)
def sesv2() -> SESV2Client:
    return boto3.client("sesv2", config=RETRIES)


@lru_cache(maxsize=2)
def management_api(endpoint_url: str, pool_size: int) -> ApiGatewayManagementApiClient:
    # One gone or slow connection must not stall the batch: fail fast, few retries, and a
    # connection pool as large as the delivery pool.
    config = Config(
        retries={"mode": "standard", "max_attempts": 2},
        connect_timeout=2,
        read_timeout=3,
        max_pool_connections=pool_size,
    )
    return boto3.client("apigatewaymanagementapi", endpoint_url=endpoint_url, config=config)
