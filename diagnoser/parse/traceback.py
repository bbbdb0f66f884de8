"""Multi-line Python tracebacks (chained, prefixed, framed) assembled into one event."""

from __future__ import annotations

import re
from dataclasses import dataclass

from diagnoser.lazy import LazyRegex
from diagnoser.model import Event, EventKind, Level, RawLine
from diagnoser.parse import escapes
from diagnoser.parse.base import MAX_RECORD, MAX_RECORD_LINES, MAX_TEXT, Rec, cap, make_event

START = "Traceback (most recent call last):"
CHAIN = ("During handling of the above exception", "The above exception was the direct cause")
_FRAME = re.compile(r'\s+File "(.*?)", line (\d+)(?:, in (.*))?')
# `Name: message`; Ray names a remote failure by its cause: `ray.exceptions.RayTaskError(RuntimeError): …`
_EXC = re.compile(r"([A-Za-z_][\w.]*(?:\([A-Za-z_][\w.]*\))?)(?:: ?(.*))?$", re.S)
MAX_FRAMES = 200
MAX_MESSAGE_LINES = 500  # lines of one multi-line exception message kept in the record


# Frames of a traceback that say when it was raised: while starting (importing, loading the model, a
# lifespan or setup hook) or while serving a request. Names across servers: azmlinfsrv init/run,
# FastAPI lifespan, LitServe / cog setup and predict, KServe load / predict, BentoML __init__ / api
# methods, TorchServe initialize / handle, Flask full_dispatch_request, Starlette call_next; LLM servers'
# get_model (TGI, FastChat) and transformers' from_pretrained; factories create_* (create_app, create_model).
_STARTUP_FRAMES = LazyRegex(
    r"^(?:<module>|init|__init__|initiali[sz]e|setup|startup|lifespan|load\w*|_load\w*|import_module"
    r"|_call_with_frames_removed|exec_module|create_\w+|main|build\w*|get_model|from_pretrained)$"
)
_REQUEST_FRAMES = LazyRegex(
    r"^(?:run|predict\w*|infer\w*|__call__|handle\w*|dispatch_request|full_dispatch_request|wsgi_app"
    r"|forward|score\w*|generate\w*|preprocess|postprocess|inference|app|call_next|run_endpoint_function"
    r"|view_func|invoke\w*)$"
)


# The outermost frame of a program's own top level: the script or console entry point (`<module>`), or
# `python -m` (runpy's `_run_module_as_main`).
_TOP_LEVEL = frozenset({"<module>", "_run_module_as_main"})


_CARETS = " ^~-"
_RAISED = re.compile(r"(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Warning)\b(?::|$)")


def _looks_raised(msg: str) -> bool:
    """Return True when `msg` reads as an exception line (`KeyError: 'X'`), not a line of source."""
    return _RAISED.match(msg) is not None


def frames_phase(functions: list[str]) -> str | None:
    """Return "startup" or "request" from the innermost frame whose function says when a traceback
    was raised, or None when no frame says."""
    for fn in reversed(functions):
        if _REQUEST_FRAMES.match(fn):
            return "request"
        if _STARTUP_FRAMES.match(fn):
            return "startup"
    return None


def is_start(msg: str) -> bool:
    """Return True when `msg` opens a traceback (possibly after a log prefix)."""
    return msg.endswith("last):") and msg.endswith(START)


def set_exception(fields: dict, full: str, message: str | None) -> None:
    """Fill exception (short name), exception_full (dotted) and exception_message of a record."""
    fields["exception"] = full.rsplit(".", 1)[-1]
    fields["exception_full"] = full
    fields["exception_message"] = (message or "").strip()


