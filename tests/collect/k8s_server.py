"""A loopback stand-in for kube-apiserver that replays recorded API JSON (tests/data/k8s-api).

No kube-apiserver can be installed on this machine, so the Kubernetes collector is tested against
this server through the official client (and kubectl where it is installed). It answers with the
real shapes: List objects, `Status` errors (404, 403, 400), logs with `previous`, 204 for the log
of a pod that was never scheduled, 400 "waiting to start" for a container being created, the
CrashLoopBackOff quirk (a plain log request returns the previous run's log), watch streams, and
a 200 empty list for pods of a namespace that does not exist. Faults on demand (`Replay.faults`)
make it hang, fail, break off, trickle a body forever or send a huge one fast.
"""

from __future__ import annotations

import io
import json
import shutil
import socket
import struct
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

DATA = Path(__file__).resolve().parent.parent / "data" / "k8s-api"
TOKEN = "loopback-test-token"
TRICKLE_SECONDS = 30.0  # a trickle ends after this, so that a collector without a deadline fails, not hangs
# What a huge body is made of before the recorded answer that ends it: a log line that means nothing.
FILLER = b"2024-03-05T10:01:37.000000000Z waiting for the model store to answer; retrying in 1 s\n"

API_RESOURCES = {
    "kind": "APIResourceList",
    "groupVersion": "v1",
    "resources": [
        {
            "name": n,
            "singularName": s,
            "namespaced": ns,
            "kind": k,
            "verbs": ["get", "list", "watch"],
            "shortNames": sh,
        }
        for n, s, ns, k, sh in (
            ("pods", "pod", True, "Pod", ["po"]),
            ("pods/log", "", True, "Pod", []),
            ("events", "event", True, "Event", ["ev"]),
            ("services", "service", True, "Service", ["svc"]),
            ("nodes", "node", False, "Node", ["no"]),
            ("namespaces", "namespace", False, "Namespace", ["ns"]),
        )
    ],
}
APPS_RESOURCES = {
    "kind": "APIResourceList",
    "apiVersion": "v1",
    "groupVersion": "apps/v1",
    "resources": [
        {
            "name": "deployments",
            "singularName": "deployment",
            "namespaced": True,
            "kind": "Deployment",
            "verbs": ["get", "list"],
            "shortNames": ["deploy"],
        },
        {
            "name": "statefulsets",
            "singularName": "statefulset",
            "namespaced": True,
            "kind": "StatefulSet",
            "verbs": ["get", "list"],
            "shortNames": ["sts"],
        },
    ],
}


def status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return a metav1.Status object as the API sends it with an error."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return body


class Replay:
    """Recorded objects per namespace, loaded from DATA."""

    def __init__(self, data: Path = DATA):
        self.data = data
        self.requests: list[str] = []
        self.delay = 0.0  # seconds every answer waits: a slow API
        # Faults by path substring: "500", "503", "hang" (no answer for 30 s), "reset" (the
        # connection drops mid-body), "truncate" (the body ends before its Content-Length), "garbage"
        # (200 with a body that is not JSON), "trickle" (chunked: half the recorded body at once, then
        # one byte every `trickle_interval` s for TRICKLE_SECONDS), "huge" / "huge-chunked" (as fast
        # as the socket takes, `huge_bytes` of FILLER ending with the recorded body; with or without
        # a Content-Length). Empty: the recorded answers, as before.
        self.faults: dict[str, str] = {}
        self.trickle_interval = 0.25
        self.huge_bytes = 256 * 2**20
        self.filler = FILLER  # the line a huge body repeats
        self.stopped = threading.Event()  # set by Server.close: a trickle stops at once

    def items(self, ns: str, kind: str) -> list[dict[str, Any]]:
        """Return the recorded items of `kind` in `ns` (none when not recorded)."""
        path = self.data / ns / f"{kind}.json"
        return json.loads(path.read_text())["items"] if path.is_file() else []

    def listing(self, ns: str, kind: str, list_kind: str, api_version: str) -> dict[str, Any]:
        """Return a List object, recorded or empty."""
        path = self.data / ns / f"{kind}.json"
        if path.is_file():
            return json.loads(path.read_text())
        return {
            "kind": list_kind,
            "apiVersion": api_version,
            "metadata": {"resourceVersion": "1"},
            "items": [],
        }


def _match(labels: dict[str, str], selector: str) -> bool:
    """Return True when `labels` satisfy an equality-based label selector."""
    for term in filter(None, selector.split(",")):
        key, _, value = term.partition("=")
        if labels.get(key.rstrip("=!")) != value.lstrip("="):
            return False
    return True


