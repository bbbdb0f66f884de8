"""kubectl output: describe pod / hpa, get events / pods / hpa tables, and -o json / -o yaml documents."""

from __future__ import annotations

import re
from typing import Any

import orjson

from diagnoser.model import Event, EventKind, Level, RawLine
from diagnoser.parse import hpa, k8s
from diagnoser.parse.base import MAX_DOC_BYTES, MAX_TEXT, Rec, cap, make_event, to_int

_KEYVAL = re.compile(r"( *)([A-Za-z][\w .()/\-]*?):(?:[ \t]+(.*?))?[ \t]*$")
_COLS = re.compile(r"\S+(?: \S+)*")
_COUNT = re.compile(r"\(x(\d+) over")
_READY = re.compile(r"\d+/\d+$")
_EVENT_TYPES = ("Normal", "Warning")
_HPA_KEYS = frozenset({"Reference", "Min replicas", "Max replicas", "Min pods", "Max pods"})


class Block:
    """A multi-line kubectl record being read from one source."""

    def feed(self, raw: RawLine, out: list[Event]) -> bool:
        """Take `raw` if it belongs to the block (appending any finished events to `out`)."""
        raise NotImplementedError

    def finish(self, out: list[Event]) -> list[RawLine]:
        """End the block; append its events to `out` and return lines to re-read as plain text."""
        return []


def _columns(header: str) -> list[tuple[str, int]]:
    return [(m[0], m.start()) for m in _COLS.finditer(header)]


def _cells(line: str, cols: list[tuple[str, int]]) -> dict[str, str] | None:
    """Split a table row by the header's column offsets (tabwriter output), else by runs of spaces."""
    out: dict[str, str] = {}
    ok = True
    for i, (name, start) in enumerate(cols):
        end = cols[i + 1][1] if i + 1 < len(cols) else None
        if start > 0 and start <= len(line) and line[start - 1] not in " \t":
            ok = False
            break
        out[name] = line[start:end].strip()
    if ok:
        return out
    parts = re.split(r"\t+| {2,}", line.strip(), maxsplit=len(cols) - 1)
    if len(parts) != len(cols):
        return None
    return {name: p.strip() for (name, _), p in zip(cols, parts, strict=True)}


def event_row(cells: dict[str, str], fmt: str, common: dict[str, Any]) -> Rec | None:
    """Return a k8s_event record from an events-table row (describe or kubectl get events), or None."""
    etype = cells.get("TYPE") or cells.get("Type") or ""
    reason = cells.get("REASON") or cells.get("Reason") or ""
    if etype and etype not in _EVENT_TYPES:
        return None
    if not etype and not reason:
        return None
    f: dict[str, Any] = {**common, "kind": EventKind.K8S_EVENT, "reason": reason}
    if etype:
        f["event_type"] = etype
    obj = cells.get("OBJECT")
    if obj is None and cells.get("NAME"):
        kind = cells.get("KIND", "")
        obj = f"{kind.lower()}/{cells['NAME']}" if kind else cells["NAME"]
    if not obj and common.get("pod"):
        obj = f"pod/{common['pod']}"
    if obj:
        f["object"] = obj
        if obj.startswith("pod/"):
            f["pod"] = obj[4:]
    if cells.get("NAMESPACE"):
        f["namespace"] = cells["NAMESPACE"]
    sub = cells.get("SUBOBJECT") or cells.get("SubobjectPath") or ""
    if "{" in sub and "}" in sub:
        f["container"] = sub[sub.index("{") + 1 : sub.index("}")]
    age = cells.get("Age") or cells.get("LAST SEEN") or cells.get("LastSeen") or ""
    count = to_int(cells.get("COUNT") or cells.get("Count"))
    if count is None and (m := _COUNT.search(age)):
        count = int(m[1])
    f["count"] = count if count is not None else 1
    if age:
        f["age"] = age
    src = cells.get("From") or cells.get("SOURCE") or ""
    comp = src.split(",")[0].strip().strip("{} ").split(" ")[0] if src else "k8s"
    if src and "," in src:
        f["node"] = src.split(",", 1)[1].strip()
    msg = cells.get("MESSAGE") or cells.get("Message") or ""
    level = Level.WARNING if etype == "Warning" else Level.INFO
    return Rec(message=msg, format=fmt, level=level, component=comp or "k8s", fields=f)


