"""Bundles: save what was read, redacted; replay it offline; other directories keep today's error."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time

import pytest

from diagnoser.collect import open_inputs
from diagnoser.collect.base import parse_since
from diagnoser.collect.bundle import MANIFEST, MAX_OPEN_FILES, BundleWriter, read_manifest
from diagnoser.collect.files import read_lines
from diagnoser.errors import InputError
from diagnoser.model import RawLine
from diagnoser.redact import make_redactor, redact
from tests.conftest import ROOT, default_sigint


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


# -- a received bundle reads nothing but its own regular files ------------------------------------

OOM_LOG = (
    "[2024-03-05 10:00:00 +0000] [1] [INFO] Booting worker with pid: 7\n"
    "[2024-03-05 10:00:09 +0000] [1] [ERROR] Worker (pid:7) was sent SIGKILL! Perhaps out of memory?\n"
    "[2024-03-05 10:00:09 +0000] [1] [INFO] Booting worker with pid: 12\n"
    "[2024-03-05 10:00:19 +0000] [1] [ERROR] Worker (pid:12) was sent SIGKILL! Perhaps out of memory?\n"
)
SECRET_FILE_TEXT = "token=do-not-leak-7f3a"


def saved_bundle(cli, tmp_path, name: str = "b"):
    """Return a bundle of one log saved by the CLI, and the path of its source file."""
    log = tmp_path / "app.log"
    log.write_text(OOM_LOG)
    bundle = tmp_path / name
    assert cli("diagnose", str(log), "--save-bundle", str(bundle)).code == 1
    (member,) = bundle.glob("001-*.log")
    return bundle, member


def _replace_with(member, kind: str, tmp_path) -> str:
    """Replace a bundle file with something that is not a regular file inside the bundle; return what
    the refusal says it is."""
    member.unlink()
    if kind == "link-out":
        secret = tmp_path / "secret.txt"
        secret.write_text(SECRET_FILE_TEXT + "\n")
        member.symlink_to(secret)
        return f"a symbolic link to {secret}, outside the bundle"
    if kind == "link-in":
        (member.parent / "other.txt").write_text("x\n")
        member.symlink_to("other.txt")
        return "a symbolic link to other.txt, inside the bundle"
    if kind == "fifo":
        os.mkfifo(member)
        return "a FIFO (named pipe), not a regular file"
    if kind == "directory":
        member.mkdir()
        return "a directory, not a regular file"
    assert kind == "device"
    try:
        os.mknod(member, 0o600 | stat.S_IFCHR, os.makedev(1, 3))  # what /dev/null is
    except PermissionError:
        pytest.skip("making a device node needs CAP_MKNOD")
    return "a character device, not a regular file"


TRUST = "(a bundle's files are read only as regular files inside it; check where the bundle came from)"


@pytest.mark.parametrize("kind", ["link-out", "link-in", "fifo", "directory", "device"])
def test_replay_refuses_a_bundle_file_that_is_not_a_regular_file_inside_it(cli, tmp_path, kind):
    bundle, member = saved_bundle(cli, tmp_path)
    what = _replace_with(member, kind, tmp_path)
    expected = f"error: {member}: bundle file is {what} {TRUST}\n"
    copy = tmp_path / "copy"
    for args in (
        ("diagnose", str(bundle)),
        ("diagnose", "--json", str(bundle), "--save-bundle", str(copy)),
        ("diagnoser", "parse", str(bundle)),
    ):
        result = cli(*args)
        assert (result.code, result.out, result.err) == (2, "", expected), args
    assert not copy.exists()  # nothing re-saved under an innocent source name


def test_replay_refuses_a_manifest_that_is_a_link(cli, tmp_path):
    bundle, _ = saved_bundle(cli, tmp_path)
    manifest = bundle / "diagnoser-bundle.json"
    elsewhere = tmp_path / "manifest.json"
    manifest.rename(elsewhere)
    manifest.symlink_to(elsewhere)
    result = cli("diagnose", str(bundle))
    assert (result.code, result.err) == (
        2,
        f"error: {manifest}: bundle manifest is a symbolic link to {elsewhere}, outside the bundle {TRUST}\n",
    )


@pytest.mark.parametrize("file", ["..", ".", "", "/etc/passwd", "a\x00b", "\ud800.log", 7])
def test_replay_refuses_a_manifest_entry_that_is_not_a_plain_name(cli, tmp_path, file):
    bundle, _ = saved_bundle(cli, tmp_path)
    manifest = bundle / "diagnoser-bundle.json"
    data = json.loads(manifest.read_text())
    data["sources"][0]["file"] = file
    manifest.write_text(json.dumps(data))
    result = cli("diagnose", str(bundle))
    assert result.code == 2
    assert result.err.startswith(f"error: {manifest}: bad source entry {{")


@pytest.mark.parametrize("kind", ["link-out", "fifo"])
def test_a_bundle_file_swapped_after_the_check_is_refused_when_read(cli, tmp_path, kind):
    bundle, member = saved_bundle(cli, tmp_path)
    (source,) = open_inputs([str(bundle)])
    what = _replace_with(member, kind, tmp_path)  # between the check and the read
    with pytest.raises(InputError) as refused:
        list(read_lines(source))  # a FIFO would block an ordinary open: this returns at once
    assert str(refused.value) == f"{member}: bundle file is {what} {TRUST}"


def test_a_received_bundle_cannot_pull_a_file_in_through_the_parse_worker(cli, tmp_path):
    # Large enough for the forked parser (1 MiB): the check happens before it, in this process.
    bundle, member = saved_bundle(cli, tmp_path)
    member.write_text(OOM_LOG * 20000)
    _replace_with(member, "link-out", tmp_path)
    result = cli("diagnose", "--jobs", "2", str(bundle))
    assert result.code == 2 and "outside the bundle" in result.err
    assert SECRET_FILE_TEXT not in result.out + result.err


# -- saving: all or nothing, few files open ------------------------------------------------------


def test_saving_again_replaces_the_bundle_and_leaves_nothing_beside_it(cli, tmp_path):
    bundle, _ = saved_bundle(cli, tmp_path)
    other = tmp_path / "other.log"
    other.write_text("hello\n")
    assert cli("diagnose", str(other), "--save-bundle", str(bundle)).code == 0
    (member,) = bundle.glob("001-*.log")
    assert sorted(p.name for p in bundle.iterdir()) == [member.name, MANIFEST]
    assert member.read_text() == "hello\n"
    assert cli("diagnose", "--json", str(bundle)).json()["input"]["sources"] == [f"file:{other}"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.log", "b", "other.log"]  # no staging left


def test_saving_over_a_bundle_that_sits_beside_other_files_is_refused(cli, tmp_path):
    bundle, member = saved_bundle(cli, tmp_path)
    (bundle / "notes.txt").write_text("mine\n")
    before = {p.name: p.read_bytes() for p in bundle.iterdir()}
    result = cli("diagnose", str(tmp_path / "app.log"), "--save-bundle", str(bundle))
    assert (result.code, result.err) == (
        2,
        f"error: {bundle}: --save-bundle: the bundle there sits beside other files (notes.txt), which "
        "replacing it would remove (move them away, or name a new or empty directory)\n",
    )
    assert {p.name: p.read_bytes() for p in bundle.iterdir()} == before


def test_saving_into_an_empty_directory_keeps_its_mode(cli, tmp_path):
    target = tmp_path / "empty"
    target.mkdir(mode=0o750)
    target.chmod(0o750)
    log = tmp_path / "app.log"
    log.write_text(OOM_LOG)
    assert cli("diagnose", str(log), "--save-bundle", str(target)).code == 1
    assert stat.S_IMODE(target.stat().st_mode) == 0o750
    assert (target / MANIFEST).is_file()


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_the_writer_keeps_few_files_open_however_many_sources_interleave(tmp_path):
    sources = [f"k8s:ns/pod-{i}/main" for i in range(MAX_OPEN_FILES * 4)]
    writer = BundleWriter(tmp_path / "b", sources, None, make_redactor(()))
    base = _open_descriptors()
    most = 0

    def lines():
        nonlocal most
        for round_ in range(3):  # round robin: every line goes to another file than the last
            for n, source in enumerate(sources):
                most = max(most, _open_descriptors() - base)
                yield RawLine(source, round_ + 1, f"{source} line {round_} of {n}")

    assert len(list(writer.tee(lines()))) == 3 * len(sources)
    writer.finish()
    assert most <= MAX_OPEN_FILES
    assert _open_descriptors() == base
    entries = {e["name"]: e for e in read_manifest(tmp_path / "b")["sources"]}
    for n, source in enumerate(sources):
        text = (tmp_path / "b" / entries[source]["file"]).read_text()
        assert text == "".join(f"{source} line {r} of {n}\n" for r in range(3))
        assert entries[source]["lines"] == 3


def test_a_run_that_fails_while_saving_leaves_no_staging(cli, tmp_path):
    good = tmp_path / "good.log"
    good.write_text(OOM_LOG)
    blob = tmp_path / "core.bin"
    blob.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 20)
    result = cli("diagnose", str(good), str(blob), "--save-bundle", str(tmp_path / "b"))
    assert result.code == 2 and "binary data" in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["core.bin", "good.log"]


def test_ctrl_c_while_saving_leaves_no_staging(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "diagnoser", "--save-bundle", str(tmp_path / "b")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        preexec_fn=default_sigint,
    )
    assert proc.stdin is not None
    proc.stdin.write(OOM_LOG.encode())
    proc.stdin.flush()
    time.sleep(3)  # reading and saving; stdin stays open
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, out, err) == (130, b"", b"interrupted\n")
    assert list(tmp_path.iterdir()) == []
