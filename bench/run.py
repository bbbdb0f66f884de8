"""Benchmark diagnose against grep -cE on the same file, in one run; print ratios.

    python bench/run.py --size-mb 50          # CI size
    python bench/run.py --size-gb 1           # the 1 GB budget; --size-gb 10 for 10 GB
    python bench/run.py --size-gb 1 --rss-vs-mb 200   # also peak RSS at a second size, and the ratio

Measures: diagnose wall time, MB/s and peak RSS (as run, which on 2+ cores parses in a second
process, and with --jobs 1; every run with the start-up cache filled first); `grep -cE` with the
union of the rules' patterns (translated to POSIX ERE where they can be, their required literals
otherwise); Drain3 lines/s on the first lines of the same file as a peer reference (when drain3 is
installed); start-up of `diagnose` on a 50-line log against `python -c pass` from the same interpreter.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import VERSION, generate  # noqa: E402
from diagnoser.parse.worker import cores  # noqa: E402

CACHE = Path(os.environ.get("DIAGNOSER_BENCH_DIR", Path(tempfile.gettempdir()) / "diagnoser-bench"))
TIME = "/usr/bin/time"


def _to_ere(pattern: str) -> str | None:
    """Translate a Python regex to POSIX ERE, or None when it uses what ERE lacks."""
    if re.search(r"\(\?[=!<]|\(\?>|\\[AZz]|\*\?|\+\?|\?\?|\{\d+,?\d*\}\?", pattern):
        return None
    ere = re.sub(r"\(\?P<\w+>", "(", pattern)
    ere = ere.replace("(?:", "(")
    ere = re.sub(r"^\(\?i\)", "", ere)
    if "(?" in ere:
        return None
    for a, b in ((r"\d", "[0-9]"), (r"\s", "[[:space:]]"), (r"\S", "[^[:space:]]"), (r"\w", "[[:alnum:]_]")):
        ere = ere.replace(a, b)
    return ere


def grep_patterns() -> list[str]:
    """Return the union of the shipped rules' text patterns as ERE (literals where ERE cannot say it)."""
    from diagnoser.detect import load_rules
    from diagnoser.detect.index import test_needles

    out: list[str] = []
    for rule in load_rules():
        for matcher in rule.matchers:
            for test in matcher.tests:
                if test.field not in ("message", "text"):
                    continue
                if test.op.value == "re":
                    for rx in test.regexes:
                        ere = _to_ere(rx.pattern)
                        if ere is not None:
                            out.append(ere)
                        else:
                            out.extend(re.escape(n) for n in test_needles(test) or ())
                else:
                    out.extend(re.escape(str(v)) for v in test.values)
    return sorted(set(out))


def _timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Run cmd under GNU time; return (wall seconds, peak RSS kB, stdout)."""
    with tempfile.NamedTemporaryFile("r") as tf, open(os.devnull, "rb") as stdin:
        proc = subprocess.run(
            [TIME, "-f", "%e %M", "-o", tf.name, *cmd],
            stdin=stdin,
            capture_output=True,
            timeout=7200,
            env=env,
        )
        wall, rss = tf.read().split()[-2:]
    return float(wall), int(rss), proc.stdout.decode(errors="replace")


def drain3_rate(path: Path, lines: int = 200_000) -> float | None:
    """Return Drain3's lines per second on the first lines of `path`, or None without drain3."""
    try:
        from drain3 import TemplateMiner
    except ImportError:
        return None
    import logging

    logging.getLogger("drain3").setLevel(logging.ERROR)
    with contextlib.redirect_stdout(io.StringIO()):  # drain3 prints "Config file not found" when it has none
        miner = TemplateMiner()
    with open(path, encoding="utf-8", errors="replace") as fh:
        batch = list(itertools.islice(fh, lines))
    lines = len(batch)
    start = time.perf_counter()
    for line in batch:
        miner.add_log_message(line.rstrip("\n"))
    return lines / (time.perf_counter() - start)


def startup(repeat: int = 5) -> tuple[float, float, float]:
    """Return median seconds of `diagnose` on a 50-line log (warm), of `python -c pass`, and one cold run.

    Like an installed package (pip compiles bytecode at install), the package's bytecode is
    compiled first: this environment sets PYTHONDONTWRITEBYTECODE, so an editable install would
    otherwise recompile every module on every run. "Cold" is the first run with an empty start-up
    cache (diagnoser/diskcache.py); the median is over runs after it, as a user sees from the second
    run on.
    """
    import compileall

    compileall.compile_dir(str(Path(__file__).resolve().parent.parent / "diagnoser"), quiet=1)
    small = CACHE / "startup-50.log"
    with open(generate(CACHE / f"startup-src-v{VERSION}.log", 1 << 16)) as src:
        small.write_text("".join(next(src) for _ in range(50)))
    cmd = [sys.executable, "-m", "diagnoser", str(small)]
    with tempfile.TemporaryDirectory() as empty:
        env = {**os.environ, "DIAGNOSER_CACHE_DIR": empty}
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, timeout=120, env=env)
        cold = time.perf_counter() - t
        runs_d, runs_p = [], []
        for _ in range(repeat):
            t = time.perf_counter()
            subprocess.run(cmd, capture_output=True, timeout=120, env=env)
            runs_d.append(time.perf_counter() - t)
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], capture_output=True, timeout=120)
            runs_p.append(time.perf_counter() - t)
    return statistics.median(runs_d), statistics.median(runs_p), cold