# -- event rows pasted without their table header ------------------------------------------------------
# kubectl prints tables with tabwriter (padding >= 2 spaces; old describe used tabs), so columns are
# separated by a tab or at least two spaces. A row is recognised by its shape alone: an event type,
# a CamelCase reason, an age (`3m`, `2m10s`, `<unknown>`, `<invalid>`, optionally `(x5 over 4m)`).
_SEP = r"(?:[ ]*\t[ \t]*|[ ]{2,})"
_AGE = r"(?:(?:\d+[smhdy]){1,3}|<unknown>|<invalid>)"
_AGE_X = rf"{_AGE}(?: \(x\d+ over {_AGE}\))?"
_REASON = r"[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*"  # BackOff, FailedScheduling, OOMKilling, SystemOOM
_FROM = r"(?:\{[^}\t]*\}|[a-z][\w.\-/]*(?:, [\w.\-]+)?)"
_ROW_DESCRIBE = re.compile(  # Type Reason Age From Message (kubectl describe, 1.6+)
    rf"[ \t]*(?P<TYPE>Normal|Warning){_SEP}(?P<REASON>{_REASON}){_SEP}(?P<Age>{_AGE_X}){_SEP}"
    rf"(?P<From>{_FROM}){_SEP}(?P<MESSAGE>\S.*)"
)
_ROW_DESCRIBE_OLD = re.compile(  # FirstSeen LastSeen Count From SubObjectPath Type Reason Message (<= 1.5)
    rf"[ \t]*(?P<FIRST>{_AGE}){_SEP}(?P<Age>{_AGE}){_SEP}(?P<COUNT>\d+){_SEP}(?P<From>{_FROM}){_SEP}"
    rf"(?:(?P<SUBOBJECT>[\w.]*\{{[^}}\s]*\}}|[a-z][\w.]*){_SEP})?(?P<TYPE>Normal|Warning){_SEP}"
    rf"(?P<REASON>{_REASON}){_SEP}(?P<MESSAGE>\S.*)"
)
_ROW_GET = re.compile(  # [NAMESPACE] LAST SEEN TYPE REASON OBJECT MESSAGE (kubectl get events, 1.14+)
    rf"(?:(?P<NAMESPACE>[a-z0-9][a-z0-9\-]*){_SEP})?(?P<Age>{_AGE_X}){_SEP}(?P<TYPE>Normal|Warning){_SEP}"
    rf"(?P<REASON>{_REASON}){_SEP}(?P<OBJECT>[a-z][a-z.]*/\S+){_SEP}(?P<MESSAGE>\S.*)"
)
_ROW_GET_OLD = re.compile(  # LAST SEEN FIRST SEEN COUNT NAME KIND SUBOBJECT TYPE REASON SOURCE MESSAGE
    rf"(?P<Age>{_AGE}){_SEP}(?P<FIRST>{_AGE}){_SEP}(?P<COUNT>\d+){_SEP}(?P<NAME>[a-z0-9][\w.\-]*){_SEP}"
    rf"(?P<KIND>[A-Z][A-Za-z]+){_SEP}(?:(?P<SUBOBJECT>\S+){_SEP})?(?P<TYPE>Normal|Warning){_SEP}"
    rf"(?P<REASON>{_REASON}){_SEP}(?P<From>{_FROM}){_SEP}(?P<MESSAGE>\S.*)"
)