class Handler(BaseHTTPRequestHandler):
    """Answer GETs from the replay."""

    replay: Replay
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        """Do not log to stderr."""

    def _send(self, code: int, body: Any = None, content_type: str = "application/json") -> None:
        data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        self.send_response(code)
        if code != 204:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if code != 204:
            self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        """Route a GET."""
        url = urlparse(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.replay.requests.append(self.path)
        # kubectl sends no bearer token over plain http; a wrong token is still refused.
        scheme, _, token = self.headers.get("Authorization", f"Bearer {TOKEN}").partition(" ")
        if scheme.lower() != "bearer" or token != TOKEN:  # the scheme is case-insensitive (RFC 7235)
            return self._send(401, status(401, "Unauthorized", "Unauthorized"))
        if self.replay.delay:
            time.sleep(self.replay.delay)
        parts = [p for p in url.path.split("/") if p]
        try:
            fault = next((mode for key, mode in self.replay.faults.items() if key in self.path), None)
            if fault is not None:
                return self._fault(fault, parts, query)
            self._route(parts, query)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _fault(self, mode: str, parts: list[str], query: dict[str, str]) -> None:
        """Answer with fault `mode` instead of the recorded answer."""
        if mode in ("500", "503"):
            code = int(mode)
            reason = "InternalError" if code == 500 else "ServiceUnavailable"
            return self._send(code, status(code, reason, f"etcdserver: request timed out ({code})"))
        if mode == "hang":
            time.sleep(30)
            return None
        if mode == "garbage":
            return self._send(200, b"<html><body>502 Bad Gateway</body></html>", "text/html")
        real = io.BytesIO()
        wfile, self.wfile = self.wfile, real
        try:
            self._route(parts, query)
        finally:
            self.wfile = wfile
        raw = real.getvalue()
        head, _, body = raw.partition(b"\r\n\r\n")
        if mode == "trickle":
            return self._trickle(head, body)
        if mode in ("huge", "huge-chunked"):
            return self._huge(head, body, chunked=mode == "huge-chunked")
        # reset / truncate: the recorded answer, cut in the middle of its body.
        self.wfile.write(head + b"\r\n\r\n" + body[: max(1, len(body) // 2)])
        self.wfile.flush()
        if mode == "reset":  # RST instead of FIN: the client sees "connection reset by peer"
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _head(self, head: bytes, length: int | None) -> bytes:
        """Return the recorded head with the body's framing replaced: a length, or chunked."""
        lines = [ln for ln in head.split(b"\r\n") if not ln.lower().startswith(b"content-length:")]
        lines.append(b"Transfer-Encoding: chunked" if length is None else b"Content-Length: %d" % length)
        return b"\r\n".join(lines) + b"\r\n\r\n"

    def _trickle(self, head: bytes, body: bytes) -> None:
        """Send half the body at once, then a byte at a time, each sooner than a read timeout."""
        half = max(1, len(body) // 2)
        self.wfile.write(self._head(head, None) + b"%x\r\n%s\r\n" % (half, body[:half]))
        self.wfile.flush()
        rest = body[half:] or b"\n"
        end = time.monotonic() + TRICKLE_SECONDS
        sent = 0
        while time.monotonic() < end and not self.replay.stopped.wait(self.replay.trickle_interval):
            byte = rest[sent : sent + 1] or b"\n"
            self.wfile.write(b"1\r\n" + byte + b"\r\n")
            self.wfile.flush()
            sent += 1
        self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True

    def _huge(self, head: bytes, body: bytes, chunked: bool) -> None:
        """Send `huge_bytes` of filler lines that end with the recorded body, as fast as the socket takes."""
        filler = self.replay.huge_bytes - len(body)
        block = self.replay.filler * (2**20 // len(self.replay.filler))
        self.wfile.write(self._head(head, None if chunked else self.replay.huge_bytes))

        def send(data: bytes) -> None:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)

        odd = filler % len(block)
        if odd:  # first, so that the recorded body starts on a line of its own
            send(block[-odd:])
        for _ in range(filler // len(block)):
            send(block)
        send(body)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        self.close_connection = True

    def _route(self, parts: list[str], query: dict[str, str]) -> None:
        r = self.replay
        if parts == ["api"]:
            return self._send(
                200,
                {
                    "kind": "APIVersions",
                    "versions": ["v1"],
                    "serverAddressByClientCIDRs": [
                        {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}
                    ],
                },
            )
        if parts == ["apis"]:
            groups = [
                {
                    "name": g,
                    "versions": [{"groupVersion": f"{g}/{v}", "version": v}],
                    "preferredVersion": {"groupVersion": f"{g}/{v}", "version": v},
                }
                for g, v in (("apps", "v1"), ("autoscaling", "v2"))
            ]
            return self._send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
        if parts == ["api", "v1"]:
            return self._send(200, API_RESOURCES)
        if parts == ["apis", "apps", "v1"]:
            return self._send(200, APPS_RESOURCES)
        if parts == ["version"]:
            return self._send(
                200, {"major": "1", "minor": "29", "gitVersion": "v1.29.2", "platform": "linux/amd64"}
            )
        if parts in (["api", "v1", "pods"], ["apis", "autoscaling", "v2", "horizontalpodautoscalers"]):
            return self._everywhere(parts[-1], query)
        if parts == ["api", "v1", "nodes"]:
            return self._send(200, json.loads((r.data / "nodes.json").read_text()))
        if len(parts) >= 5 and parts[:3] == ["api", "v1", "namespaces"]:
            return self._core(parts[3], parts[4:], query)
        if len(parts) >= 6 and parts[0] == "apis" and parts[3] == "namespaces":
            group = f"{parts[1]}/{parts[2]}"
            return self._grouped(group, parts[4], parts[5:], query)
        return self._send(404, status(404, "NotFound", "the server could not find the requested resource"))

    def _everywhere(self, resource: str, query: dict[str, str]) -> None:
        """Answer a list across all namespaces (`kubectl get pods -A`): every recorded namespace's items."""
        r = self.replay
        key = {"pods": "pods", "horizontalpodautoscalers": "hpas"}[resource]
        items = []
        for ns in sorted(p.name for p in r.data.iterdir() if p.is_dir()):
            for item in r.items(ns, key):
                items.append({**item, "metadata": {"namespace": ns, **item["metadata"]}})
        if query.get("labelSelector"):
            items = [i for i in items if _match(i["metadata"].get("labels") or {}, query["labelSelector"])]
        kind = "PodList" if key == "pods" else "HorizontalPodAutoscalerList"
        api_version = "v1" if key == "pods" else "autoscaling/v2"
        return self._send(
            200,
            {"kind": kind, "apiVersion": api_version, "metadata": {"resourceVersion": "1"}, "items": items},
        )

    def _forbidden(self, ns: str, resource: str) -> bool:
        if ns != "locked":
            return False
        self._send(
            403,
            status(
                403,
                "Forbidden",
                (
                    f'{resource} is forbidden: User "system:serviceaccount:ci:reader" cannot list resource '
                    f'"{resource}" in API group "" in the namespace "{ns}"'
                ),
                {"kind": resource},
            ),
        )
        return True

    def _core(self, ns: str, rest: list[str], query: dict[str, str]) -> None:
        r = self.replay
        resource = rest[0]
        if self._forbidden(ns, resource):
            return None
        kinds = {
            "pods": ("PodList", "Pod"),
            "services": ("ServiceList", "Service"),
            "events": ("EventList", "Event"),
        }
        if resource not in kinds:
            return self._send(
                404, status(404, "NotFound", "the server could not find the requested resource")
            )
        list_kind, _ = kinds[resource]
        if len(rest) == 1:
            listing = r.listing(ns, resource, list_kind, "v1")
            if query.get("labelSelector"):
                listing = {
                    **listing,
                    "items": [
                        i
                        for i in listing["items"]
                        if _match(i["metadata"].get("labels") or {}, query["labelSelector"])
                    ],
                }
            if query.get("watch") in ("true", "1"):
                return self._watch(listing["items"], float(query.get("timeoutSeconds", "0") or 0))
            return self._send(200, listing)
        name = rest[1]
        found = next((i for i in r.items(ns, resource) if i["metadata"]["name"] == name), None)
        if found is None:
            return self._send(
                404,
                status(404, "NotFound", f'{resource} "{name}" not found', {"name": name, "kind": resource}),
            )
        if len(rest) == 2:  # a single object carries kind and apiVersion; list items do not
            return self._send(200, {"kind": list_kind[:-4], "apiVersion": "v1", **found})
        if resource == "pods" and rest[2:] == ["log"]:
            return self._log(ns, found, query)
        return self._send(404, status(404, "NotFound", "the server could not find the requested resource"))

    def _log(self, ns: str, pod: dict[str, Any], query: dict[str, str]) -> None:
        name = pod["metadata"]["name"]
        containers = [c["name"] for c in pod["spec"]["containers"]]
        container = query.get("container") or containers[0]
        if container not in containers:
            return self._send(
                400, status(400, "BadRequest", f"container {container} is not valid for pod {name}")
            )
        statuses = {s["name"]: s for s in (pod.get("status") or {}).get("containerStatuses") or []}
        if not pod["spec"].get("nodeName"):
            return self._send(204)  # a pod that was never scheduled: no body at all
        st = statuses.get(container) or {}
        waiting = (st.get("state") or {}).get("waiting") or {}
        previous = query.get("previous") in ("true", "1")
        logs = self.replay.data / ns / "logs" / name
        if previous:
            path = logs / f"{container}.previous.log"
            if not path.is_file():
                return self._send(
                    400,
                    status(
                        400,
                        "BadRequest",
                        f'previous terminated container "{container}" in pod "{name}" not found',
                    ),
                )
        else:
            path = logs / f"{container}.log"
            if waiting and not st.get("restartCount"):
                reason = waiting.get("reason", "ContainerCreating")
                return self._send(
                    400,
                    status(
                        400,
                        "BadRequest",
                        f'container "{container}" in pod "{name}" is waiting to start: {reason}',
                    ),
                )
            if waiting and not path.is_file():
                path = logs / f"{container}.previous.log"  # CrashLoopBackOff: the last run's log
        text = path.read_text() if path.is_file() else ""
        lines = text.splitlines(keepends=True)
        if query.get("tailLines"):
            lines = lines[-int(query["tailLines"]) :]
        if query.get("timestamps") not in ("true", "1"):
            lines = [ln.split(" ", 1)[1] if " " in ln else ln for ln in lines]
        return self._send(200, "".join(lines).encode(), "text/plain")

    def _grouped(self, group: str, ns: str, rest: list[str], query: dict[str, str]) -> None:
        r = self.replay
        resource = rest[0]
        if self._forbidden(ns, resource):
            return None
        files = {
            ("apps/v1", "deployments"): "deployments",
            ("apps/v1", "statefulsets"): "statefulsets",
            ("autoscaling/v2", "horizontalpodautoscalers"): "hpas",
        }
        key = files.get((group, resource))
        if key is None:
            return self._send(
                404, status(404, "NotFound", "the server could not find the requested resource")
            )
        if len(rest) == 1:
            return self._send(200, r.listing(ns, key, resource.capitalize() + "List", group))
        found = next((i for i in r.items(ns, key) if i["metadata"]["name"] == rest[1]), None)
        if found is None:
            return self._send(
                404,
                status(
                    404,
                    "NotFound",
                    f'{resource}.{group.split("/")[0]} "{rest[1]}" not found',
                    {"name": rest[1], "group": group.split("/")[0], "kind": resource},
                ),
            )
        kind = {"deployments": "Deployment", "statefulsets": "StatefulSet"}.get(
            resource, "HorizontalPodAutoscaler"
        )
        return self._send(200, {"kind": kind, "apiVersion": group, **found})

    def _watch(self, items: list[dict[str, Any]], timeout: float) -> None:
        """Stream ADDED events for `items`, then hold the stream open until timeoutSeconds (if any)."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for item in items:
            line = json.dumps({"type": "ADDED", "object": item}).encode() + b"\n"
            self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
            self.wfile.flush()
        time.sleep(min(timeout, 5.0) if timeout else 5.0)  # a real watch stays open; the client must time out
        self.wfile.write(b"0\r\n\r\n")


class Server:
    """A running loopback API server and a kubeconfig that points at it."""

    def __init__(self, tmp: Path, data: Path = DATA, tls: tuple[Path, Path] | None = None):
        self.replay = Replay(data)
        handler = type("BoundHandler", (Handler,), {"replay": self.replay})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        scheme = "http"
        if tls is not None:  # (certificate, key): HTTPS as a real API server (in-cluster config needs it)
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.kubeconfig = tmp / "kubeconfig"
        self.kubeconfig.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "current-context": "loopback",
                    "clusters": [{"name": "loopback", "cluster": {"server": self.url}}],
                    "users": [{"name": "reader", "user": {"token": TOKEN}}],
                    "contexts": [
                        {
                            "name": "loopback",
                            "context": {"cluster": "loopback", "user": "reader", "namespace": "azureml-prod"},
                        },
                        {
                            "name": "gpu",
                            "context": {"cluster": "loopback", "user": "reader", "namespace": "gpu-serving"},
                        },
                        {"name": "dead", "context": {"cluster": "dead", "user": "reader"}},
                    ],
                }
            )
        )
        # A cluster entry that nothing listens on: for the "unreachable" case.
        cfg = json.loads(self.kubeconfig.read_text())
        cfg["clusters"].append({"name": "dead", "cluster": {"server": "http://127.0.0.1:9"}})
        self.kubeconfig.write_text(json.dumps(cfg))

    def close(self) -> None:
        """Stop serving."""
        self.replay.stopped.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def in_cluster_files(tmp: Path, namespace: str = "azureml-prod") -> tuple[Path, Path, Path]:
    """Write what a pod of the cluster would hold, and what its API server serves TLS with: a
    self-signed certificate and key for 127.0.0.1, and a service-account directory (token, ca.crt,
    namespace) readable by any user. Return (certificate, key, service-account directory)."""
    cert, key = tmp / "tls.crt", tmp / "tls.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    account = tmp / "serviceaccount"
    account.mkdir()
    (account / "token").write_text(TOKEN)
    shutil.copy(cert, account / "ca.crt")
    (account / "namespace").write_text(namespace + "\n")
    for path in (account, *account.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)  # readable by an image's non-root user too
    return cert, key, account
