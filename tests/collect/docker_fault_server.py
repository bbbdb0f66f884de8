"""A Docker Engine API stand-in on a unix socket that answers /_ping and /version, then misbehaves.

The real dockerd (conftest `dockerd`) cannot be made to answer 5xx, hang or drop a connection on
demand; this server does, for the paths of a `faults` map ("500", "hang", "reset"), and answers
everything else with 404 so the collector's own handling is what is tested.
"""

from __future__ import annotations

import json
import socket
import socketserver
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    faults: dict[str, str] = {}

    def log_message(self, *args: object) -> None:
        """Do not log."""

    def address_string(self) -> str:  # unix sockets have no peer address
        """Return a fixed client name."""
        return "unix"

    def _json(self, code: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Api-Version", "1.43")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        """Answer or misbehave."""
        path = self.path.split("?")[0]
        if path.endswith("/_ping"):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.send_header("Api-Version", "1.43")
            self.end_headers()
            self.wfile.write(b"OK")
            return
        if path.endswith("/version"):
            return self._json(200, {"ApiVersion": "1.43", "Version": "24.0.0", "MinAPIVersion": "1.12"})
        mode = next((m for key, m in self.faults.items() if key in path), None)
        if mode == "500":
            return self._json(500, {"message": "Error response from daemon: layer store is locked"})
        if mode == "hang":
            time.sleep(30)
            return None
        if mode == "reset":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "4096")
            self.end_headers()
            self.wfile.write(b'[{"Id": "abc')
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return None
        return self._json(404, {"message": f"No such container: {path}"})


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class FaultyDocker:
    """A running fake daemon at unix://`path`."""

    def __init__(self, path: Path, faults: dict[str, str]):
        handler = type("Handler", (_Handler,), {"faults": faults})
        self.path = path
        self.host = f"unix://{path}"
        self.server = _Server(str(path), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
