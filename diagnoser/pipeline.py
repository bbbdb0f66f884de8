"""Run the stages: collect -> parse -> detect -> rank -> plan, and build the Report."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from diagnoser.collect import InputSource
from diagnoser.collect.files import read_lines
from diagnoser.detect import Engine, load_rules
from diagnoser.detect.classifier import Classifier, load_model
from diagnoser.detect.prefilter import ClassifierGate
from diagnoser.model import (
    Diagnosis,
    Event,
    EventKind,
    Evidence,
    InputStats,
    Level,
    RawLine,
    Report,
    clip_record,
)
from diagnoser.parse import ParseStats, parse_lines, worker
from diagnoser.plan import Observations, PlanOptions, build_fixes, load_catalogue, select_platforms
from diagnoser.rank import rank
from diagnoser.redact import DEFAULT, Redactor

if TYPE_CHECKING:
    from diagnoser.collect.base import Outcome, Request, SourceKind

MAX_SUSPICIOUS = 5
EVIDENCE_CHARS = 500


@dataclass(frozen=True, slots=True)
class Options:
    """How to diagnose: which rules, the plan's inputs, and how many diagnoses to keep."""

    rules: tuple | None = None  # tuple[Rule, ...]; None loads the shipped rules
    plan: PlanOptions = field(default_factory=PlanOptions)
    top: int | None = None
    warnings: tuple[str, ...] = ()  # collection warnings (from collectors or a bundle), listed first
    classifier: bool = True  # combine the shipped classifier with the rules (False: rules alone)
    prefilter: bool = True  # skip work that cannot change the report (False: every matcher on every event)
    redactor: Redactor = DEFAULT  # for bundles and quoted lines; renderers redact the report again
    jobs: int = 0  # 1: parse here; 2: parse files in a forked child; 0: 2 for large files on 2+ cores


_TRACEBACK = EventKind.TRACEBACK  # read per event: an EventKind.X lookup is slow on 3.11 (model.EventKind)


def _suspicious(event: Event) -> bool:
    """Return True for events worth showing when no rule explains the input."""
    return event.level in (Level.ERROR, Level.CRITICAL) or event.fields.get("kind") == _TRACEBACK


def _evidence(event: Event, redactor: Redactor) -> Evidence:
    """Return an Evidence entry quoting `event`, redacted before it is cut (a cut secret may not match)."""
    text = clip_record(redactor(event.text), EVIDENCE_CHARS)
    return Evidence(event.source, event.line, text, ("suspicious",), event.timestamp)


def diagnose_lines(
    lines: Iterable[RawLine],
    sources: Sequence[str],
    options: Options | None = None,
    notes: list[str] | None = None,
) -> Report:
    """Diagnose a stream of raw lines; memory stays bounded whatever its length.

    `notes` is filled while `lines` is read (lines cut, bad UTF-8, truncated input): read warnings.
    """
    stats = ParseStats()
    return _diagnose_events(parse_lines(lines, stats), stats, sources, options or Options(), notes)


def _diagnose_events(
    events: Iterable[Event],
    stats: ParseStats,
    sources: Sequence[str],
    options: Options,
    notes: list[str] | None,
) -> Report:
    """Detect, rank and plan over parsed events; `stats` and `notes` are complete once `events` ends."""
    rules = options.rules if options.rules is not None else load_rules(lean=True)
    engine = Engine(rules, prefilter=options.prefilter)
    model = load_model() if options.classifier else None
    classifier = Classifier(model) if model is not None else None
    gate = ClassifierGate().wants if classifier is not None and options.prefilter else None
    skipped = 0
    obs = Observations()
    suspicious: list[Evidence] = []
    for event in events:
        engine.feed(event)
        obs.feed(event)
        if classifier is not None:
            if gate is None or gate(event):
                classifier.feed(event)
            else:
                skipped += 1  # the gate proved the bag would only have counted it
        if len(suspicious) < MAX_SUSPICIOUS and _suspicious(event):
            suspicious.append(_evidence(event, options.redactor))
    if classifier is not None:
        classifier.bag.events += skipped
    verdict = classifier.finish() if classifier is not None else None
    platforms = select_platforms(obs.platforms, options.plan.platform)
    warnings: list[str] = list(options.warnings) + list(notes or ())
    diagnoses: list[Diagnosis] = []
    ranked = rank(
        engine.finish(),
        verdict.probabilities if verdict else None,
        verdict.finding if verdict else None,
    )
    catalogue = load_catalogue() if ranked else {}  # a healthy run never reads the fix plans
    for entry in ranked:
        cause = catalogue.get(entry.cause)
        if cause is None:
            warnings.append(f"rule {entry.best.rule} names cause {entry.cause!r}, which the catalogue lacks")
        diagnoses.append(
            Diagnosis(
                cause=entry.cause,
                title=cause.title if cause else entry.best.title,
                severity=entry.severity,
                confidence=entry.confidence,
                origin=entry.origin,
                rule=entry.best.rule,
                summary=entry.best.summary or (cause.summary if cause else ""),
                evidence=entry.evidence,
                fixes=build_fixes(cause, platforms, obs, options.plan) if cause else (),
                platforms=platforms,
            )
        )
    if options.top is not None:
        diagnoses = diagnoses[: options.top]
    return Report(
        diagnoses=tuple(diagnoses),
        input=InputStats(tuple(sources), stats.lines, stats.events, dict(stats.formats)),
        warnings=tuple(warnings),
        platforms=obs.platforms,
        suspicious=tuple(suspicious) if not diagnoses else (),
    )


