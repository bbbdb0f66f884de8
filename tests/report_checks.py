"""Mechanical checks of report quality (issue 15), run over every example, corpus case and holdout case.

Each check reads the input with its own patterns, not the engine's, so that it judges the engine instead
of repeating it. `python -m tests.report_checks` prints the violations of every check.

- exception_not_quoted: the top cause is an exception of the user's code (init_exception, run_exception,
  model_not_found) and the input holds a Python traceback, but the text report quotes none of the
  original exceptions (`ValueError: model config is missing ...`) of its tracebacks.
- azureml_steps: a fix step for an Azure ML platform (SDK v1 or v2, the inference server) on an input
  that never mentions Azure ML.
- decrease_at_minimum: a "decrease" step whose current value is already 1 or less.
- internal_words: words of the project's internals (the seed page, probabilities, the corpus, the
  classifier, rule ids and origins) in the text or markdown report outside quoted log lines.
- silent_crash: exit 0 (no diagnosis) on an input labelled with a failure that shows a crash.
- raw_json_quoted: a Kubernetes API object or a log envelope (Docker json-file, journald) quoted raw in the
  text or markdown report.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from diagnoser.corpus import HEALTHY, Case, load_cases
from diagnoser.model import Action, Platform, Report
from diagnoser.redact import Redactor
from diagnoser.render.markdown import render_markdown
from diagnoser.render.text import render_text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_LABELS = {  # the bundled examples and what they show
    "healthy-azmlinfsrv.log": HEALTHY,
    "init-exception-azmlinfsrv.log": "init_exception",
    "oom-gunicorn.log": "oom_worker_reboot",
    "scoring-timeout-azmlinfsrv.log": "request_timeout",
    "worker-timeout-gunicorn.log": "request_timeout",
}
USER_CODE_CAUSES = {"init_exception", "run_exception", "model_not_found"}
AZUREML_FAMILIES = {Platform.AZUREML_V1, Platform.AZUREML_V2, Platform.AZMLINFSRV}
# What names Azure ML in a log: the SDKs and their packages, the inference server, the online endpoints'
# host names, the Kubernetes extension (amlarc), the SDK v1 web service classes.
# Also Azure ML's own error codes and messages (AciDeploymentFailed, WebserviceException, the AKS "Couldn't
# Schedule because the kubernetes cluster ..." of the troubleshooting page), ACI scoring URIs, and the SDK v1
# image's runit services (iot-server/run).
MENTIONS_AZUREML = re.compile(
    r"azure[ _-]?ml|azure machine learning|azmlinfsrv|ml\.azure\.com|amlarc|(?:aks|aci|local)webservice"
    r"|AciDeploymentFailed|WebserviceException|azurecontainer\.io|Couldn't Schedule because the kubernetes"
    r"|iot-server/run",
    re.I,
)
TRACEBACK_HEAD = re.compile(r"Traceback \(most recent call last\):")
# An exception line as CPython prints it, after whatever prefix a log or a relay puts before it.
EXCEPTION_LINE = re.compile(
    r"(?:^|[\s|:>\]])((?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Fault|Failure))"
    r"(?::[ \t]+(\S.*))?$"
)
FRAME_LINE = re.compile(r'^\s*File "')
# Crash signs a person reads at a glance, whatever server printed them.
CRASH = re.compile(
    r"Traceback \(most recent call last\)|exited with code [1-9]|exit code:?\s*[1-9]|exit status [1-9]"
    r"|CrashLoopBackOff|OOMKilled|Killed process|Segmentation fault|core dumped|Worker failed to boot"
    r"|SIGKILL|Back-off restarting|^panic: |Fatal Python error",
    re.I | re.M,
)
# Internal words: the seed page, a probability, the corpus, the classifier, a detector's origin or rule id.
INTERNAL = re.compile(
    r"seed page|\bseed\b|\bp=\d|labell?ed corpus|\bcorpus\b|classifier|\bconfidence \d|\bboth [a-z]+-[a-z-]+"
    r"|\brule [a-z]+-[a-z-]+",
    re.I,
)
# Envelopes and API objects a person should never have to read raw (Docker json-file, journald, Kubernetes).
RAW_JSON = re.compile(r'"apiVersion"\s*:|"involvedObject"\s*:|\{"log"\s*:|"__REALTIME_TIMESTAMP"\s*:')
CHECKS = (
    "exception_not_quoted",
    "azureml_steps",
    "decrease_at_minimum",
    "internal_words",
    "silent_crash",
    "raw_json_quoted",
)


@dataclass(frozen=True, slots=True)
class Sample:
    """One input with its label."""

    name: str
    label: str
    inputs: tuple[Path, ...]


def samples() -> Iterator[Sample]:
    """Yield the examples, the corpus cases and every holdout case."""
    for name, label in sorted(EXAMPLE_LABELS.items()):
        yield Sample(f"examples/{name}", label, (ROOT / "examples" / name,))
    for folder in (ROOT / "corpus" / "cases", ROOT / "corpus" / "holdout"):
        for case in load_cases(folder):
            yield _sample(case, folder)


def _sample(case: Case, folder: Path) -> Sample:
    return Sample(f"{folder.name}/{case.id}", case.label, case.inputs)


def read_input(sample: Sample) -> str:
    """Return the sample's inputs as one text (bytes that are not UTF-8 replaced)."""
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in sample.inputs)


