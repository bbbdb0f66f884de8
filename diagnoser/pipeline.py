"""Run the stages: collect -> parse -> detect -> rank -> plan, and build the Report.

One door: `diagnose(inputs, options)`. Inputs (diagnoser/options.py) are files, stdin and bundles,
lines read elsewhere, and services to collect. The report holds every text as the logs have it: the
exits (renderers, the bundle writer) redact it.
"""

from __future__ import annotations

import dataclasses
import itertools
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, BinaryIO

from diagnoser.collect import InputSource, open_inputs
from diagnoser.collect.bundle import BundleWriter, bundle_warnings, refuse_overwrite
from diagnoser.collect.files import SourceLines, input_size, read_head, read_lines
from diagnoser.debuglog import debug
from diagnoser.detect import Engine, load_rules
from diagnoser.detect.classifier import Classifier, load_model
from diagnoser.errors import InputError, Location, OutputError
from diagnoser.model import (
    Activity,
    Collected,
    Diagnosis,
    Event,
    EventKind,
    Evidence,
    InputStats,
    Level,
    RawLine,
    Report,
)
from diagnoser.options import Files, Input, Lines, Options, ScanRequest, Service
from diagnoser.parse import ParsedLines, ParseStats, parse_lines, worker
from diagnoser.parse.stream import StreamParser
from diagnoser.plan import Observations, plan_diagnoses, select_platforms
from diagnoser.rank import FALLBACK, MAX_EVIDENCE, Ranked, rank

if TYPE_CHECKING:  # collection loads only when a service is asked for
    from diagnoser.collect.scan import Found, Workload
    from diagnoser.collect.service import Outcome

MAX_SUSPICIOUS = 5
PROGRESS_EVENTS = (1 << 14) - 1  # tell the progress sink every 16,384 events


@dataclass(frozen=True, slots=True)
class _Totals:
    """What reading and parsing counted: parse stats and read warnings (lines cut, bad UTF-8, truncation)."""

    stats: ParseStats
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Reading:
    """The events of a run's inputs, and their totals, which `totals()` gives once `events` is consumed."""

    events: Iterator[Event]
    names: tuple[str, ...]
    totals: Callable[[], _Totals]
    warnings: tuple[str, ...] = ()  # known before reading: bundle manifests, collection
    collected: Collected | None = None
    done: Callable[[], int] = lambda: 0  # bytes read so far (file offsets), for progress
    size: int | None = None  # bytes to read in all, when every input is a regular file


def diagnose(inputs: Sequence[Input], options: Options | None = None) -> Report:
    """Diagnose files, stdin, bundles, lines read elsewhere and collected services; return the report."""
    options = options or Options()
    paths = [p for i in inputs if isinstance(i, Files) for p in i.paths or ("-",)]
    sources = open_inputs(paths) if paths else []
    stdin = next((i.stdin for i in inputs if isinstance(i, Files) and i.stdin is not None), None)
    if options.rule_paths:  # a broken rule file fails before any collection
        rules = load_rules(list(options.rule_paths))
        options = dataclasses.replace(options, rules=rules, rule_paths=())
    warnings = bundle_warnings(paths)
    if all(isinstance(i, Files) for i in inputs) and options.save_bundle is None:
        head = 0
        if "-" in paths and worker.may_fork(options.jobs):  # how large is stdin? read enough to tell
            stdin, head = read_head(stdin or sys.stdin.buffer, worker.MIN_BYTES)
        if worker.worthwhile([s.path for s in sources], options.jobs, head):
            try:
                return _detect(_read_forked(sources, stdin, warnings), options)
            except worker.WorkerFailed as exc:
                if "-" in paths:  # what the child read of stdin is gone: it cannot be read again
                    raise InputError(
                        f"reading stdin failed: {exc}", Location("stdin"), "run again with --jobs 1"
                    ) from None
                # A bug or a kill in the child: the files are still there, so read them again here.
                # The report is the one the child would have given, only later.
                debug(__name__, "parse worker failed; parsing in this process")
        return _detect(_read(sources, stdin, warnings), options)
    return _diagnose_gathered(inputs, sources, stdin, warnings, options)


