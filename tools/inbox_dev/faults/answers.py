"""AWS error answers that a botocore ``before-send`` hook returns instead of sending the request.

botocore parses such an answer as the service's own, so the client's retry mode handles it as it
would in AWS. Shared by the local stack's fault injection and the integration tests' faults.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from botocore.awsrequest import AWSPreparedRequest, AWSResponse, HTTPHeaders

# Error code -> (HTTP status, the service's error type) as DynamoDB (JSON 1.0) and SNS (query) answer them.
DYNAMODB_ERRORS = {
    "ProvisionedThroughputExceededException": (
        400,
        "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
    ),
    "ThrottlingException": (400, "com.amazon.coral.availability#ThrottlingException"),
    "InternalServerError": (500, "com.amazonaws.dynamodb.v20120810#InternalServerError"),
}
SNS_ERRORS = {"Throttling": (400, "Sender"), "InternalError": (500, "Receiver")}


class _Body:
    """What AWSResponse reads a body from."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def sdk_attempts(header: str | bytes | None) -> tuple[int, int]:
    """The attempt and the most attempts, from botocore's ``amz-sdk-request: attempt=2; max=6`` header."""
    raw = header or b"attempt=1; max=1"
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    parts = dict(part.strip().split("=", 1) for part in text.split(";"))
    return int(parts["attempt"]), int(parts.get("max", parts["attempt"]))


def attempts(request: AWSPreparedRequest) -> tuple[int, int]:
    return sdk_attempts(request.headers.get("amz-sdk-request"))


def _response(request: AWSPreparedRequest, status: int, headers: dict[str, str], body: bytes) -> AWSResponse:
    response_headers = HTTPHeaders()
    for name, value in headers.items():
        response_headers[name] = value
    return AWSResponse(request.url, status, response_headers, _Body(body))


def dynamodb_error(request: AWSPreparedRequest, code: str) -> AWSResponse:
    status, error_type = DYNAMODB_ERRORS[code]
    body = json.dumps({"__type": error_type, "message": f"injected {code}"}).encode()
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "injected-fault"}
    return _response(request, status, headers, body)


def sns_error(request: AWSPreparedRequest, code: str) -> AWSResponse:
    status, sender = SNS_ERRORS[code]
    body = (
        '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
        f"<Error><Type>{sender}</Type><Code>{code}</Code><Message>injected {code}</Message></Error>"
        "<RequestId>injected-fault</RequestId></ErrorResponse>"
    ).encode()
    return _response(request, status, {"Content-Type": "text/xml"}, body)