class Traceback:
    """Accumulate one traceback's lines; `feed` says whether a line belongs to it."""

    __slots__ = (
        "first",
        "rec",
        "texts",
        "messages",
        "files",
        "functions",
        "exceptions",
        "exc_message",
        "phase",
        "last_line",
        "size",
        "count",
        "depth",
        "colon",
        "cont",
        "indent",
        "gap",
        "flat",
    )

    def __init__(self, raw: RawLine, rec: Rec):
        self.first = raw
        self.rec = rec
        self.texts: list[str] = [cap(raw.text)]
        self.messages: list[str] = [cap(rec.message)]
        self.files: list[str] = []
        self.functions: list[str] = []
        self.exceptions: list[str] = []
        self.exc_message: str | None = None
        self.phase = "body"  # body | exc (after an exception line) | blank (a blank after it) | chain
        self.last_line = raw.line
        self.size = len(self.texts[0])
        self.count = 1
        self.depth = 0  # open {[ brackets of the exception message (a JSON body printed in it)
        self.colon = False  # the last exception-message line ends with ":" (the message goes on)
        self.cont = 0  # exception-message lines taken
        self.gap = False  # a blank line just read between frames
        # after a frame pasted without its indent: 1 (its source line may follow), 2 (after that source line:
        # caret lines may follow); 0 otherwise
        self.flat = 0
        # a traceback logged indented as a whole (tornado / JupyterHub: `    Traceback ...` under the
        # `[E ...]` line): its lines are read without that indent, so the exception line is found
        head = rec.message
        self.indent = head[: len(head) - len(head.lstrip())] if head.lstrip().startswith(START) else ""

    def _track(self, msg: str) -> None:
        end = msg.rstrip()[-1:]
        if self.depth == 0:  # only a line ending in { or [ opens a body (not a stray bracket in a message)
            self.depth = 1 if end == "{" or end == "[" else 0
        else:
            d = self.depth + msg.count("{") + msg.count("[") - msg.count("}") - msg.count("]")
            self.depth = d if 0 < d < 100 else 0
        self.colon = end == ":"
        self.cont += 1

    def _continues(self, msg: str) -> bool:
        """Return True when `msg` continues a multi-line exception message (str(exc) with newlines)."""
        c = msg[:1]
        if self.cont >= MAX_MESSAGE_LINES:
            return False
        if c == " " or c == "\t" or self.depth > 0:
            return True
        if self.cont > 1 and (msg == "{" or msg == "["):  # a JSON body after a multi-line message
            return True
        return self.colon and not (c.isdigit() or (c == "[" and msg.rstrip() != "[") or is_start(msg))

    def _add(self, raw: RawLine, msg: str) -> None:
        self.last_line = raw.line
        self.count += 1
        if self.size < MAX_RECORD:
            t = cap(raw.text, MAX_TEXT)
            self.texts.append(t)
            self.messages.append(cap(msg, MAX_TEXT))
            self.size += len(t) + 1

    def feed(self, raw: RawLine, msg: str) -> bool:
        """Take the line if it continues the traceback; False means the traceback has ended before it."""
        if self.count >= MAX_RECORD_LINES:
            return False
        if self.indent:
            if msg.strip() and not msg.startswith(self.indent):
                return False  # back at the margin: the indented block has ended
            msg = msg[len(self.indent) :]
        if self.phase == "exc" and msg[:1] == " " and self.cont == 1 and _FRAME.match(msg):
            self.phase = "body"  # frames after the exception line: a remote traceback (RayTaskError)
        phase = self.phase
        if phase == "body":
            c = msg[:1]
            if not c or msg.isspace():
                # one blank between frames: programs that relay a child's stderr line by line (TGI's
                # launcher) print a blank after each line; two in a row end the traceback
                if self.gap:
                    return False
                self.gap = True
                return True
            self.gap = False
            flat, self.flat = self.flat, 0
            if c == "F" and msg.startswith('File "') and (m := _FRAME.match(" " + msg)):
                # a frame pasted without its indent (a log viewer that strips leading blanks)
                if len(self.files) < MAX_FRAMES:
                    self.files.append(m[1])
                    self.functions.append(m[3] or "")
                self.flat = 1
                self._add(raw, msg)
                return True
            if flat and (msg.strip(_CARETS) == "" or (flat == 1 and not _looks_raised(msg))):
                self.flat = 2  # the frame's source line, or the carets under it
                self._add(raw, msg)
                return True
            if c == " " or c == "\t":
                if len(self.files) < MAX_FRAMES and msg.lstrip().startswith('File "'):
                    m = _FRAME.match(msg)
                    if m:
                        self.files.append(m[1])
                        self.functions.append(m[3] or "")
                self._add(raw, msg)
                return True
            if c and (m := _EXC.match(msg)):
                self.exceptions.append(m[1])
                self.exc_message = m[2]
                # a traceback carried as the message (`RuntimeError(traceback.format_exc())`, as Ray and
                # process pools re-raise a worker's failure): its frames and exception follow
                self.phase = "body" if m[2] and is_start(m[2]) else "exc"
                self.depth = self.cont = 0
                self._track(msg)
                self._add(raw, msg)
                return True
            return False
        if phase in ("exc", "blank"):
            if phase == "exc" and msg.strip() and not msg.startswith(CHAIN) and self._continues(msg):
                self._track(msg)  # a multi-line exception message: kept in the record's message
                self._add(raw, msg)
                return True
            if not msg.strip():
                if phase == "blank":
                    return False
                self.phase = "blank"
                self.last_line = raw.line  # a trailing blank belongs to the record, not kept as text
                return True
            if msg.startswith(CHAIN):
                if phase == "blank":
                    self._add(raw, "")
                self._add(raw, msg)
                self.phase = "chain"
                return True
            return False
        # chain: a blank, then the next "Traceback (most recent call last):"
        if not msg.strip():
            self._add(raw, msg)
            return True
        if is_start(msg):
            self._add(raw, msg)
            self.phase = "body"
            return True
        return False

    def event(self) -> Event:
        """Return the traceback as one event."""
        rec = self.rec
        f = rec.fields
        f["kind"] = EventKind.TRACEBACK
        if self.exceptions:
            set_exception(f, self.exceptions[-1], self.exc_message)
        f["exceptions"] = self.exceptions
        f["functions"] = self.functions
        f["files"] = self.files
        phase = frames_phase(self.functions)
        if phase is not None:
            f["phase"] = phase  # the lifecycle phase the frames say it was raised in
        if self.functions and self.functions[0] in _TOP_LEVEL:
            # the exception reached the script's top level, where nothing catches it: the interpreter exits
            # (a traceback a server logs and survives stops in the function that caught it)
            f["uncaught"] = True
        if self.files and ("/site-packages/" in self.files[-1] or "/dist-packages/" in self.files[-1]):
            f["raised_in_package"] = True  # the innermost frame is an installed package's, not the program's
        if rec.level is None or rec.level in (Level.DEBUG, Level.INFO):
            rec.level = Level.ERROR
        rec.message = "\n".join(self.messages)
        if "\\" in rec.message and (dec := escapes.decode(rec.message)) is not None:
            rec.message = dec  # an escaped payload in the exception message (a repr / JSON string)
            f["decoded"] = True
        end = self.last_line if self.last_line != self.first.line else 0
        return make_event(self.first, rec, "\n".join(self.texts), end, MAX_RECORD)


