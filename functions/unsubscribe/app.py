"""One-click unsubscribe from email digests (RFC 8058): a signed link, no login.

GET shows a button (mail scanners follow links, so a GET changes nothing); POST, from that
button or from the mail client's own unsubscribe (``List-Unsubscribe=One-Click``), turns digests off.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from inbox import wiring
from inbox.api.errors import register_error_handlers
from inbox.digest.compose import unsubscribe_page
from inbox.observability import logger, metrics

# No request validation: the one-click POST sends a form body, which no route reads.
app = APIGatewayHttpResolver()
register_error_handlers(app)


def _token() -> str | None:
    return app.current_event.get_query_string_value("token")


def _page(html: str) -> Response[str]:
    return Response(200, content_types.TEXT_HTML, html, headers={"Cache-Control": "no-store"})


@app.get("/unsubscribe")
def confirm() -> Response[str]:
    token = _token()
    wiring.unsubscribe_links().user_of(token)
    return _page(unsubscribe_page(action=f"?token={token}", done=False))


@app.post("/unsubscribe")
def unsubscribe() -> Response[str]:
    wiring.preference_service().unsubscribe(wiring.unsubscribe_links().user_of(_token()))
    return _page(unsubscribe_page(action="", done=True))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
