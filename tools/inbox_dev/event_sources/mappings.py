"""The event source mappings of template.yaml, as the local pollers run them."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from inbox_dev.event_sources.filters import check_pattern
from inbox_dev.template import functions, resolve, resource, template

# Lambda retries a failing Kafka or stream batch until its records expire (MaximumRetryAttempts
# absent or -1). Locally that would block a partition or shard for good: a poison batch must
# reach the dead letters, where the developer sees it, after a couple of retries.
LOCAL_MAX_RETRIES = 2

# A developer option of the local stack, never deployed: the Kafka mappings' MaximumBatchingWindowInSeconds
# in place of the template's, so that one checkout can measure two windows (make bench does).
KAFKA_WINDOW_VARIABLE = "INBOX_DEV_KAFKA_BATCHING_WINDOW_S"
# Lambda takes whole seconds up to 300; a Kafka mapping without the property batches for 0.5 s.
MAX_BATCHING_WINDOW_S = 300
KAFKA_DEFAULT_WINDOW_S = 0.5


@dataclass(frozen=True)
class KafkaMapping:
    """A self-managed Kafka event source mapping of the template: a consumer group on its topics."""

    logical_id: str
    function: str
    topics: tuple[str, ...]
    consumer_group: str
    batch_size: int
    batching_window_s: float
    starting_position: str
    max_retries: int


def kafka_mappings() -> list[KafkaMapping]:
    """The self-managed Kafka mappings: a local broker is self-managed (the MSK ones are their cloud twins)."""
    mappings = []
    window = _window_override()
    for logical_id, body in template()["Resources"].items():
        properties = body.get("Properties", {})
        if body["Type"] != "AWS::Lambda::EventSourceMapping" or "SelfManagedEventSource" not in properties:
            continue
        group = properties.get("SelfManagedKafkaEventSourceConfig", {}).get("ConsumerGroupId")
        mappings.append(
            KafkaMapping(
                logical_id=logical_id,
                function=_function_of(properties["FunctionName"]),
                topics=tuple(properties["Topics"]),
                # Lambda names an unnamed group after the mapping's UUID; the logical id is as stable.
                consumer_group=str(resolve(group, {})) if group is not None else logical_id,
                batch_size=int(properties.get("BatchSize", 100)),
                batching_window_s=(
                    window
                    if window is not None
                    else float(properties.get("MaximumBatchingWindowInSeconds", KAFKA_DEFAULT_WINDOW_S))
                ),
                starting_position=str(properties["StartingPosition"]),
                max_retries=_max_retries(properties),
            )
        )
    return mappings


def _window_override() -> float | None:
    """The window the developer set in KAFKA_WINDOW_VARIABLE, if any; a value Lambda would refuse fails the start."""
    raw = os.environ.get(KAFKA_WINDOW_VARIABLE, "").strip()
    if not raw:
        return None
    try:
        window = float(raw)
    except ValueError:
        raise ValueError(f"{KAFKA_WINDOW_VARIABLE}={raw!r}: expected seconds, e.g. 0.5") from None
    if window != KAFKA_DEFAULT_WINDOW_S and not (window.is_integer() and 0 <= window <= MAX_BATCHING_WINDOW_S):
        raise ValueError(
            f"{KAFKA_WINDOW_VARIABLE}={raw!r}: Lambda allows whole seconds from 0 to {MAX_BATCHING_WINDOW_S},"
            f" or {KAFKA_DEFAULT_WINDOW_S} (a Kafka mapping without MaximumBatchingWindowInSeconds)"
        )
    return window


@dataclass(frozen=True)
class StreamMapping:
    """A DynamoDB event of a function in the template (SAM's shorthand for a stream mapping)."""

    function: str
    batch_size: int
    batching_window_s: float
    starting_position: str
    bisect_on_error: bool
    max_retries: int
    filters: tuple[dict[str, Any], ...]


def stream_mappings() -> list[StreamMapping]:
    mappings = []
    for function in functions():
        for event in resource(function)["Properties"].get("Events", {}).values():
            if event["Type"] != "DynamoDB":
                continue
            properties = event["Properties"]
            criteria = properties.get("FilterCriteria", {}).get("Filters", [])
            filters = tuple(json.loads(criterion["Pattern"]) for criterion in criteria)
            for pattern in filters:
                check_pattern(pattern)  # a pattern Lambda would reject fails the start, not the first record
            mappings.append(
                StreamMapping(
                    function=function,
                    batch_size=int(properties.get("BatchSize", 100)),
                    batching_window_s=float(properties.get("MaximumBatchingWindowInSeconds", 0)),
                    starting_position=str(properties["StartingPosition"]),
                    bisect_on_error=bool(properties.get("BisectBatchOnFunctionError", False)),
                    max_retries=_max_retries(properties),
                    filters=filters,
                )
            )
    return mappings


def _function_of(name: Any) -> str:
    # A function's alias (Function.Alias, for SnapStart) runs as the function itself here.
    if isinstance(name, dict) and "Ref" in name:
        return str(name["Ref"]).removesuffix(".Alias")
    raise ValueError(f"FunctionName {name!r}: only a Ref to a function of the template can run locally")


def _max_retries(properties: Mapping[str, Any]) -> int:
    retries = int(properties.get("MaximumRetryAttempts", -1))
    return LOCAL_MAX_RETRIES if retries < 0 else retries
