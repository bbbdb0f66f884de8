"""Reports read as an expert's note (issue 15): the mechanical checks of tests/report_checks.py give no
violation over every example, corpus case and holdout case, and each piece of a report does its part."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from diagnoser.model import Evidence
from diagnoser.parse.traceback import describe
from diagnoser.plan import load_catalogue
from diagnoser.plan.docs import TITLES
from tests import report_checks
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def checked():
    return list(report_checks.run_all())


@pytest.mark.parametrize("check", report_checks.CHECKS)
def test_no_report_violates_the_check(checked, check):
    bad = [f"{sample.name}: {found[check]}" for sample, found in checked if check in found]
    assert not bad, f"{len(bad)} of {len(checked)} reports: " + "; ".join(bad[:10])


def test_the_checks_cover_examples_corpus_and_every_holdout(checked):
    names = {sample.name.split("/", 1)[0] for sample, _ in checked}
    assert names == {"examples", "cases", "holdout"}
    assert len(checked) > 1000


def test_the_checks_catch_what_they_look_for():
    """A check that cannot fail is a defect: each one fires on a report that has the fault."""
    from diagnoser.model import Action, Diagnosis, FixStep, InputStats, Origin, Platform, Report, Severity

    log = ROOT / "examples" / "init-exception-azmlinfsrv.log"
    plain = ROOT / "examples" / "oom-gunicorn.log"  # a gunicorn log that never mentions Azure ML
    ev = Evidence("file:x.log", 40, "Traceback (most recent call last):", ("m",))
    step = FixStep(
        Action.DECREASE, "memory_gb", Platform.AZUREML_V1_AKS, "", "the seed page", "https://x", current="1"
    )
    bad = Diagnosis("init_exception", "t", Severity.HIGH, 0.9, Origin.RULE, "r", "s", (ev,), fixes=(step,))
    report = Report((bad,), InputStats(("x",), 1, 1, {}))
    found = report_checks.violations(report_checks.Sample("s", "init_exception", (plain,)), report)
    assert {"azureml_steps", "decrease_at_minimum", "internal_words"} <= set(found)
    found = report_checks.violations(report_checks.Sample("s", "init_exception", (log,)), report)
    assert "exception_not_quoted" in found
    deployment = Evidence("k8s:ns/web", 1, '{"apiVersion":"apps/v1","kind":"Deployment","spec":{}}', ("m",))
    raw = Report((replace(bad, evidence=(deployment,)),), InputStats(("x",), 1, 1, {}))
    assert "raw_json_quoted" in report_checks.violations(report_checks.Sample("s", "unknown", (plain,)), raw)
    silent = Report((), InputStats(("x",), 1, 1, {}))
    found = report_checks.violations(report_checks.Sample("s", "oom_worker_reboot", (plain,)), silent)
    assert "silent_crash" in found


def test_every_page_a_step_cites_has_a_title():
    urls = {t.docs for c in load_catalogue().values() for t in c.fix} | {
        c.docs for c in load_catalogue().values()
    }
    missing = sorted(u for u in urls if u.split("#", 1)[0].split("?", 1)[0] not in TITLES)
    assert not missing, missing


CHAINED = """2026-11-25 02:50:38 E [2] azmlinfsrv - Encountered Exception Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/azureml_infsrv/user_script.py", line 119, in invoke_init
    self._user_init()
  File "/var/azureml-app/score.py", line 14, in init
    raise ValueError("model config is missing required key 'n_features'")
ValueError: model config is missing required key 'n_features'

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/azureml_infsrv/user_script.py", line 121, in invoke_init
    raise UserScriptException(ex) from ex
azureml_inference_server_http.server.user_script.UserScriptException: Caught an unhandled exception"""


def test_describe_takes_the_original_exception_of_a_chain_and_the_user_frame():
    told = describe(CHAINED)
    assert (told.exception, told.message) == (
        "ValueError",
        "model config is missing required key 'n_features'",
    )
    assert (told.frame.where, told.frame.function, told.phase) == ("score.py:14", "init", "startup")


def test_describe_skips_source_lines_and_reads_prefixed_and_remote_tracebacks():
    prefixed = """web_1  | Traceback (most recent call last):
web_1  |   File "/app/main.py", line 3, in <module>
web_1  |     raise MyError
web_1  | KeyError: 'DATABASE_URL'"""
    told = describe(prefixed)
    assert (told.exception, told.message, told.frame.where) == ("KeyError", "'DATABASE_URL'", "main.py:3")
    ray = """Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/ray/serve/_private/replica.py", line 9, in init
    raise e
ray.exceptions.RayTaskError(RuntimeError): ray::ServeReplica.initialize() (pid=8145)
  File "/work/score.py", line 14, in __init__
    raise ValueError("bad")