def headerless_event(text: str) -> Rec | None:
    """Return a k8s_event record for an events-table row pasted without its header, or None.

    Only rows with the exact column shape kubectl prints are taken: ordinary log lines that merely
    contain "Warning" or "Normal" do not have an age and a CamelCase reason in separate columns.
    """
    c = text[:1]
    if c == " " or c == "\t" or c == "N" or c == "W":
        m = _ROW_DESCRIBE.match(text)
        fmt = "kubectl-describe"
        if m is None and (c == " " or c == "\t"):
            m = _ROW_DESCRIBE_OLD.match(text)
        if m is None and (c == " " or c == "\t"):
            return None
    elif c.isdigit() or c == "<" or c.islower():
        m = _ROW_GET.match(text)
        fmt = "kubectl-events"
        if m is None and c != "<" and not c.islower():
            m = _ROW_GET_OLD.match(text)
            if m is None:
                m = _ROW_DESCRIBE_OLD.match(text)
                fmt = "kubectl-describe"
    else:
        return None
    if m is None:
        return None
    cells = {k: v for k, v in m.groupdict().items() if v}
    cells["MESSAGE"] = cells["MESSAGE"].rstrip()
    return event_row(cells, fmt, {})


class Table(Block):
    """`kubectl get events` (old and new layouts), `kubectl get pods` and `kubectl get hpa` tables."""

    def __init__(self, header: RawLine, kind: str):
        self.cols = _columns(header.text)
        self.kind = kind

    @staticmethod
    def start(line: str) -> str | None:
        """Return the table kind a header line opens ('events' / 'pods' / 'hpa'), or None."""
        if line.startswith("LAST SEEN") or (line.startswith("NAMESPACE") and "LAST SEEN" in line):
            return "events" if "REASON" in line and "MESSAGE" in line else None
        if line.startswith(("NAME ", "NAMESPACE ")):
            if " READY " in line and " STATUS " in line:
                return "pods"
            if " REFERENCE " in line and " MINPODS " in line and " MAXPODS" in line:
                return "hpa"
        return None

    def feed(self, raw: RawLine, out: list[Event]) -> bool:
        """Take an event or pod row."""
        line = raw.text.rstrip("\r")
        if not line.strip():
            return False
        cells = _cells(line, self.cols)
        if cells is None:
            return False
        if self.kind == "events":
            rec = event_row(cells, "kubectl-events", {})
        elif self.kind == "hpa":
            fields = hpa.table_fields(cells)
            rec = hpa.status_rec(fields, "kubectl-get") if fields else None
        else:
            rec = self._pod_row(cells)
        if rec is None:
            return False
        out.append(make_event(raw, rec))
        return True

    @staticmethod
    def _pod_row(cells: dict[str, str]) -> Rec | None:
        ready, status = cells.get("READY", ""), cells.get("STATUS", "")
        if not _READY.match(ready) or not status:
            return None
        f: dict[str, Any] = {
            "kind": EventKind.POD_STATUS,
            "pod": cells.get("NAME", ""),
            "reason": status,
            "ready": ready,
        }
        rc = to_int(cells.get("RESTARTS", "").split(" ")[0])
        if rc is not None:
            f["restart_count"] = rc
        for k, name in (("NAMESPACE", "namespace"), ("NODE", "node")):
            if cells.get(k):
                f[name] = cells[k]
        level = Level.INFO if status in ("Running", "Completed", "Succeeded") else Level.WARNING
        msg = f"{f['pod']}: Status: {status}, Ready: {ready}, Restarts: {cells.get('RESTARTS', '')}"
        return Rec(message=msg, format="kubectl-get", level=level, component="k8s", fields=f)


