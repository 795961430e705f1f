"""Powertools Logger and Metrics shared by every function (service name from the environment).

No Powertools Tracer: the X-Ray SDK it loads doubled every function's cold start (`make bench`,
cold_start). The template's `Tracing: Active` still records each invocation in X-Ray.
"""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
metrics = Metrics()


def count(name: str, value: int = 1) -> None:
    if value:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
