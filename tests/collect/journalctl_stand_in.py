"""A journalctl stand-in for the journald collector's fault tests; FAKE_JOURNALCTL says how it misbehaves.

A real journal cannot be made to print slowly forever or to hold hundreds of megabytes in a test's
time; this prints `journalctl -o json` lines about the service `mysvc` the way it is told:

- `trickle`: one entry about the service every 0.25 s, for 30 s at most (a collector without a
  deadline fails, not hangs);
- `huge:N`: N MiB of entries about other pods as fast as the pipe takes, then three about `mysvc`;
- `many:N`: N MiB of entries about `mysvc`, numbered, the newest last.
"""

from __future__ import annotations

import json
import os
import sys
import time

ABOUT = (
    'Error syncing pod, skipping: failed to "StartContainer" for "mysvc" with CrashLoopBackOff: '
    '"back-off 5m0s restarting failed container=mysvc pod=mysvc-7d9c8b5f4-x2kqp" ({n})'
)
OTHER = 'Probe succeeded for pod "billing-5f6d7c8b9-abcde" container "billing" ' + "." * 900


def entry(n: int, message: str) -> bytes:
    """Return one kubelet entry as `journalctl -o json` prints it."""
    fields = {
        "__REALTIME_TIMESTAMP": str(1709632800_000000 + n),
        "_SYSTEMD_UNIT": "kubelet.service",
        "SYSLOG_IDENTIFIER": "kubelet",
        "_TRANSPORT": "stdout",
        "MESSAGE": message.format(n=n),
    }
    return json.dumps(fields).encode() + b"\n"


def main() -> None:
    """Print as FAKE_JOURNALCTL says."""
    mode, _, size = os.environ["FAKE_JOURNALCTL"].partition(":")
    out = sys.stdout.buffer
    if mode == "trickle":
        end = time.monotonic() + 30
        n = 0
        while time.monotonic() < end:
            out.write(entry(n, ABOUT))
            out.flush()
            n += 1
            time.sleep(0.25)
        return
    budget = int(size) * 2**20
    if mode == "huge":
        block = b"".join(entry(n, OTHER) for n in range(1000))
        for _ in range(budget // len(block)):
            out.write(block)
        for n in range(3):
            out.write(entry(10**9 + n, ABOUT))
        return
    n = 0
    while budget > 0:
        line = entry(n, ABOUT)
        out.write(line)
        budget -= len(line)
        n += 1


if __name__ == "__main__":
    main()