class Describe(Block):
    """`kubectl describe pod` (container states, limits, conditions, Events) and `kubectl describe hpa`."""

    FMT = "kubectl-describe"

    def __init__(self, raw: RawLine, base: int):
        self.base = base
        self.common: dict[str, Any] = {}
        self.section = ""
        self.first = raw
        self.pod: dict[str, str] = {}
        self.container: str | None = None
        self.cindent = 0
        self.states: list[tuple[RawLine, Rec, list[str]]] = []
        self.state: tuple[str, bool, dict[str, Any], int, RawLine, list[str]] | None = None
        self.restarts: int | None = None
        self.ready: bool | None = None  # the container's "Ready:" line
        self.limits: dict[str, str] = {}
        self.limit_line: int | None = None  # the line of the container's memory limit
        self.res_part: tuple[str, int] | None = None
        self.cols: list[tuple[str, int]] | None = None
        self.hpa: dict[str, Any] | None = None  # set once a key shows this describes an HPA
        self.hpa_metrics: list[tuple[str | None, int | None, int | None]] = []
        self.last = raw
        self.pending: list[Event] = []
        self.feed(raw, self.pending)

    @staticmethod
    def start(line: str) -> int | None:
        """Return the indentation of a `Name:   pod` line that opens a describe block, or None."""
        s = line.lstrip(" ")
        if s.startswith("Name:") and len(s) > 6 and s[5] in " \t" and s[5:].strip():
            return len(line) - len(s)
        return None

    def feed(self, raw: RawLine, out: list[Event]) -> bool:
        """Take one line of the description."""
        if self.pending:
            out.extend(self.pending)
            self.pending = []
        line = raw.text.rstrip("\r")
        if not line.strip():
            return False
        indent = len(line) - len(line.lstrip(" "))
        if indent < self.base:
            return False
        self.last = raw
        if indent == self.base:
            m = _KEYVAL.match(line)
            if m is None:
                return False
            self._close_container(out)
            key, val = m[2], (m[3] or "")
            self.section = key
            self.cols = None
            if key in _HPA_KEYS and self.hpa is None:
                self._become_hpa()
            if self.hpa is not None and hpa.describe_key(key, val, self.hpa):
                return True
            if key == "Labels":
                self._label(val)
            elif key in ("Name", "Namespace", "Node", "Status", "Reason", "Message"):
                self.pod[key] = val
                if key == "Name":
                    self.common["pod"] = val
                elif key == "Namespace":
                    self.common["namespace"] = val
                elif key == "Node" and val and val != "<none>":
                    self.common["node"] = val.split("/")[0]
            return True
        sec = self.section
        if sec in ("Containers", "Init Containers"):
            self._container_line(raw, line, indent, out)
        elif sec == "Events":
            self._event_line(raw, line, out)
        elif sec == "Conditions":
            parts = line.split()
            if len(parts) >= 2 and parts[0] != "Type" and parts[1] in ("True", "False", "Unknown"):
                if self.hpa is not None:
                    reason = parts[2] if len(parts) > 2 else ""
                    msg = line.strip().split(None, 3)[3] if len(parts) > 3 else ""
                    rec = hpa.condition_rec(parts[0], parts[1], reason, msg, self.common, self.FMT)
                else:
                    rec = k8s.condition_rec(parts[0], parts[1], {}, self.FMT, self.common)
                out.append(make_event(raw, rec))
        elif sec == "Metrics" and self.hpa is not None:
            metric = hpa.describe_metric(line)
            if metric is not None:
                self.hpa_metrics.append(metric)
        elif sec == "Labels":
            self._label(line.strip())
        return True

    def _become_hpa(self) -> None:
        """Describe a HorizontalPodAutoscaler from here on: its Name is no pod."""
        self.hpa = {}
        name = self.common.pop("pod", None) or self.pod.get("Name", "")
        if name:
            self.common["hpa"] = name
            self.common["object"] = f"horizontalpodautoscaler/{name}"

    def _label(self, pair: str) -> None:
        """Keep the keys of labels that name the platform (Azure ML web services and online deployments)."""
        key = pair.split("=", 1)[0].strip()
        if key in k8s.PLATFORM_LABELS:
            known = self.common.get("platform_labels", "")
            self.common["platform_labels"] = ",".join(sorted({*known.split(","), key} - {""}))

    def _event_line(self, raw: RawLine, line: str, out: list[Event]) -> None:
        if self.cols is None:
            if "Reason" in line and ("Message" in line or "Type" in line):
                self.cols = _columns(line)
            return
        if line.lstrip().startswith("---"):
            return
        cells = _cells(line, self.cols)
        rec = event_row(cells, self.FMT, self.common) if cells else None
        if rec is not None:
            out.append(make_event(raw, rec))

    def _container_line(self, raw: RawLine, line: str, indent: int, out: list[Event]) -> None:
        m = _KEYVAL.match(line)
        if self.container is None or indent <= self.cindent:
            if m and not m[3]:
                self._close_container(out)
                self.container, self.cindent = m[2], indent
            return
        if self.state is not None:
            if indent > self.state[3]:
                self.state[5].append(line.strip())
                if m:
                    self.state[2][m[2]] = m[3] or ""
                return
            self._close_state()
        if self.res_part is not None:
            if indent > self.res_part[1] and m:
                res = m[2]
                name = "gpu" if res == "nvidia.com/gpu" else res
                if name in ("memory", "cpu", "gpu"):
                    self.limits[f"{name}_{self.res_part[0]}"] = m[3] or ""
                    if name == "memory" and self.res_part[0] == "limit":
                        self.limit_line = raw.line  # the plan quotes the line it reads the limit from
                return
            self.res_part = None
        if m is None:
            return
        key, val = m[2], (m[3] or "")
        if key in ("State", "Last State", "Last Termination State"):
            self.state = (val.lower(), key != "State", {}, indent, raw, [line.strip()])
        elif key == "Restart Count":
            self.restarts = to_int(val)
        elif key == "Ready" and val in ("True", "False"):
            self.ready = val == "True"
        elif key in ("Limits", "Requests"):
            self.res_part = ("limit" if key == "Limits" else "request", indent)

    def _close_state(self) -> None:
        if self.state is None or self.container is None:
            self.state = None
            return
        state, last, d, _, raw, lines = self.state
        self.state = None
        if state not in ("waiting", "running", "terminated"):
            return
        det = {
            "reason": d.get("Reason"),
            "exitCode": d.get("Exit Code"),
            "signal": d.get("Signal"),
            "startedAt": d.get("Started"),
            "finishedAt": d.get("Finished"),
            "message": d.get("Message"),
        }
        rec = k8s.state_rec(self.container, state, det, last, self.FMT, self.common)
        self.states.append((raw, rec, lines))

    def _close_container(self, out: list[Event]) -> None:
        self._close_state()
        if self.container is not None:
            if not self.states and self.limits:
                f = {
                    **self.common,
                    "kind": EventKind.CONTAINER_RESOURCES,
                    "container": self.container,
                    **self.limits,
                }
                msg = f"{self.container}: " + ", ".join(f"{k}={v}" for k, v in self.limits.items())
                out.append(
                    make_event(
                        self.first,
                        Rec(message=msg, format=self.FMT, level=Level.INFO, component="k8s", fields=f),
                    )
                )
            for raw, rec, lines in self.states:
                k8s.add_restarts(rec, self.restarts, self.limits)
                if self.limit_line is not None:
                    rec.fields["memory_limit_line"] = self.limit_line
                if self.ready is not None:
                    rec.fields["ready"] = self.ready  # the container's readiness now, after its states
                out.append(make_event(raw, rec, "\n".join(lines), raw.line + len(lines) - 1))
        self.states, self.container, self.restarts, self.limits, self.res_part = [], None, None, {}, None
        self.ready = None
        self.limit_line = None

    def finish(self, out: list[Event]) -> list[RawLine]:
        """Emit the last container's states and the pod status (or the HPA's status)."""
        if self.pending:
            out.extend(self.pending)
            self.pending = []
        self._close_container(out)
        if self.hpa is not None:
            fields = {**self.common, **self.hpa}
            hpa.finish_describe(fields, self.hpa_metrics)
            rec = hpa.status_rec(fields, self.FMT)
            if rec is not None:
                out.append(make_event(self.first, rec, rec.message, self.last.line))
            return []
        p = self.pod
        if p.get("Reason") or p.get("Status") in ("Failed", "Pending"):
            f = {**self.common, "kind": EventKind.POD_STATUS, "phase": p.get("Status", "")}
            msg = f"{p.get('Name', 'pod')}: Status: {p.get('Status', '')}"
            if p.get("Reason"):
                f["reason"] = p["Reason"]
                msg += f", Reason: {p['Reason']}"
            if p.get("Message"):
                msg += f", Message: {p['Message']}"
            level = Level.WARNING if p.get("Reason") else Level.INFO
            out.append(
                make_event(
                    self.first, Rec(message=msg, format=self.FMT, level=level, component="k8s", fields=f)
                )
            )
        return []