def original_exceptions(text: str) -> list[tuple[str, str]]:
    """Return (name, message) of the first exception line after each traceback head: in a chain ("The
    above exception was the direct cause ...") the first one is the original."""
    lines = text.splitlines()
    found: list[tuple[str, str]] = []
    i = 0
    while i < len(lines):
        if TRACEBACK_HEAD.search(lines[i]):
            for j in range(i + 1, min(len(lines), i + 400)):
                line = lines[j].rstrip()
                if FRAME_LINE.match(line) or TRACEBACK_HEAD.search(line):
                    continue
                m = EXCEPTION_LINE.search(line)
                if m and not line.startswith("    "):
                    found.append((m.group(1).rsplit(".", 1)[-1], (m.group(2) or "").strip()))
                    i = j
                    break
        i += 1
    return found


def _quoted(name: str, message: str, text: str) -> bool:
    """Return True when `text` holds the exception's name and the start of its message on one line."""
    head = message[:40]
    return any(name in line and head in line for line in text.splitlines())


def _without_quotes(report: Report) -> Report:
    """Return the report with every quoted log text and input name emptied: the rest is the tool's words."""
    diagnoses = tuple(
        dataclasses.replace(
            d,
            evidence=tuple(dataclasses.replace(e, text="", source="input") for e in d.evidence),
            fixes=tuple(
                dataclasses.replace(s, current_from="input:1" if s.current_from else None) for s in d.fixes
            ),
        )
        for d in report.diagnoses
    )
    given = dataclasses.replace(report.input, sources=("input",))  # the input's path is the user's word
    return dataclasses.replace(report, diagnoses=diagnoses, input=given, suspicious=(), warnings=())


def violations(sample: Sample, report: Report) -> dict[str, str]:
    """Return each check the sample's report violates, with what shows it."""
    found: dict[str, str] = {}
    redactor = Redactor()
    text = render_text(report, redactor)
    raw = read_input(sample)
    top = report.diagnoses[0].cause if report.diagnoses else HEALTHY
    if top in USER_CODE_CAUSES:
        exceptions = original_exceptions(raw)
        if exceptions and not any(_quoted(n, m, text) for n, m in exceptions):
            found["exception_not_quoted"] = "; ".join(f"{n}: {m[:60]}" for n, m in exceptions[:3])
    if not MENTIONS_AZUREML.search(raw):
        steps = [
            f"{s.platform.value} {s.knob}"
            for d in report.diagnoses
            for s in d.fixes
            if s.platform.family in AZUREML_FAMILIES
        ]
        if steps:
            found["azureml_steps"] = ", ".join(steps[:4])
    for d in report.diagnoses:
        for s in d.fixes:
            if s.action is Action.DECREASE and s.current is not None:
                number = re.match(r"\d+(?:\.\d+)?", s.current)
                if number and float(number.group()) <= 1:
                    found["decrease_at_minimum"] = f"{d.cause}: decrease {s.knob} from {s.current}"
    own = _without_quotes(report)
    for rendered in (render_text(own, redactor), render_markdown(own, redactor)):
        m = INTERNAL.search(rendered)
        if m:
            found["internal_words"] = repr(m.group())
            break
    if sample.label != HEALTHY and not report.diagnoses and (m := CRASH.search(raw)):
        found["silent_crash"] = repr(m.group())
    for rendered in (text, render_markdown(report, redactor)):
        if m := RAW_JSON.search(rendered):
            found["raw_json_quoted"] = repr(rendered[max(0, m.start() - 40) : m.end() + 40])
            break
    return found


def run_all() -> Iterator[tuple[Sample, dict[str, str]]]:
    """Diagnose every sample and yield its violations."""
    from diagnoser.options import Files, Options
    from diagnoser.pipeline import diagnose

    options = Options()
    for sample in samples():
        report = diagnose([Files(tuple(str(p) for p in sample.inputs))], options)
        yield sample, violations(sample, report)


def main() -> int:
    totals = dict.fromkeys(CHECKS, 0)
    count = 0
    for sample, found in run_all():
        count += 1
        for check, why in found.items():
            totals[check] += 1
            print(f"{check}\t{sample.name}\t{why}")
    print(f"{count} samples: " + ", ".join(f"{c} {n}" for c, n in totals.items()), file=sys.stderr)
    return 1 if any(totals.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
