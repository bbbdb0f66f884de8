"""The stream parser: per-line sniffing, nested framing, and per-source multi-line assembly.

Which format a line is in is decided by two ordered tables at the end of this module, one per level:
ENVELOPES strip outer framing (Docker json-file, CRI, journald, kubectl --prefix, dmesg, syslog) and
CONTENT_FORMATS read the inner text (gunicorn, azmlinfsrv, klog, access logs, ...). Each row is
(format, first, parse): `first` is the cheap test on the line's first character the rows are indexed
by, `parse` fills the record. Rows are tried in table order; the first that claims the line wins.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import orjson

from diagnoser.debuglog import debug
from diagnoser.model import Event, EventKind, RawLine
from diagnoser.parse import (
    access,
    azmlinfsrv,
    compose,
    cri,
    docker,
    escapes,
    fragment,
    gunicorn,
    journald,
    k8s,
    kernel,
    klog,
    loadtest,
    plain,
    ray,
    torchserve,
)
from diagnoser.parse import traceback as tb
from diagnoser.parse.base import MAX_LINE, MAX_RECORD, Rec, cap, iso, make_event

if TYPE_CHECKING:
    from types import ModuleType

    from diagnoser.parse.kubectl import Block


def _kubectl() -> ModuleType:
    """Return the kubectl block parsers, imported when a line may start one (2 ms of start-up otherwise)."""
    if not _KUBECTL:
        from diagnoser.parse import kubectl

        _KUBECTL.append(kubectl)
    return _KUBECTL[0]


_GOLOG = re.compile(r"(\d{4})/(\d\d)/(\d\d) (\d\d:\d\d:\d\d)(?:\.\d+)? (.*)", re.S)
_MONTH_INITIALS = frozenset("JFMASOND")
_PREFIX_KINDS = ("[pod/", "[deployment/", "[job/", "[statefulset/", "[daemonset/", "[replicaset/")
_DMESG_T_DAYS = ("[Mon ", "[Tue ", "[Wed ", "[Thu ", "[Fri ", "[Sat ", "[Sun ")
_ROW_FIRST = frozenset(" \tNW<abcdefghijklmnopqrstuvwxyz")  # first characters of an events-table row
_KUBECTL: list[ModuleType] = []  # diagnoser.parse.kubectl once a line may be kubectl output
MAX_QUOTE = 2000  # quoted lines held before deciding; a longer all-quoted paragraph is taken as quoted
# Open multi-line records (a traceback, a partial line) are kept one per sub-source: a pod, a container, a
# thread. A million pods each starting a traceback held 1.5 GB; past these caps the oldest open record is
# flushed as it is (an event like any other, only shorter), so memory stays flat and nothing is lost.
MAX_OPEN_PER_SOURCE = 256
MAX_OPEN = 1024  # across all sources


class _Source:
    """Per-source state: an open kubectl block, open tracebacks and partial lines per sub-source."""

    __slots__ = ("block", "tbs", "partials", "server", "last", "timed_out", "quote", "mixed", "quoting")

    def __init__(self) -> None:
        self.block: Block | None = None
        self.tbs: dict[str, tb.Traceback | tb.FatalError] = {}
        self.partials: dict[str, tuple[RawLine, list[str], list[str]]] = {}
        self.server = "nginx"  # who writes combined access lines here: gunicorn once its log is seen
        self.last: Rec | None = None  # the previous line's record: a bare traceback inherits its time
        self.timed_out: dict[int, None] = {}  # worker pids gunicorn reported as WORKER TIMEOUT (bounded)
        # Markdown block quotes: `> ` lines of the current paragraph held until it is known whether the
        # whole paragraph is quoted (then `> ` is stripped), or mixed with unquoted lines (kept as read).
        self.quote: list[RawLine] = []
        self.mixed = False  # the current paragraph has an unquoted line
        self.quoting = False  # the current paragraph was taken as quoted (more than MAX_QUOTE lines)


class StreamParser:
    """Turn RawLines into Events, one line at a time, with bounded state per source."""

    def __init__(self) -> None:
        self.sources: dict[str, _Source] = {}
        self.out: list[Event] = []
        # every open record, oldest first: (source state, sub-source key, is a partial line)
        self.open: dict[tuple[_Source, str, bool], None] = {}

    # -- entry points -------------------------------------------------------------------------
    def feed(self, raw: RawLine) -> list[Event]:
        """Take one line; return the events it finished (the list is reused: consume it at once)."""
        out = self.out
        out.clear()
        try:
            self._feed(raw)
        except Exception:  # a parser bug must never stop a diagnosis: the line becomes plain text
            debug(__name__, "parser error on %s:%d", raw.source, raw.line)
            out.append(make_event(raw, Rec(message=raw.text.replace("\x00", ""))))
        return out

    def close(self) -> list[Event]:
        """Flush every open record at the end of input."""
        out = self.out
        out.clear()
        for st in self.sources.values():
            try:
                if st.quote:
                    self._unquote(st, True)
                self._flush(st)
            except Exception:
                debug(__name__, "parser error while flushing")
        self.sources.clear()
        self.open.clear()
        return out

    # -- internals ----------------------------------------------------------------------------
    def _flush(self, st: _Source) -> None:
        if st.block is not None:
            blk, st.block = st.block, None
            for r in blk.finish(self.out):
                self._line(st, r, False)
        for key in list(st.partials):
            self._flush_partial(st, key)
        for key in list(st.tbs):
            self._emit(self._release(st, key))

    def _flush_partial(self, st: _Source, key: str) -> None:
        """Emit the pieces of a partial line read so far as one event."""
        self.open.pop((st, key, True), None)
        first, raws, pieces = st.partials.pop(key)
        rec = Rec(message="".join(pieces))
        self._content(rec.message, rec, st)
        self.out.append(make_event(first, rec, cap("\n".join(raws), MAX_RECORD)))

    def _hold(self, st: _Source, key: str, t: tb.Traceback | tb.FatalError) -> None:
        """Keep `t` open for sub-source `key`, after flushing the oldest open record at a cap."""
        if len(st.tbs) >= MAX_OPEN_PER_SOURCE:
            self._emit(self._release(st, next(iter(st.tbs))))
        self._make_room()
        st.tbs[key] = t
        self.open[(st, key, False)] = None

    def _release(self, st: _Source, key: str) -> tb.Traceback | tb.FatalError:
        """Return the open record of sub-source `key`, no longer held."""
        self.open.pop((st, key, False), None)
        return st.tbs.pop(key)

    def _make_room(self) -> None:
        """Flush the oldest open record of any source while MAX_OPEN are open."""
        while len(self.open) >= MAX_OPEN:
            st, key, partial = next(iter(self.open))
            if partial:
                self._flush_partial(st, key)
            else:
                self._emit(self._release(st, key))

    def _emit(self, t: tb.Traceback | tb.FatalError) -> None:
        if type(t) is fragment.Fragment and t.held is not None:
            # Frames that never met their exception line: each line is the event it was before.
            for raw, rec in t.give_back():
                if rec is None:
                    alone = StreamParser()
                    self.out.extend(alone.feed(raw))
                    self.out.extend(alone.close())
                else:
                    self.out.append(make_event(raw, rec))
        else:
            self.out.append(t.event())

    def _feed(self, raw: RawLine) -> None:
        text = raw.text
        if len(text) > MAX_LINE or "\x00" in text or text.endswith("\r"):
            text = text[:MAX_LINE].replace("\x00", "").rstrip("\r")
            raw = RawLine(raw.source, raw.line, text)
        st = self.sources.get(raw.source)
        if st is None:
            st = self.sources[raw.source] = _Source()
        if text.startswith(">"):
            if len(text) == 1 or text[1] == " " or text[1] == "\t":
                if st.quoting:
                    raw = RawLine(raw.source, raw.line, text[2:])
                elif not st.mixed:
                    st.quote.append(raw)
                    if len(st.quote) >= MAX_QUOTE:
                        st.quoting = True
                        self._unquote(st, True)
                    return
            else:
                if st.quote:
                    self._unquote(st, False)
                st.mixed = True
        elif text and not text.isspace():
            if st.quote:
                self._unquote(st, False)
            st.mixed = True
        else:
            if st.quote:
                self._unquote(st, True)
            st.mixed = st.quoting = False
        self._feed_line(st, raw)

    def _unquote(self, st: _Source, strip: bool) -> None:
        """Read the held `> ` lines: without the `> ` when the whole paragraph is quoted, else as read."""
        held, st.quote = st.quote, []
        if not strip:
            st.mixed = True
        for r in held:
            if strip:
                r = RawLine(r.source, r.line, r.text[2:])
            self._feed_line(st, r)

    def _feed_line(self, st: _Source, raw: RawLine) -> None:
        """Give `raw` to the open kubectl block, or (closing the block first) read it as a line."""
        if st.block is not None:
            if st.block.feed(raw, self.out):
                return
            blk, st.block = st.block, None
            for r in blk.finish(self.out):
                self._line(st, r, False)
        self._line(st, raw, True)

    def _line(self, st: _Source, raw: RawLine, top: bool) -> None:
        text = raw.text
        if not text or text.isspace():
            t = st.tbs.get("")
            if t is not None and not t.feed(raw, ""):
                self._emit(self._release(st, ""))
            return
        rec = Rec(message=text)
        if text.find(" |", 1, 120) > 0 and (sub := compose.deframe(text, rec)) is not None:
            name = rec.key  # `web-1  | msg`: the service is the sub-source; the inner line is read again
            if not sub or sub.isspace():
                t = st.tbs.get(name)
                if t is not None and not t.feed(raw, ""):
                    self._emit(self._release(st, name))
                return
            inner = self._deframe(raw, sub, rec)
            if inner is None:
                return
            rec.format = "compose"
            rec.key = f"{name}/{rec.key}" if rec.key != name else name
        else:
            inner = self._deframe(raw, text, rec)
            if inner is None:
                return
        if inner[23:25] == " [" and (sub := torchserve.deframe(inner, rec)) is not None:
            inner = sub  # TorchServe / MMS log4j prefix: the sub-source is the thread
        elif (inner[:1] == "(" or "m(" in inner[:16]) and (sub := ray.deframe(inner, rec)) is not None:
            # Ray worker output on the driver, `(Actor pid=1)` or coloured `\x1b[36m(Actor pid=1)`: the
            # sub-source is the worker (the cheap test spares gunicorn's `[2024-...` lines the regex)
            inner = sub
        key = rec.key
        end = 0
        if rec.partial or (st.partials and key in st.partials):
            joined = self._join(st, raw, rec, inner)
            if joined is None:
                return
            raw, inner, end = joined
        t = st.tbs.get(key) if st.tbs else None
        if t is not None:
            if t.feed(raw, inner):
                return
            self._emit(self._release(st, key))
        if top and rec.format == "plain" and self._block_start(st, raw, text):
            return
        outer = rec.format
        self._content(inner, rec, st)
        if outer != "plain":
            rec.format = outer
        msg = rec.message
        if (msg[:1] == " " or msg[:1] == "\t") and fragment.is_frame(msg):
            self._hold(st, key, fragment.Fragment(raw, rec, st.last))  # a traceback pasted without its header
            return
        if msg.endswith("last):") and tb.is_start(msg):
            if rec.format == "plain":
                rec.format = "traceback"
                if st.last is not None and rec.timestamp is None:
                    rec.timestamp, rec.pid = st.last.timestamp, st.last.pid
            self._hold(st, key, tb.Traceback(raw, rec))
            return
        if msg.startswith(tb.FATAL_STARTS) and (reason := tb.fatal_reason(msg)) is not None:
            if rec.format == "plain":
                rec.format = "traceback"
                if st.last is not None and rec.timestamp is None:
                    rec.timestamp = st.last.timestamp
            if st.last is not None and st.last.fields.get("kind") == EventKind.WORKER_TIMEOUT:
                rec.fields["worker_pid"] = st.last.fields.get("worker_pid")
            rec.fields.pop("logger", None)
            self._hold(st, key, tb.FatalError(raw, rec, reason))
            return
        if "\\" in msg and (dec := escapes.decode(msg)) is not None:
            rec.message = dec  # an escaped payload (repr / JSON string): rules see its real text
            rec.fields["decoded"] = True
        st.last = rec
        if rec.component == "gunicorn" and "worker_pid" in rec.fields:
            gunicorn.correlate(rec.fields, st.timed_out)
        self.out.append(make_event(raw, rec, None, end))

    def _join(self, st: _Source, raw: RawLine, rec: Rec, inner: str) -> tuple[RawLine, str, int] | None:
        key = rec.key
        pend = st.partials.get(key)
        if pend is None:
            if len(st.partials) >= MAX_OPEN_PER_SOURCE:
                self._flush_partial(st, next(iter(st.partials)))
            self._make_room()
            pend = st.partials[key] = (raw, [], [])
            self.open[(st, key, True)] = None
        first, raws, pieces = pend
        if sum(map(len, pieces)) < MAX_LINE:
            pieces.append(inner)
            raws.append(raw.text)
        if rec.partial:
            return None
        del st.partials[key]
        self.open.pop((st, key, True), None)
        return RawLine(raw.source, first.line, cap("\n".join(raws), MAX_RECORD)), "".join(pieces), raw.line

    def _block_start(self, st: _Source, raw: RawLine, text: str) -> bool:
        c = text[0]
        blk: Block | None = None
        if c == "N" or c == "L" or c == " ":
            kubectl = _kubectl()
            base = kubectl.Describe.start(text)
            if base is not None:
                blk = describe = kubectl.Describe(raw, base)
                for ev in describe.pending:
                    self.out.append(ev)
                describe.pending = []
            elif (kind := kubectl.Table.start(text)) is not None:
                blk = kubectl.Table(raw, kind)
        if blk is None and (c == "{" or c == "a" or c == "k"):
            kubectl = _kubectl()
            y = kubectl.Document.start(text)
            if y is not None:
                blk = kubectl.Document(raw, y)
        if blk is None:
            return False
        st.block = blk
        return True

    def _deframe(self, raw: RawLine, text: str, rec: Rec) -> str | None:
        """Strip outer framing into `rec` and return the inner text; None when the line was consumed."""
        c = text[0]
        rows = _ENVELOPES_BY_FIRST.get(c)
        if rows is None:
            rows = _rows_for(c, ENVELOPES, _ENVELOPES_BY_FIRST)
        for deframe in rows:
            inner = deframe(self, raw, text, rec)
            if inner is not text:  # `text` itself: not this envelope, try the next row
                return inner
        return text

    def _content(self, text: str, rec: Rec, st: _Source, depth: int = 0) -> None:
        """Parse the inner text of a line (after framing) into `rec`."""
        if not text:
            rec.message = ""
            return
        c = text[0]
        rows = _CONTENT_BY_FIRST.get(c)
        if rows is None:
            rows = _rows_for(c, CONTENT_FORMATS, _CONTENT_BY_FIRST)
        for claim in rows:
            if claim(self, text, rec, st, depth):
                return
        plain.parse(text, rec)


# -- envelopes: outer framing around another format ------------------------------------------------
# A row returns the inner text, None when it consumed the line (a k8s object becomes its own events),
# or the line itself when the line is not in its envelope.
Deframe = Callable[[StreamParser, RawLine, str, Rec], "str | None"]


def _json_record(parser: StreamParser, raw: RawLine, text: str, rec: Rec) -> str | None:
    """Docker json-file, journald -o json, a k8s object or list, or a one-line JSON log record."""
    if len(text) > 2 and text[1] == '"' and text.rstrip().endswith("}"):
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError:
            return text
        if not isinstance(obj, dict):
            return text
        inner = docker.deframe(obj, rec)
        if inner is None:
            inner = journald.deframe_json(obj, rec)
        if inner is not None:
            return inner
        if k8s.is_k8s(obj):
            for r in k8s.object_recs(obj, "kubectl-json"):
                parser.out.append(make_event(raw, r))
            return None
        if plain.parse_json(obj, rec):
            return rec.message
    return text


def _stamped(parser: StreamParser, raw: RawLine, text: str, rec: Rec) -> str | None:
    """A line that starts with an RFC 3339 time: CRI, journald short-iso (syslog), or --timestamps."""
    if text[10:11] == "T" and text[4:5] == "-":
        inner = cri.deframe(text, rec)
        if inner is None and azmlinfsrv.RUNIT.match(text) is None:  # runit lines are content
            inner = journald.deframe_short_iso(text, rec)
            if inner is None:
                inner = cri.deframe_stamped(text, rec)
        if inner is not None:
            return inner
    return text


def _kubectl_prefix(parser: StreamParser, raw: RawLine, text: str, rec: Rec) -> str | None:
    """`kubectl logs --prefix`: `[pod/web-7d9/web] msg`, with an inner --timestamps stamp stripped too."""
    if text.startswith(_PREFIX_KINDS) and (inner := cri.deframe_prefix(text, rec)) is not None:
        if inner[10:11] == "T" and inner[:1].isdigit():
            sub = Rec(message=inner)
            stripped = cri.deframe_stamped(inner, sub)
            if stripped is not None:
                rec.timestamp = sub.timestamp
                return stripped
        return inner
    return text


def _dmesg(parser: StreamParser, raw: RawLine, text: str, rec: Rec) -> str | None:
    """dmesg: `[ 7063.247407] msg` or `dmesg -T`'s `[Thu Dec  7 00:05:15 2017] msg`."""
    if (
        not text.startswith(_PREFIX_KINDS)
        and (text[1:2] == " " or (text[1:2].isdigit() and text[5:6] != "-") or text.startswith(_DMESG_T_DAYS))
        and (inner := kernel.strip_dmesg(text, rec)) is not None
    ):
        rec.format = "dmesg"
        return inner
    return text


