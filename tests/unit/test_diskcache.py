"""The start-up cache changes speed only: cached rule sets, catalogues and hyperscan databases
equal what is built from the files, and a stale, damaged or unwritable cache is never an error."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from diagnoser import diskcache
from diagnoser.detect import cache as rule_cache
from diagnoser.detect.loader import load_rules
from diagnoser.detect.regexes import LITERALS_MEMO, required_literals
from diagnoser.paths import rules_dir


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("DIAGNOSER_CACHE_DIR", str(d))
    return d


def _entries(d: Path, kind: str) -> list[Path]:
    return sorted(d.glob(f"{kind}-*.bin")) if d.is_dir() else []


def test_shipped_rules_from_the_cache_equal_the_rules_from_yaml(cache_dir, monkeypatch):
    first = load_rules()  # a miss: loads the YAML and writes the entry
    assert len(_entries(cache_dir, "rules")) == 1
    LITERALS_MEMO.clear()
    second = load_rules()  # a hit
    monkeypatch.setenv("DIAGNOSER_CACHE_DIR", "off")
    fresh = load_rules()
    assert second == fresh == first
    assert [r.path for r in second] == [r.path for r in fresh]
    # the literals the prefilter derives from each regex come back from the entry, identical
    for rule in fresh:
        for matcher in rule.matchers:
            for test in matcher.tests:
                for pattern in test.patterns:
                    memo = LITERALS_MEMO[(pattern, test.flags)]
                    LITERALS_MEMO.pop((pattern, test.flags))
                    assert memo == required_literals(pattern, test.flags)


def test_an_edited_rule_is_never_served_from_a_stale_entry(cache_dir, tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(rules_dir(), rules)
    before = {r.id: r for r in load_rules([rules])}
    target = rules / "gunicorn-worker-sigkill.yaml"
    text = target.read_text()
    target.write_text(text.replace("severity: critical", "severity: low", 1))
    after = {r.id: r for r in load_rules([rules])}
    assert before["gunicorn-worker-sigkill"].severity.value == "critical"
    assert after["gunicorn-worker-sigkill"].severity.value == "low"
    assert len(_entries(cache_dir, "rules")) == 2


def test_a_damaged_entry_is_a_miss(cache_dir):
    expected = load_rules()
    (entry,) = _entries(cache_dir, "rules")
    entry.write_bytes(b'{"rules": [{"id": 1}], "literals": []}')
    assert load_rules() == expected
    entry.write_bytes(b"\x00not json")
    assert load_rules() == expected


def test_an_unwritable_cache_directory_is_skipped(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory would go")
    monkeypatch.setenv("DIAGNOSER_CACHE_DIR", str(blocker / "cache"))
    assert load_rules()  # no error, no entry
    assert not (blocker / "cache").exists()


def test_the_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("DIAGNOSER_CACHE_DIR", "off")
    assert diskcache.cache_dir() is None
    monkeypatch.delenv("DIAGNOSER_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert diskcache.cache_dir() == tmp_path / "diagnoser"


def test_keys_cover_names_and_bytes():
    a = diskcache.key_of("rules", 1, ["x.yaml"], [b"id: a"])
    assert a == diskcache.key_of("rules", 1, ["x.yaml"], [b"id: a"])
    assert a != diskcache.key_of("rules", 1, ["y.yaml"], [b"id: a"])
    assert a != diskcache.key_of("rules", 1, ["x.yaml"], [b"id: b"])
    assert a != diskcache.key_of("rules", 2, ["x.yaml"], [b"id: a"])
    assert a != diskcache.key_of("catalogue", 1, ["x.yaml"], [b"id: a"])
    # a byte moved from one file to the next is a different set of files
    assert diskcache.key_of("k", 1, ["a", "b"], [b"xy", b"z"]) != diskcache.key_of(
        "k", 1, ["a", "b"], [b"x", b"yz"]
    )


def test_entries_are_pruned(cache_dir, monkeypatch):
    monkeypatch.setattr(diskcache, "MAX_ENTRIES", 3)
    for i in range(6):
        diskcache.write("demo", f"{i:040d}", b"x")
    assert len(_entries(cache_dir, "demo")) == 3


def test_rule_cache_format_round_trips_every_condition_shape(cache_dir, tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "shapes.yaml").write_text(
        "id: shapes\ncause: oom_worker_reboot\ntitle: t\nseverity: high\nwindow: 10m\n"
        "match:\n  a: {message|contains: SIGKILL}\n  b: {message|re|i: 'boot(ing)? worker'}\n"
        "  c: {fields.exit_code: 137}\n"
        "condition: (a then b) or (count(a) >= 2 and not c) or 2 of (a, b, c) or any of them within 5m\n"
        "examples: {positive: [SIGKILL], negative: [ok]}\n"
    )
    first = load_rules([rules])
    second = load_rules([rules])
    assert rule_cache.read(rule_cache.key_of([rules / "shapes.yaml"], [(rules / "shapes.yaml").read_bytes()]))
    assert first == second


def test_catalogue_from_the_cache_equals_the_catalogue_from_yaml(cache_dir, monkeypatch):
    from diagnoser.plan.catalogue import CATALOGUE_DIR, load_catalogue

    load_catalogue.cache_clear()
    first = load_catalogue(CATALOGUE_DIR)
    assert len(_entries(cache_dir, "catalogue")) == 1
    load_catalogue.cache_clear()
    second = load_catalogue(CATALOGUE_DIR)
    monkeypatch.setenv("DIAGNOSER_CACHE_DIR", "off")
    load_catalogue.cache_clear()
    fresh = load_catalogue(CATALOGUE_DIR)
    load_catalogue.cache_clear()
    assert first == second == fresh


def test_hyperscan_databases_from_the_cache_answer_the_same(cache_dir):
    pytest.importorskip("hyperscan")
    from diagnoser.detect.prefilter import LiteralSet, Pattern

    needles = ["sigkill", "out of memory", "worker timeout", "oomkilled", "exit code 137", "a.b"]
    texts = ["Worker (pid:9) was sent SIGKILL!", "nothing here", "a.b and OOMKilled", "aXb", ""]
    built = LiteralSet(needles, prefer="hyperscan")
    assert len(_entries(cache_dir, "hyperscan")) == 1
    loaded = LiteralSet(needles, prefer="hyperscan")
    assert [built.which(t) for t in texts] == [loaded.which(t) for t in texts]
    assert loaded.which(texts[0]) == [0]
    assert loaded.which(texts[2]) == [3, 5]
    p1, p2 = (
        Pattern(r"worker \w+ timeout", prefer="hyperscan"),
        Pattern(r"worker \w+ timeout", prefer="hyperscan"),
    )
    for t in ("WORKER (pid) TIMEOUT", "Worker abc timeout", "worker timeout"):
        assert p1.search(t) == p2.search(t)
    assert p2.search("Worker abc timeout") and not p2.search("worker timeout")
    # a damaged database is compiled again
    for entry in _entries(cache_dir, "hyperscan"):
        entry.write_bytes(b"garbage")
    again = LiteralSet(needles, prefer="hyperscan")
    assert [again.which(t) for t in texts] == [built.which(t) for t in texts]


def test_lean_rules_differ_only_in_what_the_engine_never_reads(cache_dir):
    import dataclasses

    from diagnoser.detect.rules import Examples

    full = load_rules()
    lean = load_rules(lean=True)  # the entry written by the first load
    assert len(_entries(cache_dir, "leanrules")) == 1
    assert all(r.examples == Examples() and r.keys == () for r in lean)

    def stripped(rule):
        matchers = tuple(
            dataclasses.replace(
                m, location=None, tests=tuple(dataclasses.replace(t, location=None) for t in m.tests)
            )
            for m in rule.matchers
        )
        return dataclasses.replace(
            rule, examples=Examples(), keys=(), condition_location=None, matchers=matchers
        )

    assert tuple(stripped(r) for r in full) == lean


def _only_entry(d: Path, kind: str) -> Path:
    (entry,) = _entries(d, kind)
    return entry


def _rules_in_a_child(cache_dir: Path) -> int:
    """Load the shipped rules in a child with bounded time and memory: a hang or a runaway read fails."""
    code = (
        "import resource; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)); "
        "from diagnoser.detect.loader import load_rules; print(len(load_rules()))"
    )
    env = {**os.environ, "DIAGNOSER_CACHE_DIR": str(cache_dir)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


def test_a_fifo_in_place_of_an_entry_is_a_miss_not_a_hang(cache_dir):
    expected = len(load_rules())
    entry = _only_entry(cache_dir, "rules")
    entry.unlink()
    os.mkfifo(entry)  # nobody writes to it: a blocking open or read waits for ever
    assert _rules_in_a_child(cache_dir) == expected
    assert entry.is_file() and not entry.is_fifo()  # the miss rebuilt the entry in its place
    assert _rules_in_a_child(cache_dir) == expected
    entry.unlink()
    os.mkfifo(entry)
    assert diskcache.read("rules", entry.stem.split("-", 1)[1]) is None


def test_a_symlinked_entry_is_never_followed(cache_dir, tmp_path):
    expected = len(load_rules())
    entry = _only_entry(cache_dir, "rules")
    key = entry.stem.split("-", 1)[1]
    good = tmp_path / "good.bin"
    good.write_bytes(entry.read_bytes())
    entry.unlink()
    entry.symlink_to("/dev/zero")  # read_bytes() on this grew to 24 GB
    assert _rules_in_a_child(cache_dir) == expected
    assert not entry.is_symlink() and entry.is_file()
    assert good.read_bytes() == entry.read_bytes()  # rebuilt alike
    entry.unlink()
    entry.symlink_to(good)  # even a link to a good entry: what it points at is not the cache's
    assert diskcache.read("rules", key) is None


def test_an_entry_over_the_size_cap_is_a_miss(cache_dir, monkeypatch):
    diskcache.write("demo", "k" * 40, b"x" * 100)
    assert diskcache.read("demo", "k" * 40) == b"x" * 100
    monkeypatch.setattr(diskcache, "MAX_ENTRY_BYTES", 99)
    assert diskcache.read("demo", "k" * 40) is None
    diskcache.write("demo", "j" * 40, b"y" * 100)  # never written: it could not be read back
    assert not (cache_dir / f"demo-{'j' * 40}.bin").exists()


def test_a_leftover_temporary_file_is_replaced_not_written_through(cache_dir, tmp_path):
    cache_dir.mkdir()
    target = tmp_path / "elsewhere"
    target.write_bytes(b"keep me")
    tmp = cache_dir / f".demo-{'k' * 40}.{os.getpid()}.tmp"
    tmp.symlink_to(target)
    diskcache.write("demo", "k" * 40, b"data")
    assert diskcache.read("demo", "k" * 40) == b"data"
    assert target.read_bytes() == b"keep me"
