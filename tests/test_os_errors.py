"""OS errors of input and output paths: exit 2 with `error: PATH: what is wrong (how to fix)` and never
a traceback.

Every row is a real failure, not a mock: a symbolic link loop, a file used as a directory, a name too
long, a dangling link, a read-only and a full file system (a small tmpfs mounted in a private user and
mount namespace), stdout on /dev/full, and more inputs than `ulimit -n` allows open at once.
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import shutil
import subprocess
import sys

import pytest

from diagnoser.collect import open_inputs
from diagnoser.errors import InputError, Location, OutputError
from tests.conftest import ROOT

OOM = (
    b"[2024-03-05 10:00:00 +0000] [1] [INFO] Starting gunicorn 22.0.0\n"
    b"[2024-03-05 10:00:00 +0000] [1] [INFO] Booting worker with pid: 7\n"
    b"[2024-03-05 10:00:09 +0000] [1] [ERROR] Worker (pid:7) was sent SIGKILL! Perhaps out of memory?\n"
    b"[2024-03-05 10:00:09 +0000] [1] [INFO] Booting worker with pid: 12\n"
    b"[2024-03-05 10:00:19 +0000] [1] [ERROR] Worker (pid:12) was sent SIGKILL! Perhaps out of memory?\n"
    b"[2024-03-05 10:00:19 +0000] [1] [INFO] Booting worker with pid: 15\n"
)
LOOP = (
    "too many levels of symbolic links "
    "(a symbolic link on the path leads back to itself; fix or remove the link)"
)
NOT_A_DIRECTORY = "not a directory (a part of the path that should be a directory is a file; check the path)"
TOO_LONG = "file name too long (shorten the path: a name may have 255 bytes, a whole path 4096)"
FULL = "no space left on device (free space on that file system, or use a path on another one)"


def bad_path(tmp_path, case: str) -> tuple[str, str]:
    """Return a path that fails with the OS error `case`, and what the message says of it."""
    if case == "loop":
        (tmp_path / "a").symlink_to(tmp_path / "b")
        (tmp_path / "b").symlink_to(tmp_path / "a")
        return str(tmp_path / "a"), LOOP
    if case == "not-a-directory":
        (tmp_path / "app.log").write_bytes(OOM)
        return str(tmp_path / "app.log" / "x"), NOT_A_DIRECTORY
    assert case == "name-too-long"
    return str(tmp_path / ("x" * 300)), TOO_LONG


CASES = ["loop", "not-a-directory", "name-too-long"]


@pytest.mark.parametrize("command", [("diagnose",), ("diagnose", "--json"), ("diagnoser", "parse")])
@pytest.mark.parametrize("case", CASES)
def test_an_input_path_the_os_refuses(cli, tmp_path, command, case):
    path, what = bad_path(tmp_path, case)
    result = cli(*command, path)
    assert (result.code, result.out, result.err) == (2, "", f"error: {path}: {what}\n")


def test_a_path_with_a_nul_byte_from_a_library_caller():
    with pytest.raises(InputError) as refused:
        open_inputs(["app\x00.log"])
    assert str(refused.value) == "app\\x00.log: the path holds a NUL byte"


@pytest.mark.parametrize("case", CASES)
def test_a_bundle_directory_the_os_refuses(cli, tmp_path, case):
    path, what = bad_path(tmp_path, case)
    log = tmp_path / "in.log"
    log.write_bytes(OOM)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = cli("diagnose", str(log), "--save-bundle", path)
    assert (result.code, result.out, result.err) == (2, "", f"error: {path}: --save-bundle: {what}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing made, not even a staging dir


def test_a_bundle_directory_that_is_a_dangling_link(cli, tmp_path):
    link = tmp_path / "bundle"
    link.symlink_to(tmp_path / "gone" / "dir")
    log = tmp_path / "in.log"
    log.write_bytes(OOM)
    result = cli("diagnose", str(log), "--save-bundle", str(link))
    assert (result.code, result.out, result.err) == (
        2,
        "",
        f"error: {link}: --save-bundle: a symbolic link to {tmp_path / 'gone' / 'dir'}, which does not exist "
        "(name a new directory, or create the one the link points to)\n",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle", "in.log"]


def test_a_bundle_directory_that_is_a_link_to_a_directory_is_followed(cli, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "bundle"
    link.symlink_to(real)
    log = tmp_path / "in.log"
    log.write_bytes(OOM)
    assert cli("diagnose", str(log), "--save-bundle", str(link)).code == 1
    assert link.is_symlink() and (real / "diagnoser-bundle.json").is_file()


# -- a read-only and a full file system: a tmpfs of our own ---------------------------------------

_RUNNER = """
import json, os, subprocess, sys
mount, options, runs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", mount], check=True)
results = []
for args in runs:
    done = subprocess.run([sys.executable, "-m", "diagnoser", *args], capture_output=True, text=True)
    tree = {}
    for folder, dirs, files in os.walk(mount):
        for name in dirs:
            tree[os.path.relpath(os.path.join(folder, name), mount) + "/"] = ""
        for name in files:
            with open(os.path.join(folder, name), encoding="utf-8") as content:
                tree[os.path.relpath(os.path.join(folder, name), mount)] = content.read()
    results.append({"code": done.returncode, "out": done.stdout, "err": done.stderr, "tree": tree})
