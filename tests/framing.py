"""Wrap a log recorded from a real server in the framings container runtimes add around it.

Docker's json-file driver writes `{"log": "<line>\\n", "stream": "...", "time": "<RFC3339Nano>"}`
(https://docs.docker.com/engine/logging/drivers/json-file/); containerd / CRI-O write
`<RFC3339Nano> <stream> <P|F> <line>` (the CRI logging format read by `kubectl logs` on the node);
`kubectl logs --prefix` prepends `[pod/<pod>/<container>] `.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

START = datetime(2024, 3, 5, 9, 14, 2, 123456, tzinfo=UTC)


def _stamp(i: int) -> str:
    """Return an RFC3339Nano timestamp for line i."""
    ts = START + timedelta(milliseconds=37 * i)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


def docker_json(text: str, stream: str = "stderr") -> str:
    """Return `text` as Docker json-file lines."""
    return "".join(
        json.dumps({"log": line + "\n", "stream": stream, "time": _stamp(i)}) + "\n"
        for i, line in enumerate(text.splitlines())
    )


def cri(text: str, stream: str = "stderr") -> str:
    """Return `text` as CRI container log lines."""
    return "".join(f"{_stamp(i)} {stream} F {line}\n" for i, line in enumerate(text.splitlines()))


def kubectl_prefix(text: str, pod: str = "web-7d9c5b6f4-x2x9q", container: str = "web") -> str:
    """Return `text` as `kubectl logs --prefix` prints it."""
    return "".join(f"[pod/{pod}/{container}] {line}\n" for line in text.splitlines())


FRAMINGS = {"raw": lambda t: t, "docker-json": docker_json, "cri": cri, "kubectl-prefix": kubectl_prefix}