def _read(sources: Sequence[InputSource], stdin: BinaryIO | None, warnings: tuple[str, ...]) -> _Reading:
    """Return the reading of files and/or stdin, parsed in this process."""
    readers = [read_lines(s, stdin) for s in sources]
    parsed = parse_lines(itertools.chain.from_iterable(readers))
    return _Reading(
        iter(parsed),
        tuple(s.name for s in sources),
        partial(_totals, parsed, readers),
        warnings,
        done=partial(_done, readers),
        size=input_size(sources, stdin),
    )


def _done(readers: Sequence[SourceLines]) -> int:
    """Return how many bytes the readers got through (file offsets; bytes counted on stdin)."""
    return sum(r.done for r in readers)


def _notes(readers: Sequence[SourceLines]) -> tuple[str, ...]:
    """Return the read warnings of every source, in input order."""
    return tuple(note for reader in readers for note in reader.notes)


def _totals(parsed: ParsedLines, readers: Sequence[SourceLines]) -> _Totals:
    """Return what parsing and reading counted; complete once `parsed` has been iterated."""
    return _Totals(parsed.stats, _notes(readers))


def _read_forked(
    sources: Sequence[InputSource], stdin: BinaryIO | None, warnings: tuple[str, ...]
) -> _Reading:
    """Return the reading of files and/or stdin parsed by a forked child (diagnoser/parse/worker.py)."""
    readers = [read_lines(s, stdin) for s in sources]
    parsed = parse_lines(itertools.chain.from_iterable(readers))
    received: list[_Totals] = []

    def totals() -> tuple:  # runs in the child, after its last event
        stats = parsed.stats
        return stats.lines, stats.events, dict(stats.formats), _notes(readers)

    def finish(lines: int, events: int, formats: dict[str, int], notes: tuple[str, ...]) -> None:
        received.append(_Totals(ParseStats(lines, events, Counter(formats)), tuple(notes)))

    done = [0]

    def reached(position: int) -> None:  # the child's reading, heard with each batch
        done[0] = position

    position = partial(_done, readers)  # runs in the child
    events = worker.parse_forked(lambda: iter(parsed), totals, finish, position, reached)
    return _Reading(
        events,
        tuple(s.name for s in sources),
        lambda: received[0],
        warnings,
        done=lambda: done[0],
        size=input_size(sources, stdin),
    )


def _diagnose_gathered(
    inputs: Sequence[Input],
    sources: Sequence[InputSource],
    stdin: BinaryIO | None,
    warnings: tuple[str, ...],
    options: Options,
) -> Report:
    """Diagnose files with lines read elsewhere and collected services, optionally saving a bundle."""
    if options.save_bundle is not None:  # before any collection: a refusal costs nothing
        refuse_overwrite(options.save_bundle, [s.path for s in sources])
    given = [i for i in inputs if isinstance(i, Lines)]
    services = [i for i in inputs if isinstance(i, Service)]
    names = [s.name for s in sources] + [n for i in given for n in i.sources]
    readers = [read_lines(s, stdin) for s in sources]
    lines: Iterator[RawLine] = itertools.chain(
        itertools.chain.from_iterable(readers), *(i.lines for i in given)
    )
    meta: dict[str, object] | None = None
    collected = None
    for service in services:
        outcome, meta = _collect(service, have_other_input=bool(names))
        names += [p.source for p in outcome.pieces]
        lines = itertools.chain(lines, outcome.lines())
        warnings += outcome.warnings
        collected = Collected(len(outcome.pieces), outcome.used, outcome.skipped)
    writer = None
    if options.save_bundle is not None:
        writer = BundleWriter(options.save_bundle, names, meta, options.redactor)
        lines = writer.tee(lines)
    parsed = parse_lines(lines)
    report = _detect(
        _Reading(iter(parsed), tuple(names), partial(_totals, parsed, readers), warnings, collected), options
    )
    if writer is not None:
        try:
            writer.finish(warnings + _notes(readers))
        except OutputError as failed:  # the report is not lost with the bundle: the CLI prints it first
            failed.report = report
            raise
    return report


