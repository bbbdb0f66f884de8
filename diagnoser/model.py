"""Value types that the pipeline stages exchange; no logic beyond small helpers, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad a diagnosis is; ordered from least to most severe."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Return the position of this severity, 0 for info."""
        return list(Severity).index(self)


class Level(StrEnum):
    """Log level of an event, normalised across formats."""

    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


class EventKind(StrEnum):
    """What a parsed record is (``Event.fields["kind"]``): written by the parsers, read by detect and plan.

    The values are the strings the JSON report, the classifier's features and the rules have always
    seen; ``repr`` is the string's too, so a printed fields dict reads as it did before the enum.
    On Python 3.11 ``EventKind.X`` goes through EnumType's ``__getattr__`` hook (about three function
    calls): code that runs per line or per event binds the members it needs once, at import.
    """

    ACCESS = "access"  # an HTTP request line (access logs, azureml-fe, k6 / envoy counters)
    REQUEST = "request"  # azureml-fe "Incoming request" (the request before its status)
    CONFIG = "config"  # a server setting (azmlinfsrv banner, gunicorn worker timeout)
    TRACEBACK = "traceback"
    FATAL_ERROR = "fatal_error"  # a "Fatal Python error" report with its thread dumps
    SHELL_COMMAND = "shell_command"  # a pasted shell prompt line
    WORKER_BOOT = "worker_boot"
    WORKER_TIMEOUT = "worker_timeout"
    WORKER_EXIT = "worker_exit"
    WORKER_EXCEPTION = "worker_exception"
    MASTER_START = "master_start"
    MASTER_LISTEN = "master_listen"
    MASTER_SIGNAL = "master_signal"
    MASTER_EXIT = "master_exit"
    OOM_KILL = "oom_kill"
    OOM_INVOKED = "oom_invoked"
    OOM_CONSTRAINT = "oom_constraint"
    OOM_SELECT = "oom_select"
    K8S_EVENT = "k8s_event"
    K8S_OBJECT = "k8s_object"
    CONTAINER_STATE = "container_state"
    CONTAINER_RESOURCES = "container_resources"
    POD_STATUS = "pod_status"
    POD_CONDITION = "pod_condition"
    HPA_STATUS = "hpa_status"
    HPA_CONDITION = "hpa_condition"

    __repr__ = str.__repr__


class Origin(StrEnum):
    """Which detector produced a diagnosis."""

    RULE = "rule"
    CLASSIFIER = "classifier"
    BOTH = "both"


class Action(StrEnum):
    """What a fix step does to its knob."""

    INCREASE = "increase"
    DECREASE = "decrease"
    SET = "set"
    FIX = "fix"
    CHECK = "check"
    ADD = "add"
    REMOVE = "remove"


class Platform(StrEnum):
    """Where the service runs, as far as the logs reveal it.

    The Azure ML families (SDK v1, SDK v2) have sub-platforms whose knobs and defaults differ; a
    sub-platform's value starts with its family's value and a dash.
    """

    AZUREML_V1 = "azureml-v1"
    AZUREML_V2 = "azureml-v2"
    KUBERNETES = "kubernetes"
    DOCKER = "docker"
    GUNICORN = "gunicorn"
    AZMLINFSRV = "azmlinfsrv"
    GENERIC = "generic"
    AZUREML_V1_AKS = "azureml-v1-aks"  # AksWebservice on an attached AKS cluster
    AZUREML_V1_ACI = "azureml-v1-aci"  # AciWebservice (Azure Container Instances)
    AZUREML_V1_LOCAL = "azureml-v1-local"  # LocalWebservice (the image in the local Docker)
    AZUREML_V2_MANAGED = "azureml-v2-managed"  # managed online endpoint
    AZUREML_V2_KUBERNETES = "azureml-v2-kubernetes"  # Kubernetes online endpoint (Azure ML extension)

    @property
    def family(self) -> Platform:
        """Return the family of a sub-platform (azureml-v1-aks -> azureml-v1), else the platform itself."""
        for fam in (Platform.AZUREML_V1, Platform.AZUREML_V2):
            if self is not fam and self.value.startswith(fam.value + "-"):
                return fam
        return self

    @property
    def sub_platforms(self) -> tuple[Platform, ...]:
        """Return the sub-platforms of a family (empty for any other platform)."""
        return tuple(p for p in Platform if p is not self and p.family is self)

    @property
    def label(self) -> str:
        """Return the platform as a person reads it ("AKS web services (Azure ML SDK v1)")."""
        return _PLATFORM_LABELS.get(self, self.value)


# What a documented default applies to, as the plan writes "current: 60000 (default for ...)".
_PLATFORM_LABELS = {
    Platform.AZUREML_V1: "Azure ML SDK v1 web services",
    Platform.AZUREML_V1_AKS: "AKS web services (Azure ML SDK v1)",
    Platform.AZUREML_V1_ACI: "ACI web services (Azure ML SDK v1)",
    Platform.AZUREML_V1_LOCAL: "LocalWebservice (Azure ML SDK v1)",
    Platform.AZUREML_V2: "Azure ML online deployments (v2)",
    Platform.AZUREML_V2_MANAGED: "managed online deployments (Azure ML v2)",
    Platform.AZUREML_V2_KUBERNETES: "Kubernetes online deployments (Azure ML v2)",
    Platform.KUBERNETES: "Kubernetes",
    Platform.DOCKER: "Docker",
    Platform.GUNICORN: "gunicorn",
    Platform.AZMLINFSRV: "the Azure ML inference server (azmlinfsrv)",
}