# -- CPython fatal errors and faulthandler dumps -------------------------------------------------------
# Py_FatalError() / faulthandler (Python/pylifecycle.c, Modules/faulthandler.c) print:
#   Fatal Python error: Aborted                        (or "Segmentation fault", "init_import_site: ...")
#   Python runtime state: initialized                  (3.8+, Py_FatalError only)
#   <an exception / traceback that was set>            (Py_FatalError only)
#   <blank>
#   Thread 0x00007f... (most recent call first):       (other threads, faulthandler all_threads)
#     File "/app/x.py", line 19 in run                 (no comma before "in")
#   Current thread 0x00007f... (most recent call first):   / "Stack (most recent call first):"
#     <no Python frame>
#   <blank>
#   Extension modules: numpy..., (total: 33)           (3.10+)
# gunicorn's SIGABRT on WORKER TIMEOUT makes a worker with faulthandler enabled print one of these.
FATAL_STARTS = ("Fatal Python error: ", "Windows fatal exception: ")
_FATAL_FRAME = re.compile(r'\s+File "(.*?)", line (\d+|\?\?\?) in (.*)')
_THREAD = re.compile(
    r"(?:Current thread|Thread) 0x[0-9a-fA-F]+(?: \[[^\]]*\])? \(most recent call first\):"
    r"|Stack \(most recent call first\):"
)
_FATAL_EXC = re.compile(r"([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt))(?:: (.*))?$")
FATAL_SIGNALS = {
    "Aborted": 6,
    "Segmentation fault": 11,
    "Bus error": 7,
    "Floating point exception": 8,
    "Illegal instruction": 4,
}


