"""Generate a large, realistic mixed log with rare failures, deterministically (seeded).

Lines follow the formats the lab recorded from real servers (corpus/cases/lab): gunicorn error
and access lines, azmlinfsrv request lines, kubelet klog lines, Docker json-file lines. Rare
failures recur every FAILURE_EVERY lines (about 1 in 50,000 lines is part of one), rotating over an
OOM-killed worker rebooting, a scoring traceback, a burst of 503s and a kubelet back-off, so the
prefilter has candidates to find and multi-line records to keep whole at any size.
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2026, 11, 1, tzinfo=UTC)


FAILURE_EVERY = 200_000


def _failure(kind: int, i: int, ts: datetime):
    """Yield the lines of one rare failure."""
    g = ts.strftime("%Y-%m-%d %H:%M:%S +0000")
    if kind == 0:  # OOM-killed workers rebooting (gunicorn error log)
        for k in range(4):
            yield f"[{g}] [1] [ERROR] Worker (pid:{900 + k}) was sent SIGKILL! Perhaps out of memory?"
            yield f"[{g}] [{901 + k}] [INFO] Booting worker with pid: {901 + k}"
    elif kind == 1:  # an exception in run() (azmlinfsrv), a multi-line traceback
        stamp = ts.strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
        yield f"{stamp} E [41] azmlinfsrv - Encountered Exception: Traceback (most recent call last):"
        yield '  File "/var/azureml-server/synchronous/routes.py", line 90, in run_scoring'
        yield "    response, time_taken_ms = invoke_user_with_timer(service_input, request_headers)"
        yield '  File "/var/azureml-app/score.py", line 31, in run'
        yield "    data = np.array(json.loads(raw_data)['data'])"
        yield "KeyError: 'data'"
    elif kind == 2:  # overload: a run of 503s among the 200s
        stamp = ts.strftime("%d/%b/%Y:%H:%M:%S +0000")
        for k in range(30):
            yield f'10.244.1.{k} - - [{stamp}] "POST /score HTTP/1.1" 503 19 "-" "python-requests/2.31.0"'
    else:  # kubelet restarting a crashing container
        k = ts.strftime("%m%d %H:%M:%S.%f")
        for _ in range(3):
            yield (
                f'E{k}    2211 pod_workers.go:1298] "Error syncing pod, skipping"'
                f' err="failed to \\"StartContainer\\" '
                f'for \\"web\\" with CrashLoopBackOff: \\"back-off 5m0s restarting failed container=web\\"" '
                f'pod="default/web-{i % 9}"'
            )


def _lines(rng: random.Random, n: int):
    """Yield n log lines: mostly healthy traffic, a rare failure every FAILURE_EVERY lines."""
    for i in range(n):
        ts = START + timedelta(milliseconds=7 * i)
        r = rng.random()
        if i % FAILURE_EVERY == FAILURE_EVERY // 2:
            yield from _failure(i // FAILURE_EVERY % 4, i, ts)
            continue
        if r < 0.40:
            stamp = ts.strftime("%d/%b/%Y:%H:%M:%S +0000")
            status = 200 if rng.random() > 0.001 else 404
            yield (
                f'10.244.{i % 7}.{i % 250} - - [{stamp}] "POST /score HTTP/1.1" {status}'
                f' {rng.randint(20, 900)} "-" "python-requests/2.31.0"'
            )
        elif r < 0.65:
            stamp = ts.strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
            yield (
                f"{stamp} I [{40 + i % 4}] azmlinfsrv - POST /score 200 {rng.uniform(0.2, 900):.3f}ms"
                f" {rng.randint(10, 99)}"
            )
        elif r < 0.80:
            inner = f"[{ts.strftime('%Y-%m-%d %H:%M:%S +0000')}] [{40 + i % 4}] [DEBUG] POST /score"
            yield json.dumps(
                {"log": inner + "\n", "stream": "stderr", "time": ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
            )
        elif r < 0.92:
            k = ts.strftime("%m%d %H:%M:%S.%f")
            yield (
                f'I{k}    2211 kubelet.go:2456] "SyncLoop (PLEG): event for pod"'
                f' pod="default/web-{i % 9}" event={{"ID":"{i:x}","Type":"ContainerStarted"}}'
            )
        else:
            yield (
                f"{ts.strftime('%Y-%m-%d %H:%M:%S,%f')[:-3]} I [{40 + i % 4}] azmlinfsrv.user_script -"
                f" run() input shape (1, {i % 64})"
            )


VERSION = 2  # bump when the lines change: cached files carry it in their name


def generate(path: Path, size_bytes: int, seed: int = 7) -> Path:
    """Write about `size_bytes` of log to `path` (reused when it already has that size) and return it."""
    if path.exists() and path.stat().st_size >= size_bytes:
        return path
    tmp = path.with_suffix(path.suffix + ".part")
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with open(tmp, "w", encoding="utf-8") as fh:
        block: list[str] = []
        for line in _lines(rng, 1 << 62):
            block.append(line)
            if len(block) >= 10000:
                text = "\n".join(block) + "\n"
                fh.write(text)
                written += len(text)
                block.clear()
                if written >= size_bytes:
                    break
    tmp.replace(path)
    return path


def main() -> None:
    """Command line: generate.py SIZE_MB PATH."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("size_mb", type=float)
    ap.add_argument("path", type=Path)
    args = ap.parse_args()
    generate(args.path, int(args.size_mb * 2**20))


if __name__ == "__main__":
    main()
