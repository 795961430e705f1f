"""The HTTP face of domain errors: one mapping from error to status code and JSON body.

Every error a client can cause answers {"error": {"code", "message"}} with a 4xx status;
nothing a client sends can produce a 5xx.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from inbox.errors import BadCursor, InboxError, InvalidInput, NotFound, PushUnavailable, Unauthorized
from inbox.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

STATUS_OF: dict[type[InboxError], int] = {
    NotFound: 404,
    BadCursor: 400,
    InvalidInput: 400,
    PushUnavailable: 422,
    Unauthorized: 401,
}


def error_response(status: int, code: str, message: str) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"error": {"code": code, "message": message}},
    )


def _validation_message(error: RequestValidationError) -> str:
    problems = []
    for item in error.errors()[:5]:
        location = ".".join(str(part) for part in item.get("loc", ()) if part not in ("body",)) or "request"
        problems.append(f"{location}: {item.get('msg', 'is invalid')}")
    return "; ".join(problems)


def register_error_handlers(app: APIGatewayHttpResolver) -> None:
    @app.exception_handler(InboxError)
    def domain_error(error: InboxError) -> Response[Any]:
        return error_response(STATUS_OF.get(type(error), 400), error.code, error.message)

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response[Any]:
        return error_response(400, "invalid_request", _validation_message(error))

    @app.not_found
    def no_route(_: Exception) -> Response[Any]:
        return error_response(404, "not_found", "no such route")

    @app.exception_handler(Exception)
    def server_fault(error: Exception) -> Response[Any]:
        logger.exception("unhandled error", extra={"error_type": type(error).__name__})
        return error_response(500, "internal_error", "something went wrong on our side")
