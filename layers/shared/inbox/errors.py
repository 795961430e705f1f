"""Domain errors. The HTTP API maps them to status codes in one place (inbox.api.errors)."""


class InboxError(Exception):
    """Base of the errors a client can cause; never a server fault."""

    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(InboxError):
    code = "not_found"


class Unauthorized(InboxError):
    code = "unauthorized"


class BadCursor(InboxError):
    code = "bad_cursor"


class InvalidInput(InboxError):
    code = "invalid_input"


class PushUnavailable(InboxError):
    """The platform asked for has no SNS platform application configured."""

    code = "platform_unavailable"


class PayloadTooLarge(InboxError):
    """A request body over the API's limit: no request of this API needs that much."""

    code = "payload_too_large"


class UnsupportedMediaType(InboxError):
    """A request body that is not JSON."""

    code = "unsupported_media_type"


class InvalidLink(InboxError):
    """An unsubscribe link that is tampered with, foreign or expired."""

    code = "invalid_link"