ValueError: bad"""
    assert (describe(ray).exception, describe(ray).frame.where) == ("ValueError", "score.py:14")
    assert describe("ValueError: no traceback here") is None


def test_quotes_decode_envelopes_and_render_api_objects():
    from diagnoser.render.quote import quote

    docker = Evidence(
        "file:c.log", 1, '{"log":"Killed\\n","stream":"stderr","time":"2024-03-05T10:00:00Z"}', ()
    )
    assert quote(docker).line == "Killed"
    event = (
        '{"kind":"Event","apiVersion":"v1","type":"Warning","reason":"BackOff","count":9,'
        '"involvedObject":{"kind":"Pod","name":"web-1"},"source":{"component":"kubelet"},'
        '"message":"Back-off restarting failed container"}'
    )
    line = quote(Evidence("k8s:ns/events", 6, event, ())).line
    assert line == "Warning  BackOff  pod/web-1  kubelet:  Back-off restarting failed container (x9)"
    pod = (
        '{"kind":"Pod","metadata":{"name":"web-1"},"status":{"phase":"Running",'
        '"containerStatuses":[{"name":"app",'
        '"restartCount":4,"state":{"waiting":{"reason":"CrashLoopBackOff","message":"back-off 40s"}},'
        '"lastState":{"terminated":{"reason":"OOMKilled","exitCode":137}}}]}}'
    )
    assert quote(Evidence("k8s:ns/web-1", 1, pod, ())).line == (
        "pod/web-1 Running - app: State Waiting (CrashLoopBackOff), "
        "Last State Terminated (OOMKilled, exit code 137), Restart Count 4"
    )
    cri = "2024-03-05T10:00:00.1Z stderr F ValueError: x"
    assert quote(Evidence("f", 1, cri, ())).line == "ValueError: x"


def test_a_describe_block_keeps_its_reason_and_exit_code():
    from diagnoser.render.quote import quote

    block = (
        "    Last State:     Terminated\n      Reason:       OOMKilled\n      Exit Code:    137\n"
        "      Started: x\n      Finished: y"
    )
    q = quote(Evidence("file:d.txt", 24, block, ()))
    assert q.line == "Last State:     Terminated" and q.extra[:2] == (
        "Reason:       OOMKilled",
        "Exit Code:    137",
    )


def test_repeats_are_counted_and_a_long_line_keeps_its_end():
    from diagnoser.render.quote import quotes, shorten

    t0, t1 = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC), datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC)
    kills = [
        Evidence("f", n, f"[{n}] Worker (pid:{n}) was sent SIGKILL! Perhaps out of memory?", (), t)
        for n, t in ((6, t0), (8, t0), (10, t1))
    ]
    (q,) = quotes(tuple(kills))
    assert q.count == 3 and q.repeats() == " (repeated: at least 3 times in 1 s)"
    long = "x" * 300 + " limit 1048576kB"
    assert shorten(long).endswith("limit 1048576kB") and len(shorten(long)) <= 160


def test_steps_for_knative_or_acr_show_only_when_the_input_names_them():
    from diagnoser.model import Platform
    from diagnoser.options import PlanOptions
    from diagnoser.plan import build_fixes
    from diagnoser.plan.observe import Observations

    cause = load_catalogue()["image_pull_failure"]

    def knobs(obs):
        return {s.knob for s in build_fixes(cause, (Platform.KUBERNETES,), obs, PlanOptions())}

    plain = Observations()
    assert not {"AcrPull", "registries-skipping-tag-resolving"} & knobs(plain)
    acr = Observations()
    acr.markers.add("acr")
    assert "AcrPull" in knobs(acr)


def test_an_exception_inside_a_package_is_not_the_users_code_to_fix(tmp_path):
    from diagnoser.options import Files, Options
    from diagnoser.pipeline import diagnose

    log = tmp_path / "app.log"
    log.write_text(
        "ERROR:    Exception in ASGI application\n"
        "Traceback (most recent call last):\n"
        '  File "/usr/lib/python3.8/site-packages/uvicorn/protocols/http/h11.py", line 385, in '
        "run_asgi\n"
        "    result = await app(self.scope, self.receive, self.send)\n"
        "TypeError: __call__() takes 2 positional arguments but 4 were given\n"
        'INFO:     172.17.0.1:58700 - "GET / HTTP/1.1" 500 Internal Server Error\n'
    )
    report = diagnose([Files((str(log),))], Options())
    top = report.diagnoses[0]
    assert top.cause == "run_exception"
    fix = top.fixes[0]
    assert "inside the installed package uvicorn" in fix.text and "upgrade or pin" in fix.text
    from diagnoser.render.quote import quotes

    # the quote points at the exception's own line, not the traceback head's
    assert quotes(top.evidence)[0].where.endswith("app.log:5")
