"""The HTTP face of domain errors: one mapping from error to status code and JSON body.

Every error a client can cause answers {"error": {"code", "message"}} with a 4xx status;
nothing a client sends can produce a 5xx. The OpenAPI document lists each route's answers
(`documented`), including those API Gateway gives before the function runs.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from pydantic import BaseModel, RootModel

from inbox.errors import (
    BadCursor,
    InboxError,
    InvalidInput,
    InvalidLink,
    NotFound,
    PayloadTooLarge,
    PushUnavailable,
    Unauthorized,
    UnsupportedMediaType,
)
from inbox.observability import logger
from inbox.validation import summary

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

STATUS_OF: dict[type[InboxError], int] = {
    NotFound: 404,
    BadCursor: 400,
    InvalidInput: 400,
    InvalidLink: 400,
    PushUnavailable: 422,
    Unauthorized: 401,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
}
# The largest body a request of this API needs is a device registration (a 4 KB token).
MAX_BODY_BYTES = 16 * 1024
JSON = content_types.APPLICATION_JSON


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    """The body of every error the API itself answers."""

    error: ErrorDetail


class GatewayMessage(BaseModel):
    """The body of API Gateway's own answers, given before the function runs (its JWT authorizer's 401,
    its throttling's 429)."""

    message: str


class ErrorOrGatewayMessage(RootModel[ErrorBody | GatewayMessage]):
    """An error of the API, or the same status from API Gateway itself."""


ERRORS: dict[int, tuple[str, type[BaseModel]]] = {
    400: ("A parameter or the body is invalid (or not UTF-8); the message says which", ErrorBody),
    401: ("No valid bearer token", ErrorOrGatewayMessage),
    404: ("No such item of this user", ErrorOrGatewayMessage),
    413: (f"The body is over {MAX_BODY_BYTES} bytes", ErrorOrGatewayMessage),
    415: ("The body is not JSON", ErrorBody),
    422: ("Push to this platform is not configured", ErrorBody),
    429: ("Too many requests: API Gateway's throttling of the route; try again later", GatewayMessage),
}
# Every route can answer these: a missing or bad token, a body too large for any route, and API
# Gateway's throttling (every route has a limit).
ALWAYS = (401, 413, 429)


def documented(success: int, description: str, *errors: int) -> dict[int, OpenAPIResponse]:
    """The OpenAPI responses of a route: its success (body from its return type; none for 204) and its errors."""
    answers: dict[int, OpenAPIResponse] = {success: {"description": description}}
    if success == 204:
        answers[success]["content"] = {}
    for status in sorted({*ALWAYS, *errors}):
        text, model = ERRORS[status]
        answers[status] = {"description": text, "content": {content_types.APPLICATION_JSON: {"model": model}}}
    return answers


def error_body(code: str, message: str) -> dict[str, Any]:
    return ErrorBody(error=ErrorDetail(code=code, message=message)).model_dump()


def error_response(status: int, code: str, message: str) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=error_body(code, message))


def _body(event: Mapping[str, Any]) -> bytes:
    body = str(event.get("body") or "")
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body.encode(errors="surrogatepass")


def _unreadable(event: Mapping[str, Any]) -> InboxError | None:
    try:
        body = _body(event)
    except ValueError:
        return InvalidInput("the body is not valid base64")
    if len(body) > MAX_BODY_BYTES:
        return PayloadTooLarge(f"the body is {len(body)} bytes, over the {MAX_BODY_BYTES}-byte limit")
    method = str(event.get("requestContext", {}).get("http", {}).get("method", "")).upper()
    if method not in ("POST", "PUT"):
        return None
    content_type = str((event.get("headers") or {}).get("content-type", "")).strip()
    if content_type and not content_type.lower().startswith(JSON):
        return UnsupportedMediaType(f"the body must be JSON ({JSON}), not {content_type[:100]}")
    try:
        body.decode()
    except UnicodeDecodeError as error:
        return InvalidInput(f"the body is not UTF-8 text (byte {error.start})")
    return None


def refusal(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """The answer to a request whose body no route reads (too large, not UTF-8, not JSON); None for others.

    Checked before routing: Powertools' validation decodes and parses the body first, and a body
    that is not UTF-8, or a form or multipart body it cannot parse, would be a server error.
    """
    error = _unreadable(event)
    if error is None:
        return None
    return {
        "statusCode": STATUS_OF[type(error)],
        "headers": {"Content-Type": JSON},
        "body": json.dumps(error_body(error.code, error.message)),
        "isBase64Encoded": False,
    }


def register_error_handlers(app: APIGatewayHttpResolver) -> None:
    @app.exception_handler(InboxError)
    def domain_error(error: InboxError) -> Response[Any]:
        return error_response(STATUS_OF.get(type(error), 400), error.code, error.message)

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response[Any]:
        return error_response(400, "invalid_request", summary(error.errors(), skip=("body",), whole="request"))

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported_body(error: RequestUnsupportedContentType) -> Response[Any]:
        refused = UnsupportedMediaType(f"the body must be JSON ({JSON})")
        return error_response(STATUS_OF[UnsupportedMediaType], refused.code, refused.message)

    @app.not_found
    def no_route(_: Exception) -> Response[Any]:
        return error_response(404, "not_found", "no such route")

    @app.exception_handler(Exception)
    def server_fault(error: Exception) -> Response[Any]:
        logger.exception("unhandled error", extra={"error_type": type(error).__name__})
        return error_response(500, "internal_error", "something went wrong on our side")
