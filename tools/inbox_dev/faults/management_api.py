"""Management API faults in the local gateway: a share of POST @connections/{id} answered 500, as API
Gateway answers an internal error, before the message reaches the connection."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from inbox_dev.faults.answers import sdk_attempts
from inbox_dev.faults.settings import MANAGEMENT_API_500, FaultRates
from inbox_dev.faults.tally import Tally


def failing_posts(rate: float, tally: Tally, draw: Callable[[], float] | None = None) -> Middleware:
    draw = draw or random.Random().random  # noqa: S311 - fault injection, not secrets

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method != "POST" or "connection_id" not in request.match_info:
            return await handler(request)
        attempt, max_attempts = sdk_attempts(request.headers.get("amz-sdk-request"))
        failed = draw() < rate
        tally.count(injected=failed, last_attempt=attempt >= max_attempts)
        if not failed:
            return await handler(request)
        return web.json_response(
            {"message": "Internal server error"},
            status=500,
            headers={"x-amzn-ErrorType": "InternalServerErrorException"},
        )

    return middleware


def inject(app: web.Application, rates: FaultRates, tally_dir: Path) -> web.Application:
    """The WebSocket API's app with its Management API posts failing at ``rates.management_api_500``."""
    if rates.management_api_500:
        tally = Tally(tally_dir, MANAGEMENT_API_500, "gateway")
        app.middlewares.append(failing_posts(rates.management_api_500, tally))
    return app
