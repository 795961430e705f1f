"""Cold start: a fresh interpreter until the handler is ready, for every function, as Lambda starts it.

Lambda imports from read-only folders (/var/task, /opt), so it can neither write bytecode nor
use any compiled for another Python: every module the package does not ship compiled for the
runtime's own version is compiled from source at every cold start. So, here:

- the layers are built by their own Makefiles (the recipe `sam build` runs), for this machine's
  platform, since the deployed wheels' native code cannot load here; boto3 and botocore, which
  the runtime provides, go into the dependencies layer, so the reference loads them alike;
- every bytecode file not compiled for the template's runtime is deleted; the folders are made
  read-only and PYTHONDONTWRITEBYTECODE=1 is set;
- each function runs in a new interpreter (``-S``: the development environment's site-packages
  stay out of the path) with its code folder first, then the layers, and the template's environment.

The reference is a new interpreter, under the same conditions, that imports boto3 and creates one
client. Runs alternate, so drift touches both alike. Like `sam local`, the environment sets
AWS_SAM_LOCAL, so Powertools leaves X-Ray out. When this interpreter is not the runtime's version,
it can use none of the layers' bytecode, and the figures are those of a build without it.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

from inbox_dev.bench.stats import ratio, summary
from inbox_dev.template import PROJECT_ROOT, functions, template

REPETITIONS = 5
BASELINE = "import boto3\nboto3.client('dynamodb', region_name='us-east-1')\n"
HANDLER = "import importlib, sys\nsys.path.insert(0, {code_dir!r})\nimportlib.import_module({module!r}).{handler}\n"
LAYERS = {"dependencies": "DependenciesLayer", "shared": "SharedLayer"}


def _runtime_tag() -> str:
    """The bytecode tag of the template's runtime: python3.13 → cpython-313."""
    runtime = str(template()["Globals"]["Function"]["Runtime"])
    return "cpython-" + runtime.removeprefix("python").replace(".", "")


def _build_layers(root: Path) -> Path:
    """The layers, merged as Lambda merges them into /opt/python; returns that folder."""
    opt = root / "opt"
    for folder, target in LAYERS.items():
        built = subprocess.run(  # noqa: S603 - our own Makefiles
            [
                shutil.which("make") or "make",
                "--quiet",
                "-C",
                str(PROJECT_ROOT / "layers" / folder),
                f"build-{target}",
                f"ARTIFACTS_DIR={opt}",
                f"PYTHON={sys.executable}",
                # This machine's platform, and the boto3 of the development environment for the runtime's.
                "PLATFORM=",
                f"EXTRA=boto3=={version('boto3')} botocore=={version('botocore')}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if built.returncode:
            raise RuntimeError(f"{target} could not be built:\n{built.stderr}")
    return opt / "python"


def _keep_runtime_bytecode(root: Path) -> None:
    tag = _runtime_tag()
    for compiled in root.rglob("*.pyc"):
        if f".{tag}." not in compiled.name:
            compiled.unlink()


def _set_writable(root: Path, writable: bool) -> None:
    write = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        path.chmod(mode | stat.S_IWUSR if writable else mode & ~write)


@contextmanager
def lambda_folders() -> Iterator[tuple[Path, dict[str, Path]]]:
    """Read-only copies of the layers (/opt/python) and of each function's code (/var/task)."""
    with tempfile.TemporaryDirectory(prefix="inbox-cold-start-") as name:
        root = Path(name)
        opt = _build_layers(root)
        tasks = {}
        for logical_id, spec in functions().items():
            tasks[logical_id] = root / "task" / logical_id
            shutil.copytree(spec.code_dir, tasks[logical_id], ignore=shutil.ignore_patterns("__pycache__"))
        _keep_runtime_bytecode(root)
        _set_writable(root, writable=False)
        try:
            yield opt, tasks
        finally:
            _set_writable(root, writable=True)


def _seconds(code: str, environment: Mapping[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run([sys.executable, "-S", "-c", code], env=dict(environment), check=True)  # noqa: S603 - our own code
    return time.perf_counter() - began


def measure(environments: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """``environments``: each function's environment, as the local stack runs it."""
    specs = functions()
    baseline: list[float] = []
    samples: dict[str, list[float]] = {name: [] for name in specs}
    with lambda_folders() as (opt, tasks):

        def lambda_environment(name: str) -> dict[str, str]:
            path = f"{tasks[name]}{os.pathsep}{opt}"
            return {**environments[name], "PYTHONPATH": path, "PYTHONDONTWRITEBYTECODE": "1"}

        for _ in range(REPETITIONS):
            baseline.append(_seconds(BASELINE, lambda_environment(next(iter(specs)))))
            for name, spec in specs.items():
                code = HANDLER.format(code_dir=str(tasks[name]), module=spec.module, handler=spec.handler)
                samples[name].append(_seconds(code, lambda_environment(name)))
    baseline_ms = summary([seconds * 1000 for seconds in baseline])
    result: dict[str, Any] = {"baseline_ms": baseline_ms}
    for name, seconds in samples.items():
        function_ms = summary([value * 1000 for value in seconds])
        result[name] = {"ms": function_ms, "ratio": ratio(function_ms["median"], baseline_ms["median"])}
    return result
