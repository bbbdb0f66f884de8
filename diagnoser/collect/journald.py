"""Read kubelet, container-runtime and kernel OOM-killer entries about a service from the journal."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from diagnoser.collect.base import Collection, Collector, NotFound, Piece, Request, piece, unavailable
from diagnoser.errors import CollectorError

UNITS = (
    "kubelet.service",
    "containerd.service",
    "docker.service",
    "crio.service",
    "k3s.service",
    "k3s-agent.service",
)
IDENTIFIERS = ("kubelet", "containerd", "dockerd", "crio", "k3s")
SYSTEM_JOURNALS = ("/var/log/journal", "/run/log/journal")
MAX_READ = 500_000  # journal entries read at most; the newest matter most, the oldest go first
OOM = re.compile(
    r"(?i)invoked oom-killer|out of memory|oom-kill|oom_reaper|Killed process|memory cgroup|oom_memcg|\boom\b"
)
OOM_BLOCK_SECONDS = 2.0  # the lines of one kernel OOM report are printed within this span


class JournaldCollector(Collector):
    """Collect journal entries of kubelet / runtime units and kernel OOM kills that name the service."""

    name = "journald"

    def available(self, request: Request) -> str | None:
        """Return why the journal is not worth reading, or None."""
        if shutil.which("journalctl") is None:
            return "journalctl not installed"
        if not request.journal and not any(Path(p).is_dir() for p in SYSTEM_JOURNALS):
            return "no journal files (/var/log/journal, /run/log/journal)"
        return None

    def collect(self, request: Request) -> Collection:
        """Run journalctl -o json on the unit and kernel entries and keep those about the service."""
        exe = shutil.which("journalctl")
        if exe is None:
            raise unavailable(
                "journalctl not found", "not on PATH", "install systemd, or pass the journal export as a file"
            )
        where, location = _location(request.journal)
        cmd = [exe, "-o", "json", "--no-pager", "-q", *location]
        if request.since_seconds is not None:
            cmd.append(f"--since=@{int(time.time()) - request.since_seconds}")
        matches: list[str] = []
        for unit in UNITS:
            matches.append(f"_SYSTEMD_UNIT={unit}")
        matches.append("+")
        matches.extend(f"SYSLOG_IDENTIFIER={i}" for i in IDENTIFIERS)
        matches += ["+", "_TRANSPORT=kernel"]
        for name in _targets(request):
            matches += ["+", f"CONTAINER_NAME={name}"]
        try:
            proc = subprocess.run(
                cmd + matches, capture_output=True, timeout=max(5.0, request.timeout * 3), check=False
            )
        except subprocess.TimeoutExpired:
            raise unavailable(
                f"journalctl on {where}",
                f"no answer within {max(5.0, request.timeout * 3):.0f}s",
                "pass --since to read less",
            ) from None
        except OSError as exc:
            raise unavailable(f"journalctl on {where}", exc, "check journalctl runs") from None
        if proc.returncode != 0 and not proc.stdout:
            err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise CollectorError(
                f"journalctl failed on {where}: {err[-1] if err else f'exit {proc.returncode}'}"
            )
        entries = proc.stdout.decode("utf-8", "replace").splitlines()[-MAX_READ:]
        pieces = _select(entries, _targets(request), request.tail)
        if not pieces:
            names = ", ".join(_targets(request))
            raise NotFound(
                f"no kubelet, container-runtime or kernel OOM entry names {names} in {where}",
                hint="pass --since to widen the window, or --journal to read other journal files",
            )
        return Collection(self.name, where, tuple(pieces))


def _location(journal: tuple[str, ...]) -> tuple[str, list[str]]:
    """Return a description and the journalctl arguments that select the journal files."""
    if not journal:
        return "the system journal", []
    args: list[str] = []
    for path in journal:
        args.append(f"--directory={path}" if Path(path).is_dir() else f"--file={path}")
    return ", ".join(journal), args


def _targets(request: Request) -> list[str]:
    """Return the names and ids an entry must mention: earlier collectors' finds and the service."""
    seen: list[str] = []
    for name in (request.service, *request.targets):
        if name and name not in seen and len(name) >= 3:
            seen.append(name)
    return seen


def _message(entry: dict[str, Any]) -> str:
    """Return an entry's MESSAGE as text (journald stores binary messages as byte arrays)."""
    msg = entry.get("MESSAGE", "")
    if isinstance(msg, list):
        try:
            return bytes(msg).decode("utf-8", "replace")
        except (TypeError, ValueError):
            return ""
    return str(msg or "")


def _when(entry: dict[str, Any]) -> float:
    """Return the entry's realtime timestamp in seconds."""
    try:
        return int(entry.get("__REALTIME_TIMESTAMP", "0")) / 1e6
    except (TypeError, ValueError):
        return 0.0


def _select(lines: list[str], targets: list[str], tail: int | None) -> list[Piece]:
    """Return one piece per unit with the entries about `targets`, kernel OOM reports kept whole."""
    parsed: list[tuple[str, dict[str, Any], str]] = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            parsed.append((line, entry, _message(entry)))
    hits = [any(t in msg or t == entry.get("CONTAINER_NAME") for t in targets) for _, entry, msg in parsed]
    # A kernel OOM report spans many lines and only some name the container's cgroup: keep the
    # OOM lines printed close to one that does.
    anchors = [
        _when(e)
        for (_, e, m), hit in zip(parsed, hits, strict=True)
        if hit and e.get("_TRANSPORT") == "kernel"
    ]
    groups: dict[str, list[str]] = {}
    for (line, entry, msg), hit in zip(parsed, hits, strict=True):
        kernel = entry.get("_TRANSPORT") == "kernel"
        keep = hit and (not kernel or OOM.search(msg))
        if kernel and not keep and OOM.search(msg):
            t = _when(entry)
            keep = any(abs(t - a) <= OOM_BLOCK_SECONDS for a in anchors)
        if not keep:
            continue
        unit = (
            "kernel"
            if kernel
            else str(entry.get("_SYSTEMD_UNIT") or entry.get("SYSLOG_IDENTIFIER") or "journal")
        )
        groups.setdefault(unit, []).append(line)
    pieces = []
    for unit, kept in groups.items():
        if tail is not None:
            kept = kept[-tail:]
        pieces.append(piece(f"journald:{unit}", kept))
    return pieces
