"""Quote evidence for a person: envelopes decoded, the decisive lines of a record, repeats counted.

The JSON report keeps each record as the logs have it; the text and markdown reports show at most
`SHOWN` quotes per diagnosis, each the line a person needs: the original exception of a traceback and
the user's frame, the reason and exit code of a container state, a Kubernetes event as `kubectl get
events` prints it, the message inside a Docker json-file, CRI or journald envelope.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime

from diagnoser.model import Evidence
from diagnoser.parse.traceback import describe

SHOWN = 4  # quotes per diagnosis
WIDTH = 160  # characters of one quoted line
EXCEPTION_WIDTH = 300  # characters of an exception line (a path or a key is often at its end)
_CRI = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d) (?:stdout|stderr) [FP] (.*)$")
# Lines of a multi-line record (a describe block, a pod's state, an error message over several lines)
# that carry its verdict: the reason, the exit code or signal, the message, an error.
_DECISIVE = re.compile(
    r"\b(?:Reason|Exit Code|Signal|Message|Error|error|ERROR|OOMKilled|Killed|Failed|failed|FATAL|Fatal"
    r"|Insufficient|refused|denied|not found|No such|Warning|Back-off|BackOff)\b"
)
# Lines that only say a process ended, after the line that says why.
_CONSEQUENCE = re.compile(
    r"exited with code|exit(?:ed)? (?:code|status)|Exit Code|Worker exiting|Shutting down|failed to boot"
    r"|Back-off restarting|BackOff|CrashLoopBackOff|Restart Count|Stopping|Started container"
    r"|Created container",
    re.I,
)
_NOT_LETTERS = re.compile(r"[^A-Za-z]+|0x[0-9a-fA-F]+")
_TIMESTAMPS = re.compile(r"^(?:\s*\[?\d{4}[-/]\d\d[-/]\d\d[T ][\d:.,]+(?:Z|\s?[+-]\d\d:?\d\d)?\]?)+")
MIN_SHARED = 16  # letters two quotes must share to be one message


@dataclass(frozen=True, slots=True)
class Quote:
    """One quoted evidence record: where, its decisive line, extra lines, and how often it repeats."""

    where: str  # app.log:40
    line: str
    extra: tuple[str, ...] = ()  # the user's frame of a traceback, the lines of a block that say why
    count: int = 1
    first: datetime | None = None
    last: datetime | None = None
    rank: int = (
        1  # 0 an exception, 1 a line that says why, 2 a consequence (an exit), 3 a value the plan reads
    )
    said: str = ""  # what repeats of one quote share: its exception and frame, or its line

    def shape(self) -> str:
        """Return the letters of the quote: repeats differ only in pids, times and counts."""
        return _NOT_LETTERS.sub("", _TIMESTAMPS.sub("", self.said or self.line) + "".join(self.extra))

    def repeats_of(self, other: Quote) -> bool:
        """Return True when `other` says the same: same letters, or its message ends this one's (the same
        message printed by two loggers, one framing it with `| root | ERROR |`)."""
        mine, theirs = self.shape(), other.shape()
        short, long = sorted((mine, theirs), key=len)
        return mine == theirs or (len(short) >= MIN_SHARED and long.endswith(short))

    def repeats(self) -> str:
        """Return " (repeated: at least 4 times in 1 s)" for a line quoted several times, else "" (the
        evidence keeps the first and last lines of each kind, so the count is a floor)."""
        if self.count == 1:
            return ""
        more = f" (repeated: at least {self.count} times"
        if self.first is not None and self.last is not None:
            try:
                seconds = round(abs((self.last - self.first).total_seconds()))
            except TypeError:  # aware and naive times mixed
                return more + ")"
            if seconds == 0:
                return more + ")"
            span = f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"
            return f"{more} in {span})"
        return more + ")"


def shorten(line: str, width: int = WIDTH) -> str:
    """Return `line` cut to about `width` characters, keeping its start and its end (the message and its
    value): a leading timestamp goes first, then the middle, cut between words."""
    line = line.rstrip()
    if len(line) <= width:
        return line
    line = _TIMESTAMPS.sub("", line).lstrip() or line
    if len(line) <= width:
        return line
    head = line[: width // 3]
    head = head[: head.rfind(" ")] if " " in head[width // 6 :] else head
    tail = line[-(width - len(head) - 3) :]
    tail = tail[tail.find(" ") + 1 :] if " " in tail[: width // 6] else tail
    return f"{head.rstrip()} … {tail.lstrip()}"


def _decode(line: str) -> str:
    """Return the message inside an envelope (Docker json-file, journald JSON, CRI) or a Kubernetes
    object rendered as kubectl prints it; other lines as they are."""
    stripped = line.strip()
    if stripped.startswith("{") and stripped.endswith("}"):
        try:
            obj = json.loads(stripped)
        except ValueError:
            return line
        if isinstance(obj, dict):
            return _decode_object(obj) or line
        return line
    m = _CRI.match(line)
    return m.group(1) if m else line


def _decode_object(obj: dict) -> str | None:
    """Return a JSON log object as a line a person reads, or None when it is none of the known kinds."""
    if isinstance(obj.get("log"), str):  # Docker json-file
        return obj["log"].rstrip("\n")
    if isinstance(obj.get("MESSAGE"), str):  # journalctl -o json
        ident = obj.get("SYSLOG_IDENTIFIER") or obj.get("_COMM") or ""
        return f"{ident}: {obj['MESSAGE']}" if ident else obj["MESSAGE"]
    if obj.get("kind") == "Event" or "involvedObject" in obj:
        involved = obj.get("involvedObject") or {}
        target = f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}".strip("/")
        source = obj.get("reportingComponent") or (obj.get("source") or {}).get("component") or ""
        count = obj.get("count") or (obj.get("series") or {}).get("count")
        times = f" (x{count})" if isinstance(count, int) and count > 1 else ""
        # kubectl get events: TYPE REASON OBJECT MESSAGE (the source as kubectl describe shows it)
        parts = [obj.get("type", ""), obj.get("reason", ""), target, f"{source}:" if source else ""]
        return "  ".join(str(p) for p in parts if p) + f"  {obj.get('message', '')}".rstrip() + times
    if obj.get("kind") == "Pod" or "containerStatuses" in obj.get("status", {}):
        return _pod_states(obj)
    return None


def _pod_states(pod: dict) -> str | None:
    """Return the container states of a pod object in `kubectl describe` words, or None."""
    name = (pod.get("metadata") or {}).get("name", "")
    status = pod.get("status") or {}
    containers = []
    for cs in status.get("containerStatuses") or []:
        parts = []
        for key, label in (("state", "State"), ("lastState", "Last State")):
            for state, detail in (cs.get(key) or {}).items():
                if not isinstance(detail, dict):
                    continue
                said = [str(detail["reason"])] if detail.get("reason") else []
                if "exitCode" in detail:
                    said.append(f"exit code {detail['exitCode']}")
                if detail.get("signal"):
                    said.append(f"signal {detail['signal']}")
                parts.append(f"{label} {state.capitalize()}" + (f" ({', '.join(said)})" if said else ""))
        if cs.get("restartCount"):
            parts.append(f"Restart Count {cs['restartCount']}")
        if parts:
            containers.append(f"{cs.get('name', '')}: {', '.join(parts)}")
    if not containers:
        return None
    return f"pod/{name} {status.get('phase', '')}".rstrip() + " - " + "; ".join(containers)


def _block_lines(lines: list[str]) -> tuple[str, tuple[str, ...]]:
    """Return the first line of a multi-line record and the lines of it that say why (at most four): the
    reason, exit code and message of a state, and the memory limit (the plan reads it from there)."""
    first, rest = lines[0], lines[1:]
    decisive: list[str] = []
    header = ""
    for ln in rest:
        text = ln.strip()
        if text.endswith(":"):
            header = text  # `Limits:` over its `memory: 2Gi`
        elif header == "Limits:" and text.startswith("memory:"):
            decisive.append(f"Limits: {text}")
        elif _DECISIVE.search(ln):
            decisive.append(text)
    if not decisive and rest:
        decisive = [rest[-1].strip()]
    return first, tuple(decisive[:4])


def quote(ev: Evidence, uncut: bool = False) -> Quote:
    """Return the lines of one evidence record a person needs to read; `uncut` keeps long lines whole
    (`-o wide`) instead of shortening them."""
    cut = _whole if uncut else shorten
    where = f"{ev.source.removeprefix('file:')}:{ev.line}"
    lines = [_decode(ln) for ln in ev.text.splitlines() if ln.strip()] or [""]
    if len(lines) == 1:
        q = Quote(where, cut(lines[0]), first=ev.timestamp, last=ev.timestamp)
        return replace(q, rank=_rank(q, ev))
    told = describe(ev.text)
    if told is not None:
        # the line number a person opens the log at is the exception's, not the traceback head's (the
        # record's lines are the input's, one for one)
        where = f"{ev.source.removeprefix('file:')}:{ev.line + told.offset}"
        # the exception line is the message and its value: it gets more room than other lines
        said = cut(f"{told.exception}: {told.message}" if told.message else told.exception, EXCEPTION_WIDTH)
        head = lines[0]
        # the record's own first line, when it says more than the traceback head (a server's message)
        if "Traceback (" in head:
            head = head[: head.find("Traceback (")].rstrip(" :-")
        if told.message and told.message[:40] in head:
            head = ""  # the record starts with the exception line itself
        line = f"{cut(head, max(40, WIDTH - len(said) - 3))} … {said}" if head.strip() else said
        frame = told.frame
        extra: tuple[str, ...] = ()
        if frame is not None and frame.user_code:
            extra = (f"raised at {frame.path}:{frame.line}{frame.in_function}",)
        return Quote(where, line, extra, first=ev.timestamp, last=ev.timestamp, rank=0, said=said)
    first, extra = _block_lines(lines)
    q = Quote(where, cut(first.strip()), tuple(cut(x) for x in extra), first=ev.timestamp, last=ev.timestamp)
    return replace(q, rank=_rank(q, ev))


def _whole(line: str, width: int = WIDTH) -> str:
    """Return `line` as it is: the uncut counterpart of `shorten`."""
    return line


def _rank(q: Quote, ev: Evidence) -> int:
    """Return where a quote goes: causes first, consequences after them, values the plan read last."""
    if ev.matched == ("value",):
        return 3
    return 2 if _CONSEQUENCE.search(q.line) and not q.extra else 1


def quotes(evidence: tuple[Evidence, ...], shown: int = SHOWN, uncut: bool = False) -> list[Quote]:
    """Return the quotes of a diagnosis: repeats merged and counted, causes before consequences."""
    merged: list[Quote] = []
    for ev in evidence:
        q = quote(ev, uncut)
        i = next((i for i, old in enumerate(merged) if old.repeats_of(q)), None)
        if i is None:
            merged.append(q)
            continue
        old = merged[i]
        times = [t for t in (old.first, old.last, q.first) if t is not None]
        merged[i] = replace(old, count=old.count + 1, first=_earliest(times), last=_latest(times))
    ordered = sorted(merged, key=lambda q: q.rank)
    values = [q for q in ordered if q.rank == 3][: shown // 2]  # a value the plan quotes is always shown
    return ordered[: shown - len(values)] + values if len(ordered) > shown else ordered


def _earliest(times: list[datetime]) -> datetime | None:
    try:
        return min(times) if times else None
    except TypeError:
        return times[0]


def _latest(times: list[datetime]) -> datetime | None:
    try:
        return max(times) if times else None
    except TypeError:
        return times[-1]
