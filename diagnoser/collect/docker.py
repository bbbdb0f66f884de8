"""Find a service's container on a Docker daemon and collect its log, inspect state and events.

The Docker SDK supplies the transport (unix socket, TCP, TLS, ssh from DOCKER_HOST and friends); the
Engine API GETs are our own, so each is bounded by --timeout and a byte cap: the SDK reads a log
whole into memory, and streams its events with no timeout at all.
"""

from __future__ import annotations

import json
import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from diagnoser.collect.base import (
    Body,
    Collection,
    Collector,
    Deadline,
    NotFound,
    Piece,
    Request,
    cut_log_warning,
    piece,
    read_body,
    size_text,
    unavailable,
)
from diagnoser.errors import CollectorError, CollectorUnavailable, did_you_mean_any

DEFAULT_SOCKET = "/var/run/docker.sock"
MAX_CONTAINERS = 5
MAX_ERROR_BYTES = 65536  # of an error answer: its message is all we read
# Labels that name a service: compose, Azure ML (AKS-style app labels, also set on LocalWebservice
# images built by azureml), and the common app labels.
SERVICE_LABELS = (
    "com.docker.compose.service",
    "azuremlappname",
    "webservicename",
    "app",
    "app.kubernetes.io/name",
    "io.kubernetes.container.name",
)
# The parts of `docker inspect` that explain a failure; Config.Env and the like are left out.
STATE_KEYS = (
    "Status",
    "Running",
    "Paused",
    "Restarting",
    "OOMKilled",
    "Dead",
    "Pid",
    "ExitCode",
    "Error",
    "StartedAt",
    "FinishedAt",
    "Health",
)


