"""DynamoDB throttling inside a function worker: a share of the function's DynamoDB calls answered as
DynamoDB answers a throttled request (HTTP 400, ProvisionedThroughputExceededException).

Each attempt is drawn on its own, the last one too: botocore's retries absorb most throttles, and a
call throttled on every attempt reaches the function as the error it would get in AWS.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

from inbox_dev.faults.answers import attempts, dynamodb_error
from inbox_dev.faults.settings import DYNAMODB_THROTTLE, FAULTS_VARIABLE, TALLY_VARIABLE, FaultRates
from inbox_dev.faults.tally import Tally

THROTTLED = "ProvisionedThroughputExceededException"


class Throttle:
    def __init__(self, rate: float, tally: Tally, draw: Callable[[], float] | None = None) -> None:
        self._rate, self._tally = rate, tally
        self._draw = draw or random.Random().random  # noqa: S311 - fault injection, not secrets

    def before_send(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        attempt, max_attempts = attempts(request)
        throttled = self._draw() < self._rate
        self._tally.count(injected=throttled, last_attempt=attempt >= max_attempts)
        return dynamodb_error(request, THROTTLED) if throttled else None


def throttle(
    session: boto3.session.Session, rate: float, tally: Tally, draw: Callable[[], float] | None = None
) -> None:
    """Throttle the DynamoDB calls of every client the session creates from now on (clients copy its hooks)."""
    # The stubs type handlers as returning None; botocore takes a before-send handler's answer as the service's.
    session.events.register("before-send.dynamodb", Throttle(rate, tally, draw).before_send)  # type: ignore[arg-type]


def install(environment: Mapping[str, str]) -> None:
    """In a worker, before the handler is loaded: throttle the handler's DynamoDB calls if the stack asks to."""
    rates = FaultRates.parse(environment.get(FAULTS_VARIABLE, ""))
    if not rates.dynamodb_throttle:
        return
    source = environment.get("AWS_LAMBDA_FUNCTION_NAME", "function")
    session = boto3.session.Session()
    throttle(session, rates.dynamodb_throttle, Tally(Path(environment[TALLY_VARIABLE]), DYNAMODB_THROTTLE, source))
    # boto3.client() and boto3.resource(), which the handler calls, use the default session.
    boto3.DEFAULT_SESSION = session
