"""Local servers run as child processes: free ports, readiness, and a clean stop."""

from __future__ import annotations

import random
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def free_port() -> int:
    """A free loopback port for a server, below the ephemeral range.

    A port the kernel hands out (bind to 0) comes from the ephemeral range, where the stack's own
    outgoing connections may take it before the server that was meant to listen on it starts.
    """
    low = int(EPHEMERAL_RANGE.read_text().split()[0]) if EPHEMERAL_RANGE.exists() else 32768
    while True:
        port = random.randrange(10_000, low)  # noqa: S311 - not a secret
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


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
def serving(command: Sequence[str], port: int, *, timeout: float, cwd: Path | None = None) -> Iterator[None]:
    """Run a server until the block ends: ready once it listens on ``port``, then stopped, or killed.

    The server gets a process group of its own, so that Ctrl-C, which a terminal sends to its whole
    foreground group, leaves it to the block's end: clients still connected to it stop first.
    """
    process = subprocess.Popen(  # noqa: S603 - our own command line
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=cwd,
        process_group=0,
    )
    try:
        wait_for_port(port, timeout=timeout, process=process)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
