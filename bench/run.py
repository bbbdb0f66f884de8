"""Benchmark diagnose as a user runs it, against the baseline a user compares with, in one run.

    python bench/run.py                           # 200 MB and 1 GB, start-up; the budgets' run
    python bench/run.py --sizes 20M --rss-sizes ""  # what CI prints
    python bench/run.py --rss-sizes 1G,10G        # also peak RSS at 1 GB and 10 GB, and their ratio

What it measures (design budgets, ../shared/DESIGN.md and issue 16):
- throughput of `diagnose --json FILE` and of `cat FILE | diagnose --json` on a generated mixed log
  (bench/generate.py), against `LC_ALL=C grep -cE` with the 22 fixed failure patterns below writing
  to a file (with stdout on /dev/null GNU grep stops at the first match); ratios >= 1.0 meet it;
- peak RSS of both ways in at each size, and from the first RSS size to the last;
- start-up of `diagnose` on a real 50-line log (bench/startup-50.log: the lab's recording of a
  healthy Azure ML inference server start answering requests) against `python -c pass` of the same
  interpreter: the median of warm runs (start-up cache filled), and the first run with an empty
  cache. Each run is a new process.

diagnose runs from a venv made by `pip install .` of this checkout (built once under the bench
cache, rebuilt when the package's files change); `--here` uses the interpreter running this script.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import VERSION, generate  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("DIAGNOSER_BENCH_DIR", Path(tempfile.gettempdir()) / "diagnoser-bench"))
TIME = "/usr/bin/time"
STARTUP_LOG = ROOT / "bench" / "startup-50.log"
# The baseline (issue 16): exactly these, as one extended regex.
PATTERNS = (
    r"WORKER TIMEOUT|was sent SIGKILL|terminated due to signal 9|Worker failed to boot|OOMKilled|"
    r"CrashLoopBackOff|Back-off restarting failed container|CUDA out of memory|"
    r"Traceback \(most recent call last\)|MemoryError|Killed process [0-9]+|ImagePullBackOff|"
    r"ErrImagePull|Liveness probe failed|Readiness probe failed|No such file or directory|"
    r"ModuleNotFoundError: No module named|Address already in use|exited with code [0-9]+|"
    r"init function failed|Scoring timeout after [0-9]+ ms|Insufficient (cpu|memory|nvidia)"
)


def parse_size(text: str) -> int:
    """Return bytes for '200M', '1G', '10G', '512K' or a plain number of bytes."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?)B?\s*", text, re.I)
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (write e.g. 200M or 1G)")
    return int(float(m[1]) * {"": 1, "K": 2**10, "M": 2**20, "G": 2**30}[m[2].upper()])


def _sizes(text: str) -> list[int]:
    return [parse_size(s) for s in text.split(",") if s.strip()]


def _label(size: int) -> str:
    return f"{size / 2**30:g} GB" if size >= 2**30 else f"{size / 2**20:g} MB"


def _package_digest() -> str:
    """Return a digest of what `pip install .` installs, so the venv is rebuilt when it changes."""
    h = hashlib.sha256()
    for path in sorted([ROOT / "pyproject.toml", *ROOT.glob("diagnoser/**/*"), *ROOT.glob("rules/*")]):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(ROOT)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def user_venv() -> Path:
    """Return the bin/ of a venv made by `pip install .` of this checkout (built when missing or stale)."""
    venv = CACHE / "venv"
    stamp = venv / "diagnoser-bench.stamp"
    digest = _package_digest()
    if stamp.exists() and stamp.read_text() == digest:
        return venv / "bin"
    shutil.rmtree(venv, ignore_errors=True)
    print(f"building {venv} with `pip install .` ...", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    with tempfile.TemporaryDirectory() as copy:  # a copy: pip must not write build/ into the checkout
        src = Path(copy) / "src"
        shutil.copytree(
            ROOT, src, ignore=shutil.ignore_patterns(".git", "*.egg-info", "build", "__pycache__", "corpus")
        )
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, str(src)], check=True)
    stamp.write_text(digest)
    return venv / "bin"


def _timed(shell: str, env: dict[str, str] | None = None) -> tuple[float, int]:
    """Run a shell command under GNU time; return (wall seconds, peak RSS kB of its largest process)."""
    with tempfile.NamedTemporaryFile("r") as tf:
        subprocess.run(
            [TIME, "-f", "%e %M", "-o", tf.name, "sh", "-c", shell],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=6 * 3600,
            env=env,
        )
        wall, rss = tf.read().split()[-2:]
    return float(wall), int(rss)


def _q(path: Path | str) -> str:
    return "'" + str(path).replace("'", "'\\''") + "'"


WAYS = ("file", "stdin")


def throughput(
    bin_dir: Path, path: Path, env: dict[str, str], out: Path, ways: tuple[str, ...] = WAYS
) -> dict[str, tuple[float, int]]:
    """Return {way: (seconds, peak RSS kB)} for grep and `diagnose FILE` / `cat FILE | diagnose`."""
    diagnose = _q(bin_dir / "diagnose")
    runs = {
        "grep": f"LC_ALL=C grep -cE {_q(PATTERNS)} {_q(path)} > {_q(out)}",
        "file": f"{diagnose} --json {_q(path)} > {_q(out)}",
        "stdin": f"cat {_q(path)} | {diagnose} --json > {_q(out)}",
    }
    return {way: _timed(cmd, env) for way, cmd in runs.items() if way == "grep" or way in ways}