def fatal_reason(msg: str) -> str | None:
    """Return the reason of a `Fatal Python error: <reason>` line, or None."""
    for s in FATAL_STARTS:
        if msg.startswith(s):
            return msg[len(s) :].strip()
    return None


class FatalError:
    """One fatal error report with its thread dumps, assembled like a traceback (same `feed` contract)."""

    __slots__ = (
        "first",
        "rec",
        "texts",
        "messages",
        "files",
        "functions",
        "all_files",
        "all_functions",
        "current",
        "blanks",
        "last_line",
        "size",
        "count",
        "exception",
        "exc_message",
        "nested",
        "threads",
        "done",
    )

    def __init__(self, raw: RawLine, rec: Rec, reason: str):
        self.first = raw
        self.rec = rec
        rec.fields["reason"] = reason
        sig = FATAL_SIGNALS.get(reason)
        if sig is None and reason.startswith("access violation"):
            sig = 11
        if sig is not None:
            rec.fields["signal"] = sig
        self.texts: list[str] = [cap(raw.text)]
        self.messages: list[str] = [cap(rec.message)]
        self.files: list[str] = []
        self.functions: list[str] = []
        self.all_files: list[str] = []
        self.all_functions: list[str] = []
        self.current = False  # inside the "Current thread" section
        self.blanks = 0
        self.last_line = raw.line
        self.size = len(self.texts[0])
        self.count = 1
        self.exception: str | None = None
        self.exc_message: str | None = None
        self.nested = False  # inside a traceback printed before the thread dumps
        self.threads = 0
        self.done = False

    def _add(self, raw: RawLine, msg: str) -> None:
        self.last_line = raw.line
        self.count += 1
        if self.blanks:
            self.messages.append("")
            self.blanks = 0
        if self.size < MAX_RECORD:
            t = cap(raw.text, MAX_TEXT)
            self.texts.append(t)
            self.messages.append(cap(msg, MAX_TEXT))
            self.size += len(t) + 1

    def feed(self, raw: RawLine, msg: str) -> bool:
        """Take the line if it continues the report; False means the report ended before it."""
        if self.done or self.count >= MAX_RECORD_LINES:
            return False
        if not msg.strip():
            if self.blanks >= 1:
                return False
            self.blanks = 1
            return True
        c = msg[:1]
        if c == " " or c == "\t":
            m = _FATAL_FRAME.match(msg) or (_FRAME.match(msg) if self.nested else None)
            if m is not None and len(self.all_files) < MAX_FRAMES:
                self.all_files.append(m[1])
                self.all_functions.append(m[3] or "")
                if self.current:
                    self.files.append(m[1])
                    self.functions.append(m[3] or "")
            self._add(raw, msg)
            return True
        if _THREAD.match(msg):
            self.current = not msg.startswith("Thread ")
            self.threads += 1
            self.nested = False
            self._add(raw, msg)
            return True
        if msg.startswith(("Python runtime state:", "Extension modules:")):
            self._add(raw, msg)
            if msg.startswith("Extension modules:"):
                self.done = True
            return True
        if self.threads == 0:  # before the dumps: the exception Py_FatalError was given
            if is_start(msg):
                self.nested = True
                self._add(raw, msg)
                return True
            if self.exception is None and (m := _FATAL_EXC.match(msg)):
                self.exception, self.exc_message = m[1], m[2]
                self.nested = False
                self._add(raw, msg)
                return True
        return False

    def event(self) -> Event:
        """Return the report as one kind=fatal_error event."""
        rec = self.rec
        f = rec.fields
        f["kind"] = EventKind.FATAL_ERROR
        if self.exception:
            set_exception(f, self.exception, self.exc_message)
        f["functions"] = self.functions or self.all_functions
        f["files"] = self.files or self.all_files
        if self.threads:
            f["threads"] = self.threads
        rec.level = Level.CRITICAL
        rec.message = "\n".join(self.messages)
        end = self.last_line if self.last_line != self.first.line else 0
        return make_event(self.first, rec, "\n".join(self.texts), end, MAX_RECORD)