def _syslog(parser: StreamParser, raw: RawLine, text: str, rec: Rec) -> str | None:
    """journalctl -o short / syslog: `Oct 29 13:16:48 host kubelet[4919]: msg`."""
    inner = journald.deframe_short(text, rec)
    return text if inner is None else inner


# -- content: the text inside the framing ------------------------------------------------------------
# A row returns True when it claimed the line (its fields are in `rec`); a line no row claims is plain.
Claim = Callable[[StreamParser, str, Rec, _Source, int], bool]


def _gunicorn_error(parser: StreamParser, text: str, rec: Rec, st: _Source, depth: int) -> bool:
    """gunicorn's error log: `[2024-03-05 10:00:00 +0000] [7] [INFO] msg`."""
    if gunicorn.parse_error_line(text, rec):
        rec.format = "gunicorn"
        st.server = "gunicorn"
        return True
    return False


def _dmesg_content(parser: StreamParser, text: str, rec: Rec, st: _Source, depth: int) -> bool:
    """A dmesg line inside another envelope (journald kernel transport, a container's log)."""
    if (inner := kernel.strip_dmesg(text, rec)) is not None:
        rec.format = "dmesg"
        rec.message = inner
        kernel.parse(inner, rec)
        return True
    return False


def _azmlinfsrv(parser: StreamParser, text: str, rec: Rec, st: _Source, depth: int) -> bool:
    """The Azure ML inference server, old `| root | INFO |` and new `I [pid] name -` layouts."""
    if azmlinfsrv.parse(text, rec):
        if rec.component == "gunicorn":
            st.server = "gunicorn"
        return True
    return False