class DockerCollector(Collector):
    """Collect a container's log, state and events through the Docker SDK."""

    name = "docker"

    def available(self, request: Request) -> str | None:
        """Return why Docker is not worth trying, or None."""
        host = os.environ.get("DOCKER_HOST")
        if host or Path(DEFAULT_SOCKET).exists():
            return None
        return f"no DOCKER_HOST and no socket at {DEFAULT_SOCKET}"

    def collect(self, request: Request) -> Collection:
        """Find the containers of the service and collect logs, inspect state and events."""
        try:
            import docker
            from docker.constants import MINIMUM_DOCKER_API_VERSION
            from docker.errors import DockerException
        except ImportError as exc:
            raise unavailable(
                "docker SDK not installed", exc, "reinstall diagnoser, or pip install docker"
            ) from None
        where = os.environ.get("DOCKER_HOST") or f"unix://{DEFAULT_SOCKET}"
        _probe(where, request.timeout)
        try:
            # A version given: the SDK would otherwise ask the daemon for its own at once, unbounded;
            # _Daemon asks within the deadline.
            client = docker.from_env(version=MINIMUM_DOCKER_API_VERSION, timeout=max(1, int(request.timeout)))
        except DockerException as exc:
            raise unavailable(
                f"cannot reach the Docker daemon at {where}", _cause(exc), "start dockerd, or set DOCKER_HOST"
            ) from None
        try:
            return self._collect(_Daemon(client.api, where, request), request, where)
        finally:
            client.close()

    def _collect(self, daemon: _Daemon, request: Request, where: str) -> Collection:
        """Collect from a daemon that answered."""
        containers = self._find(daemon, request.service, where)
        warnings: list[str] = []
        if len(containers) > MAX_CONTAINERS:
            warnings.append(f"{len(containers)} containers match; collected the newest {MAX_CONTAINERS}")
            containers = containers[:MAX_CONTAINERS]
        pieces: list[Piece] = []
        targets: list[str] = []
        now = int(time.time())
        for attrs in containers:
            cid = str(attrs.get("Id", ""))
            name = str(attrs.get("Name", "")).lstrip("/") or cid[:12]
            targets += [name, cid[:12]]
            pieces.append(self._logs(daemon, attrs, name, request, warnings))
            pieces.append(piece(f"docker:{name}/inspect", _inspect_lines(attrs)))
            pieces.append(self._events(daemon, cid, name, attrs, request, now, warnings))
        return Collection(self.name, where, tuple(pieces), tuple(warnings), tuple(targets))

    def _find(self, daemon: _Daemon, service: str, where: str) -> list[dict[str, Any]]:
        """Return the inspected containers named or labelled `service`, newest first."""
        attrs = daemon.json(f"/containers/{quote(service, safe='')}/json", missing_ok=True)
        if attrs is not None:
            return [attrs]
        ids: dict[str, None] = {}
        for label in SERVICE_LABELS:
            labelled = json.dumps({"label": [f"{label}={service}"]})
            for summary in _summaries(daemon.json("/containers/json", {"all": 1, "filters": labelled})):
                ids[str(summary["Id"])] = None
        if not ids:
            names = [
                str(summary["Names"][0]).lstrip("/")
                for summary in _summaries(daemon.json("/containers/json", {"all": 1}))
                if summary.get("Names")
            ]
            hint = did_you_mean_any(service, names) or (
                f"containers there: {', '.join(sorted(names)[:10])}"
                if names
                else "the daemon has no containers"
            )
            labels = ", ".join(f"{label}={service}" for label in SERVICE_LABELS)
            raise NotFound(
                f"no container named {service!r} or labelled {labels} on the Docker daemon at {where}",
                hint=hint,
            )
        found = [daemon.json(f"/containers/{cid}/json", missing_ok=True) for cid in ids]
        return sorted(
            (a for a in found if a is not None), key=lambda a: str(a.get("Created", "")), reverse=True
        )

    def _logs(
        self, daemon: _Daemon, attrs: dict[str, Any], name: str, request: Request, warnings: list[str]
    ) -> Piece:
        """Return the container's log, stdout and stderr, with timestamps (its last bytes past the cap)."""
        params: dict[str, Any] = {"stdout": 1, "stderr": 1, "timestamps": 1, "follow": 0}
        params["tail"] = request.tail if request.tail is not None else "all"
        if request.since_seconds is not None:
            params["since"] = int(time.time()) - request.since_seconds
        # Without a terminal the daemon frames stdout and stderr; with one it sends the bytes as they are.
        framed = not (attrs.get("Config") or {}).get("Tty")
        try:
            body = daemon.stream(
                f"/containers/{attrs.get('Id', '')}/logs",
                params,
                request.max_log_bytes,
                _Frames() if framed else None,
            )
        except CollectorError as exc:
            warnings.append(f"no log for {name}: {exc}")
            return piece(f"docker:{name}", [])
        warning = cut_log_warning(f"log of {name}", body, request.timeout, request.max_log_bytes)
        if warning is not None:
            warnings.append(warning)
        return piece(f"docker:{name}", body.data.decode("utf-8", errors="replace").splitlines())

    def _events(
        self,
        daemon: _Daemon,
        cid: str,
        name: str,
        attrs: dict[str, Any],
        request: Request,
        now: int,
        warnings: list[str],
    ) -> Piece:
        """Return the daemon's events about the container in the window, as `docker events` prints them."""
        since = (
            now - request.since_seconds
            if request.since_seconds is not None
            else _epoch(attrs.get("Created")) or now - 86400
        )
        # since/until as integer epochs: floats and datetimes come in forms old daemons reject. The
        # daemon ends the stream at `until`; the newest events matter most, so the cap keeps those.
        params = {"since": int(since), "until": int(now) + 1, "filters": json.dumps({"container": [cid]})}
        try:
            body = daemon.stream("/events", params, request.max_log_bytes)
        except CollectorError as exc:
            warnings.append(f"no events for {name}: {exc}")
            return piece(f"docker:{name}/events", [])
        warning = cut_log_warning(f"events of {name}", body, request.timeout, request.max_log_bytes)
        if warning is not None:
            warnings.append(warning)
        return piece(f"docker:{name}/events", [_event_line(e) for e in _json_objects(body.data)])


