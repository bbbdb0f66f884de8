"""Read kubelet, container-runtime and kernel OOM-killer entries about a service from the journal.

journalctl's output is read as it comes, within a deadline, and only the lines that can be about the
service are kept (the newest, up to a byte cap): a node's journal is far larger than its memory.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diagnoser.collect.base import (
    Collection,
    Collector,
    Deadline,
    NotFound,
    Piece,
    Request,
    TailBuffer,
    piece,
    size_text,
    unavailable,
)
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
MIN_SECONDS = 5.0  # journalctl may take this long on a large journal, whatever --timeout says
OOM = re.compile(
    r"(?i)invoked oom-killer|out of memory|oom-kill|oom_reaper|Killed process|memory cgroup|oom_memcg|\boom\b"
)
# Every OOM match holds one of these, lowercased: a substring test is what a whole journal can afford.
_OOM_WORDS = (b"oom", b"out of memory", b"killed process", b"memory cgroup")
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
        cmd = [exe, "-o", "json", "--no-pager", "-q", f"--lines={MAX_READ}", *location]
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
        limit = max(MIN_SECONDS, request.timeout * 3)
        try:
            read = _read(
                cmd + matches, Deadline(limit), request.max_log_bytes, _may_matter(_targets(request))
            )
        except OSError as exc:
            raise unavailable(f"journalctl on {where}", exc, "check journalctl runs") from None
        if read.late and not read.lines:
            raise unavailable(
                f"journalctl on {where}", f"no answer within {limit:g}s", "pass --since to read less"
            )
        if read.failed is not None:
            raise CollectorError(f"journalctl failed on {where}: {read.failed}")
        warnings = []
        if read.late:
            warnings.append(
                f"journalctl on {where} did not finish within {limit:g} s ({size_text(read.received)} "
                "read); diagnosed what it printed by then, its oldest entries (pass --since to read less)"
            )
        if read.over:
            cap = size_text(request.max_log_bytes)
            warnings.append(
                f"the journal entries that may be about {request.service!r} in {where} are more than "
                f"{cap}; diagnosed the newest {cap} of them (pass --since to read less)"
            )
        entries = read.lines
        pieces = _select(entries, _targets(request), request.tail)
        if not pieces:
            names = ", ".join(_targets(request))
            raise NotFound(
                f"no kubelet, container-runtime or kernel OOM entry names {names} in {where}",
                hint="pass --since to widen the window, or --journal to read other journal files",
            )
        return Collection(self.name, where, tuple(pieces), tuple(warnings))


@dataclass(frozen=True, slots=True)
class _Read:
    """What journalctl printed that was kept, and how the reading ended."""

    lines: list[str]
    received: int  # bytes journalctl printed before the end or the deadline
    late: bool  # the deadline passed first: journalctl was stopped
    over: bool  # more lines were worth keeping than the cap holds: the newest were kept
    failed: str | None  # journalctl failed and printed nothing: its last error line


def _read(cmd: list[str], deadline: Deadline, cap: int, keep: Callable[[bytes], bool]) -> _Read:
    """Run journalctl and keep, as they arrive, the lines `keep` wants, the newest up to `cap` bytes."""
    kept = TailBuffer(cap)
    received = 0
    late = False
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a chatty stderr cannot stall stdout
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors)
        assert proc.stdout is not None
        partial = b""
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(proc.stdout, selectors.EVENT_READ)
                while True:
                    left = deadline.left()
                    if left <= 0:
                        late = True
                        break
                    if not selector.select(left):
                        continue
                    chunk = os.read(proc.stdout.fileno(), 65536)
                    if not chunk:
                        break
                    received += len(chunk)
                    block = partial + chunk
                    end = block.rfind(b"\n")
                    whole, partial = (block[:end], block[end + 1 :]) if end >= 0 else (b"", block)
                    if whole and keep(whole):  # most blocks hold no line worth keeping: one test for all
                        for line in whole.split(b"\n"):
                            if keep(line):
                                kept.write(line + b"\n")
                    if len(partial) > cap:  # one line larger than all we keep: not worth holding
                        partial = b""
            if partial and not late and keep(partial):
                kept.write(partial + b"\n")
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            proc.stdout.close()
        errors.seek(0)
        error_text = errors.read(65536).decode("utf-8", "replace").strip().splitlines()
    failed = None
    if proc.returncode != 0 and not late and received == 0:
        failed = error_text[-1] if error_text else f"exit {proc.returncode}"
    lines = kept.getvalue().decode("utf-8", "replace").splitlines()
    return _Read(lines, received, late, kept.dropped, failed)


def _may_matter(targets: list[str]) -> Callable[[bytes], bool]:
    """Return a cheap test on raw journal lines, true for every line _select could keep.

    _select keeps an entry whose message or container name holds a target, or a kernel OOM line;
    a message journald stores as a byte array can be judged only once decoded, so it passes.
    """
    needles = [t.encode() for t in targets]

    def may_matter(line: bytes) -> bool:
        if any(n in line for n in needles) or b'"MESSAGE":[' in line:
            return True
        lowered = line.lower()
        return any(word in lowered for word in _OOM_WORDS)

    return may_matter


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