def _runit(parser: StreamParser, text: str, rec: Rec, st: _Source, depth: int) -> bool:
    """AzureML images' runit prefix `<RFC 3339> | gunicorn/run | msg`; the message is read again."""
    if text[10:11] == "T" and depth == 0:
        inner = azmlinfsrv.parse_runit(text, rec)
        if inner is not None:
            parser._content(inner, rec, st, 1)
            rec.format = "runit"
            return True
    return False


def _golog(parser: StreamParser, text: str, rec: Rec, st: _Source, depth: int) -> bool:
    """Go's log package `2019/02/07 11:13:05 msg` (the AzureML front end), maybe with an access line."""
    if text[4:5] == "/" and (m := _GOLOG.match(text)):
        rec.timestamp = rec.timestamp or iso(f"{m[1]}-{m[2]}-{m[3]}T{m[4]}")
        rec.message = m[5]
        if access.parse_frontend(m[5], rec):
            rec.format = "access"
        else:
            rec.format = "golog"
        return True
    return False


def _access_by_address(parser: StreamParser, text: str, rec: Rec, st: _Source, depth: int) -> bool:
    """A combined-format access line that starts with the client address (nginx, gunicorn)."""
    if access.parse_combined(text, rec, st.server):
        rec.format = "access"
        return True
    return False