print(json.dumps(results))
"""
_NAMESPACE = ["unshare", "--user", "--map-root-user", "--mount"]


def on_tmpfs(mount, options: str, *runs: list[str]) -> list[dict]:
    """Mount a fresh tmpfs (`-o options`) at `mount` in a private user and mount namespace, run
    `diagnose` with each argument list in turn, and return each run's exit code, stdout, stderr and
    the files then on the tmpfs (path -> text; directories end in '/')."""
    mount.mkdir()
    probe = subprocess.run(
        [*_NAMESPACE, "mount", "-t", "tmpfs", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if shutil.which("unshare") is None or probe.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs in a user namespace here: {probe.stderr.strip()}")
    done = subprocess.run(
        [*_NAMESPACE, sys.executable, "-c", _RUNNER, str(mount), options, json.dumps(runs)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def big_log(tmp_path):
    """Return a log of about 300 KB that ends in a diagnosis: larger than the tmpfs it is saved to."""
    path = tmp_path / "big.log"
    padding = b"".join(
        b"[2024-03-05 09:%02d:00 +0000] [1] [INFO] request %06d ok\n" % (i % 60, i) for i in range(6000)
    )
    path.write_bytes(padding + OOM)
    return path


def test_a_bundle_on_a_read_only_file_system(tmp_path):
    mount = tmp_path / "mnt"
    log = tmp_path / "in.log"
    log.write_bytes(OOM)
    (run,) = on_tmpfs(mount, "ro", [str(log), "--save-bundle", f"{mount}/b"])
    assert (run["code"], run["out"], run["err"]) == (
        2,
        "",
        f"error: {mount}/b: --save-bundle: cannot create the bundle directory: read-only file system "
        "(the file system is mounted read-only; use a path on a writable one; nothing was saved)\n",
    )


def test_a_bundle_into_a_mount_point(tmp_path):
    # `docker run -v $PWD/out:/out … --save-bundle /out`: no rename can land on a mount point.
    mount = tmp_path / "mnt"
    log = tmp_path / "in.log"
    log.write_bytes(OOM)
    (run,) = on_tmpfs(mount, "size=1m", [str(log), "--save-bundle", str(mount)])
    assert (run["code"], run["err"]) == (1, "")
    (member,) = (name for name in run["tree"] if name.startswith("001-"))
    assert sorted(run["tree"]) == [member, "diagnoser-bundle.json"]
    assert run["tree"][member] == OOM.decode()


def test_a_bundle_that_fills_the_disk_part_way_leaves_nothing(tmp_path):
    mount = tmp_path / "mnt"
    (run,) = on_tmpfs(mount, "size=64k", [str(big_log(tmp_path)), "--save-bundle", f"{mount}/b"])
    assert (run["code"], run["err"]) == (
        2,
        f"error: {mount}/b: --save-bundle: cannot write the bundle: {FULL[:-1]}; nothing was saved)\n",
    )
    assert run["tree"] == {}  # no half bundle, no staging directory
    assert "oom_worker_reboot" in run["out"]  # the report went out before the bundle failed


def test_a_bundle_that_fills_the_disk_keeps_the_bundle_it_would_replace(tmp_path):
    mount = tmp_path / "mnt"
    small = tmp_path / "small.log"
    small.write_bytes(OOM)
    target = f"{mount}/b"
    saved, failed = on_tmpfs(
        mount,
        "size=64k",
        [str(small), "--save-bundle", target],
        [str(big_log(tmp_path)), "--save-bundle", target],
    )
    assert saved["code"] == 1 and saved["err"] == ""
    assert (failed["code"], failed["err"]) == (
        2,
        f"error: {target}: --save-bundle: cannot write the bundle: {FULL[:-1]}; "
        "the bundle there is left as it was)\n",
    )
    assert failed["tree"] == saved["tree"]  # the old bundle whole, nothing beside it
    assert any(name.startswith("b/001-") and OOM.decode() == text for name, text in saved["tree"].items())


# -- stdout on a full disk ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["diagnoser", "{log}"],
        ["diagnoser", "--json", "{log}"],
        ["diagnoser", "--help"],
        ["diagnoser", "--version"],
        ["diagnoser.cli.main", "explain", "oom_worker_reboot"],
        ["diagnoser.cli.main", "rules", "list"],
    ],
)
def test_output_to_a_full_disk(tmp_path, args):
    done = to_dev_full(tmp_path, args)
    assert (done.returncode, done.stderr) == (
        2,
        f"error: stdout (/dev/full): cannot write the output: {FULL}\n",
    )


@pytest.mark.parametrize("args", [["diagnoser.cli.main", "parse", "{log}"], ["diagnoser.cli.main", "--help"]])
def test_toolbox_output_to_a_full_disk(tmp_path, args):
    # typer's help, and `diagnoser parse`, write stdout themselves: the error boundary reports the
    # failure, in one line (a failed write names no file, so the line says what and how to fix).
    done = to_dev_full(tmp_path, args)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and done.stderr.endswith(f"{FULL}\n")
    assert len(done.stderr.splitlines()) == 1


def to_dev_full(tmp_path, args: list[str]) -> subprocess.CompletedProcess:
    """Run `python -m MODULE ARGS` ({log}: a log that ends in a diagnosis) with stdout on /dev/full."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    log = tmp_path / "in.log"
    log.write_bytes(OOM)
    module, *rest = (a.format(log=log) for a in args)
    with open("/dev/full", "w") as full:
        return subprocess.run(
            [sys.executable, "-m", module, *rest],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            timeout=120,
        )