class Document(Block):
    """A pretty-printed `kubectl get -o json` or `-o yaml` document, buffered until it closes."""

    def __init__(self, raw: RawLine, yaml_doc: bool):
        self.yaml = yaml_doc
        self.lines: list[RawLine] = [raw]
        self.size = len(raw.text)
        self.closed = False
        self.overflow = False

    @staticmethod
    def start(line: str) -> bool | None:
        """Return False for a JSON document start, True for a YAML one, None otherwise."""
        if line == "{" or line == "{\r":
            return False
        if line.startswith(("apiVersion: ", "kind: ")):
            return True
        return None

    @staticmethod
    def _yamlish(line: str) -> bool:
        if not line or line[0] in " -#" or line == "---":
            return True
        head, sep, _ = line.partition(":")
        return (
            bool(sep)
            and " " not in head.strip("\"'")
            and (len(line) == len(head) + 1 or line[len(head) + 1] == " ")
        )

    def feed(self, raw: RawLine, out: list[Event]) -> bool:
        """Take lines until the document closes (JSON: a `}` line; YAML: a line that is not YAML)."""
        if self.closed:
            return False
        line = raw.text.rstrip("\r")
        if self.yaml and not self._yamlish(line):
            return False
        self.lines.append(raw)
        self.size += len(line) + 1
        if self.size > MAX_DOC_BYTES:
            self.overflow = self.closed = True
        if not self.yaml and line == "}":
            self.closed = True
        return True

    def finish(self, out: list[Event]) -> list[RawLine]:
        """Decode the document and emit its objects; return its lines if it is not a k8s document."""
        if self.overflow:
            return self.lines
        text = "\n".join(r.text for r in self.lines)
        fmt = "kubectl-yaml" if self.yaml else "kubectl-json"
        import yaml  # here: few inputs hold a kubectl YAML document, and importing yaml costs start-up

        try:
            if self.yaml:
                loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
                docs = [d for d in yaml.load_all(text, Loader=loader) if d is not None]
            else:
                docs = [orjson.loads(text)]
        except (yaml.YAMLError, orjson.JSONDecodeError, ValueError, RecursionError):
            return self.lines
        if not any(k8s.is_k8s(d) for d in docs):
            return self.lines
        first = self.lines[0]
        end = self.lines[-1].line
        n = 0
        for d in docs:
            for rec in k8s.object_recs(d, fmt):
                out.append(make_event(first, rec, cap(rec.message, MAX_TEXT), end))
                n += 1
        if n == 0:  # a k8s document with nothing of interest (a Service, a Deployment) still counts once
            out.append(
                make_event(
                    first,
                    Rec(
                        message=cap(text.split("\n", 1)[0]),
                        format=fmt,
                        component="k8s",
                        fields={"kind": EventKind.K8S_OBJECT},
                    ),
                    None,
                    end,
                )
            )
        return []
