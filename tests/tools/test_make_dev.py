"""`make dev` itself: it starts, prints where everything is, serves the page, writes the variables for
`sam local invoke`, and stops cleanly and quietly on Ctrl-C."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import requests
from inbox_dev.stack_process import READY_LINE, STARTUP_SECONDS, StackProcess, port_flags, stack_command, stack_ports
from inbox_dev.template import template

pytestmark = pytest.mark.e2e


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def declared_variables() -> dict[str, set[str]]:
    """Each function of template.yaml with the names of its Environment variables, the Globals' included."""
    document = template()
    shared = document.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    return {
        name: {*shared, *body["Properties"].get("Environment", {}).get("Variables", {})}
        for name, body in document["Resources"].items()
        if body["Type"] == "AWS::Serverless::Function"
    }


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

        # And the variables for `sam local invoke --env-vars` name every function and variable of the
        # template, with the local stack's endpoints as a container reaches them
        sam_env = json.loads((tmp_path / "sam-env.json").read_text())
        declared = declared_variables()
        assert set(sam_env) == set(declared)
        for function, variables in declared.items():
            assert variables <= set(sam_env[function]), f"{function} lacks {variables - set(sam_env[function])}"
        assert sam_env["FanoutFunction"]["WEBSOCKET_CALLBACK_URL"].startswith("http://host.docker.internal:")
        assert sam_env["WsAuthorizerFunction"]["JWKS_URL"].startswith("http://host.docker.internal:")
        # And only the issuer keeps 127.0.0.1: it is the name the tokens of `make token` carry, not an address
        on_loopback = {
            (function, name)
            for function, environment in sam_env.items()
            for name, value in environment.items()
            if "127.0.0.1" in value or "localhost" in value
        }
        assert on_loopback == {(function, "JWT_ISSUER") for function in sam_env if "JWT_ISSUER" in sam_env[function]}
        assert sam_env["WsAuthorizerFunction"]["JWT_ISSUER"] == f"http://127.0.0.1:{ports['page']}"

        # When the developer presses Ctrl-C
        signalled_at = len(stack.output)
        stack.interrupt()
    finally:
        stack.kill()

    # Then it says it stopped, and nothing else: no client complains of a server gone before it
    assert [line for line in stack.output[signalled_at:] if line.strip()] == ["Stopped."]
    # And nothing is left listening or behind
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