def test_the_report_goes_out_before_a_failed_bundle_save(cli, monkeypatch, tmp_path):
    # The pipeline hands the report along with the OutputError of a bundle that could not be saved.
    import diagnoser.pipeline as pipeline

    run = pipeline.diagnose

    def fails_to_save(inputs, options):
        report = run(inputs, dataclasses.replace(options, save_bundle=None))
        error = OutputError(
            "--save-bundle: cannot write the bundle: disk full", Location(str(options.save_bundle))
        )
        error.report = report
        raise error

    monkeypatch.setattr(pipeline, "diagnose", fails_to_save)
    log = tmp_path / "in.log"
    log.write_bytes(OOM)
    result = cli("diagnose", "--json", str(log), "--save-bundle", str(tmp_path / "b"))
    assert result.code == 2
    assert [d["cause"] for d in result.json()["diagnoses"]][:1] == ["oom_worker_reboot"]
    assert result.err == f"error: {tmp_path / 'b'}: --save-bundle: cannot write the bundle: disk full\n"


# -- more inputs than open files allowed ----------------------------------------------------------

OPEN_FILES = 64  # RLIMIT_NOFILE of the runs below: a few for Python, the rest far below the inputs


def _few_open_files() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, hard))


def test_more_inputs_than_ulimit_n(tmp_path):
    lines = OOM.splitlines(keepends=True)
    logs = []
    for i in range(OPEN_FILES * 3):  # the failure spread over the first files, one line each
        path = tmp_path / f"{i:03d}.log"
        path.write_bytes(
            lines[i] if i < len(lines) else b"[2024-03-05 10:01:00 +0000] [1] [INFO] ok %d\n" % i
        )
        logs.append(str(path))
    bundle = str(tmp_path / "bundle")

    def run(module: str, *args: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "-m", module, *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
            preexec_fn=_few_open_files,
        )
        assert "Traceback" not in done.stderr, done.stderr
        return done

    reports = []
    for args in (logs, [*logs, "--save-bundle", bundle], [bundle]):
        done = run("diagnoser", "--json", *args)
        assert done.returncode == 1, done.stderr
        report = json.loads(done.stdout)
        assert report["input"]["lines"] == len(logs) and len(report["input"]["sources"]) == len(logs)
        reports.append(report["diagnoses"])
    assert reports[0][0]["cause"] == "oom_worker_reboot"
    assert reports[0] == reports[1] == reports[2]
    parsed = run("diagnoser.cli.main", "parse", *logs)
    assert parsed.returncode == 0 and parsed.stderr.startswith(f"{len(logs)} lines, ")
    assert len(parsed.stdout.splitlines()) == len(logs)


def test_following_more_files_than_ulimit_n_is_an_error_not_a_hang(tmp_path):
    """`--follow` keeps each file open (tail -F): past the limit it says so, before any reader starts."""
    logs = []
    for i in range(OPEN_FILES * 2):
        path = tmp_path / f"{i:03d}.log"
        path.write_bytes(b"[2024-03-05 10:01:00 +0000] [1] [INFO] ok\n")
        logs.append(str(path))
    done = subprocess.run(
        [sys.executable, "-m", "diagnoser", "--follow", *logs],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        preexec_fn=_few_open_files,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "cannot open it to follow: too many open files" in done.stderr
    assert "follow fewer than" in done.stderr
