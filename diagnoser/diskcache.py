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
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

from diagnoser import __version__
from diagnoser.debuglog import debug

try:  # blake2b without importing OpenSSL's hashlib (a few ms of start-up)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - CPython always has it
    from hashlib import blake2b


MAX_ENTRIES = 32  # entries kept per kind (one per distinct rule set, catalogue or pattern set)
# The largest entry read or written: the shipped rule set's is 0.5 MB, a hyperscan database 0.2 MB.
MAX_ENTRY_BYTES = 64 << 20
# O_NOFOLLOW: a symlink is not an entry; O_NONBLOCK: opening a FIFO does not wait for a writer.
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)  # both POSIX only
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | _NOFOLLOW
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW
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
    """Return the bytes stored under (kind, key), or None when absent or not a plain entry.

    The entry is opened without following a symlink and without waiting on a FIFO, and read only when
    it is a regular file of at most MAX_ENTRY_BYTES: anything else in its place (a FIFO hung the
    read, a symlink to /dev/zero grew without end) is a miss, and the next write replaces it.
    """
    root = cache_dir()
    if root is None:
        return None
    try:
        fd = os.open(_path(root, kind, key), _READ_FLAGS)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_ENTRY_BYTES:
            debug(__name__, "ignoring a cache entry that is not a plain file: %s-%s", kind, key)
            return None
        chunks = []
        left = st.st_size + 1  # one byte more than fstat said: an entry that grows is refused, not chased
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        if left <= 0:
            return None
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def write(kind: str, key: str, data: bytes) -> None:
    """Store `data` under (kind, key); any failure is ignored (the cache is only an optimisation)."""
    root = cache_dir()
    if root is None:
        return
    try:
        root.mkdir(parents=True, exist_ok=True)
        target = _path(root, kind, key)
        if len(data) > MAX_ENTRY_BYTES:
            return  # it would never be read back
        tmp = root / f".{kind}-{key}.{os.getpid()}.tmp"
        _write_new(tmp, data)
        os.replace(tmp, target)  # atomic: a concurrent reader sees no entry or a whole one
        _prune(root, kind)
    except OSError:
        debug(__name__, "cannot write the cache in %s", root)


def _write_new(path: Path, data: bytes) -> None:
    """Write `data` to a file created at `path`, never through what is already there.

    A leftover of a crashed run with the same pid is removed first; a symlink or FIFO put in its
    place is removed, not followed.
    """
    try:
        fd = os.open(path, _CREATE_FLAGS, 0o644)
    except FileExistsError:
        os.unlink(path)
        fd = os.open(path, _CREATE_FLAGS, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _prune(root: Path, kind: str) -> None:
    """Keep the MAX_ENTRIES most recently written entries of `kind`."""
    entries = sorted(root.glob(f"{kind}-*.bin"), key=lambda p: p.lstat().st_mtime_ns, reverse=True)
    for old in entries[MAX_ENTRIES:]:
        old.unlink(missing_ok=True)
