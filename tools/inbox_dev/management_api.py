"""A loopback stand-in for API Gateway's WebSocket Management API (and a JWKS endpoint).

POST /@connections/{id} records the message, or answers 410 GoneException for connections
marked gone, after ``delay_s`` (to stand in for a remote API's latency; ``delays`` sets it per
connection); DELETE /@connections/{id} ends the connection (recorded in ``deleted``; it is gone
from then on); GET /.well-known/jwks.json serves the local issuer's keys.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote


class _Server(ThreadingHTTPServer):
    # The default backlog of 5 drops connects when a fan-out opens dozens at once, and a dropped
    # connect waits a second to try again: API Gateway refuses none.
    request_queue_size = 128
    daemon_threads = True


class ManagementApiStub:
    def __init__(self, jwks: dict[str, Any] | None = None, delay_s: float = 0.0) -> None:
        self.jwks = jwks or {"keys": []}
        self.delay_s = delay_s
        self.messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.gone: set[str] = set()
        self.failing: set[str] = set()
        self.delays: dict[str, float] = {}
        self.deleted: list[str] = []
        self._lock = threading.Lock()
        self.url = ""

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()
            self.gone.clear()
            self.failing.clear()
            self.delays.clear()
            self.deleted.clear()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            # Kept-alive connections without Nagle's delay, as API Gateway serves them: a new connection
            # per post, or a 40 ms delayed ACK, would cost more than the post itself.
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
                return

            def _answer(self, status: int, body: dict[str, Any] | None = None, error: str | None = None) -> None:
                data = json.dumps(body or {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if error:
                    self.send_header("x-amzn-ErrorType", error)
                self.send_header("Content-Length", str(len(data)))
                try:
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client stopped waiting (a read timeout): it sees no answer, as from API Gateway

            def do_GET(self) -> None:
                if self.path == "/.well-known/jwks.json":
                    self._answer(200, stub.jwks)
                else:
                    self._answer(404, {"message": "not found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                data = self.rfile.read(length)
                prefix = "/@connections/"
                index = self.path.find(prefix)
                if index < 0:
                    self._answer(404, {"message": "not found"})
                    return
                connection_id = unquote(self.path[index + len(prefix) :])
                delay = stub.delays.get(connection_id, stub.delay_s)
                if delay:
                    time.sleep(delay)
                with stub._lock:
                    if connection_id in stub.gone:
                        self._answer(410, {"message": "gone"}, error="GoneException")
                        return
                    if connection_id in stub.failing:
                        self._answer(500, {"message": "internal"}, error="InternalServerErrorException")
                        return
                    stub.messages[connection_id].append(json.loads(data))
                self._answer(200)

            def do_DELETE(self) -> None:
                prefix = "/@connections/"
                index = self.path.find(prefix)
                if index < 0:
                    self._answer(404, {"message": "not found"})
                    return
                connection_id = unquote(self.path[index + len(prefix) :])
                with stub._lock:
                    if connection_id in stub.gone:
                        self._answer(410, {"message": "gone"}, error="GoneException")
                        return
                    stub.deleted.append(connection_id)
                    stub.gone.add(connection_id)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler

    @contextmanager
    def running(self) -> Iterator[ManagementApiStub]:
        server = _Server(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