def _collect(service: Service, have_other_input: bool) -> tuple[Outcome, dict[str, object]]:
    """Collect `service`; return the collectors' Outcome and what a bundle records about the request."""
    from diagnoser.collect.base import DEFAULT_TAIL, Request, parse_since
    from diagnoser.collect.service import collect_service

    request = Request(
        service=service.name,
        namespace=service.namespace,
        context=service.context,
        since_seconds=parse_since(service.since),
        tail=service.tail if service.tail is not None else DEFAULT_TAIL,
        timeout=service.timeout,
        journal=service.journal,
    )
    outcome = collect_service(request, service.kinds, have_other_input=have_other_input)
    meta: dict[str, object] = {
        "service": request.service,
        "namespace": request.namespace,
        "context": request.context,
        "since_seconds": request.since_seconds,
        "tail": request.tail,
        "used": list(outcome.used),
        "skipped": list(outcome.skipped),
    }
    return outcome, meta


_TRACEBACK = EventKind.TRACEBACK  # read per event: an EventKind.X lookup is slow on 3.11 (model.EventKind)


def _suspicious(event: Event) -> bool:
    """Return True for events worth showing when no rule explains the input."""
    return event.level in (Level.ERROR, Level.CRITICAL) or event.fields.get("kind") == _TRACEBACK


def _with_last_errors(entry: Ranked, last_errors: deque[Evidence]) -> Ranked:
    """Return the unexplained-crash finding with the input's last error lines quoted beside its own:
    when no documented cause fits, they are what a person reads next."""
    seen = {(e.source, e.line) for e in entry.evidence}
    extra = [e for e in last_errors if (e.source, e.line) not in seen]
    evidence = sorted((*entry.evidence, *extra), key=lambda e: (e.source, e.line))[-MAX_EVIDENCE:]
    return dataclasses.replace(entry, evidence=tuple(evidence))


# Causes whose proof is the program's own traceback: a report of one must quote it.
_USER_CODE_CAUSES = frozenset({"init_exception", "run_exception", "model_not_found"})


def _with_traceback(entry: Ranked, tracebacks: deque[Evidence]) -> Ranked:
    """Return a finding of the program's own failure with the input's last traceback quoted, when the
    lines that fired its rule (a server's "Exception on /predict", a 500) do not include one."""
    if not tracebacks or any(e.matched == ("traceback",) or "Traceback (" in e.text for e in entry.evidence):
        return entry
    evidence = sorted((*entry.evidence, tracebacks[-1]), key=lambda e: (e.source, e.line))[-MAX_EVIDENCE:]
    return dataclasses.replace(entry, evidence=tuple(evidence))


class _Detector:
    """The detect, rank and plan stages over a stream of events: feed them in input order, and ask
    for the report at the end (or, following a live input, as often as wanted: asking changes nothing)."""

    def __init__(self, options: Options):
        rules = options.rules if options.rules is not None else load_rules(lean=True)
        self.options = options
        self.engine = Engine(rules, prefilter=options.prefilter)
        model = load_model() if options.classifier else None
        self.classifier = Classifier(model, gate=options.prefilter) if model is not None else None
        self.obs = Observations()
        self.suspicious: list[Evidence] = []
        self.last_errors: deque[Evidence] = deque(maxlen=MAX_SUSPICIOUS)
        self.tracebacks: deque[Evidence] = deque(maxlen=1)

    def feed(self, event: Event) -> None:
        """Take one event."""
        self.engine.feed(event)
        self.obs.feed(event)
        if self.classifier is not None:
            self.classifier.feed(event)
        if _suspicious(event):
            # Quoted whole: the exits redact it, then clip it (a clipped secret may not match).
            quoted = Evidence(event.source, event.line, event.text, ("suspicious",), event.timestamp)
            if len(self.suspicious) < MAX_SUSPICIOUS:
                self.suspicious.append(quoted)
            self.last_errors.append(quoted)
            if event.fields.get("kind") == _TRACEBACK:
                self.tracebacks.append(dataclasses.replace(quoted, matched=("traceback",)))

    def report(
        self,
        names: tuple[str, ...],
        stats: ParseStats,
        warnings: tuple[str, ...],
        collected: Collected | None = None,
    ) -> Report:
        """Return the report of what was fed so far."""
        options, obs, classifier = self.options, self.obs, self.classifier
        verdict = classifier.finish() if classifier is not None else None
        ranked = rank(
            self.engine.finish(),
            verdict.probabilities if verdict else None,
            verdict.finding if verdict else None,
        )
        ranked = [_with_last_errors(r, self.last_errors) if r.cause == FALLBACK else r for r in ranked]
        ranked = [_with_traceback(r, self.tracebacks) if r.cause in _USER_CODE_CAUSES else r for r in ranked]
        platforms = select_platforms(obs.platforms, options.plan.platform)
        plan = plan_diagnoses(ranked, platforms, obs, options.plan)
        diagnoses = plan.diagnoses if options.top is None else plan.diagnoses[: options.top]
        return Report(
            diagnoses=diagnoses,
            input=InputStats(names, stats.lines, stats.events, dict(stats.formats)),
            warnings=warnings + plan.warnings,
            platforms=obs.platforms,
            suspicious=tuple(self.suspicious) if not diagnoses else (),
            collected=collected,
            activity=Activity(
                listening=obs.listening,
                workers_booted=obs.worker_boots,
                requests=sum(obs.statuses.values()),
                errors=sum(n for status, n in obs.statuses.items() if status >= 500),
            ),
        )