# -- what a traceback record says, for the report ------------------------------------------------------
# Read again from a record's text (the evidence keeps only that): prefixes a log or a relay put before
# each line (`web_1  | `, a CRI or compose prefix) are skipped by searching within the line.
_FRAME_ANY = re.compile(r'File "(.*?)", line (\d+)(?:, in (\S.*))?')
_EXC_LINE = re.compile(
    r"(?:^|[\s|>\]])((?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Warning|Fault|Failure)"
    r"(?:\([A-Za-z_][\w.]*\))?)(?::[ \t]*(.*))?$"
)
# Any other class name (UserScriptTimeout, StopIteration), when qualified by its module or at the margin.
_EXC_OTHER = re.compile(r"^\s*((?:[a-z_]\w*\.)+[A-Z]\w*|[A-Z][a-z]\w*)(?::[ \t]*(.*))?$")
# Frames that are not the user's code: installed packages, the standard library, the interpreter's own.
_NOT_USER = re.compile(r"/(?:site|dist)-packages/|/lib/python\d[\d.]*/|^<frozen |^<string>|\\lib\\|/usr/lib/")


@dataclass(frozen=True, slots=True)
class Frame:
    """One `File "...", line N, in fn` frame."""

    path: str
    line: int
    function: str

    @property
    def where(self) -> str:
        """Return `score.py:14`: the file's name and line, as a person looks it up."""
        return f"{self.path.replace(chr(92), '/').rsplit('/', 1)[-1]}:{self.line}"

    @property
    def in_function(self) -> str:
        """Return " in init()" for a frame in a named function, "" at a module's top level (`<module>`)."""
        return f" in {self.function}()" if self.function and not self.function.startswith("<") else ""

    @property
    def user_code(self) -> bool:
        """Return True for a frame of the program's own files (not a package, the stdlib, the interpreter)."""
        return _NOT_USER.search(self.path) is None


@dataclass(frozen=True, slots=True)
class Described:
    """What a traceback record says: its original exception, the line showing it, where it was raised."""

    exception: str  # short name: ValueError
    message: str  # its first line
    line: str  # the exception line as the record has it, without a log prefix
    frame: Frame | None  # the innermost frame of the user's code, else the innermost frame
    phase: str | None  # "startup" or "request", as the frames say
    offset: int = 0  # the exception line's index among the record's lines


def describe(text: str) -> Described | None:
    """Return the original exception of a traceback record (the first of a chain) and its user frame."""
    if START not in text:
        return None
    frames: list[Frame] = []
    chain: list[tuple[list[Frame], str, str, str, int]] = []  # each traceback: frames, exception, its line
    column = 1 << 30  # where `File "` starts in this traceback's frames: a source line is right of it
    wrapper = False  # the last exception line may wrap a remote one whose frames follow it
    for index, raw in enumerate(text.splitlines()):
        if START in raw:
            frames, column, wrapper = [], 1 << 30, False
            continue
        if (m := _FRAME_ANY.search(raw)) is not None:
            if wrapper:
                # frames right after an exception line, with no new head: a remote traceback (Ray's
                # `RayTaskError(ValueError): ...` then the worker's frames); its own exception is the original
                frames = chain.pop()[0]
                wrapper = False
            frames.append(Frame(m[1], int(m[2]), (m[3] or "").strip()))
            column = m.start()
            continue
        m = _EXC_LINE.search(raw.rstrip()) or (_EXC_OTHER.match(raw.rstrip()) if frames else None)
        # the exception line starts left of the frames (a frame's source line, `raise MyError`, right of them)
        if m is not None and m.start(1) < column and (frames or not chain):
            name, message = m[1].rsplit(".", 1)[-1], (m[2] or "").strip()
            chain.append((frames, name, message, raw[m.start(1) :].strip(), index))
            frames, column, wrapper = [], 1 << 30, True
        elif raw.strip():
            wrapper = False
    if not chain:
        return None
    first_frames, name, message, line, offset = chain[0]
    every = [f for frames_, *_ in chain for f in frames_]
    user = [f for f in first_frames if f.user_code] or [f for f in every if f.user_code]
    frame = user[-1] if user else (first_frames[-1] if first_frames else None)
    # the original traceback says when it was raised (a server's wrapper frames may say otherwise)
    return Described(name, message, line, frame, frames_phase([f.function for f in first_frames]), offset)
