"""Find a service's container on a Docker daemon and collect its log, inspect state and events."""

from __future__ import annotations

import json
import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from diagnoser.collect.base import (
    Collection,
    Collector,
    NotFound,
    Piece,
    Request,
    piece,
    unavailable,
)
from diagnoser.errors import CollectorError, did_you_mean_any

DEFAULT_SOCKET = "/var/run/docker.sock"
MAX_CONTAINERS = 5
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
            from docker.errors import DockerException
        except ImportError as exc:
            raise unavailable(
                "docker SDK not installed", exc, "reinstall diagnoser, or pip install docker"
            ) from None
        where = os.environ.get("DOCKER_HOST") or f"unix://{DEFAULT_SOCKET}"
        _probe(where, request.timeout)
        client = None
        try:
            client = docker.from_env(timeout=max(1, int(request.timeout)))
            client.ping()
        except DockerException as exc:
            if client is not None:
                client.close()
            raise unavailable(
                f"cannot reach the Docker daemon at {where}", _cause(exc), "start dockerd, or set DOCKER_HOST"
            ) from None
        from requests.exceptions import RequestException

        try:
            return self._collect(client, request, where)
        except (DockerException, RequestException) as exc:  # transport faults (timeout, reset) too
            raise _error(exc, where) from None
        finally:
            client.close()

    def _collect(self, client: Any, request: Request, where: str) -> Collection:
        """Collect from a connected client."""
        containers = self._find(client, request.service, where)
        warnings: list[str] = []
        if len(containers) > MAX_CONTAINERS:
            warnings.append(f"{len(containers)} containers match; collected the newest {MAX_CONTAINERS}")
            containers = containers[:MAX_CONTAINERS]
        pieces: list[Piece] = []
        targets: list[str] = []
        now = int(time.time())
        for container in containers:
            attrs = container.attrs
            name = attrs.get("Name", "").lstrip("/") or container.short_id
            targets += [name, container.id[:12]]
            pieces.append(self._logs(container, name, request, warnings))
            pieces.append(piece(f"docker:{name}/inspect", _inspect_lines(attrs)))
            pieces.append(self._events(client, container.id, name, attrs, request, now, warnings))
        return Collection(self.name, where, tuple(pieces), tuple(warnings), tuple(targets))

    def _find(self, client: Any, service: str, where: str) -> list[Any]:
        """Return the containers named or labelled `service`, newest first."""
        from docker.errors import NotFound as DockerNotFound

        try:
            return [client.containers.get(service)]
        except DockerNotFound:
            pass
        found: dict[str, Any] = {}
        for label in SERVICE_LABELS:
            for c in client.containers.list(all=True, filters={"label": f"{label}={service}"}):
                found[c.id] = c
        if not found:
            all_containers = client.containers.list(all=True)
            names = [c.name for c in all_containers]
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
        return sorted(found.values(), key=lambda c: c.attrs.get("Created", ""), reverse=True)

    def _logs(self, container: Any, name: str, request: Request, warnings: list[str]) -> Piece:
        """Return the container's log, stdout and stderr, with timestamps."""
        kwargs: dict[str, Any] = {"stdout": True, "stderr": True, "timestamps": True, "stream": False}
        if request.tail is not None:
            kwargs["tail"] = request.tail
        if request.since_seconds is not None:
            kwargs["since"] = int(time.time()) - request.since_seconds
        try:
            data = container.logs(**kwargs)
        except Exception as exc:  # noqa: BLE001 - any SDK or transport failure is one warning here
            warnings.append(f"no log for {name}: {_cause(exc)}")
            data = b""
        return piece(f"docker:{name}", data.decode("utf-8", errors="replace").splitlines())

    def _events(
        self,
        client: Any,
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
        lines: list[str] = []
        try:
            # since/until as integer epochs: the SDK passes floats and datetimes through in forms
            # old daemons reject.
            stream = client.events(
                since=int(since), until=int(now) + 1, filters={"container": cid}, decode=True
            )
            for event in stream:
                lines.append(_event_line(event))
        except Exception as exc:  # noqa: BLE001
            warnings.append(f"no events for {name}: {_cause(exc)}")
        return piece(f"docker:{name}/events", lines)


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


def _error(exc: BaseException, where: str) -> CollectorError:
    """Map an SDK exception during collection to a collector error."""
    from docker.errors import APIError

    if isinstance(exc, APIError):
        return CollectorError(f"the Docker daemon at {where} answered: {exc.explanation or exc}")
    return unavailable(f"lost the Docker daemon at {where}", _cause(exc), "check dockerd")