def _detect(reading: _Reading, options: Options) -> Report:
    """Detect, rank and plan over the reading's events, and build the report."""
    detector = _Detector(options)
    feed = detector.feed
    progress = options.progress
    seen = 0
    try:
        for event in reading.events:
            if progress is not None:
                seen += 1
                if not seen & PROGRESS_EVENTS:
                    progress(reading.done(), reading.size)
            feed(event)
    finally:
        close = getattr(reading.events, "close", None)
        if close is not None:
            close()  # an error above stops a parse worker at once
    totals = reading.totals()
    return detector.report(reading.names, totals.stats, reading.warnings + totals.notes, reading.collected)


@dataclass(frozen=True, slots=True)
class Update:
    """A diagnosis that appeared or changed while following a live input (`--follow`)."""

    fingerprint: str  # stable for the same cause, workload and rule: bots deduplicate on it
    status: str  # "new" or "changed"
    workload: str
    diagnosis: Diagnosis
    report: Report  # the report at that moment (what an exit renders the diagnosis from)


def _workload(names: dict[str, str], d: Diagnosis) -> str:
    """Return what a diagnosis is about: the pod / container the logs name, else its first source."""
    if names.get("pod"):
        parts = [names.get("namespace", ""), names["pod"], names.get("container", "")]
        return "/".join(p for p in parts if p)
    return d.evidence[0].source if d.evidence else "input"


def fingerprint(cause: str, workload: str, rule: str | None) -> str:
    """Return the stable id of a diagnosis for deduplication: cause + workload + rule."""
    import hashlib

    return hashlib.sha256(f"{cause}\0{workload}\0{rule or ''}".encode()).hexdigest()[:16]


MAX_FOLLOWED = 4096  # distinct fingerprints remembered while following: flat memory over days


def follow(
    files: Files,
    options: Options,
    emit: Callable[[Update], None],
    idle: float = 1.0,
    every: float = 2.0,
    stop: threading.Event | None = None,
) -> Report:
    """Follow growing files or an endless stdin and call `emit` for each diagnosis that appears or
    changes; return the report of everything read when the input ends, `stop` is set, or Ctrl-C
    (KeyboardInterrupt is then raised with the report as its `report` attribute).

    Diagnoses are looked for every `every` seconds while lines arrive and whenever the input has
    been quiet for `idle` seconds; a quiet input also closes the records still open (a traceback
    whose last line has come).
    """
    from diagnoser.collect.tail import follow_lines

    paths = list(files.paths or ("-",))
    sources = open_inputs(paths)
    names = tuple(s.name for s in sources)
    detector = _Detector(options)
    parser = StreamParser()
    stats = ParseStats()
    shown: dict[str, tuple[str, str]] = {}
    stop = stop or threading.Event()

    def take(events: list[Event]) -> None:
        stats.count(events)
        for ev in events:
            detector.feed(ev)

    def look() -> Report:
        report = detector.report(names, stats, ())
        for d in report.diagnoses:
            workload = _workload(detector.obs.names, d)
            key = fingerprint(d.cause, workload, d.rule)
            state = (d.severity.value, d.summary)
            before = shown.get(key)
            if before == state or (before is None and len(shown) >= MAX_FOLLOWED):
                continue
            shown[key] = state
            emit(Update(key, "new" if before is None else "changed", workload, d, report))
        return report

    checked = time.monotonic()
    try:
        for raw in follow_lines(sources, files.stdin, idle, stop):
            if raw is None:
                take(parser.close())  # quiet: what is open is complete
                look()
                checked = time.monotonic()
                continue
            stats.lines += 1
            take(parser.feed(raw))
            if time.monotonic() - checked >= every:
                look()
                checked = time.monotonic()
        take(parser.close())
        return look()
    except KeyboardInterrupt as interrupt:
        take(parser.close())
        interrupt.report = detector.report(names, stats, ())  # type: ignore[attr-defined]
        raise
    finally:
        stop.set()