class _Daemon:
    """GETs to the Docker Engine API over the SDK's transport, each within --timeout and a byte cap."""

    def __init__(self, session: Any, where: str, request: Request):
        self.session = session  # the SDK's APIClient: a requests Session with the daemon's adapters
        self.where = where
        self.timeout = request.timeout
        self.max_answer_bytes = request.max_answer_bytes
        self.base = session.base_url
        try:
            version = self.json("/version", versioned=False) or {}
        except CollectorError as exc:
            raise CollectorUnavailable(
                f"cannot reach the Docker daemon at {where}: {exc.message}", hint=exc.hint or "start dockerd"
            ) from None
        if not isinstance(version, dict) or not version.get("ApiVersion"):
            raise CollectorUnavailable(
                f"the Docker daemon at {where} answered /version without an ApiVersion",
                hint="is DOCKER_HOST a Docker daemon?",
            )
        self.prefix = f"{self.base}/v{version['ApiVersion']}"

    def json(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        missing_ok: bool = False,
        versioned: bool = True,
    ) -> Any:
        """Return the JSON answer to GET `path`; None for 404 when missing_ok. Past its cap it is refused."""
        deadline = Deadline(self.timeout)
        resp = self._open(path, params, deadline, versioned)
        if resp.status_code == 404 and missing_ok:
            resp.close()
            return None
        self._check(resp, path, deadline)
        body = read_body(resp.raw, deadline, self.max_answer_bytes, tail=False)
        if body.broken is not None:
            raise CollectorError(
                f"the Docker daemon at {self.where} broke off its answer to GET {path}: {body.broken}"
            )
        if body.over:
            raise CollectorError(
                f"the Docker daemon at {self.where} answered GET {path} with more than "
                f"{size_text(self.max_answer_bytes)}; refused it",
                hint="that much is not read into memory: save it with the docker CLI and pass the file",
            )
        if body.late:
            raise CollectorError(
                f"the Docker daemon at {self.where} did not finish its answer to GET {path} within the "
                f"--timeout of {self.timeout:g} s ({size_text(body.received)} arrived)",
                hint="pass a larger --timeout",
            )
        try:
            return json.loads(body.data)
        except ValueError:
            raise CollectorError(
                f"the Docker daemon at {self.where} answered GET {path} with something that is not JSON"
            ) from None

    def stream(self, path: str, params: dict[str, Any], cap: int, frames: _Frames | None = None) -> Body:
        """Return the last `cap` bytes of the answer to GET `path` that arrived within --timeout."""
        deadline = Deadline(self.timeout)
        resp = self._open(path, params, deadline, True)
        self._check(resp, path, deadline)
        return read_body(resp.raw, deadline, cap, tail=True, transform=frames)

    def _open(self, path: str, params: dict[str, Any] | None, deadline: Deadline, versioned: bool) -> Any:
        """Send GET `path` and return the response with its body unread."""
        from requests.exceptions import RequestException, Timeout

        url = (self.prefix if versioned else self.base) + path
        left = max(deadline.left(), 0.001)
        try:
            return self.session.get(url, params=params, stream=True, timeout=(left, left))
        except Timeout:
            raise CollectorUnavailable(
                f"the Docker daemon at {self.where} did not answer GET {path} "
                f"within the --timeout of {self.timeout:g} s",
                hint="check dockerd, or pass a larger --timeout",
            ) from None
        except RequestException as exc:
            raise unavailable(
                f"lost the Docker daemon at {self.where}", _cause(exc), "check dockerd"
            ) from None

    def _check(self, resp: Any, path: str, deadline: Deadline) -> None:
        """Raise the daemon's own message for an error answer."""
        if resp.status_code < 400:
            return
        body = read_body(resp.raw, deadline, MAX_ERROR_BYTES, tail=False)
        message = None
        try:
            answer = json.loads(body.data)
            message = answer.get("message") if isinstance(answer, dict) else None
        except ValueError:
            pass
        if not message:
            text = body.data.decode("utf-8", "replace").strip()
            message = text.splitlines()[0][:300] if text else f"{resp.status_code} {resp.reason}"
        raise CollectorError(f"the Docker daemon at {self.where} answered: {message}")


