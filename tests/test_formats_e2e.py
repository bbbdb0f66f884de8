"""Each documented cause is named from inputs in at least three formats, end to end.

Container-side samples are real recordings (corpus/cases/lab, made by corpus/lab) replayed in the framing a
runtime adds; cluster-side samples copy real kubectl / kubelet / kernel output (tests/data/formats,
whose README names the public source of each layout).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from diagnoser.model import RawLine
from diagnoser.options import Lines
from diagnoser.pipeline import diagnose
from diagnoser.redact import DEFAULT
from diagnoser.render import report_to_dict
from tests.conftest import ROOT, SEED_CAUSES, validate_report
from tests.framing import FRAMINGS

DATA = ROOT / "tests" / "data"  # samples not under corpus/ are relative to this

# (sample, framing, expected top cause)
CASES: list[tuple[str, str, str]] = [
    # oom_worker_reboot
    ("corpus/cases/lab/gunicorn-20.1.0/oom-init/input.log", "raw", "oom_worker_reboot"),
    ("corpus/cases/lab/azmlinfsrv-1.5.1/oom-run/input.log", "docker-json", "oom_worker_reboot"),
    ("corpus/cases/lab/gunicorn-23.0.0/oom-run/input.log", "cri", "oom_worker_reboot"),
    ("formats/describe_pod.txt", "raw", "oom_worker_reboot"),
    ("formats/pod.json", "raw", "oom_worker_reboot"),
    ("formats/pod.yaml", "raw", "oom_worker_reboot"),
    ("formats/journald.json", "raw", "oom_worker_reboot"),
    ("formats/dmesg.log", "raw", "oom_worker_reboot"),
    ("formats/syslog_short.log", "raw", "oom_worker_reboot"),
    # init_exception
    ("corpus/cases/lab/azmlinfsrv-1.5.1/init-exception/input.log", "raw", "init_exception"),
    ("corpus/cases/lab/azmlinfsrv-0.7.7/init-exception/input.log", "raw", "init_exception"),
    ("corpus/cases/lab/gunicorn-27.0.1/init-exception/input.log", "docker-json", "init_exception"),
    ("corpus/cases/lab/azmlinfsrv-1.0.0/import-syntax-error/input.log", "cri", "init_exception"),
    ("corpus/cases/lab/gunicorn-20.1.0/init-exception/input.log", "kubectl-prefix", "init_exception"),
    # model_not_found
    ("corpus/cases/lab/azmlinfsrv-1.5.1/model-not-found/input.log", "raw", "model_not_found"),
    ("corpus/cases/lab/gunicorn-23.0.0/model-dir-unset/input.log", "docker-json", "model_not_found"),
    ("corpus/cases/lab/azmlinfsrv-0.8.4.2/model-dir-wrong/input.log", "cri", "model_not_found"),
    ("formats/kubectl_prefix.log", "raw", "model_not_found"),
    # scheduling_failure
    ("formats/describe_pending_gpu.txt", "raw", "scheduling_failure"),
    ("formats/events_new.txt", "raw", "scheduling_failure"),
    ("formats/events_old.txt", "raw", "scheduling_failure"),
    ("formats/events.json", "raw", "scheduling_failure"),
    ("formats/events.yaml", "raw", "scheduling_failure"),
    ("formats/klog.log", "raw", "scheduling_failure"),
    # run_exception
    ("corpus/cases/lab/azmlinfsrv-1.5.1/run-exception/input.log", "raw", "run_exception"),
    ("corpus/cases/lab/gunicorn-20.1.0/run-exception/input.log", "docker-json", "run_exception"),
    ("corpus/cases/lab/azmlinfsrv-0.7.7/run-exception/input.log", "cri", "run_exception"),
    # autoscale_lag (the front proxy's access log answers 503)
    ("corpus/cases/lab/gunicorn-27.0.1/overload-503-limit-conn/nginx-access.log", "raw", "autoscale_lag"),
    (
        "corpus/cases/lab/gunicorn-23.0.0/overload-503-limit-req/nginx-access.log",
        "docker-json",
        "autoscale_lag",
    ),
    ("corpus/cases/lab/azmlinfsrv-1.5.1/overload-503-limit-conn/nginx-access.log", "cri", "autoscale_lag"),
    # request_timeout
    ("corpus/cases/lab/gunicorn-20.1.0/worker-timeout/input.log", "raw", "request_timeout"),
    ("corpus/cases/lab/azmlinfsrv-1.5.1/scoring-timeout/input.log", "docker-json", "request_timeout"),
    ("corpus/cases/lab/azmlinfsrv-0.7.7/worker-timeout/input.log", "cri", "request_timeout"),
    ("formats/access_nginx_504.log", "raw", "request_timeout"),
]


def _report(sample: str, framing: str):
    path = ROOT / sample if sample.startswith("corpus/") else DATA / sample
    text = FRAMINGS[framing](path.read_text(errors="replace"))
    lines = (
        RawLine(f"file:{Path(sample).name}", i, line) for i, line in enumerate(text.splitlines(), start=1)
    )
    report = diagnose([Lines(lines, (sample,))])
    validate_report(report_to_dict(report, DEFAULT))
    return report


@pytest.mark.parametrize(
    ("sample", "framing", "expected"), CASES, ids=[f"{c[2]}:{c[0]}:{c[1]}" for c in CASES]
)
def test_cause_named_from_format(sample, framing, expected):
    report = _report(sample, framing)
    assert [d.cause for d in report.diagnoses][:1] == [expected]


def test_every_documented_cause_is_checked_in_three_formats():
    formats: dict[str, set[str]] = defaultdict(set)
    for sample, framing, expected in CASES:
        report = _report(sample, framing)
        main_format = max(report.input.formats.items(), key=lambda kv: kv[1])[0]
        formats[expected].add(main_format)
    assert set(formats) == set(SEED_CAUSES)
    thin = {cause: sorted(f) for cause, f in formats.items() if len(f) < 3}
    assert not thin, f"causes checked in fewer than 3 formats: {thin}"