def _access_uvicorn(parser: StreamParser, text: str, rec: Rec, st: _Source, depth: int) -> bool:
    """A uvicorn access line: `INFO:     127.0.0.1:45138 - "POST /predict HTTP/1.1" 504 Gateway Timeout`."""
    if ' - "' in text and access.parse_uvicorn(text, rec):
        rec.format = "access"
        return True
    return False


def _klog(parser: StreamParser, text: str, rec: Rec, st: _Source, depth: int) -> bool:
    """klog (kubelet, scheduler): `E1029 13:16:48.471488 4919 file.go:182] msg`."""
    if text[1:5].isdigit() and klog.parse(text, rec):
        rec.format = "klog"
        return True
    return False


def _kernel(parser: StreamParser, text: str, rec: Rec, st: _Source, depth: int) -> bool:
    """Kernel OOM-killer lines (from the kernel transport, or any line that may be one)."""
    if rec.component == "kernel" or kernel.maybe_oom(text):
        rec.message = text
        if kernel.parse(text, rec):
            rec.format = "kernel"
            return True
    return False


def _gunicorn_bare(parser: StreamParser, text: str, rec: Rec, st: _Source, depth: int) -> bool:
    """gunicorn messages without their prefix (`Booting worker with pid: 64` in get_logs() output)."""
    if gunicorn.parse_bare(text, rec):
        rec.format = "gunicorn"
        st.server = "gunicorn"
        return True
    return False


