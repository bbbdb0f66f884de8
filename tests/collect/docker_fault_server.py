"""A Docker Engine API stand-in on a unix socket that serves one container, `web`, then misbehaves.

The real dockerd (conftest `dockerd`) cannot be made to answer 5xx, hang, drop a connection, trickle
a body or send a huge one on demand; this server does, for the paths of a `faults` map ("500",
"hang", "reset", "trickle", "huge", "huge-chunked"). Without a fault it answers /_ping, /version,
and for `web`: inspect (OOMKilled after three restarts), the container list, a framed log of a
gunicorn whose workers are killed for memory, and its events. Anything else is a 404.
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
from urllib.parse import parse_qs, urlparse

CID = "3a1c9e0b7d2f" + "5" * 52
TRICKLE_SECONDS = 30.0  # a trickle ends after this, so that a collector without a deadline fails, not hangs
INSPECT = {
    "Id": CID,
    "Name": "/web",
    "Created": "2024-03-05T10:00:00.000000000Z",
    "RestartCount": 3,
    "Config": {"Image": "model-server:1", "Tty": False},
    "State": {"Status": "exited", "Running": False, "OOMKilled": True, "ExitCode": 137},
    "HostConfig": {"Memory": 50331648, "MemorySwap": 50331648, "RestartPolicy": {"Name": "on-failure"}},
}
LOG_LINES = [
    b"2024-03-05T10:00:05.000000000Z [2024-03-05 10:00:05 +0000] [1] [INFO] Booting worker with pid: 7\n",
    b"2024-03-05T10:00:09.000000000Z [2024-03-05 10:00:09 +0000] [1] [ERROR] Worker (pid:7) was sent "
    b"SIGKILL! Perhaps out of memory?\n",
    b"2024-03-05T10:00:10.000000000Z [2024-03-05 10:00:10 +0000] [1] [INFO] Booting worker with pid: 12\n",
    b"2024-03-05T10:00:19.000000000Z [2024-03-05 10:00:19 +0000] [1] [ERROR] Worker (pid:12) was sent "
    b"SIGKILL! Perhaps out of memory?\n",
]
EVENTS = [
    {
        "Type": "container",
        "Action": action,
        "Actor": {"ID": CID, "Attributes": {"name": "web", "image": "model-server:1"}},
        "time": 1709632819,
        "timeNano": 1709632819_000000000 + n,
    }
    for n, action in enumerate(("oom", "die"))
]
# What a huge body is made of before the real answer that ends it: a log line that means nothing.
FILLER = b"2024-03-05T10:00:04.000000000Z waiting for the model store to answer; retrying in 1 s\n"


def frame(payload: bytes, stream: int = 1) -> bytes:
    """Return `payload` framed as the daemon frames a log without a terminal (stdout by default)."""
    return struct.pack(">BxxxI", stream, len(payload)) + payload


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    faults: dict[str, str] = {}
    trickle_interval = 0.25
    huge_bytes = 256 * 2**20
    stopped: threading.Event

    def log_message(self, *args: object) -> None:
        """Do not log."""

    def address_string(self) -> str:  # unix sockets have no peer address
        """Return a fixed client name."""
        return "unix"

    def _send(self, code: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Api-Version", "1.43")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, code: int, body: object) -> None:
        self._send(code, json.dumps(body).encode())

    def do_GET(self) -> None:  # noqa: N802
        """Answer or misbehave."""
        url = urlparse(self.path)
        path, query = url.path, parse_qs(url.query)
        if path.endswith("/_ping"):
            return self._send(200, b"OK", "text/plain")
        if path.endswith("/version"):
            return self._json(200, {"ApiVersion": "1.43", "Version": "24.0.0", "MinAPIVersion": "1.12"})
        mode = next((m for key, m in self.faults.items() if key in path), None)
        try:
            if mode is None:
                return self._answer(path, query)
            self._fault(mode, path, query)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return None

    def _answer(self, path: str, query: dict[str, list[str]]) -> None:
        """Answer for the one container, as dockerd does."""
        code, body, content_type, _ = self._real(path, query)
        self._send(code, body, content_type)

    def _real(self, path: str, query: dict[str, list[str]]) -> tuple[int, bytes, str, bytes]:
        """Return the real answer's code, body and type, and what an endless trickle of it sends."""
        parts = [p for p in path.split("/") if p][1:]  # without the /v1.43 prefix
        if parts[:1] == ["containers"] and parts[1:] == ["json"]:
            listed = [] if "filters" in query else [{"Id": CID, "Names": ["/web"]}]
            return 200, json.dumps(listed).encode(), "application/json", b" "
        if parts[:1] == ["containers"] and len(parts) == 3 and parts[1] in ("web", CID, CID[:12]):
            if parts[2] == "json":
                return 200, json.dumps(INSPECT).encode(), "application/json", b" "
            if parts[2] == "logs":
                # After the real log, an endless one: a frame that announces 1 GiB, sent a byte at a time.
                body = b"".join(frame(line) for line in LOG_LINES)
                return 200, body, "application/vnd.docker.multiplexed-stream", frame(b"")[:4] + b"\x40\0\0\0"
        if parts == ["events"]:
            body = b"".join(json.dumps(e).encode() + b"\n" for e in EVENTS)
            return 200, body, "application/json", b"\n"
        return 404, json.dumps({"message": f"No such container: {path}"}).encode(), "application/json", b""

    def _fault(self, mode: str, path: str, query: dict[str, list[str]]) -> None:
        """Answer with fault `mode`."""
        if mode == "500":
            return self._json(500, {"message": "Error response from daemon: layer store is locked"})
        if mode == "hang":
            self.stopped.wait(30)
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
        _, body, content_type, endless = self._real(path, query)
        if mode == "trickle":
            return self._trickle(body, content_type, endless)
        return self._huge(path, body, content_type, chunked=mode == "huge-chunked")

    def _head(self, content_type: str, length: int | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        if length is None:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(length))
        self.send_header("Api-Version", "1.43")
        self.end_headers()

    def _trickle(self, body: bytes, content_type: str, endless: bytes) -> None:
        """Send the real body at once, then `endless` and dots a byte at a time, sooner than a timeout."""
        self._head(content_type, None)
        self.wfile.write(b"%x\r\n%s\r\n" % (len(body), body))
        self.wfile.flush()
        end = time.monotonic() + TRICKLE_SECONDS
        sent = 0
        while time.monotonic() < end and not self.stopped.wait(self.trickle_interval):
            byte = endless[sent : sent + 1] or b"."
            self.wfile.write(b"1\r\n" + byte + b"\r\n")
            self.wfile.flush()
            sent += 1
        self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True

    def _huge(self, path: str, body: bytes, content_type: str, chunked: bool) -> None:
        """Send `huge_bytes` of FILLER (framed for a log) that end with the real body, fast."""
        framed = path.endswith("/logs")
        block = FILLER * (2**20 // len(FILLER))
        if framed:
            block = frame(block)
        count = max(0, self.huge_bytes - len(body)) // len(block)
        self._head(content_type, None if chunked else count * len(block) + len(body))

        def send(data: bytes) -> None:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)

        for _ in range(count):
            send(block)
        send(body)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        self.close_connection = True


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class FaultyDocker:
    """A running fake daemon at unix://`path`; `handler` holds the knobs a test may turn."""

    def __init__(self, path: Path, faults: dict[str, str]):
        self.stopped = threading.Event()
        self.handler = type("Handler", (_Handler,), {"faults": faults, "stopped": self.stopped})
        self.path = path
        self.host = f"unix://{path}"
        self.server = _Server(str(path), self.handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop serving; a trickle or a hang stops at once."""
        self.stopped.set()
        self.server.shutdown()
        self.server.server_close()