@dataclass(frozen=True, slots=True)
class Scanned:
    """One workload of a cluster scan: its report, or why there is none."""

    workload: Workload
    report: Report | None = None
    error: str | None = None


def scan(
    request: ScanRequest, service: Service, options: Options, deadline: float, jobs: int = 4
) -> tuple[Found, Iterator[Scanned]]:
    """Find the failing workloads of a cluster scan, and return them with the diagnoses to come
    (each as `--service` would give it, `jobs` at a time, yielded as it is done)."""
    from diagnoser.collect.scan import find_failing

    found = find_failing(request)
    return found, _diagnose_each(found.workloads, service, options, deadline, jobs)


def _diagnose_each(
    workloads: Sequence[Workload], service: Service, options: Options, deadline: float, jobs: int
) -> Iterator[Scanned]:
    """Diagnose each workload, `jobs` at a time, yielding each report as it is done; the workloads
    still undone when `deadline` seconds have passed are yielded last with an error that says so
    (their threads are abandoned, not waited for).

    `service` gives what every collection shares (context, since, tail, --timeout); each workload
    brings its name and namespace. A workload's failure (its pods gone by now, RBAC) is its error,
    not the scan's.
    """
    import queue

    from diagnoser.errors import DiagnoserError
    from diagnoser.options import SourceKind

    if options.rules is None:  # loaded once, not per workload
        options = dataclasses.replace(
            options, rules=load_rules(list(options.rule_paths) or None), rule_paths=()
        )
    options = dataclasses.replace(options, progress=None)
    end = time.monotonic() + deadline
    todo: queue.SimpleQueue[Workload] = queue.SimpleQueue()
    for w in workloads:
        todo.put(w)
    done: queue.SimpleQueue[Scanned] = queue.SimpleQueue()
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            try:
                w = todo.get_nowait()
            except queue.Empty:
                return
            left = end - time.monotonic()
            collect = dataclasses.replace(
                service,
                name=w.target,
                namespace=w.namespace,
                kinds=(SourceKind.KUBERNETES,),
                timeout=max(0.5, min(service.timeout, left)),  # no call outlives the scan by much
            )
            try:
                done.put(Scanned(w, report=diagnose([collect], options)))
            except DiagnoserError as exc:
                done.put(Scanned(w, error=str(exc)))
            except Exception as exc:  # noqa: BLE001 - one workload's bug must not lose the others' reports
                debug(__name__, f"diagnosing {w.namespace}/{w.name} failed")
                done.put(Scanned(w, error=f"internal error while diagnosing it: {type(exc).__name__}: {exc}"))

    for _ in range(max(1, min(jobs, len(workloads)))):
        threading.Thread(target=work, daemon=True, name="diagnoser-scan").start()
    pending = {w.key: w for w in workloads}
    while pending:
        left = end - time.monotonic()
        if left <= 0:
            break
        try:
            result = done.get(timeout=left)
        except queue.Empty:
            break
        pending.pop(result.workload.key, None)
        yield result
    stop.set()
    for w in pending.values():
        yield Scanned(w, error=f"not diagnosed within the scan's --deadline of {deadline:g} s")
