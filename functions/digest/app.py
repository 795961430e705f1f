"""Email digests: hourly from EventBridge Scheduler for the users due that hour, or at once for named users."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from inbox import wiring
from inbox.digest.request import DigestRequest, report_body
from inbox.observability import logger, metrics


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return report_body(parse(event=event, model=DigestRequest).run(wiring.digest_run()))
