"""What a caller hands the pipeline: the inputs to read and the options of one run (values only).

The `diagnose` command builds these from its command line (cli/diagnose.py); library callers (corpus
evaluation, benchmarks, tests) build them directly. Nothing here reads a file or knows argparse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from diagnoser.model import Platform, RawLine
from diagnoser.redact import Redactor, make_redactor

if TYPE_CHECKING:
    from diagnoser.detect.rules import Rule

DEFAULT_COLLECT_TIMEOUT = 10.0  # seconds for one network call; a slow API never hangs the command


class SourceKind(StrEnum):
    """Where `--source` may look for a service."""

    AUTO = "auto"
    KUBERNETES = "kubernetes"
    DOCKER = "docker"
    JOURNALD = "journald"


@dataclass(frozen=True, slots=True)
class Files:
    """Log files read in order: "-" (or no path at all) is stdin; a bundle directory replays its sources."""

    paths: tuple[str, ...] = ()
    stdin: BinaryIO | None = None  # what "-" reads; None: the process's standard input


@dataclass(frozen=True, slots=True)
class Lines:
    """Lines already read (a test's framing, a caller's own reader), under the source names given."""

    lines: Iterable[RawLine]
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Service:
    """A service to find and collect (logs, states, events) from the chosen kinds of source."""

    name: str
    kinds: tuple[SourceKind, ...] = (SourceKind.AUTO,)
    namespace: str | None = None
    context: str | None = None
    since: str | None = None  # a duration such as 30m or 1h30m; None: everything the source keeps
    tail: int | None = None  # log lines per container; None: the collectors' default
    timeout: float = DEFAULT_COLLECT_TIMEOUT
    journal: tuple[str, ...] = ()  # journal files or directories; empty: the system journal


Input = Files | Lines | Service


@dataclass(frozen=True, slots=True)
class ScanRequest:
    """Where a cluster scan looks for failing workloads (`diagnose -n NS`, `-A`, `-l SELECTOR`)."""

    namespace: str | None = None  # None: the context's namespace
    all_namespaces: bool = False
    selector: str | None = None  # a label selector: only pods (and their workloads) that match
    context: str | None = None
    timeout: float = DEFAULT_COLLECT_TIMEOUT  # seconds for each listing call


@dataclass(frozen=True, slots=True)
class ReplicaInputs:
    """What the replica formula needs; None where neither the user nor the logs say."""

    target_rps: float | None = None
    request_seconds: float | None = None
    max_requests_per_container: int = 1
    target_utilization: float | None = None


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """User-supplied inputs to the plan: a platform override and the replica formula's numbers."""

    platform: Platform | None = None
    replicas: ReplicaInputs = ReplicaInputs()


@dataclass(frozen=True, slots=True)
class Options:
    """How to diagnose: which rules, the plan's inputs, how many diagnoses, redaction, bundle and speed."""

    rules: tuple[Rule, ...] | None = None  # loaded rules; None loads `rule_paths`, or the shipped rules
    rule_paths: tuple[Path, ...] = ()  # rule files or directories (--rules)
    plan: PlanOptions = PlanOptions()
    top: int | None = None
    classifier: bool = True  # combine the shipped classifier with the rules (False: rules alone)
    prefilter: bool = True  # skip work that cannot change the report (False: every matcher on every event)
    redact: bool = True  # False shows secrets as the logs have them (--no-redact)
    redact_patterns: tuple[str, ...] = ()  # more regular expressions to redact (--redact-pattern)
    save_bundle: Path | None = None  # write what was read (redacted) to this directory
    jobs: int = 0  # 1: parse here; 2: parse files in a forked child; 0: 2 for large files on 2+ cores
    # Called now and then while a long input is read: (bytes read, bytes in all or None when unknown).
    progress: Callable[[int, int | None], None] | None = field(default=None, compare=False)
    # Built from `redact` and `redact_patterns` (a bad pattern fails here, before any work); every exit
    # (renderers, bundle writer) masks with it.
    redactor: Redactor = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Build the redactor the exits use from `redact` and `redact_patterns`."""
        object.__setattr__(self, "redactor", make_redactor(self.redact_patterns, enabled=self.redact))