def _azmlinfsrv_config(parser: StreamParser, text: str, rec: Rec, st: _Source, depth: int) -> bool:
    """An azmlinfsrv banner / settings line."""
    if azmlinfsrv.config(text, rec):
        rec.message = text
        rec.format = "azmlinfsrv"
        return True
    return False


def _access_frontend(parser: StreamParser, text: str, rec: Rec, st: _Source, depth: int) -> bool:
    """An azureml-fe / iot-server request line."""
    if ("Returned Status Code" in text or "Incoming request:" in text) and access.parse_frontend(text, rec):
        rec.message = text
        rec.format = "access"
        return True
    return False


def _access_combined(parser: StreamParser, text: str, rec: Rec, st: _Source, depth: int) -> bool:
    """A combined-format access line after another prefix (ingress, azureml-fe)."""
    if ' "' in text and '] "' in text and access.parse_combined(text, rec, st.server):
        rec.format = "access"
        return True
    return False


def _kubectl_event_row(parser: StreamParser, text: str, rec: Rec, st: _Source, depth: int) -> bool:
    """A `kubectl get events` row without its header (pasted alone)."""
    if (
        ("  " in text or "\t" in text)  # kubectl columns: 2+ spaces or a tab
        and ("Warning" in text or "Normal" in text)
        and (ev := _kubectl().headerless_event(text)) is not None
    ):
        rec.message, rec.format, rec.level, rec.component = ev.message, ev.format, ev.level, ev.component
        rec.fields.update(ev.fields)
        return True
    return False