def startup(bin_dir: Path, repeat: int) -> tuple[float, float, float]:
    """Return median seconds of `diagnose` on the 50-line log (warm cache) and of `python -c pass`,
    and the seconds of the first run with an empty cache."""
    diagnose = [str(bin_dir / "diagnose"), str(STARTUP_LOG)]
    python = [str(bin_dir / "python"), "-c", "pass"]

    def run(cmd: list[str], env: dict[str, str]) -> float:
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, env=env)
        return time.perf_counter() - t

    with tempfile.TemporaryDirectory() as empty:
        env = {**os.environ, "DIAGNOSER_CACHE_DIR": empty}
        cold = run(diagnose, env)
        d = [run(diagnose, env) for _ in range(repeat)]
        p = [run(python, env) for _ in range(repeat)]
    return statistics.median(d), statistics.median(p), cold


def crash_loop(path: Path, size: int) -> Path:
    """Write (once) a gunicorn crash loop of about `size` bytes: worker timeouts, kills and reboots, the
    failure-dense log issue 18 measured at 3-3.5x the mix's cost per MB."""
    if path.is_file() and path.stat().st_size >= size:
        return path
    with path.open("w") as out:
        written, pid, second = 0, 100, 0
        while written < size:
            stamp = (
                f"[2024-03-05 {10 + second // 3600 % 12:02d}:{second // 60 % 60:02d}:{second % 60:02d} +0000]"
            )
            lines = (
                f"{stamp} [1] [CRITICAL] WORKER TIMEOUT (pid:{pid})\n"
                f"{stamp} [1] [ERROR] Worker (pid:{pid}) was sent SIGKILL! Perhaps out of memory?\n"
                f"{stamp} [1] [INFO] Booting worker with pid: {pid + 1}\n"
            )
            out.write(lines)
            written += len(lines)
            pid += 1
            second += 7
    return path


def main() -> int:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=_sizes, default=_sizes("200M,1G"), help="throughput sizes (200M,1G)")
    ap.add_argument("--rss-sizes", type=_sizes, default=[], help="peak RSS sizes, e.g. 1G,10G")
    ap.add_argument(
        "--ways", default=",".join(WAYS), help="ways in to time: file, stdin or both (file,stdin)"
    )
    ap.add_argument("--here", action="store_true", help="use this interpreter's diagnose, not a pip venv")
    ap.add_argument("--repeat", type=int, default=11, help="start-up runs to take the median of")
    args = ap.parse_args()
    ways = tuple(w for w in args.ways.split(",") if w in WAYS) or WAYS
    bin_dir = Path(sys.executable).parent if args.here else user_venv()
    version = subprocess.run(
        [str(bin_dir / "python"), "-c", "import diagnoser; print(diagnoser.__version__)"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    cache = tempfile.TemporaryDirectory(prefix="diagnoser-bench-cache-")
    env = {**os.environ, "DIAGNOSER_CACHE_DIR": cache.name}
    subprocess.run([str(bin_dir / "diagnose"), str(STARTUP_LOG)], capture_output=True, env=env)  # fill it
    rows = [("diagnose", f"{version} from {bin_dir.parent}; {os.cpu_count()} cores")]
    out = CACHE / "out.txt"
    rss: dict[int, int] = {}
    for size in sorted(set(args.sizes) | set(args.rss_sizes)):
        path = generate(CACHE / f"mixed-v{VERSION}-{size}.log", size)
        mb = path.stat().st_size / 1e6
        runs = throughput(bin_dir, path, env, out, ways)
        g = runs["grep"][0]
        rss[size] = max(runs[way][1] for way in ways)
        for way, name in (("file", "diagnose FILE"), ("stdin", "cat FILE | diagnose")):
            if way not in runs:
                continue
            wall, peak = runs[way]
            rows.append(
                (
                    f"{_label(size)}: {name}",
                    f"{wall:.2f} s, {mb / wall:.1f} MB/s, {g / wall:.3f}x grep (budget >= 1.0x), "
                    f"peak RSS {peak / 1024:.0f} MB",
                )
            )
        rows.append((f"{_label(size)}: grep -cE (22 patterns)", f"{g:.2f} s, {mb / max(g, 1e-3):.0f} MB/s"))
    if args.sizes:  # a crash loop's log (nearly every line a failure) against the mix, per MB
        size = min(args.sizes)
        mix = generate(CACHE / f"mixed-v{VERSION}-{size}.log", size)
        dense = crash_loop(CACHE / f"crash-loop-v{VERSION}-{size}.log", size)
        per_mb = {}
        for path in (mix, dense):
            wall, _ = throughput(bin_dir, path, env, out, ("file",))["file"]
            per_mb[path] = wall / (path.stat().st_size / 1e6)
        rows.append(
            (
                f"{_label(size)}: crash loop, diagnose FILE",
                f"{per_mb[dense]:.3f} s/MB against the mix's {per_mb[mix]:.3f} s/MB = "
                f"{per_mb[dense] / per_mb[mix]:.2f}x (budget <= 1.5x)",
            )
        )
    if len(args.rss_sizes) >= 2:
        lo, hi = min(args.rss_sizes), max(args.rss_sizes)
        rows.append(
            (
                f"peak RSS {_label(lo)} -> {_label(hi)}",
                f"{rss[lo] / 1024:.0f} MB -> {rss[hi] / 1024:.0f} MB = {rss[hi] / rss[lo]:.3f}x "
                "(budget < 150 MB, <= 1.10x)",
            )
        )
    d, p, cold = startup(bin_dir, args.repeat)
    rows.append(
        (
            "start-up on bench/startup-50.log",
            f"{d * 1000:.0f} ms / python -c pass {p * 1000:.0f} ms = {d / p:.2f}x (budget <= 3x); "
            f"first run, empty cache: {cold * 1000:.0f} ms = {cold / p:.2f}x",
        )
    )
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k:<{width}}  {v}" for k, v in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
