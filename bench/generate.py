"""Generate a large, realistic mixed log with rare failures, deterministically (seeded).

Lines follow the formats the lab recorded from real servers (corpus/cases/lab): gunicorn error
and access lines, azmlinfsrv request lines, kubelet klog lines, Docker json-file lines; one
failure burst (an OOM-killed worker rebooting) sits in the middle so the engine has work to do.
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

START = datetime(2026, 11, 1, tzinfo=timezone.utc)


def _lines(rng: random.Random, n: int):
    """Yield n log lines: mostly healthy traffic, one failure burst in the middle."""
    burst_at = n // 2
    for i in range(n):
        ts = START + timedelta(milliseconds=7 * i)
        r = rng.random()
        if i == burst_at:
            g = ts.strftime("%Y-%m-%d %H:%M:%S +0000")
            for k in range(4):
                yield f"[{g}] [1] [ERROR] Worker (pid:{900 + k}) was sent SIGKILL! Perhaps out of memory?"
                yield f"[{g}] [{901 + k}] [INFO] Booting worker with pid: {901 + k}"
            continue
        if r < 0.40:
            stamp = ts.strftime("%d/%b/%Y:%H:%M:%S +0000")
            status = 200 if rng.random() > 0.001 else 404
            yield f'10.244.{i % 7}.{i % 250} - - [{stamp}] "POST /score HTTP/1.1" {status} {rng.randint(20, 900)} "-" "python-requests/2.31.0"'
        elif r < 0.65:
            stamp = ts.strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
            yield f"{stamp} I [{40 + i % 4}] azmlinfsrv - POST /score 200 {rng.uniform(0.2, 900):.3f}ms {rng.randint(10, 99)}"
        elif r < 0.80:
            inner = f"[{ts.strftime('%Y-%m-%d %H:%M:%S +0000')}] [{40 + i % 4}] [DEBUG] POST /score"
            yield json.dumps({"log": inner + "\n", "stream": "stderr", "time": ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")})
        elif r < 0.92:
            k = ts.strftime("%m%d %H:%M:%S.%f")
            yield f'I{k}    2211 kubelet.go:2456] "SyncLoop (PLEG): event for pod" pod="default/web-{i % 9}" event={{"ID":"{i:x}","Type":"ContainerStarted"}}'
        else:
            yield f"{ts.strftime('%Y-%m-%d %H:%M:%S,%f')[:-3]} I [{40 + i % 4}] azmlinfsrv.user_script - run() input shape (1, {i % 64})"


def generate(path: Path, size_bytes: int, seed: int = 7) -> Path:
    """Write about `size_bytes` of log to `path` (reused when it already has that size) and return it."""
    if path.exists() and path.stat().st_size >= size_bytes:
        return path
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with open(path, "w", encoding="utf-8") as fh:
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
