"""Fault lab, container half: the same score scripts run under a real dockerd, recorded as cases.

A private dockerd is started exactly as /work/shared/DESIGN.md says (own --data-root, --exec-root,
--pidfile and unix socket; --iptables=false --ip-forward=false --ip-masq=false --bridge=none), and
every container runs with `--network none`. The image is a `docker import` of a Debian bookworm
minbase rootfs (debootstrap) with python3, Debian's gunicorn 20.1.0 and python3-joblib; the rootfs,
its tarball and dockerd's data root (with the imported image) are cached under
$DIAGNOSER_LAB_CACHE/docker so later runs skip the build.

Each scenario writes corpus/cases/lab/docker-gunicorn-20.1.0/<scenario>/ with
    input.log            the container's json-file log, copied from <data-root>/containers/<id>/<id>-json.log
    docker-logs.log      `docker logs --timestamps <id>` (stdout and stderr into one file)
    docker-inspect.json  `docker inspect <id>` once the container stopped (State.OOMKilled, ExitCode,
                         RestartCount)
    docker-events.log    `docker events --since <epoch> --until <epoch> --filter container=<id>`
    meta.yaml, case.yaml as the host scenarios.
Requests are made from inside the container (`docker exec <id> python3 /app/lab_client.py`), each
with a timeout, the exec itself bounded by a subprocess timeout.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

LAB_DIR = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("DIAGNOSER_LAB_CACHE", "/tmp/diagnoser-lab"))
DDIR = CACHE / "docker"
ROOTFS = DDIR / "rootfs-build"
ROOTFS_READY = DDIR / "rootfs.ready"
TARBALL = DDIR / "rootfs.tar"
IMAGE = "diagnoser-lab/bookworm-gunicorn:1"
SERVER_NAME = "docker-gunicorn-20.1.0"
PACKAGES = ("python3", "gunicorn", "python3-joblib")
MIRROR = "http://deb.debian.org/debian"
DOCKER = shutil.which("docker", path="/usr/bin") or shutil.which("docker") or "docker"
MODEL_DIR = "/app/azureml-models/diabetes-model/1"


def _run(cmd: list[str], timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


# --------------------------------------------------------------------------- image


def ensure_rootfs() -> str | None:
    """Build the cached rootfs (needs the Debian mirror). Return None, or what failed."""
    if ROOTFS_READY.exists() and ROOTFS_READY.read_text() == "\n".join(PACKAGES):
        return None
    DDIR.mkdir(parents=True, exist_ok=True)
    if not shutil.which("debootstrap"):
        r = _run(["apt-get", "install", "-y", "-q", "debootstrap"], timeout=300)
        if r.returncode != 0:
            return f"apt-get install debootstrap failed: {r.stderr[-500:]}"
    if not (ROOTFS / "usr" / "bin" / "apt-get").exists():
        if ROOTFS.exists():
            shutil.rmtree(ROOTFS)
        r = _run(["debootstrap", "--variant=minbase", "bookworm", str(ROOTFS), MIRROR], timeout=900)
        if r.returncode != 0:
            return f"debootstrap failed: {(r.stdout + r.stderr)[-800:]}"
    shutil.copy("/etc/resolv.conf", ROOTFS / "etc" / "resolv.conf")
    subprocess.run(["mount", "-t", "proc", "proc", str(ROOTFS / "proc")], capture_output=True)
    try:
        r = _run(
            [
                "chroot",
                str(ROOTFS),
                "sh",
                "-c",
                "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
                f"--no-install-recommends {' '.join(PACKAGES)} && apt-get clean",
            ],
            timeout=900,
        )
    finally:
        subprocess.run(["umount", str(ROOTFS / "proc")], capture_output=True)
    if r.returncode != 0:
        return f"chroot apt-get install failed: {(r.stdout + r.stderr)[-800:]}"
    if TARBALL.exists():
        TARBALL.unlink()
    ROOTFS_READY.write_text("\n".join(PACKAGES))
    return None


# --------------------------------------------------------------------------- dockerd


class Dockerd:
    """A private dockerd that leaves the host network alone."""

    def __init__(self) -> None:
        self.data_root = DDIR / "data"
        self.exec_root = Path("/tmp/dlab-exec")  # short: containerd socket paths must fit sun_path
        self.pidfile = DDIR / "docker.pid"
        self.sock = DDIR / "docker.sock"
        self.log = DDIR / "dockerd.log"
        self.proc: subprocess.Popen | None = None
        self.version = ""

    def cli(self, *args: str, timeout: float = 60, **kw) -> subprocess.CompletedProcess:
        return _run([DOCKER, "-H", f"unix://{self.sock}", *args], timeout=timeout, **kw)

    def start(self) -> None:
        for p in (self.data_root, self.exec_root):
            p.mkdir(parents=True, exist_ok=True)
        cmd = [
            "dockerd",
            "--data-root",
            str(self.data_root),
            "--exec-root",
            str(self.exec_root),
            "--pidfile",
            str(self.pidfile),
            "-H",
            f"unix://{self.sock}",
            "--iptables=false",
            "--ip-forward=false",
            "--ip-masq=false",
            "--bridge=none",
        ]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        end = time.monotonic() + 40
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dockerd exited {self.proc.returncode}; see {self.log}")
            r = self.cli("version", "--format", "{{.Server.Version}}", timeout=5)
            if r.returncode == 0:
                self.version = r.stdout.strip()
                return
            time.sleep(0.5)
        raise RuntimeError(f"dockerd not answering after 40 s; see {self.log}")

    def ensure_image(self) -> None:
        if self.cli("image", "inspect", IMAGE, timeout=20).returncode == 0:
            return
        if not TARBALL.exists():
            subprocess.run(
                ["tar", "-C", str(ROOTFS), "--exclude=./proc/*", "--exclude=./sys/*"]
                + ["-cf", str(TARBALL), "."],
                check=True,
                timeout=300,
            )
        r = self.cli("import", str(TARBALL), IMAGE, timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f"docker import failed: {r.stderr[-500:]}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGTERM)  # dockerd also stops the containerd it started
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


# --------------------------------------------------------------------------- scenarios


@dataclass
class DockerScenario:
    name: str
    label: str
    description: str
    score: str = "healthy.py"
    command: tuple[str, ...] = ()  # empty: gunicorn serving app:application
    gunicorn_args: tuple[str, ...] = ()
    memory: str | None = None  # docker run -m
    restart: str | None = None  # docker run --restart
    env: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    payload: str = '{"data": [[1.0, 2.0, 3.0]]}'
    client_timeout: float = 5.0
    boot_wait: float = 15.0
    observe: float = 2.0
    wait_exit: float = 0.0  # > 0: the container is expected to stop by itself within this many seconds
    kinds: tuple[str, ...] = ("docker",)


ALLOC_PY = (
    "import os, sys\n"
    "print('loading model weights: allocating', os.environ['LAB_ALLOC_MB'], 'MiB', flush=True)\n"
    "weights = []\n"
    "for i in range(int(os.environ['LAB_ALLOC_MB']) // 16):\n"
    "    weights.append(b'\\x01' * (16 * 1024 * 1024))\n"
    "print('model loaded', flush=True)\n"
)

DOCKER_SCENARIOS = [
    DockerScenario(
        "docker-healthy",
        "healthy",
        "gunicorn in a container (--network none), liveness probe and 5 good POST /score from "
        "`docker exec`, then `docker stop`",
        requests=5,
    ),
    DockerScenario(
        "docker-oom-pid1",
        "oom_worker_reboot",
        "the container's PID 1 is a plain `python3 -c` that allocates 512 MiB under `docker run -m "
        "128m`: the kernel kills PID 1, the container exits 137 with State.OOMKilled true",
        command=("python3", "-c", ALLOC_PY),
        memory="128m",
        env={"LAB_ALLOC_MB": "512"},
        wait_exit=30,
    ),
    DockerScenario(
        "docker-oom-worker-init",
        "oom_worker_reboot",
        "gunicorn under `docker run -m 128m`, init() allocates 512 MiB: every worker is OOM-killed "
        "at boot and the master (PID 1) boots another; the container keeps running until docker stop",
        score="oom_init.py",
        memory="128m",
        env={"LAB_ALLOC_MB": "512"},
        boot_wait=6,
        observe=0,
    ),
    DockerScenario(
        "docker-oom-worker-run",
        "oom_worker_reboot",
        "gunicorn under `docker run -m 128m`, run() allocates 512 MiB per request; 3 POST /score "
        "from docker exec, each kills the worker",
        score="oom_run.py",
        memory="128m",
        env={"LAB_ALLOC_MB": "512"},
        requests=3,
        observe=3,
    ),
    DockerScenario(
        "docker-init-exception-restart",
        "init_exception",
        "init() raises ValueError; gunicorn exits 3 ('Worker failed to boot'); `--restart "
        "on-failure:3` restarts it 3 times, then the container stays exited",
        score="init_raises.py",
        restart="on-failure:3",
        wait_exit=45,
    ),
    DockerScenario(
        "docker-run-exception",
        "run_exception",
        "run() raises ValueError; 3 POST /score from docker exec answer 500",
        score="run_raises.py",
        requests=3,
        payload='{"data": [[1.0, 2.0]]}',
    ),
    DockerScenario(
        "docker-worker-timeout",
        "request_timeout",
        "run() sleeps 6 s, gunicorn --timeout 2; 2 POST /score from docker exec (client timeout 10 s)",
        score="slow_run.py",
        gunicorn_args=("--timeout", "2"),
        env={"LAB_RUN_SECONDS": "6"},
        requests=2,
        client_timeout=10.0,
        observe=3,
    ),
]

CLIENT_PY = """
import json, sys, time, urllib.request, urllib.error
method, url, n, timeout, body = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
out = []
for _ in range(n):
    t0 = time.monotonic()
    req = urllib.request.Request(url, data=body.encode() if method == "POST" else None, method=method,
                                 headers={"Content-Type": "application/json"} if method == "POST" else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            out.append({"status": r.status, "body": r.read(300).decode("utf-8", "replace")})
    except urllib.error.HTTPError as e:
        out.append({"status": e.code, "body": (e.read(300) if e.fp else b"").decode("utf-8", "replace")})
    except Exception as e:
        out.append({"status": None, "error": (type(e).__name__ + ": " + str(e))[:300]})
    out[-1]["seconds"] = round(time.monotonic() - t0, 3)
    if n > 1:
        time.sleep(0.3)
print(json.dumps(out))
"""


def _exec_http(
    dk: Dockerd, cid: str, method: str, path: str, n: int, timeout: float, body: str = ""
) -> list[dict]:
    try:
        r = dk.cli(
            "exec",
            cid,
            "python3",
            "/app/lab_client.py",
            method,
            f"http://127.0.0.1:8000{path}",
            str(n),
            str(timeout),
            body,
            timeout=n * (timeout + 1) + 10,
        )
    except subprocess.TimeoutExpired:
        return [{"status": None, "error": "docker exec timed out"}]
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return [{"status": None, "error": f"docker exec rc={r.returncode}: {r.stderr.strip()[:300]}"}]


def _state(dk: Dockerd, cid: str) -> dict:
    r = dk.cli("inspect", cid, timeout=20)
    try:
        return json.loads(r.stdout)[0]
    except (ValueError, IndexError):
        return {}


def _prepare_workdir(sc: DockerScenario) -> Path:
    workdir = CACHE / "work" / SERVER_NAME / sc.name
    if workdir.exists():
        shutil.rmtree(workdir)
    (workdir / "azureml-models" / "diabetes-model" / "1").mkdir(parents=True)
    shutil.copy(LAB_DIR / "scores" / sc.score, workdir / "score.py")
    shutil.copy(LAB_DIR / "apps" / "app.py", workdir / "app.py")
    (workdir / "lab_client.py").write_text(CLIENT_PY.lstrip())  # run with `docker exec`
    return workdir


def run_docker_scenario(
    dk: Dockerd, sc: DockerScenario, out_root: Path, write_meta, write_case, clean_case_dir
) -> dict:
    out_dir = clean_case_dir(out_root / SERVER_NAME / sc.name)
    workdir = _prepare_workdir(sc)
    name = f"dlab-{sc.name}"
    dk.cli("rm", "-f", name, timeout=30)
    env = {"PYTHONUNBUFFERED": "1", "AZUREML_MODEL_DIR": MODEL_DIR, **sc.env}
    argv = ["run", "-d", "--name", name, "--network", "none", "-v", f"{workdir}:/app", "-w", "/app"]
    if sc.memory:
        argv += ["-m", sc.memory]
    if sc.restart:
        argv += ["--restart", sc.restart]
    for k, v in env.items():
        argv += ["-e", f"{k}={v}"]
    argv.append(IMAGE)
    if sc.command:
        argv += list(sc.command)
    else:
        argv += [
            "gunicorn", "--bind", "127.0.0.1:8000", "--workers", "1", "--access-logfile", "-",
            *sc.gunicorn_args, "--chdir", "/app", "app:application",
        ]  # fmt: skip
    started = _dt.datetime.now(_dt.UTC)
    since = int(time.time()) - 1
    truth: dict = {}
    cid = ""
    try:
        # the model: a real joblib.dump made inside the image (its joblib), before the scenario starts
        mk = dk.cli(
            "run", "--rm", "--network", "none", "-v", f"{workdir}:/app", IMAGE, "python3", "-c",
            "import joblib; joblib.dump({'coef':[0.5,-1.25,2.0],'intercept':0.1,"
            f"'config':{{'name':'diabetes-model'}}}}, '{MODEL_DIR}/model.pkl')",
            timeout=60,
        )  # fmt: skip
        if mk.returncode != 0:
            raise RuntimeError(f"model dump failed: {mk.stderr[-300:]}")
        r = dk.cli(*argv, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"docker run failed: {r.stderr[-500:]}")
        cid = r.stdout.strip()
        truth["container_id"] = cid
        if sc.wait_exit:
            end = time.monotonic() + sc.wait_exit
            st = {}
            while time.monotonic() < end:
                st = _state(dk, cid).get("State", {})
                if st.get("Status") == "exited" and not st.get("Restarting"):
                    break
                time.sleep(0.5)
            truth["exited_by_itself"] = st.get("Status") == "exited"
        else:
            health = None
            end = time.monotonic() + sc.boot_wait
            while time.monotonic() < end:
                if _state(dk, cid).get("State", {}).get("Status") != "running":
                    break
                health = _exec_http(dk, cid, "GET", "/", 1, 2.0)[0]
                if health.get("status") == 200:
                    break
                time.sleep(0.3)
            truth["first_health_probe"] = health
            results = []
            if sc.requests and _state(dk, cid).get("State", {}).get("Status") == "running":
                results = _exec_http(dk, cid, "POST", "/score", sc.requests, sc.client_timeout, sc.payload)
            truth["requests"] = results
            counts: dict[str, int] = {}
            for x in results:
                key = str(x["status"]) if x.get("status") is not None else x.get("error", "?").split(":")[0]
                counts[key] = counts.get(key, 0) + 1
            truth["request_status_counts"] = counts
            time.sleep(sc.observe)
            st = _state(dk, cid).get("State", {})
            truth["running_before_stop"] = st.get("Status") == "running"
            truth["oom_killed_before_stop"] = st.get("OOMKilled")
            stop = dk.cli("stop", "-t", "5", cid, timeout=30)
            truth["stopped_with"] = (
                "docker stop -t 5" if stop.returncode == 0 else f"docker stop failed: {stop.stderr}"
            )
        time.sleep(1)  # let the last events arrive
        until = int(time.time()) + 1
        inspect = dk.cli("inspect", cid, timeout=20)
        (out_dir / "docker-inspect.json").write_text(inspect.stdout)
        info = json.loads(inspect.stdout)[0]
        st = info.get("State", {})
        keys = ("Status", "OOMKilled", "ExitCode", "Error", "StartedAt", "FinishedAt")
        truth["state"] = {k: st.get(k) for k in keys}
        truth["restart_count"] = info.get("RestartCount")
        log_path = Path(info.get("LogPath") or "")
        if log_path.is_file():
            shutil.copy(log_path, out_dir / "input.log")
            truth["json_file"] = str(log_path)
        else:
            raise RuntimeError(f"json-file log not found at {log_path!r}")
        with open(out_dir / "docker-logs.log", "w") as f:
            subprocess.run(
                [DOCKER, "-H", f"unix://{dk.sock}", "logs", "--timestamps", cid],
                stdout=f, stderr=subprocess.STDOUT, timeout=30,
            )  # fmt: skip
        ev = dk.cli(
            "events", "--since", str(since), "--until", str(until), "--filter", f"container={cid}", timeout=30
        )
        (out_dir / "docker-events.log").write_text(ev.stdout)
        truth["events"] = sorted({ln.split()[2] for ln in ev.stdout.splitlines() if len(ln.split()) > 2})
        truth["events_window"] = {"since": since, "until": until}
    finally:
        if cid or name:
            dk.cli("rm", "-f", cid or name, timeout=30)
    meta = {
        "label": sc.label,
        "scenario": sc.name,
        "description": sc.description,
        "server": "docker",
        "server_name": SERVER_NAME,
        "format": "docker",
        "version": f"dockerd {dk.version}; Debian bookworm gunicorn 20.1.0",
        "installed": {"image": IMAGE, "packages": list(PACKAGES), "dockerd": dk.version},
        "command": [DOCKER, *argv],
        "env": {k: v for k, v in env.items()},
        "knobs": {
            "memory_limit": sc.memory,
            "restart_policy": sc.restart,
            "score_script": sc.score if not sc.command else None,
            "gunicorn_args": list(sc.gunicorn_args),
            "network": "none",
            "client": "docker exec python3 urllib",
            "client_timeout_s": sc.client_timeout,
        },
        "date": started.isoformat(timespec="seconds"),
        "duration_s": round((_dt.datetime.now(_dt.UTC) - started).total_seconds(), 1),
        "log": "input.log",
        "extra_files": sorted(p.name for p in out_dir.iterdir() if p.name != "input.log"),
        "truth": truth,
    }
    write_meta(out_dir / "meta.yaml", meta)
    write_case(out_dir, meta)
    return meta


def run_all(scenarios: list[DockerScenario], out_root: Path, write_meta, write_case, clean_case_dir) -> int:
    """Start dockerd, run `scenarios`, stop dockerd. Return the number of failures."""
    dk = Dockerd()
    failures = 0
    try:
        dk.start()
        dk.ensure_image()
        for sc in scenarios:
            t0 = time.monotonic()
            try:
                meta = run_docker_scenario(dk, sc, out_root, write_meta, write_case, clean_case_dir)
                t = meta["truth"]
                print(
                    f"[lab] {SERVER_NAME:20} {sc.name:28} {time.monotonic() - t0:5.1f}s "
                    f"{t.get('request_status_counts', '')} {t.get('state')} "
                    f"restarts={t.get('restart_count')}",
                    flush=True,
                )
            except Exception as e:  # keep going
                failures += 1
                print(f"[lab] {SERVER_NAME:20} {sc.name:28} FAILED: {type(e).__name__}: {e}", flush=True)
    except Exception as e:
        failures += 1
        print(f"[lab] {SERVER_NAME}: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
    finally:
        dk.stop()
    return failures