class _Frames:
    """Undo the daemon's framing of a log's stdout and stderr as chunks arrive.

    Each frame is an 8-byte head (stream, three zero bytes, payload size big-endian) and its payload;
    heads and payloads may be split anywhere across chunks.
    """

    def __init__(self) -> None:
        self._head = b""
        self._payload_left = 0

    def __call__(self, chunk: bytes) -> bytes:
        """Return the payload bytes in `chunk`."""
        out: list[bytes] = []
        pos = 0
        while pos < len(chunk):
            if self._payload_left == 0:
                part = chunk[pos : pos + 8 - len(self._head)]
                self._head += part
                pos += len(part)
                if len(self._head) == 8:
                    self._payload_left = int.from_bytes(self._head[4:8], "big")
                    self._head = b""
                continue
            part = chunk[pos : pos + self._payload_left]
            out.append(part)
            pos += len(part)
            self._payload_left -= len(part)
        return b"".join(out)


def _summaries(listed: Any) -> list[dict[str, Any]]:
    """Return the container summaries of a /containers/json answer that carry an Id."""
    if not isinstance(listed, list):
        return []
    return [s for s in listed if isinstance(s, dict) and s.get("Id")]


def _json_objects(data: bytes) -> list[dict[str, Any]]:
    """Return the JSON objects of an event stream (one per line; a torn last one is dropped)."""
    events = []
    for line in data.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def _inspect_lines(attrs: dict[str, Any]) -> list[str]:
    """Return the failure-relevant part of `docker inspect` as indented JSON lines, as the CLI prints it."""
    host = attrs.get("HostConfig") or {}
    state = {k: attrs.get("State", {}).get(k) for k in STATE_KEYS if k in (attrs.get("State") or {})}
    slim = {
        "Id": attrs.get("Id", "")[:12],
        "Name": attrs.get("Name"),
        "Image": (attrs.get("Config") or {}).get("Image"),
        "RestartCount": attrs.get("RestartCount", 0),
        "State": state,
        "HostConfig": {
            "Memory": host.get("Memory"),
            "MemorySwap": host.get("MemorySwap"),
            "NanoCpus": host.get("NanoCpus"),
            "RestartPolicy": host.get("RestartPolicy"),
        },
    }
    return json.dumps(slim, indent=4).splitlines()


def _event_line(event: dict[str, Any]) -> str:
    """Return one event as `docker events` prints it: time, type, action, id and attributes."""
    nano = event.get("timeNano") or int(event.get("time", 0)) * 1_000_000_000
    stamp = datetime.fromtimestamp(nano // 1_000_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    actor = event.get("Actor") or {}
    attributes = ", ".join(f"{k}={v}" for k, v in sorted((actor.get("Attributes") or {}).items()))
    action = event.get("Action") or event.get("status", "")
    kind = event.get("Type", "container")
    ident = actor.get("ID", event.get("id", ""))
    return f"{stamp}.{nano % 1_000_000_000:09d}Z {kind} {action} {ident} ({attributes})"


def _epoch(value: str | None) -> int | None:
    """Return the epoch seconds of an RFC 3339 time with nanoseconds, or None."""
    if not value:
        return None
    try:
        head = value.split(".")[0].rstrip("Z")
        return int(datetime.fromisoformat(head).replace(tzinfo=UTC).timestamp())
    except ValueError:
        return None


def _probe(where: str, timeout: float) -> None:
    """Connect to a unix socket daemon once, so a dead socket fails fast and leaves no SDK socket open."""
    if not where.startswith("unix://"):
        return
    path = where[len("unix://") :]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
    except OSError as exc:
        reason = exc.strerror.lower() if exc.strerror else str(exc)
        raise unavailable(
            f"cannot reach the Docker daemon at {where}", reason, "start dockerd, or set DOCKER_HOST"
        ) from None
    finally:
        sock.close()


def _cause(exc: BaseException) -> str:
    """Return the innermost useful line of an SDK exception."""
    text = str(exc).strip()
    for marker in (
        "Connection refused",
        "No such file or directory",
        "Permission denied",
        "timed out",
        "Read timed out",
    ):
        if marker in text:
            return marker.lower()
    return text.splitlines()[0][:300] if text else type(exc).__name__
