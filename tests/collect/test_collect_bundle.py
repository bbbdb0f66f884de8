"""Bundles: save what was read, redacted; replay it offline; other directories keep today's error."""

from __future__ import annotations

import json

from diagnoser.collect.base import parse_since
from diagnoser.redact import redact
from tests.conftest import ROOT


def test_kubernetes_bundle_replays_identically_and_is_redacted(cli, k8s, tmp_path):
    bundle = tmp_path / "b"
    online = cli(
        "diagnose", "--service", "scorer", "--source", "kubernetes", "--json", "--save-bundle", str(bundle)
    )
    offline = cli("diagnose", str(bundle), "--json")
    assert online.json() == offline.json()
    assert online.json()["diagnoses"][0]["cause"] == "init_exception"
    text = "".join(p.read_text() for p in bundle.glob("*.log"))
    assert "8d7f3c2a-1b4e-4f6a-9c0d-2e1f3a4b5c6d" not in text
    manifest = json.loads((bundle / "diagnoser-bundle.json").read_text())
    assert manifest["service"] == "scorer" and manifest["used"][0].startswith("kubernetes (context loopback")


def test_scheduling_bundle_replays_identically(cli, k8s, tmp_path):
    bundle = tmp_path / "b"
    online = cli(
        "diagnose",
        "--service",
        "gpu-model",
        "--context",
        "gpu",
        "--source",
        "kubernetes",
        "--json",
        "--save-bundle",
        str(bundle),
    )
    offline = cli("diagnose", str(bundle), "--json")
    assert online.json() == offline.json()
    assert offline.json()["diagnoses"][0]["cause"] == "scheduling_failure"


def test_files_can_be_bundled_without_a_service(cli, tmp_path):
    log = tmp_path / "app.log"
    log.write_text("Authorization: Bearer abcdefghijklmnopqrstuvwxyz123456\nhello\n")
    bundle = tmp_path / "b"
    first = cli("diagnose", str(log), "--json", "--save-bundle", str(bundle))
    again = cli("diagnose", str(bundle), "--json")
    assert first.json() == again.json()
    assert "abcdefghijklmnop" not in "".join(p.read_text() for p in bundle.glob("*.log"))


def test_directory_that_is_not_a_bundle_keeps_its_error(cli, tmp_path):
    result = cli("diagnose", str(tmp_path))
    assert result.code == 2
    assert "is a directory, not a log file" in result.err


def test_save_bundle_refuses_a_non_empty_directory(cli, tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    (target / "x").write_text("keep me")
    log = tmp_path / "a.log"
    log.write_text("x\n")
    result = cli("diagnose", str(log), "--save-bundle", str(target))
    assert result.code == 2 and "not empty" in result.err


def test_save_bundle_never_overwrites_what_it_reads(cli, tmp_path):
    example = ROOT / "examples" / "oom-gunicorn.log"
    bundle = tmp_path / "b"
    saved = cli("diagnose", str(example), "--json", "--save-bundle", str(bundle))
    assert saved.code == 1
    before = {p.name: p.read_bytes() for p in bundle.iterdir()}
    (inside,) = bundle.glob("001-*.log")
    for args in ((str(bundle),), (str(inside),), (str(example), str(inside))):
        result = cli("diagnose", *args, "--save-bundle", str(bundle))
        assert result.code == 2, args
        assert "--save-bundle would overwrite an input" in result.err and "another directory" in result.err
        assert {p.name: p.read_bytes() for p in bundle.iterdir()} == before  # nothing lost
    copy = cli("diagnose", str(bundle), "--json", "--save-bundle", str(tmp_path / "c"))
    assert copy.code == 1 and copy.json()["diagnoses"] == saved.json()["diagnoses"]


def test_collector_options_need_service(cli, tmp_path):
    log = tmp_path / "a.log"
    log.write_text("x\n")
    result = cli("diagnose", str(log), "--since", "1h")
    assert result.code == 2 and "only apply to --service" in result.err


def test_since_and_redact():
    assert parse_since("1h30m") == 5400 and parse_since("45") == 45 and parse_since(None) is None
    assert redact("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=c2VjcmV0a2V5;") == (
        "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=<redacted>;"
    )
    assert redact('"api_key": "abcd1234efgh"') == '"api_key": "<redacted>"'
    assert redact("Booting worker with pid: 7") == "Booting worker with pid: 7"


SECRET = "8d7f3c2a-1b4e-4f6a-9c0d-2e1f3a4b5c6d"  # an instrumentation key in the fixture pod's env


def test_no_redact_reaches_what_is_collected(cli, k8s, tmp_path):
    bundle = tmp_path / "raw"
    run = cli(
        "diagnose",
        "--service",
        "scorer",
        "--source",
        "kubernetes",
        "--no-redact",
        "--save-bundle",
        str(bundle),
    )
    assert run.code == 1, run.err
    assert SECRET in "".join(p.read_text() for p in bundle.glob("*.log"))


def test_a_user_pattern_masks_what_is_collected(cli, k8s, tmp_path):
    # Collectors bring back the text as it is; the exits (bundle writer, renderers) mask it.
    plain, masked = tmp_path / "plain", tmp_path / "masked"
    service = ("diagnose", "--service", "scorer", "--source", "kubernetes", "--save-bundle")
    assert cli(*service, str(plain)).code == 1
    run = cli(*service, str(masked), "--redact-pattern", "WORKER_COUNT", "--json")
    assert run.code == 1, run.err
    plain_text = "".join(p.read_text() for p in sorted(plain.glob("*.log")))
    masked_text = "".join(p.read_text() for p in sorted(masked.glob("*.log")))
    assert sorted(p.name for p in plain.glob("*.log")) == sorted(p.name for p in masked.glob("*.log"))
    assert "WORKER_COUNT" in plain_text and "WORKER_COUNT" not in masked_text
    assert SECRET not in plain_text and SECRET not in masked_text  # the defaults still hold
    assert "WORKER_COUNT" not in run.out and SECRET not in run.out
