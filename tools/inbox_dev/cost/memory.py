"""Each function's memory size, chosen from its measured CPU time and waiting time.

Lambda gives a function CPU in proportion to its memory: 1,769 MB is one vCPU, 512 MB about 0.29
of one. So a handler measured here (on a full core) runs at memory M for

    duration(M) = waiting + cpu x 1769 / M        (M below 1,769 MB; a single thread gains nothing above)

and costs duration(M) x M per call: the CPU part costs the same at any size, the waiting part
grows with M. Smaller is never dearer; what it costs is time. The choice: among the sizes whose
modelled median stays within the function's budget (100 ms for a request a person waits on, HTTP
and WebSocket handlers; 500 ms for a batch of the pipeline, a Kafka batch of 50 records or a
stream batch of 10, so that ingest and fan-out fit the 1 s Kafka-to-WebSocket goal together), the
largest that costs at most a tenth more than the cheapest: a handler that mostly computes runs
twice as fast for little more, and its cold start's imports get twice the CPU. The largest size
when none fits. Lambda bills whole milliseconds, at least one. Assumed: a core here is
as fast as a Lambda arm64 core, a handler's threads share its one CPU share, and DynamoDB Local
waits as long as DynamoDB (it waits longer: the waiting part is overstated).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

FULL_CPU_MB = 1769
SIZES = (256, 512, 1024)
INTERACTIVE_BUDGET_MS = 100.0
PIPELINE_BUDGET_MS = 500.0
NEARLY_AS_CHEAP = 0.1  # a larger size that costs at most this much more is taken
PIPELINE = frozenset({"IngestFunction", "FanoutFunction"})


def modelled_ms(wall_ms: float, cpu_ms: float, memory_mb: int) -> float:
    cpu = min(cpu_ms, wall_ms)
    return max(1.0, math.ceil((wall_ms - cpu) + cpu * FULL_CPU_MB / min(memory_mb, FULL_CPU_MB)))


def billed_ms(duration: Mapping[str, Any], memory_mb: int) -> float:
    """A handler's median at ``memory_mb``, from ``{"ms": {...}, "cpu_ms": {...}}`` (durations.measure)."""
    wall = float(duration["ms"]["median"])
    # Figures without CPU time (an older bench) are taken as measured: all of it waiting.
    cpu = float(duration.get("cpu_ms", {}).get("median", 0.0))
    return modelled_ms(wall, cpu, memory_mb)


def budget_ms(function: str) -> float:
    return PIPELINE_BUDGET_MS if function in PIPELINE else INTERACTIVE_BUDGET_MS


def choose(function: str, duration: Mapping[str, Any]) -> int:
    fitting = [size for size in SIZES if billed_ms(duration, size) <= budget_ms(function)]
    if not fitting:
        return SIZES[-1]
    cost = {size: billed_ms(duration, size) * size for size in fitting}
    cheapest = min(cost.values())
    return max(size for size in fitting if cost[size] <= cheapest * (1 + NEARLY_AS_CHEAP))


def table(durations: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per function: measured wall and CPU ms, modelled ms at each size, and the size chosen."""
    return {
        name: {
            "wall_ms": duration["ms"]["median"],
            "cpu_ms": duration.get("cpu_ms", {}).get("median"),
            "modelled_ms": {str(size): round(billed_ms(duration, size), 1) for size in SIZES},
            "budget_ms": budget_ms(name),
            "chosen_mb": choose(name, duration),
        }
        for name, duration in durations.items()
    }
