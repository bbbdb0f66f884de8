"""The prefilter is safe in threads (the cluster scan diagnoses workloads four at a time): hyperscan's
scratch space serves one scan at a time, so each thread scans with its own."""

from __future__ import annotations

import threading

import pytest

from diagnoser.detect.prefilter import LiteralSet, Pattern, _hyperscan, _re2


@pytest.mark.parametrize(
    "backend", [b for b, there in (("hyperscan", _hyperscan()), ("re2", _re2()), ("re", True)) if there]
)
def test_scans_in_many_threads_at_once(backend):
    literals = LiteralSet(["killed", "oom"], prefer=backend)
    pattern = Pattern("out of memory", prefer=backend)
    errors: list[str] = []

    def scan() -> None:
        try:
            for _ in range(5000):
                assert literals.which("process Killed by OOM") == [0, 1]
                assert pattern.search("x out of memory y")
                assert not pattern.search("all is well")
        except Exception as exc:  # noqa: BLE001 - every failure is collected and shown
            errors.append(repr(exc))

    threads = [threading.Thread(target=scan) for _ in range(4)]
    for t in threads:
        t.start()
    scan()
    for t in threads:
        t.join()
    assert errors == []