def _chain(
    sources: Sequence[InputSource], stdin: BinaryIO | None, notes: list[str] | None = None
) -> Iterator[RawLine]:
    """Yield the lines of every source in turn; read warnings go to `notes`."""
    return itertools.chain.from_iterable(read_lines(s, stdin, notes) for s in sources)


def _diagnose_sources(sources: Sequence[InputSource], options: Options, stdin: BinaryIO | None) -> Report:
    """Diagnose files and/or stdin, parsing large files in a second process where that pays."""
    names = [s.name for s in sources]
    if worker.worthwhile([s.path for s in sources], options.jobs):
        try:
            return _diagnose_forked(sources, options, names)
        except worker.WorkerFailed:
            # A bug or a kill in the child: the files are still there, so read them again here.
            # The report is the one the child would have given, only later.
            import logging

            logging.getLogger(__name__).debug("parse worker failed; parsing in this process", exc_info=True)
    notes: list[str] = []
    return diagnose_lines(_chain(sources, stdin, notes), names, options, notes)


def _diagnose_forked(sources: Sequence[InputSource], options: Options, names: list[str]) -> Report:
    """Diagnose regular files parsed by a forked child (diagnoser/parse/worker.py)."""
    notes: list[str] = []
    stats = ParseStats()

    def totals() -> tuple:  # runs in the child: its stats and notes
        return stats.lines, stats.events, dict(stats.formats), notes

    def finish(lines: int, events: int, formats: dict[str, int], read_notes: list[str]) -> None:
        stats.lines, stats.events = lines, events
        stats.formats.update(formats)
        notes.extend(read_notes)

    events = worker.parse_forked(
        lambda: _chain(sources, None, notes), lambda lines: parse_lines(lines, stats), totals, finish
    )
    with contextlib.closing(events):  # an error here stops the child at once
        return _diagnose_events(events, stats, names, options, notes)


def diagnose(
    sources: Sequence[InputSource], options: Options | None = None, stdin: BinaryIO | None = None
) -> Report:
    """Diagnose files and/or stdin."""
    return _diagnose_sources(sources, options or Options(), stdin)


def diagnose_collected(
    sources: Sequence[InputSource],
    outcome: Outcome | None,
    options: Options | None = None,
    stdin: BinaryIO | None = None,
    bundle_dir: str | Path | None = None,
    bundle_meta: dict[str, Any] | None = None,
) -> Report:
    """Diagnose files and/or stdin plus what collectors found, optionally saving it all as a bundle."""
    options = options or Options()
    if outcome is None and bundle_dir is None:
        return _diagnose_sources(sources, options, stdin)
    names = [s.name for s in sources] + ([p.source for p in outcome.pieces] if outcome else [])
    notes: list[str] = []
    lines: Iterator[RawLine] = _chain(sources, stdin, notes)
    if outcome is not None:
        lines = itertools.chain(lines, outcome.lines())
        options = dataclasses.replace(options, warnings=options.warnings + outcome.warnings)
    writer = None
    if bundle_dir is not None:
        from diagnoser.collect.bundle import BundleWriter

        writer = BundleWriter(bundle_dir, names, bundle_meta, options.redactor)
        lines = writer.tee(lines)
    report = diagnose_lines(lines, names, options, notes)
    if writer is not None:
        writer.finish(options.warnings + tuple(notes))
    return report


def diagnose_service(
    sources: Sequence[InputSource],
    request: Request,
    kinds: Sequence[SourceKind],
    options: Options | None = None,
    stdin: BinaryIO | None = None,
    bundle_dir: str | Path | None = None,
) -> tuple[Report, Outcome]:
    """Collect the service from the chosen sources, then diagnose it together with any files."""
    from diagnoser.collect.base import collect_service

    options = options or Options()
    request = dataclasses.replace(request, redactor=options.redactor)  # --no-redact reaches collection too
    outcome = collect_service(request, kinds, have_other_input=bool(sources))
    meta = {
        "service": request.service,
        "namespace": request.namespace,
        "context": request.context,
        "since_seconds": request.since_seconds,
        "tail": request.tail,
        "used": list(outcome.used),
        "skipped": list(outcome.skipped),
    }
    return diagnose_collected(sources, outcome, options, stdin, bundle_dir, meta), outcome
