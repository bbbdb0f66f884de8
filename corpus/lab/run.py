#!/usr/bin/env python3
"""Fault lab: run real model servers under faults and record exactly what they print.

Each scenario starts a real server (gunicorn of several major versions, or the Azure ML inference
server azmlinfsrv) from its own venv in a cache dir outside the repo, injects one fault, drives a
bounded amount of traffic, stops everything, and writes

    corpus/cases/lab/<server>/<scenario>/input.log   stdout+stderr of the server, merged in order
    corpus/cases/lab/<server>/<scenario>/meta.yaml   label, command line, knobs, true values
    corpus/cases/lab/<server>/<scenario>/case.yaml   the corpus case (label, format, origin, inputs)
    (+ nginx-access.log / nginx-error.log / dmesg.log / first.log where the scenario has them;
     docker-logs.log / docker-inspect.json / docker-events.log for the dockerd scenarios)

Usage:
    python corpus/lab/run.py                         # every server, every scenario
    python corpus/lab/run.py --server gunicorn-20.1.0 --only oom-run
    python corpus/lab/run.py --list
    python corpus/lab/run.py --server gunicorn-20.1.0 --only oom-run --set memory_mb=2048 --out /tmp/x
                                                     # a variant with a knob overridden (not the corpus)

Nothing in the recordings is edited or normalised: the .log file is the raw byte stream the
server wrote to its stdout/stderr (both pointed at the same file, as a container runtime's
log driver sees them).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import datetime as _dt
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

LAB_DIR = Path(__file__).resolve().parent
REPO = LAB_DIR.parent.parent
OUT_DIR = REPO / "corpus" / "cases" / "lab"
CACHE = Path(os.environ.get("DIAGNOSER_LAB_CACHE", "/tmp/diagnoser-lab"))
CGROUP_PREFIX = "diagnoser-lab-"

HTTP_TIMEOUT = 5.0  # every HTTP call
HEALTH_TIMEOUT = 2.0  # every health probe


# --------------------------------------------------------------------------- servers


sys.path.insert(0, str(LAB_DIR))
from kinds import KINDS, SERVERS, Kind, Server, python_for  # noqa: E402

_python = python_for


def ensure_venv(server: Server) -> bool:
    marker = server.venv / ".lab-installed"
    want = "\n".join(server.requirements)
    if marker.exists() and marker.read_text() == want:
        return True
    missing = [p for p in server.apt if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode]
    if missing:
        print(f"[lab] {server.name}: apt-get install {' '.join(missing)}", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "-q", *missing], capture_output=True)
    py = _python(server.python)
    if not py:
        print(f"[lab] {server.name}: no python{server.python} found, skipping", file=sys.stderr)
        return False
    print(f"[lab] creating venv {server.venv}", file=sys.stderr)
    if server.venv.exists():
        shutil.rmtree(server.venv)
    subprocess.run([py, "-m", "venv", str(server.venv)], check=True)
    r = subprocess.run(
        [str(server.bin / "pip"), "install", "-q", *server.requirements], capture_output=True, text=True
    )
    if r.returncode != 0:
        print(f"[lab] {server.name}: pip install failed:\n{r.stderr[-2000:]}", file=sys.stderr)
        return False
    marker.write_text(want)
    return True


def installed_versions(server: Server) -> dict[str, str]:
    r = subprocess.run(
        [
            str(server.bin / "python"),
            "-c",
            "import importlib.metadata as m, json, sys;"
            f"names={server.packages + ['flask', 'werkzeug']!r};"
            "out={}\n"
            "for n in names:\n"
            "    try: out[n]=m.version(n)\n"
            "    except Exception: pass\n"
            "out['python']=sys.version.split()[0]; print(json.dumps(out))",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    try:
        return json.loads(r.stdout)
    except ValueError:
        return {}


# --------------------------------------------------------------------------- scenarios


@dataclass
class Scenario:
    name: str
    label: str  # cause id or "healthy"
    description: str
    score: str = "healthy.py"
    kinds: tuple[str, ...] = ()  # the server kinds it runs on; () = every kind that does not skip it
    worker_class: str = "sync"  # gunicorn only
    workers: int = 1
    timeout: int | None = None  # gunicorn --timeout / azmlinfsrv WORKER_TIMEOUT
    env: dict[str, str] = field(default_factory=dict)
    model_dir: str = "ok"  # ok | empty | wrong | unset
    memory_mb: int | None = None
    requests: int = 0  # POST /score count
    concurrency: int = 1
    payload: str = '{"data": [[1.0, 2.0, 3.0]]}'
    boot_wait: float = 15.0  # how long to wait for the liveness probe
    observe: float = 2.0  # seconds to keep recording after traffic
    front: str | None = None  # None | "limit_conn" | "limit_req" | "plain" (no limit)
    front_conn: int = 2  # nginx limit_conn
    front_rate: str = "5r/s"  # nginx limit_req_zone rate
    front_burst: int = 5  # nginx limit_req burst (nodelay)
    special: str | None = None  # None | "port_in_use" | "missing_server"
    format: str | None = None  # main format of input.log when not the server kind's own
    truth: dict = field(default_factory=dict)


SCENARIOS = [
    Scenario(
        "healthy", "healthy", "clean start-up, liveness probe, 5 good POST /score, SIGTERM stop", requests=5
    ),
    Scenario(
        "healthy-gthread",
        "healthy",
        "as healthy, gthread workers (2 workers x 2 threads)",
        kinds=("gunicorn",),
        worker_class="gthread",
        workers=2,
        requests=5,
    ),
    Scenario(
        "healthy-4workers",
        "healthy",
        "as healthy, WORKER_COUNT=4, 12 requests 4 at a time",
        kinds=("azmlinfsrv",),
        workers=4,
        requests=12,
        concurrency=4,
    ),
    Scenario(
        "init-exception",
        "init_exception",
        "init() raises ValueError after loading the model",
        score="init_raises.py",
        requests=2,
        boot_wait=10,
    ),
    Scenario(
        "import-missing-module",
        "missing_dependency",
        "score.py does `import xgboost`, which is not installed (ModuleNotFoundError)",
        score="import_missing.py",
        requests=2,
        boot_wait=10,
    ),
    Scenario(
        "import-syntax-error",
        "init_exception",
        "score.py has a SyntaxError (missing colon)",
        score="syntax_error.py.txt",
        requests=2,
        boot_wait=10,
    ),
    Scenario(
        "model-not-found",
        "model_not_found",
        "AZUREML_MODEL_DIR exists but holds no model.pkl; init() joblib.load()s it",
        model_dir="empty",
        requests=2,
        boot_wait=10,
    ),
    Scenario(
        "model-dir-wrong",
        "model_not_found",
        "AZUREML_MODEL_DIR points at a directory that does not exist",
        model_dir="wrong",
        requests=2,
        boot_wait=10,
    ),
    Scenario(
        "model-dir-unset",
        "model_not_found",
        "AZUREML_MODEL_DIR is not set; os.path.join(None, ...) raises TypeError in init()",
        model_dir="unset",
        requests=2,
        boot_wait=10,
    ),
    Scenario(
        "run-exception",
        "run_exception",
        "run() raises ValueError on every request; 3 POST /score",
        score="run_raises.py",
        requests=3,
        payload='{"data": [[1.0, 2.0]]}',
    ),
    Scenario(
        "worker-timeout",
        "request_timeout",
        "run() sleeps 6 s, worker timeout is 2 s; 2 POST /score (client timeout 10 s)",
        score="slow_run.py",
        timeout=2,
        env={"LAB_RUN_SECONDS": "6"},
        requests=2,
        observe=3,
    ),
    Scenario(
        "slow-run-gthread",
        "healthy",
        "run() sleeps 6 s with --timeout 2 under gthread workers: the gthread worker keeps "
        "heartbeating while a request thread is busy, so gunicorn does NOT time it out; the "
        "requests answer 200 after 6 s (a no-diagnosis case for request_timeout rules)",
        kinds=("gunicorn",),
        score="slow_run.py",
        worker_class="gthread",
        timeout=2,
        env={"LAB_RUN_SECONDS": "6"},
        requests=2,
        observe=3,
    ),
    Scenario(
        "scoring-timeout",
        "request_timeout",
        "run() sleeps 3 s, SCORING_TIMEOUT_MS=1000; 3 POST /score",
        kinds=("azmlinfsrv",),
        score="slow_run.py",
        env={"LAB_RUN_SECONDS": "3", "SCORING_TIMEOUT_MS": "1000"},
        requests=3,
        observe=4,
    ),
    Scenario(
        "oom-init",
        "oom_worker_reboot",
        "init() allocates 1 GiB under a 256 MiB memory cgroup; the kernel OOM-kills the worker "
        "at every boot and the master boots a new one",
        score="oom_init.py",
        memory_mb=256,
        env={"LAB_ALLOC_MB": "1024"},
        boot_wait=5,
        observe=0,
    ),
    Scenario(
        "oom-run",
        "oom_worker_reboot",
        "run() allocates 1 GiB per request under a 256 MiB memory cgroup; 4 POST /score, each "
        "OOM-kills the worker",
        score="oom_run.py",
        memory_mb=256,
        env={"LAB_ALLOC_MB": "1024"},
        requests=4,
        observe=3,
    ),
    Scenario(
        "oom-run-gthread",
        "oom_worker_reboot",
        "as oom-run with gthread workers",
        kinds=("gunicorn",),
        score="oom_run.py",
        worker_class="gthread",
        memory_mb=256,
        env={"LAB_ALLOC_MB": "1024"},
        requests=4,
        observe=3,
    ),
    Scenario(
        "overload-503-limit-conn",
        "autoscale_lag",
        "nginx (limit_conn 2) in front of 1 worker whose run() takes 0.5 s; 40 POST /score "
        "20 at a time; nginx answers the excess with 503",
        score="slow_run.py",
        env={"LAB_RUN_SECONDS": "0.5"},
        front="limit_conn",
        requests=40,
        concurrency=20,
        observe=1,
    ),
    Scenario(
        "overload-503-limit-req",
        "autoscale_lag",
        "nginx (limit_req 5r/s burst 5 nodelay) in front; 40 POST /score 20 at a time",
        score="slow_run.py",
        env={"LAB_RUN_SECONDS": "0.2"},
        front="limit_req",
        requests=40,
        concurrency=20,
        observe=1,
    ),
    Scenario(
        "port-in-use",
        "port_in_use",
        "a first server holds the port; a second one is started on the same port (recorded)",
        special="port_in_use",
        boot_wait=10,
    ),
    Scenario(
        "missing-inference-server",
        "missing_dependency",
        "the image lacks azureml-inference-server-http: `python -m "
        "azureml_inference_server_http.amlserver` in a bare venv",
        kinds=("azmlinfsrv",),
        special="missing_server",
        format="plain",
    ),
    # ---- more variety for the thinner causes (run_exception, request_timeout, autoscale_lag)
    Scenario(
        "healthy-liveness-only",
        "healthy",
        "start, 10 liveness probes (GET /) 0.3 s apart, no scoring traffic, SIGTERM",
        env={"LAB_PROBES": "10"},
    ),
    Scenario(
        "healthy-slow-run",
        "healthy",
        "run() takes 1 s, well inside every timeout (gunicorn default 30 s, azmlinfsrv scoring "
        "timeout default); 3 POST /score answer 200 after ~1 s",
        score="slow_run.py",
        env={"LAB_RUN_SECONDS": "1"},
        requests=3,
    ),
    Scenario(
        "healthy-burst",
        "healthy",
        "20 good POST /score 5 at a time against 1 worker (queueing, no errors)",
        requests=20,
        concurrency=5,
    ),
    Scenario(
        "healthy-behind-nginx",
        "healthy",
        "nginx in front with no limit (proxy only), 10 good POST /score 2 at a time; nginx-access.log "
        "is read with the server log (all 200)",
        front="plain",
        requests=10,
        concurrency=2,
        observe=1,
    ),
    Scenario(
        "run-keyerror",
        "run_exception",
        'the client sends {"inputs": ...} instead of {"data": ...}: run() raises KeyError; 3 POST /score',
        requests=3,
        payload='{"inputs": [[1.0, 2.0, 3.0]]}',
    ),
    Scenario(
        "run-bad-json",
        "run_exception",
        "the client sends a body that is not JSON: json.loads in run() raises JSONDecodeError "
        "(a ValueError); 3 POST /score",
        requests=3,
        payload="data=1.0,2.0,3.0",
    ),
    Scenario(
        "run-typeerror",
        "run_exception",
        'a feature is a string ({"data": [["a", 2.0, 3.0]]}): run() raises TypeError; 3 POST /score',
        requests=3,
        payload='{"data": [["a", 2.0, 3.0]]}',
    ),
    Scenario(
        "run-exception-gthread",
        "run_exception",
        "run() raises ValueError under 2 gthread workers x 2 threads; 4 POST /score 2 at a time",
        kinds=("gunicorn",),
        score="run_raises.py",
        worker_class="gthread",
        workers=2,
        requests=4,
        concurrency=2,
        payload='{"data": [[1.0, 2.0]]}',
    ),
    Scenario(
        "run-exception-2workers",
        "run_exception",
        "run() raises ValueError with WORKER_COUNT=2; 4 POST /score 2 at a time",
        kinds=("azmlinfsrv",),
        score="run_raises.py",
        workers=2,
        requests=4,
        concurrency=2,
        payload='{"data": [[1.0, 2.0]]}',
    ),
    Scenario(
        "worker-timeout-5s",
        "request_timeout",
        "run() sleeps 8 s, worker timeout is 5 s; 2 POST /score (client timeout 10 s)",
        score="slow_run.py",
        timeout=5,
        env={"LAB_RUN_SECONDS": "8"},
        requests=2,
        observe=3,
    ),
    Scenario(
        "worker-timeout-gthread-gil",
        "request_timeout",
        "gthread workers, --timeout 2, run() makes a 6 s C call that keeps the GIL (ctypes.PyDLL "
        "sleep, as a native extension that never releases it): the worker cannot heartbeat and is "
        "killed; 2 POST /score",
        kinds=("gunicorn",),
        score="gil_hold.py",
        worker_class="gthread",
        timeout=2,
        env={"LAB_RUN_SECONDS": "6"},
        requests=2,
        observe=3,
    ),
    Scenario(
        "scoring-timeout-500ms",
        "request_timeout",
        "run() sleeps 2 s, SCORING_TIMEOUT_MS=500; 3 POST /score",
        kinds=("azmlinfsrv",),
        score="slow_run.py",
        env={"LAB_RUN_SECONDS": "2", "SCORING_TIMEOUT_MS": "500"},
        requests=3,
        observe=3,
    ),
    Scenario(
        "scoring-timeout-2000ms",
        "request_timeout",
        "run() sleeps 4 s, SCORING_TIMEOUT_MS=2000, WORKER_COUNT=2; 4 POST /score 2 at a time",
        kinds=("azmlinfsrv",),
        score="slow_run.py",
        workers=2,
        env={"LAB_RUN_SECONDS": "4", "SCORING_TIMEOUT_MS": "2000"},
        requests=4,
        concurrency=2,
        observe=5,
    ),
    Scenario(
        "overload-503-limit-conn-1",
        "autoscale_lag",
        "nginx (limit_conn 1) in front of 1 worker whose run() takes 0.3 s; 30 POST /score 10 at a time",
        score="slow_run.py",
        env={"LAB_RUN_SECONDS": "0.3"},
        front="limit_conn",
        front_conn=1,
        requests=30,
        concurrency=10,
        observe=1,
    ),
    Scenario(
        "overload-503-limit-req-10rs",
        "autoscale_lag",
        "nginx (limit_req 10r/s burst 2 nodelay) in front; run() 0.1 s; 30 POST /score 15 at a time",
        score="slow_run.py",
        env={"LAB_RUN_SECONDS": "0.1"},
        front="limit_req",
        front_rate="10r/s",
        front_burst=2,
        requests=30,
        concurrency=15,
        observe=1,
    ),
]


# --------------------------------------------------------------------------- knob overrides

# `--set NAME=VALUE` re-runs a scenario with other knob values (corpus/lab/verify_fixes.py applies a
# fix plan's suggestions this way). Scenario fields that are knobs, and environment variables:
OVERRIDABLE = {"memory_mb": int, "timeout": int, "workers": int}
OVERRIDABLE_ENV = ("SCORING_TIMEOUT_MS", "LAB_ALLOC_MB", "LAB_RUN_SECONDS")


def runs_on(sc: Scenario, kind: Kind) -> bool:
    """Whether a scenario applies to a server kind."""
    return (kind.name in sc.kinds) if sc.kinds else sc.name not in kind.skip


def parse_overrides(items: list[str]) -> dict[str, int | str]:
    """Parse `NAME=VALUE` items (memory_mb, timeout, workers, or an OVERRIDABLE_ENV variable)."""
    out: dict[str, int | str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or (name not in OVERRIDABLE and name not in OVERRIDABLE_ENV):
            raise ValueError(
                f"--set {item!r}: use NAME=VALUE with NAME in {[*OVERRIDABLE, *OVERRIDABLE_ENV]}"
            )
        out[name] = OVERRIDABLE[name](value) if name in OVERRIDABLE else value
    return out


def with_overrides(sc: Scenario, overrides: dict[str, int | str]) -> Scenario:
    """Return `sc` with knob overrides applied (fields and environment variables)."""
    if not overrides:
        return sc
    fields = {k: OVERRIDABLE[k](v) for k, v in overrides.items() if k in OVERRIDABLE}
    env = {**sc.env, **{k: str(v) for k, v in overrides.items() if k in OVERRIDABLE_ENV}}
    return dataclasses.replace(sc, env=env, **fields)


# --------------------------------------------------------------------------- helpers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body: str | None = None, timeout: float = HTTP_TIMEOUT) -> dict:
    data = body.encode() if body is not None else None
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"} if data else {}
    )
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            text = resp.read(2000).decode("utf-8", "replace")
            return {"status": resp.status, "body": text[:300], "seconds": round(time.monotonic() - t0, 3)}
    except urllib.error.HTTPError as e:
        text = e.read(2000).decode("utf-8", "replace") if e.fp else ""
        return {"status": e.code, "body": text[:300], "seconds": round(time.monotonic() - t0, 3)}
    except Exception as e:  # connection refused/reset, timeout, empty reply
        return {
            "status": None,
            "error": f"{type(e).__name__}: {e}"[:300],
            "seconds": round(time.monotonic() - t0, 3),
        }


def wait_healthy(url: str, proc: subprocess.Popen, deadline_s: float) -> dict | None:
    end = time.monotonic() + deadline_s
    last = None
    while time.monotonic() < end:
        if proc.poll() is not None:
            return last
        last = http("GET", url, timeout=HEALTH_TIMEOUT)
        if last.get("status") == 200:
            return last
        time.sleep(0.3)
    return last


def pids_in_group(pgid: int) -> dict[int, str]:
    out = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) == pgid:
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                out[int(d.name)] = cmd[:200]
        except (OSError, ValueError):
            continue
    return out


def kill_group(proc: subprocess.Popen, grace: float = 6.0) -> str:
    """SIGTERM the process group (like `docker stop`), then SIGKILL what is left."""
    pgid = proc.pid
    how = "already exited"
    try:
        os.killpg(pgid, signal.SIGTERM)
        how = "SIGTERM"
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        how = "SIGTERM then SIGKILL"
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    return how


# --------------------------------------------------------------------------- cgroups


class MemCgroup:
    def __init__(self, name: str, limit_mb: int):
        self.limit = limit_mb * 1024 * 1024
        fstype = subprocess.run(
            ["stat", "-fc", "%T", "/sys/fs/cgroup"], capture_output=True, text=True
        ).stdout.strip()
        self.v2 = fstype == "cgroup2fs"
        base = Path("/sys/fs/cgroup") if self.v2 else Path("/sys/fs/cgroup/memory")
        self.path = base / (CGROUP_PREFIX + name)
        self.version = "v2" if self.v2 else "v1"

    def create(self) -> None:
        if self.path.exists():
            self.remove()
        self.path.mkdir()
        if self.v2:
            (self.path / "memory.max").write_text(str(self.limit))
            if (self.path / "memory.swap.max").exists():
                (self.path / "memory.swap.max").write_text("0")
        else:
            (self.path / "memory.limit_in_bytes").write_text(str(self.limit))
            sw = self.path / "memory.memsw.limit_in_bytes"
            if sw.exists():
                try:
                    sw.write_text(str(self.limit))
                except OSError:
                    pass

    def wrap(self, cmd: list[str]) -> list[str]:
        procs = self.path / "cgroup.procs"
        return ["sh", "-c", f'echo $$ > {procs}; exec "$@"', "sh", *cmd]

    def stats(self) -> dict:
        out = {}
        try:
            if self.v2:
                for line in (self.path / "memory.events").read_text().splitlines():
                    k, v = line.split()
                    out[k] = int(v)
                out["memory.peak"] = (
                    int((self.path / "memory.peak").read_text())
                    if (self.path / "memory.peak").exists()
                    else None
                )
            else:
                out["memory.failcnt"] = int((self.path / "memory.failcnt").read_text())
                out["memory.max_usage_in_bytes"] = int((self.path / "memory.max_usage_in_bytes").read_text())
                for line in (self.path / "memory.oom_control").read_text().splitlines():
                    k, v = line.split()
                    out[f"oom_control.{k}"] = int(v)
        except OSError:
            pass
        return out

    def remove(self) -> None:
        for _ in range(50):
            try:
                pids = [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
            except OSError:
                break
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.1)


def dmesg_lines() -> list[str] | None:
    r = subprocess.run(["dmesg"], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    return r.stdout.splitlines()


_KERNEL_TS = re.compile(r"^\[\s*(\d+\.\d+)\]")


def dmesg_since(before: list[str], after: list[str]) -> list[str]:
    """The kernel lines printed between two `dmesg` reads. When the ring buffer wrapped in between
    (`after` no longer starts with `before`), keep the lines stamped after the last one seen before,
    not all of `after`: that would bring back older OOM reports of a cgroup of the same name."""
    if after[: len(before)] == before:
        return after[len(before) :]
    last = next((m for line in reversed(before) for m in [_KERNEL_TS.match(line)] if m), None)
    if last is None:
        return after
    cut = float(last.group(1))
    return [line for line in after if (m := _KERNEL_TS.match(line)) and float(m.group(1)) > cut]


OOM_SUMMARY = ("invoked oom-killer", "oom-kill:", "Killed process", "oom_reaper")


def oom_blocks(lines: list[str], cgname: str, full: int = 2) -> list[str]:
    """Kernel OOM reports naming our cgroup, verbatim: the first `full` reports whole (from
    '... invoked oom-killer' to 'Killed process'), then only their summary lines (OOM_SUMMARY)."""
    out: list[str] = []
    nblocks = 0
    block: list[str] = []
    inside = False
    for line in lines:
        if "invoked oom-killer" in line:
            block, inside = [line], True
            continue
        if inside:
            block.append(line)
            if "Killed process" in line:
                inside = False
                if any(cgname in b for b in block):
                    nblocks += 1
                    out.extend(
                        block if nblocks <= full else [b for b in block if any(k in b for k in OOM_SUMMARY)]
                    )
                block = []
            continue
        if "oom_reaper" in line and out:
            m = re.search(r"process (\d+)", line)
            if m and any(f"process {m.group(1)} " in b or f"pid={m.group(1)}," in b for b in out):
                out.append(line)
    return out


# --------------------------------------------------------------------------- nginx front

NGINX_CONF = """\
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log notice;
daemon off;
events {{ worker_connections 512; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    limit_conn_zone $server_name zone=per_server:1m;
    limit_req_zone $server_name zone=per_server_rate:1m rate={rate};
    upstream model {{ server 127.0.0.1:{upstream}; }}
    server {{
        listen 127.0.0.1:{port};
        server_name model-endpoint;
        location / {{
            {limit}
            proxy_pass http://model;
            proxy_read_timeout 10s;
        }}
    }}
}}
"""


# --------------------------------------------------------------------------- one run


def server_command(server: Server, sc: Scenario, port: int, workdir: Path) -> tuple[list[str], dict]:
    return KINDS[server.kind].command(server, sc, port, workdir)


def prepare_workdir(server: Server, sc: Scenario, tag: str = "") -> tuple[Path, dict]:
    workdir = CACHE / "work" / server.name / (sc.name + tag)
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    shutil.copy(LAB_DIR / "scores" / sc.score, workdir / "score.py")
    for name in KINDS[server.kind].app_files:
        shutil.copy(LAB_DIR / "apps" / name, workdir / Path(name).name)
    env = {}
    models = workdir / "azureml-models" / "diabetes-model" / "1"
    if sc.model_dir in ("ok", "empty"):
        models.mkdir(parents=True)
        if sc.model_dir == "ok":
            subprocess.run(
                [
                    str(server.bin / "python"),
                    "-c",
                    "import joblib,sys; joblib.dump({'coef':[0.5,-1.25,2.0],'intercept':0.1,"
                    "'config':{'name':'diabetes-model'}}, sys.argv[1])",
                    str(models / "model.pkl"),
                ],
                check=True,
                timeout=60,
            )
        env["AZUREML_MODEL_DIR"] = str(models)
    elif sc.model_dir == "wrong":
        env["AZUREML_MODEL_DIR"] = str(workdir / "azureml-models" / "diabetes-model" / "2")
    return workdir, env


def base_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ", "HOME", "TERM")}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    for k in (
        "AZUREML_MODEL_DIR",
        "WORKER_TIMEOUT",
        "SCORING_TIMEOUT_MS",
        "WORKER_COUNT",
        "GUNICORN_CMD_ARGS",
        "AZUREML_ENTRY_SCRIPT",
    ):
        env.pop(k, None)
    return env


def drive(sc: Scenario, url: str, body: str, client_timeout: float) -> list[dict]:
    results: list[dict] = []
    if sc.requests <= 0:
        return results
    deadline = time.monotonic() + 30
    if sc.concurrency <= 1:
        for _ in range(sc.requests):
            if time.monotonic() > deadline:
                break
            r = http("POST", url, body, timeout=client_timeout)
            r["at"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")
            results.append(r)
            time.sleep(0.3)
    else:
        with concurrent.futures.ThreadPoolExecutor(sc.concurrency) as ex:
            futs = [ex.submit(http, "POST", url, body, client_timeout) for _ in range(sc.requests)]
            for f in futs:
                results.append(f.result())
    return results


def summarize(results: list[dict]) -> dict:
    counts: dict[str, int] = {}
    for r in results:
        key = str(r["status"]) if r["status"] is not None else r["error"].split(":")[0]
        counts[key] = counts.get(key, 0) + 1
    return counts


def run_scenario(
    server: Server, sc: Scenario, out_root: Path, overrides: dict[str, int | str] | None = None
) -> dict:
    overrides = overrides or {}
    sc = with_overrides(sc, overrides)
    kind = KINDS[server.kind]
    if sc.memory_mb and kind.memory_headroom_mb:  # the server's own footprint on top of the limit
        sc = dataclasses.replace(sc, memory_mb=sc.memory_mb + kind.memory_headroom_mb)
    if kind.boot_extra_s:  # a server whose own start-up takes longer
        sc = dataclasses.replace(sc, boot_wait=sc.boot_wait + kind.boot_extra_s)
    tag = f"-override-{os.getpid()}" if overrides else ""  # own workdir and cgroup, one per run
    out_dir = clean_case_dir(out_root / server.name / sc.name)
    log_path = out_dir / "input.log"
    workdir, model_env = prepare_workdir(server, sc, tag)
    port = free_port()
    cmd, knob_env = server_command(server, sc, port, workdir)
    env = base_env()
    env.update(knob_env)
    env.update(model_env)
    env.update(sc.env)
    started = _dt.datetime.now(_dt.UTC)
    truth: dict = {"port": port}
    extra_files: list[str] = []
    cg = None
    procs: list[subprocess.Popen] = []
    dmesg_before = None
    client_timeout = 10.0 if sc.timeout or "SCORING_TIMEOUT_MS" in sc.env or sc.front else HTTP_TIMEOUT
    try:
        if sc.special == "missing_server":
            bare = CACHE / "venvs" / "bare-python-3.11"
            if not (bare / "bin" / "python").exists():
                subprocess.run([_python("3.11"), "-m", "venv", str(bare)], check=True)
            cmd = [
                str(bare / "bin" / "python"),
                "-m",
                "azureml_inference_server_http.amlserver",
                "--entry_script",
                str(workdir / "score.py"),
                "--port",
                str(port),
            ]
            with open(log_path, "wb") as log:
                p = subprocess.Popen(
                    cmd,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=env,
                    cwd=workdir,
                    start_new_session=True,
                )
                procs.append(p)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    pass
            truth["exit_code"] = p.returncode
            truth["installed"] = "python only (no azureml-inference-server-http, no azureml-defaults)"
        elif sc.special == "port_in_use":
            first_log = out_dir / "first.log"
            extra_files.append(first_log.name)
            with open(first_log, "wb") as log1:
                p1 = subprocess.Popen(
                    cmd,
                    stdout=log1,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=env,
                    cwd=workdir,
                    start_new_session=True,
                )
            procs.append(p1)
            first_url = f"http://127.0.0.1:{port}{kind.health_path}"
            truth["first_health"] = wait_healthy(first_url, p1, sc.boot_wait)
            truth["first_pid"] = p1.pid
            with open(log_path, "wb") as log:
                p2 = subprocess.Popen(
                    cmd,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=env,
                    cwd=workdir,
                    start_new_session=True,
                )
                procs.append(p2)
                try:
                    p2.wait(timeout=25)
                except subprocess.TimeoutExpired:
                    pass
            truth["second_exit_code"] = p2.returncode
            truth["second_pid"] = p2.pid
        else:
            if sc.memory_mb:
                cg = MemCgroup(f"{server.name}-{sc.name}{tag}", sc.memory_mb)
                cg.create()
                cmd_run = cg.wrap(cmd)
                dmesg_before = dmesg_lines()
            else:
                cmd_run = cmd
            with open(log_path, "wb") as log:
                p = subprocess.Popen(
                    cmd_run,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=env,
                    cwd=workdir,
                    start_new_session=True,
                )
            procs.append(p)
            seen: dict[int, str] = {}
            base = f"http://127.0.0.1:{port}"
            health = wait_healthy(base + kind.health_path, p, sc.boot_wait)
            if kind.settle_s and p.poll() is None:  # its probe answers before the model is loaded
                time.sleep(kind.settle_s)
            seen.update(pids_in_group(p.pid))
            truth["first_health_probe"] = health
            score_url = base + kind.score_path
            nginx = None
            if sc.front:
                ndir = workdir / "nginx"
                ndir.mkdir(parents=True, exist_ok=True)
                nport = free_port()
                limit = {
                    "limit_conn": f"limit_conn per_server {sc.front_conn};",
                    "limit_req": f"limit_req zone=per_server_rate burst={sc.front_burst} nodelay;",
                }.get(sc.front, "")
                (ndir / "nginx.conf").write_text(
                    NGINX_CONF.format(d=ndir, upstream=port, port=nport, limit=limit, rate=sc.front_rate)
                )
                nginx = subprocess.Popen(
                    ["nginx", "-p", str(ndir), "-c", str(ndir / "nginx.conf"), "-e", str(ndir / "error.log")],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
                procs.append(nginx)
                nginx_health = f"http://127.0.0.1:{nport}{kind.health_path}"  # the server's own probe
                truth["nginx_health"] = wait_healthy(nginx_health, nginx, 5)
                score_url = f"http://127.0.0.1:{nport}{kind.score_path}"
                truth["nginx_port"] = nport
                truth["nginx_limit"] = limit + (f" (rate={sc.front_rate})" if sc.front == "limit_req" else "")
            if "LAB_PROBES" in sc.env and p.poll() is None:
                truth["probes"] = []
                for _ in range(int(sc.env["LAB_PROBES"])):
                    truth["probes"].append(http("GET", base + kind.health_path, timeout=HEALTH_TIMEOUT))
                    time.sleep(0.3)
            if p.poll() is None:
                results = drive(sc, score_url, kind.score_body(sc.payload), client_timeout)
            else:
                results = []
            seen.update(pids_in_group(p.pid))
            end = time.monotonic() + sc.observe
            while time.monotonic() < end:
                seen.update(pids_in_group(p.pid))
                if p.poll() is not None:
                    break
                time.sleep(0.2)
            truth["requests"] = results
            truth["request_status_counts"] = summarize(results)
            truth["server_exited_by_itself"] = p.poll() is not None
            truth["server_exit_code_if_exited"] = p.returncode
            truth["pids_seen"] = {str(k): v for k, v in sorted(seen.items())}
            truth["master_pid"] = p.pid
            if cg:
                truth["cgroup"] = {
                    "path": str(cg.path),
                    "version": cg.version,
                    "limit_bytes": cg.limit,
                    **cg.stats(),
                }
            if nginx is not None:
                kill_group(nginx, grace=3)
                ndir = workdir / "nginx"
                for src, dst in (
                    ("access.log", "nginx-access.log"),
                    ("error.log", "nginx-error.log"),
                ):
                    if (ndir / src).exists():
                        shutil.copy(ndir / src, out_dir / dst)
                        extra_files.append(dst)
    finally:
        stops = []
        for pr in reversed(procs):
            if pr.poll() is None:
                stops.append(kill_group(pr))
            else:
                try:
                    os.killpg(pr.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        truth["stopped_with"] = stops or ["(exited by itself)"]
        if cg:
            time.sleep(0.5)
            after = dmesg_lines()
            if after is not None and dmesg_before is not None:
                new = dmesg_since(dmesg_before, after)
                block = oom_blocks(new, cg.path.name)
                if block:
                    dpath = out_dir / "dmesg.log"
                    dpath.write_text("\n".join(block) + "\n")
                    extra_files.append(dpath.name)
                truth["kernel_killed_pids"] = [
                    int(m.group(1)) for line in block for m in [re.search(r"Killed process (\d+)", line)] if m
                ]
            elif after is None:
                truth["dmesg"] = "not readable"
            cg.remove()
    if tag:  # a variant's workdir is not kept (the corpus run's is, for inspection)
        shutil.rmtree(workdir, ignore_errors=True)
    meta = {
        "label": sc.label,
        "scenario": sc.name,
        "description": sc.description,
        "server": server.kind,
        "server_name": server.name,
        "format": sc.format or kind.format or server.kind,
        "version": server.version,
        "installed": installed_versions(server) if sc.special != "missing_server" else {"python": "3.11"},
        "command": cmd if not cg else cg.wrap(cmd),
        "env": {k: v for k, v in env.items() if k not in ("PATH", "LANG", "LC_ALL", "TZ", "HOME", "TERM")},
        "knobs": {
            "worker_class": kind.worker_class or sc.worker_class,
            "workers": sc.workers,
            "worker_timeout_s": sc.timeout,
            "scoring_timeout_ms": int(sc.env["SCORING_TIMEOUT_MS"])
            if "SCORING_TIMEOUT_MS" in sc.env
            else None,
            "memory_limit_mb": sc.memory_mb,
            "model_dir": sc.model_dir,
            "score_script": sc.score,
            "front_proxy": f"nginx {sc.front}" if sc.front else None,
            "client_timeout_s": client_timeout,
        },
        "overrides": overrides or None,
        "date": started.isoformat(timespec="seconds"),
        "duration_s": round((_dt.datetime.now(_dt.UTC) - started).total_seconds(), 1),
        "log": log_path.name,
        "extra_files": extra_files,
        "truth": truth,
    }
    write_meta(out_dir / "meta.yaml", meta)
    write_case(out_dir, meta)
    return meta


def clean_case_dir(case_dir: Path) -> Path:
    """Create the case folder, removing the files a previous run left in it."""
    case_dir.mkdir(parents=True, exist_ok=True)
    for stale in case_dir.iterdir():
        if stale.is_file():
            stale.unlink()
    return case_dir


# Side files an operator would paste along with the server log, per label (read in this order).
PASTED_WITH = {
    "oom_worker_reboot": ("dmesg.log", "docker-inspect.json", "docker-events.log"),
}
ALWAYS_PASTED = ("nginx-access.log",)  # a front proxy's access log goes with its upstream's log


def case_inputs(case_dir: Path, label: str) -> list[str]:
    """The files `diagnose` reads for this case: the server's own log first, then the side files
    an operator would also paste (the front proxy's access log for 503s, kernel / runtime OOM
    reports for memory kills)."""
    names = [*ALWAYS_PASTED, *PASTED_WITH.get(label, ())]
    return ["input.log"] + [n for n in names if (case_dir / n).is_file()]


def write_case(case_dir: Path, meta: dict) -> None:
    """Write case.yaml (diagnoser/corpus.py's format) from the lab's meta."""
    server = meta.get("server_name") or meta.get("server")
    case = {
        "label": meta["label"],
        "secondary": [],
        "format": meta.get("format") or meta["server"],
        "origin": "lab",
        "source": f"corpus/lab scenario {meta['scenario']} on {server}",
        "inputs": case_inputs(case_dir, meta["label"]),
        "notes": meta.get("description", ""),
    }
    write_meta(case_dir / "case.yaml", case)


def write_meta(path: Path, meta: dict) -> None:
    try:
        import yaml

        text = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=120)
    except ImportError:  # JSON is YAML
        text = json.dumps(meta, indent=2)
    path.write_text(text)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", action="append", default=[], help="scenario name (repeatable, comma list)")
    ap.add_argument("--server", action="append", default=[], help="server name (repeatable, comma list)")
    ap.add_argument("--out", type=Path, default=OUT_DIR)
    ap.add_argument("--list", action="store_true")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="re-run with a knob overridden: memory_mb, timeout (gunicorn --timeout / WORKER_TIMEOUT), "
        "workers, SCORING_TIMEOUT_MS, LAB_ALLOC_MB, LAB_RUN_SECONDS (needs --out outside the corpus)",
    )
    ap.add_argument(
        "--no-netns",
        action="store_true",
        help="do not enter a private network namespace (azmlinfsrv then binds 0.0.0.0 on the host)",
    )
    args = ap.parse_args(argv)
    only = {x for a in args.only for x in a.split(",") if x}
    try:
        overrides = parse_overrides(args.set)
    except ValueError as e:
        ap.error(str(e))
    if overrides and args.out.resolve() == OUT_DIR.resolve():
        ap.error("--set writes a variant, not the recorded case: give --out outside corpus/cases/lab")
    servers = {x for a in args.server for x in a.split(",") if x}
    sys.path.insert(0, str(LAB_DIR))
    import dockerlab

    if args.list:
        for s in SERVERS:
            print("server  ", s.name)
        print("server  ", dockerlab.SERVER_NAME, "(private dockerd, containers --network none)")
        for sc in [*SCENARIOS, *dockerlab.DOCKER_SCENARIOS]:
            print("scenario", f"{sc.name:28} {sc.label:20} {','.join(sc.kinds) or 'all'}")
        return 0
    unknown = (only - {s.name for s in [*SCENARIOS, *dockerlab.DOCKER_SCENARIOS]}) | (
        servers - {s.name for s in SERVERS} - {dockerlab.SERVER_NAME}
    )
    if unknown:
        ap.error(f"unknown: {sorted(unknown)}")
    failures = 0
    selected = [s for s in SERVERS if not servers or s.name in servers]
    docker_scenarios = [
        sc
        for sc in dockerlab.DOCKER_SCENARIOS
        if (not servers or dockerlab.SERVER_NAME in servers) and (not only or sc.name in only)
    ]
    if overrides:  # --set applies to the host scenarios only
        docker_scenarios = []
    ready = []
    for server in selected:  # installs need the network: do them before leaving it
        if ensure_venv(server):
            ready.append(server)
        else:
            failures += 1
    if docker_scenarios and not os.environ.get("DIAGNOSER_LAB_NETNS"):
        why = (
            "dockerd not installed (apt-get install -y docker.io)"
            if not shutil.which("dockerd")
            else dockerlab.ensure_rootfs()
        )
        if why:
            print(f"[lab] {dockerlab.SERVER_NAME}: skipped: {why}", file=sys.stderr)
            failures += 1
            docker_scenarios = []
            os.environ["DIAGNOSER_LAB_NO_DOCKER"] = "1"
    if not args.no_netns and not os.environ.get("DIAGNOSER_LAB_NETNS"):
        # azmlinfsrv hard-codes its bind host to 0.0.0.0. Run the whole lab in a private network
        # namespace whose only interface is loopback, so nothing is reachable from outside.
        unshare, ip = shutil.which("unshare"), shutil.which("ip")
        if unshare and ip:
            env = dict(os.environ, DIAGNOSER_LAB_NETNS="1")
            argv2 = [
                unshare,
                "--net",
                "sh",
                "-c",
                f'{ip} link set lo up && exec "$@"',
                "sh",
                sys.executable,
                str(Path(__file__).resolve()),
                *(argv if argv is not None else sys.argv[1:]),
            ]
            r = subprocess.run(argv2, env=env)
            return r.returncode or (1 if failures else 0)
        print("[lab] unshare/ip not found: running in the host network namespace", file=sys.stderr)
    for server in ready:
        for sc in SCENARIOS:
            if only and sc.name not in only:
                continue
            if not runs_on(sc, KINDS[server.kind]):
                continue
            t0 = time.monotonic()
            try:
                meta = run_scenario(server, sc, args.out, overrides)
                print(
                    f"[lab] {server.name:20} {sc.name:28} {time.monotonic() - t0:5.1f}s "
                    f"{meta['truth'].get('request_status_counts', '')}",
                    flush=True,
                )
            except Exception as e:  # keep going; report at the end
                failures += 1
                print(f"[lab] {server.name:20} {sc.name:28} FAILED: {type(e).__name__}: {e}", flush=True)
    if docker_scenarios and not os.environ.get("DIAGNOSER_LAB_NO_DOCKER"):
        failures += dockerlab.run_all(docker_scenarios, args.out, write_meta, write_case, clean_case_dir)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