class ValueSource(StrEnum):
    """Where a fix step's current value comes from."""

    OBSERVED = "observed"  # read from the logs (FixStep.current_from names the line)
    INFERRED = "inferred"  # worked out from what the logs show (FixStep.why says from what)
    DEFAULT = "default"  # the documented default of the knob on that platform: the logs do not show it


# RawLine and Event are made once per input line, so they are not frozen: a frozen dataclass sets
# each field through object.__setattr__, which made building them 5x slower (1.1 vs 0.2 us).
# Treat them as read-only all the same.
@dataclass(slots=True)
class RawLine:
    """One line of input as read, before any parsing (read-only by convention)."""

    source: str  # "stdin", "file:app.log", "k8s:default/web-7d9/web (previous)"
    line: int  # 1-based line number within the source
    text: str  # without the trailing newline


@dataclass(slots=True)
class Event:
    """One normalised log record; a multi-line record (traceback, JSON document) is one event.

    Read-only by convention (see RawLine).

    Typed ``fields`` that parsers fill where the input carries them (all optional):
    exit_code (int), signal (int), reason (str: OOMKilled, CrashLoopBackOff, FailedScheduling, ...),
    status (int, HTTP), method, path, duration_ms (float), pod, namespace, container, node,
    kind (EventKind: what the record is), exception (str: last exception type of a
    traceback), exception_message, event_type (Normal/Warning), count (int), object (str),
    worker_pid (int), restart_count (int), memory_limit (str), host.
    """

    source: str
    line: int  # first line of the record
    text: str  # the raw record (lines joined with "\n"), capped by the parser
    message: str  # the record without format framing (timestamp, level, stream prefix)
    format: str  # name of the parser that produced it ("gunicorn", "cri", "plain", ...)
    end_line: int = 0  # last line of the record (0: same as line)
    timestamp: datetime | None = None  # timezone-aware when the input says so
    level: Level | None = None
    component: str = "app"  # gunicorn, azmlinfsrv, kubelet, scheduler, kernel, docker, k8s, app
    stream: str | None = None  # stdout / stderr where known
    pid: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def last_line(self) -> int:
        """Return the last input line this event covers."""
        return self.end_line or self.line


@dataclass(frozen=True, slots=True)
class Evidence:
    """A line that proves a diagnosis."""

    source: str
    line: int
    text: str  # the raw record; the exits redact it, then clip it (redact.EVIDENCE_CHARS)
    matched: tuple[str, ...]  # matcher names, or ("classifier",)
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True)
class FixStep:
    """One step of a fix plan: the knob to turn, on which platform, to what value, and why."""

    action: Action
    knob: str
    platform: Platform
    where: str
    why: str
    docs: str
    text: str = ""  # the step as a sentence a person reads
    current: str | None = None
    suggested: str | None = None
    snippet: str | None = None
    current_source: ValueSource | None = None  # None when `current` is None
    current_docs: str | None = None  # where a default `current` is documented
    current_from: str | None = None  # the line an observed `current` was read from ("app.log:12")


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """A named root cause with its confidence, evidence and fix plan."""

    cause: str  # catalogue id, snake_case: oom_worker_reboot
    title: str
    severity: Severity
    confidence: float  # 0..1
    origin: Origin
    rule: str | None  # kebab-case rule id, None for classifier-only
    summary: str
    evidence: tuple[Evidence, ...]
    fixes: tuple[FixStep, ...] = ()
    platforms: tuple[Platform, ...] = ()
    other_platforms: tuple[Platform, ...] = ()  # platforms the logs do not show with steps for this cause


@dataclass(frozen=True, slots=True)
class InputStats:
    """What was read: sources, line and event counts, events per format."""

    sources: tuple[str, ...]
    lines: int
    events: int
    formats: dict[str, int]


@dataclass(frozen=True, slots=True)
class Collected:
    """What collecting a service did: how many sources it brought back, which it used and skipped."""

    pieces: int
    used: tuple[str, ...]  # "docker (unix:///…)"
    skipped: tuple[str, ...] = ()  # "kubernetes: no kubeconfig …"


@dataclass(frozen=True, slots=True)
class Activity:
    """What the service did, as far as the logs show: workers booted, requests answered."""

    listening: str | None = None  # the address the server said it listens on
    workers_booted: int = 0
    requests: int = 0  # access lines
    errors: int = 0  # of them with a 5xx status


@dataclass(frozen=True, slots=True)
class Report:
    """The result of one diagnosis run."""

    diagnoses: tuple[Diagnosis, ...]
    input: InputStats
    warnings: tuple[str, ...] = ()
    platforms: tuple[Platform, ...] = ()
    suspicious: tuple[Evidence, ...] = ()  # error lines no rule explained, shown when nothing fits
    schema_version: int = 1
    collected: Collected | None = None  # None unless a service was collected
    activity: Activity | None = None  # what a healthy run did, for "no failure found"


@dataclass(frozen=True, slots=True)
class Finding:
    """A detector's claim that a cause is present, before ranking and planning."""

    cause: str  # catalogue id
    rule: str | None  # rule id (kebab-case), None for the classifier
    origin: Origin
    severity: Severity
    confidence: float  # 0..1, the detector's own
    title: str
    summary: str  # the rule's explain template, filled
    evidence: tuple[Evidence, ...]
    count: int = 0  # matching events in all
    values: dict[str, Any] = field(default_factory=dict)  # named regex captures (last seen wins)
    supersedes: tuple[str, ...] = ()  # causes this one explains (they rank after it)
