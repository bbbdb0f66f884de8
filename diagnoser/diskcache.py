"""A small on-disk cache of what start-up would otherwise rebuild on every run.

Starting `diagnose` used to cost several times what starting Python costs, most of it rebuilding
the same things from the same files: rules from YAML (pyparsing, regex checks), the catalogue
from YAML, hyperscan databases from the rules' literals. Each is stored here once, under a key
that hashes everything it was built from (paths and bytes of the files, or the patterns), the
diagnoser version and the entry's format, so a changed input is a miss, never a stale answer.

Entries are only ever an optimisation: a missing, damaged or unreadable entry is rebuilt, and a
cache that cannot be written is skipped. Entries hold data (JSON, or a hyperscan database that
hyperscan itself validates on load), never code or pickles.

Where: `$DIAGNOSER_CACHE_DIR`, else `$XDG_CACHE_HOME/diagnoser`, else `~/.cache/diagnoser`.
`DIAGNOSER_CACHE_DIR=off` turns it off.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from diagnoser import __version__
from diagnoser.debuglog import debug

try:  # blake2b without importing OpenSSL's hashlib (a few ms of start-up)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - CPython always has it
    from hashlib import blake2b


MAX_ENTRIES = 32  # entries kept per kind (one per distinct rule set, catalogue or pattern set)
_OFF = ("", "off", "0", "no", "false")


def cache_dir() -> Path | None:
    """Return the cache directory, or None when caching is off."""
    explicit = os.environ.get("DIAGNOSER_CACHE_DIR")
    if explicit is not None:
        return None if explicit.strip().lower() in _OFF else Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "diagnoser"


def key_of(kind: str, fmt: int, names: Sequence[object], blobs: Iterable[bytes]) -> str:
    """Return a key hashing `kind`, its format, the diagnoser version and each (name, bytes) pair."""
    h = blake2b(f"{kind}\0{fmt}\0{__version__}\0".encode(), digest_size=20)
    for name, data in zip(names, blobs, strict=True):
        h.update(str(name).encode("utf-8", "surrogateescape") + b"\0")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def _path(root: Path, kind: str, key: str) -> Path:
    return root / f"{kind}-{key}.bin"


def read(kind: str, key: str) -> bytes | None:
    """Return the bytes stored under (kind, key), or None."""
    root = cache_dir()
    if root is None:
        return None
    try:
        return _path(root, kind, key).read_bytes()
    except OSError:
        return None


def write(kind: str, key: str, data: bytes) -> None:
    """Store `data` under (kind, key); any failure is ignored (the cache is only an optimisation)."""
    root = cache_dir()
    if root is None:
        return
    try:
        root.mkdir(parents=True, exist_ok=True)
        target = _path(root, kind, key)
        tmp = root / f".{kind}-{key}.{os.getpid()}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, target)  # atomic: a concurrent reader sees no entry or a whole one
        _prune(root, kind)
    except OSError:
        debug(__name__, "cannot write the cache in %s", root)


def _prune(root: Path, kind: str) -> None:
    """Keep the MAX_ENTRIES most recently written entries of `kind`."""
    entries = sorted(root.glob(f"{kind}-*.bin"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in entries[MAX_ENTRIES:]:
        old.unlink(missing_ok=True)
