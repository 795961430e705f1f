"""The local stack's fault hooks, each on its own: DynamoDB throttles as a function's client meets them,
500s from the local Management API as the fan-out's client meets them, the counts they leave behind,
and the setting that turns them on."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from aiohttp import web
from botocore.awsrequest import AWSPreparedRequest, AWSResponse, HTTPHeaders
from botocore.config import Config
from botocore.exceptions import ClientError
from inbox_dev import cli
from inbox_dev.faults import management_api, tally
from inbox_dev.faults.dynamodb import throttle
from inbox_dev.faults.settings import DYNAMODB_THROTTLE, FAULTS_VARIABLE, MANAGEMENT_API_500, FaultRates
from inbox_dev.faults.tally import Counts, Tally
from inbox_dev.gateway import FunctionInvoker, WebSocketApi
from inbox_dev.processes import free_port

STAGE = "live"
# Nothing listens here: a request that got past the hooks would fail to connect.
NOWHERE = "http://127.0.0.1:9"


def local_session() -> boto3.session.Session:
    return boto3.session.Session(region_name="us-east-1", aws_access_key_id="local", aws_secret_access_key="local")


def draws(*values: float) -> Callable[[], float]:
    """The random draws a hook makes, in order: below the rate means a fault."""
    remaining = list(values)
    return lambda: remaining.pop(0)


def found_item(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
    """DynamoDB's answer to a GetItem that found its item, for requests no fault stopped."""
    headers = HTTPHeaders()
    headers["Content-Type"] = "application/x-amz-json-1.0"

    class Body:
        def stream(self, **_: Any) -> Iterator[bytes]:
            yield b'{"Item": {"pk": {"S": "U#alice"}}}'

    return AWSResponse(request.url, 200, headers, Body())


def dynamodb_client(session: boto3.session.Session, attempts: int) -> Any:
    config = Config(retries={"mode": "standard", "total_max_attempts": attempts})
    return session.client("dynamodb", endpoint_url=NOWHERE, config=config)


def test_a_throttle_on_every_attempt_reaches_the_caller_as_dynamodb_answers_it(tmp_path: Path) -> None:
    # Given a session whose DynamoDB calls are all throttled, as a worker's default session is with faults on
    session = local_session()
    throttle(session, 1.0, Tally(tmp_path, DYNAMODB_THROTTLE, "IngestFunction"))
    client = dynamodb_client(session, attempts=2)

    # When the function reads an item
    with pytest.raises(ClientError) as raised:
        client.get_item(TableName="notifications", Key={"pk": {"S": "U#alice"}, "sk": {"S": "N#1"}})

    # Then it gets DynamoDB's throttling error, HTTP 400, after botocore retried it
    error = raised.value.response
    assert error["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["ResponseMetadata"]["RetryAttempts"] == 1
    # And the counts say: two attempts, both throttled, the call given up
    assert tally.read(tmp_path) == {DYNAMODB_THROTTLE: {"IngestFunction": Counts(attempts=2, injected=2, gave_up=1)}}


def test_botocore_retries_absorb_a_single_throttle_and_the_count_still_shows_it(tmp_path: Path) -> None:
    # Given a session whose next DynamoDB attempt is throttled and the one after it is not
    session = local_session()
    throttle(session, 0.10, Tally(tmp_path, DYNAMODB_THROTTLE, "ApiFunction"), draw=draws(0.05, 0.5))
    session.events.register("before-send.dynamodb", found_item)  # type: ignore[arg-type]  # it answers
    client = dynamodb_client(session, attempts=6)

    # When the function reads an item
    item = client.get_item(TableName="notifications", Key={"pk": {"S": "U#alice"}, "sk": {"S": "N#1"}})

    # Then it gets the item, and the counts show the throttle its retry hid
    assert item["Item"] == {"pk": {"S": "U#alice"}}
    assert tally.read(tmp_path)[DYNAMODB_THROTTLE]["ApiFunction"] == Counts(attempts=2, injected=1, gave_up=0)


@contextmanager
def gateway(rates: FaultRates, tally_dir: Path) -> Iterator[str]:
    """The local WebSocket API with its Management API faults, on a free port; yields the callback URL."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    app = management_api.inject(WebSocketApi([], FunctionInvoker({}), STAGE).app(), rates, tally_dir)
    runner = web.AppRunner(app)
    port = free_port()

    async def start() -> None:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()

    asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=10)
    try:
        yield f"http://127.0.0.1:{port}/{STAGE}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)


def management_client(url: str) -> Any:
    # As the fan-out's own client: standard retries, two of them.
    config = Config(retries={"mode": "standard", "max_attempts": 2})
    return local_session().client("apigatewaymanagementapi", endpoint_url=url, config=config)


def test_a_failing_post_answers_500_as_api_gateway_does_and_is_counted(tmp_path: Path) -> None:
    # Given the local gateway with every Management API post failing
    with gateway(FaultRates(management_api_500=1.0), tmp_path) as url:
        client = management_client(url)

        # When the fan-out posts to a connection
        with pytest.raises(ClientError) as raised:
            client.post_to_connection(ConnectionId="abc", Data=b'{"type": "notification.created"}')

        # Then it gets API Gateway's internal error, after its retries
        error = raised.value.response
        assert error["Error"]["Code"] == "InternalServerErrorException"
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 500
        # And asking about the connection is untouched: the gateway itself says it is gone
        with pytest.raises(client.exceptions.GoneException):
            client.get_connection(ConnectionId="abc")

    # And the counts say: three posts, all failed, the message given up
    assert tally.read(tmp_path) == {MANAGEMENT_API_500: {"gateway": Counts(attempts=3, injected=3, gave_up=1)}}


def test_without_faults_the_gateway_answers_posts_itself_and_counts_nothing(tmp_path: Path) -> None:
    # Given the local gateway with no Management API faults
    with gateway(FaultRates(dynamodb_throttle=0.10), tmp_path) as url:
        client = management_client(url)

        # When the fan-out posts to a connection that is not open
        with pytest.raises(client.exceptions.GoneException):
            client.post_to_connection(ConnectionId="abc", Data=b"{}")

    # Then the gateway answered it (410), and there is nothing to count
    assert tally.read(tmp_path) == {}


def test_the_setting_names_each_fault_and_its_rate() -> None:
    # Given the setting of `make load --faults`
    rates = FaultRates.parse("dynamodb_throttle=0.10, management_api_500=0.05")

    # Then it reads back as written, and an empty one means no faults
    assert rates == FaultRates(dynamodb_throttle=0.10, management_api_500=0.05)
    assert str(rates) == "dynamodb_throttle=0.1,management_api_500=0.05"
    assert FaultRates.parse(str(rates)) == rates
    assert not FaultRates.parse("")


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ("dynamodb_throttle=1.5", "between 0 and 1"),
        ("dynamodb_throttle=often", "not a number"),
        ("sns_throttle=0.1", "dynamodb_throttle, management_api_500"),
        ("dynamodb_throttle", "<kind>=<rate>"),
    ],
)
def test_make_dev_refuses_a_setting_it_cannot_read(
    setting: str, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a fault setting with a mistake in it
    monkeypatch.setenv(FAULTS_VARIABLE, setting)

    # When a developer starts the stack
    status = cli.main(["dev", "--state-dir", str(tmp_path)])

    # Then it does not start, and says what is wrong
    assert status == 2
    error = capsys.readouterr().err
    assert FAULTS_VARIABLE in error
    assert says in error