def _shell_prompt(parser: StreamParser, text: str, rec: Rec, st: _Source, depth: int) -> bool:
    """A pasted shell prompt line (`$ kubectl logs web`, `user@host:~$ ...`); stays plain."""
    c = text[0]
    return (c == "$" or c == "(" or c == "P" or text.find("@", 0, 48) > 0) and plain.prompt(text, rec)


def _k6(parser: StreamParser, text: str, rec: Rec, st: _Source, depth: int) -> bool:
    """A k6 `--out csv` row."""
    return text.startswith("http_req") and loadtest.parse_k6(text, rec)


def _envoy(parser: StreamParser, text: str, rec: Rec, st: _Source, depth: int) -> bool:
    """An envoy admin /stats counter."""
    return text.startswith("cluster.") and loadtest.parse_envoy(text, rec)


First = Callable[[str], bool] | None  # the test on a line's first character; None: any line
P = TypeVar("P")  # a row's parse function: Deframe or Claim


def _digit(c: str) -> bool:
    return c.isdigit()


def _uvicorn_first(c: str) -> bool:
    return c in "IWEDC" or c.isdigit() or c == "["


def _event_row_start(c: str) -> bool:
    return c in _ROW_FIRST or c.isdigit()


# Outer framing, in the order it is tried. The formats a row yields are named first.
ENVELOPES: tuple[tuple[str, First, Deframe], ...] = (
    ("docker|journald|kubectl-json|json", "{".__eq__, _json_record),
    ("cri|syslog|timestamped", _digit, _stamped),
    ("kubectl-prefix", "[".__eq__, _kubectl_prefix),
    ("dmesg", "[".__eq__, _dmesg),
    ("syslog", _MONTH_INITIALS.__contains__, _syslog),
)

