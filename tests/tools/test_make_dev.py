"""`make dev` itself: it starts, prints where everything is, serves the page, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import requests
from inbox_dev.stack_process import READY_LINE, STARTUP_SECONDS, StackProcess, port_flags, stack_command, stack_ports

pytestmark = pytest.mark.e2e


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_make_dev_starts_serves_the_page_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    # Given free ports
    ports = stack_ports()
    arguments = " ".join(["--quiet", "--state-dir", str(tmp_path), *port_flags(ports)])

    # When a developer runs `make dev`
    stack = StackProcess.start(["make", "--no-print-directory", "dev", f"ARGS={arguments}"], ports)
    try:
        stack.wait_for(READY_LINE, STARTUP_SECONDS)
        stack.wait_for("Stop", 10)

        # Then the summary lists every local address, and the page is served
        output = "\n".join(stack.output)
        for name, port in ports.items():
            assert f"127.0.0.1:{port}" in output, f"the summary does not show the {name} port"
        page = requests.get(f"http://127.0.0.1:{ports['page']}/", timeout=10)
        assert page.status_code == 200
        assert "<html" in page.text.lower()
        assert (tmp_path / "stack.json").exists()

        # When the developer presses Ctrl-C
        stack.interrupt()
    finally:
        stack.kill()

    # Then it says so, and nothing is left listening or behind
    assert "Stopped." in stack.output
    assert [name for name, port in ports.items() if listening(port)] == []
    assert not (tmp_path / "stack.json").exists()


def test_a_port_in_use_gives_a_clear_message_and_the_flag_to_change_it(tmp_path: Path) -> None:
    # Given something already listening on the HTTP API's port
    ports = stack_ports()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", ports["http"]))
        squatter.listen()

        # When the stack starts
        stack = StackProcess.start(stack_command("--state-dir", str(tmp_path), *port_flags(ports)), ports)
        code = stack.process.wait(timeout=60)

    # Then it stops at once with the reason and the way out
    assert code == 2
    assert any(f"port {ports['http']} (HTTP API) is already in use" in line for line in stack.output)
    assert any("--http-port" in line for line in stack.output)