def _warm_cache(directory: str) -> dict[str, str]:
    """Return an environment whose start-up cache is filled, so every measured run reads it alike.

    A first run with an empty cache builds it (rules from YAML, the hyperscan databases, the fix
    plans) and peaks at ~45 MB instead of ~27 MB: comparing one cold run with a warm one measured
    the cache, not the input. The bundled example has a diagnosis, so the fix plans are cached too.
    """
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "DIAGNOSER_CACHE_DIR": directory}
    example = str(root / "examples" / "oom-gunicorn.log")
    subprocess.run([sys.executable, "-m", "diagnoser", example], capture_output=True, timeout=120, env=env)
    return env


def _input(size_mb: float) -> Path:
    """Return the generated benchmark log of about `size_mb` MB (cached between runs)."""
    return generate(CACHE / f"mixed-v{VERSION}-{size_mb:g}mb.log", int(size_mb * 2**20))


def main() -> int:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=float, default=50)
    ap.add_argument(
        "--size-gb", type=float, help="size in GB (overrides --size-mb): 1 and 10 are the budgets"
    )
    ap.add_argument(
        "--rss-vs-mb", type=float, help="also run diagnose on a log of this size and compare peak RSS"
    )
    ap.add_argument("--no-drain3", action="store_true")
    args = ap.parse_args()
    size_mb = args.size_gb * 1024 if args.size_gb else args.size_mb
    path = _input(size_mb)
    mb = path.stat().st_size / 2**20
    patterns = CACHE / "patterns.ere"
    patterns.write_text("\n".join(grep_patterns()) + "\n")
    cache = tempfile.TemporaryDirectory(prefix="diagnoser-bench-cache-")  # removed when main returns
    env = _warm_cache(cache.name)
    d_wall, d_rss, _ = _timed([sys.executable, "-m", "diagnoser", "--json", str(path)], env)
    s_wall, s_rss, _ = _timed([sys.executable, "-m", "diagnoser", "--jobs", "1", "--json", str(path)], env)
    g_wall, g_rss, g_out = _timed(["grep", "-cE", "-f", str(patterns), str(path)])
    rate = None if args.no_drain3 else drain3_rate(path)
    s_d, s_p, s_cold = startup(repeat=11)
    lines = sum(1 for _ in open(path, "rb"))
    rows = [
        ("input", f"{mb:.0f} MB, {lines} lines; {cores()} cores"),
        ("diagnose", f"{d_wall:.2f} s, {mb / d_wall:.1f} MB/s, peak RSS {d_rss / 1024:.0f} MB"),
        (
            "diagnose --jobs 1 (one process)",
            f"{s_wall:.2f} s, {mb / s_wall:.1f} MB/s, peak RSS {s_rss / 1024:.0f} MB",
        ),
        (
            "grep -cE (rules' union)",
            f"{g_wall:.2f} s, {mb / max(g_wall, 0.01):.1f} MB/s, {g_out.strip()} matching lines",
        ),
        (
            "throughput ratio diagnose/grep",
            f"{g_wall / d_wall:.3f}x (budget >= 1.0x); one process: {g_wall / s_wall:.3f}x",
        ),
        ("diagnose lines/s", f"{lines / d_wall:,.0f} lines/s"),
        (
            "drain3 (peer reference)",
            f"{rate:,.0f} lines/s on the first 200,000 lines" if rate else "not installed",
        ),
        (
            "start-up diagnose / python -c pass",
            f"{s_d * 1000:.0f} ms / {s_p * 1000:.0f} ms = {s_d / s_p:.2f}x (budget <= 3x; "
            f"first run, empty cache: {s_cold * 1000:.0f} ms)",
        ),
    ]
    if args.rss_vs_mb:
        other = _input(args.rss_vs_mb)
        o_wall, o_rss, _ = _timed([sys.executable, "-m", "diagnoser", "--json", str(other)], env)
        rows.append(
            (
                f"peak RSS {mb:.0f} MB vs {args.rss_vs_mb:.0f} MB input",
                f"{d_rss / 1024:.0f} MB / {o_rss / 1024:.0f} MB = {d_rss / o_rss:.3f}x"
                " (budget <= 1.10x, < 150 MB)",
            )
        )
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k:<{width}}  {v}" for k, v in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