# Content formats, in the order they are tried (the same order as the hand ladder they replace:
# the rows bound to a first character come before the ones that look anywhere in the line).
CONTENT_FORMATS: tuple[tuple[str, First, Claim], ...] = (
    ("gunicorn", "[".__eq__, _gunicorn_error),
    ("dmesg", "[".__eq__, _dmesg_content),
    ("azmlinfsrv", _digit, _azmlinfsrv),
    ("runit", _digit, _runit),
    ("golog", _digit, _golog),
    ("access", _digit, _access_by_address),
    ("klog", "IWEF".__contains__, _klog),
    ("access", _uvicorn_first, _access_uvicorn),
    ("kernel", None, _kernel),
    ("gunicorn", None, _gunicorn_bare),
    ("azmlinfsrv", None, _azmlinfsrv_config),
    ("access", None, _access_frontend),
    ("access", None, _access_combined),
    ("kubectl-events", _event_row_start, _kubectl_event_row),
    ("plain", None, _shell_prompt),
    ("k6-csv", "h".__eq__, _k6),
    ("envoy-stats", "c".__eq__, _envoy),
)

# The rows of each table that a first character admits, computed once per character: a line pays one
# dict lookup for the first-character tests instead of one call per row (the throughput budget).
_ENVELOPES_BY_FIRST: dict[str, tuple[Deframe, ...]] = {}
_CONTENT_BY_FIRST: dict[str, tuple[Claim, ...]] = {}
MAX_INDEXED = 4096  # distinct first characters kept per index: bounded memory on any input


def _rows_for(
    c: str, table: tuple[tuple[str, First, P], ...], index: dict[str, tuple[P, ...]]
) -> tuple[P, ...]:
    """Return the parse functions of `table` whose first-character test admits `c`, in table order."""
    rows = tuple(parse for _name, first, parse in table if first is None or first(c))
    if len(index) < MAX_INDEXED:
        index[c] = rows
    return rows
