"""Cold start: a fresh interpreter until the handler is ready, for every function.

Each function is imported as Lambda imports it (its code folder first on the path, the
template's environment), in a new interpreter; the reference is a new interpreter that only
imports boto3 and creates one client. Runs alternate, so drift touches both alike. Like
`sam local`, the environment sets AWS_SAM_LOCAL, so Powertools leaves X-Ray out.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Mapping
from typing import Any

from inbox_dev.bench.stats import ratio, summary
from inbox_dev.template import functions

REPETITIONS = 5
BASELINE = "import boto3\nboto3.client('dynamodb', region_name='us-east-1')\n"
HANDLER = "import importlib, sys\nsys.path.insert(0, {code_dir!r})\nimportlib.import_module({module!r}).{handler}\n"


def _seconds(code: str, environment: Mapping[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=dict(environment), check=True)  # noqa: S603 - our own code
    return time.perf_counter() - began


def measure(environments: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """``environments``: each function's environment, as the local stack runs it."""
    specs = functions()
    any_environment = next(iter(environments.values()))
    baseline: list[float] = []
    samples: dict[str, list[float]] = {name: [] for name in specs}
    for _ in range(REPETITIONS):
        baseline.append(_seconds(BASELINE, any_environment))
        for name, spec in specs.items():
            code = HANDLER.format(code_dir=str(spec.code_dir), module=spec.module, handler=spec.handler)
            samples[name].append(_seconds(code, environments[name]))
    baseline_ms = summary([seconds * 1000 for seconds in baseline])
    result: dict[str, Any] = {"baseline_ms": baseline_ms}
    for name, seconds in samples.items():
        function_ms = summary([value * 1000 for value in seconds])
        result[name] = {"ms": function_ms, "ratio": ratio(function_ms["median"], baseline_ms["median"])}
    return result
