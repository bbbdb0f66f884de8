"""Save exactly what a run read (redacted) as a directory, and read such a directory back as inputs.

A bundle holds one text file per source plus `diagnoser-bundle.json`, which lists the sources in
the order they were read with the names evidence shows (`k8s:NS/POD/CONTAINER (previous)`, …)
and the collection warnings, so `diagnose DIR` reproduces the same report offline.

Bundles travel (attached to an issue, unpacked from an archive), so replay trusts nothing in one: a
source file or manifest that is a symbolic link (to /etc/shadow, ~/.kube/config, or even to another
file of the bundle), a FIFO, a device or a directory is refused with exit 2, naming the file and what
it is. Refusing, not skipping: a bundle with a file left out would give another report than the one
it was saved with, and a link out of it is a sign of tampering that the user should see. Files are
opened without following a link and without blocking, and checked again once open, so a file swapped
between the check and the read is refused too.

Saving writes into a fresh directory beside the target and renames it into place once complete, so
a run that fails part-way (a full disk) leaves no half bundle that looks whole, and an old bundle it
was replacing stays as it was.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import shutil
import stat
import tempfile
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from diagnoser import __version__
from diagnoser.errors import ConfigError, InputError, Location, OutputError, os_hint, os_reason
from diagnoser.model import RawLine
from diagnoser.redact import Redactor

MANIFEST = "diagnoser-bundle.json"
BUNDLE_VERSION = 1
MAX_MANIFEST_BYTES = 16 << 20  # a manifest lists sources and warnings: far less; a larger file is not one
MAX_OPEN_FILES = 16  # bundle files the writer keeps open at once: sources are many, `ulimit -n` is finite
_OWN_FILE = re.compile(r"\d{3,}-[A-Za-z0-9._-]*\.log")  # the names _file_name gives
_TRUST_HINT = "a bundle's files are read only as regular files inside it; check where the bundle came from"


def is_bundle(path: str | Path) -> bool:
    """Return True when `path` is a directory that holds a bundle manifest (of any kind: replaying
    checks it, so a manifest that is a link is refused rather than taken for a plain directory)."""
    return os.path.lexists(Path(path) / MANIFEST)


def _file_name(index: int, source: str) -> str:
    """Return a safe file name for the `index`-th source."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", source).strip("_")[:80] or "source"
    return f"{index:03d}-{slug}.log"


def _kind(mode: int) -> str:
    """Return what a file mode says a path is, as a message names it."""
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _link_error(path: Path, what: str) -> InputError:
    """Return the refusal of a bundle file that is a symbolic link, saying where it points."""
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    bundle = os.path.realpath(path.parent)
    inside = os.path.realpath(path).startswith(bundle + os.sep)
    where = "inside the bundle" if inside else "outside the bundle"
    return InputError(f"{what} is a symbolic link to {target}, {where}", Location(str(path)), _TRUST_HINT)


def _check_member(path: Path, what: str) -> None:
    """Raise InputError unless `path` is a regular file (not a link, FIFO, device or directory)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        raise InputError(f"{what} missing", Location(str(path)), "the bundle is incomplete") from None
    except OSError as exc:
        raise InputError(f"cannot read {what}: {os_reason(exc)}", Location(str(path)), os_hint(exc)) from None
    if stat.S_ISLNK(mode):
        raise _link_error(path, what)
    if not stat.S_ISREG(mode):
        raise InputError(f"{what} is {_kind(mode)}, not a regular file", Location(str(path)), _TRUST_HINT)


def open_member(path: str | Path, what: str = "bundle file") -> int:
    """Open a file of a bundle for reading and return its descriptor; raise InputError unless it is a
    regular file. The open follows no symbolic link and cannot block on a FIFO, and what was opened is
    checked, so a file swapped after an earlier check is refused too."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if os.path.islink(path):  # O_NOFOLLOW refused it (ELOOP)
            raise _link_error(path, what) from None
        raise InputError(f"cannot open {what}: {os_reason(exc)}", Location(str(path)), os_hint(exc)) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise InputError(f"{what} is {_kind(mode)}, not a regular file", Location(str(path)), _TRUST_HINT)
    os.set_blocking(fd, True)
    return fd


def _target(directory: Path) -> tuple[Path, bool, bool]:
    """Return where a bundle for `directory` goes (a link to a directory is followed), whether that
    directory exists and whether it holds a bundle to replace; raise ConfigError or OutputError when a
    bundle cannot go there."""
    where = Location(str(directory))
    try:
        st = os.stat(directory)
    except FileNotFoundError:
        if os.path.islink(directory):
            raise ConfigError(
                f"--save-bundle: a symbolic link to {os.readlink(directory)}, which does not exist",
                where,
                "name a new directory, or create the one the link points to",
            ) from None
        return Path(os.path.realpath(directory)), False, False
    except OSError as exc:
        raise OutputError(f"--save-bundle: {os_reason(exc)}", where, os_hint(exc)) from None
    if not stat.S_ISDIR(st.st_mode):
        raise ConfigError("--save-bundle: not a directory", where)
    real = Path(os.path.realpath(directory))
    try:
        entries = os.listdir(real)
    except OSError as exc:
        raise OutputError(
            f"--save-bundle: cannot list the directory: {os_reason(exc)}", where, os_hint(exc)
        ) from None
    if entries and MANIFEST not in entries:
        raise ConfigError("--save-bundle: directory is not empty", where, "name a new or empty directory")
    others = sorted(e for e in entries if e != MANIFEST and not _OWN_FILE.fullmatch(e))
    if others:
        raise ConfigError(
            f"--save-bundle: the bundle there sits beside other files ({', '.join(others[:3])}"
            f"{', …' if len(others) > 3 else ''}), which replacing it would remove",
            where,
            "move them away, or name a new or empty directory",
        )
    return real, True, bool(entries)


def refuse_overwrite(directory: str | Path, paths: Sequence[str]) -> None:
    """Raise ConfigError or OutputError when a bundle cannot be saved to `directory`: a dangling link,
    a file, a non-empty directory that is not a bundle, a path the OS refuses, or a directory that
    holds an input (saving replaces the directory: replaying a bundle into itself would lose it).

    Called before any collection, so a refusal costs nothing.
    """
    target, _, _ = _target(Path(directory))
    for path in paths:
        if path == "-":
            continue
        where = Path(os.path.realpath(path))
        if where == target or target in where.parents:
            raise ConfigError(
                f"--save-bundle would overwrite an input: {path} is in {directory}",
                Location(str(directory)),
                "save the bundle to another directory",
            )


def _umask() -> int:
    """Return the process umask (reading it means setting it: set the strictest while reading)."""
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


class BundleWriter:
    """Write every line that passes through `tee` into the file of its source: an exit, so it redacts.

    The lines it passes on are the redacted ones too, so that this run's report is the one
    `diagnose DIR` gives when it replays the bundle. The files are written in a staging directory,
    and `finish` adds the manifest and moves them into place: a new directory is staged beside it
    and renamed in one step; an existing one (maybe a mount point, where a rename cannot land) is
    staged inside and filled with the manifest last, the file that makes it a bundle. A write that
    fails (a full disk) stops the writing but not the run: the lines still flow, the staging
    directory is removed, and `finish` raises OutputError saying why nothing was saved.
    """

    def __init__(
        self,
        directory: str | Path,
        sources: Sequence[str],
        meta: dict[str, Any] | None,
        redactor: Redactor,
    ):
        self.dir = Path(directory)
        self.redactor = redactor
        self.target, exists, self.replaces = _target(self.dir)
        self.meta = dict(meta or {})
        self.files: dict[str, str] = {}
        self.counts: dict[str, int] = {}
        self.order: list[str] = []
        self.failure: OSError | None = None
        self._handles: OrderedDict[str, IO[str]] = OrderedDict()  # least recently written first
        try:
            if not exists:
                self.target.parent.mkdir(parents=True, exist_ok=True)
            home = self.target if exists else self.target.parent
            self.stage: Path | None = Path(tempfile.mkdtemp(prefix=".diagnoser-bundle-", dir=home))
        except OSError as exc:
            raise self._error(exc, "cannot create the bundle directory") from None
        atexit.register(self._discard)  # an interrupted run (Ctrl-C, an error) leaves no staging behind
        try:
            if not exists:  # it becomes the bundle directory: the mode a plain mkdir gives
                os.chmod(self.stage, 0o777 & ~_umask())
            for source in sources:
                self._register(source)
        except OSError as exc:
            self._discard()
            raise self._error(exc, "cannot write the bundle") from None

    def _error(self, exc: OSError, doing: str) -> OutputError:
        """Return the OutputError of a failed save, naming the directory the user gave."""
        kept = "the bundle there is left as it was" if self.replaces else "nothing was saved"
        hint = "; ".join(h for h in (os_hint(exc), kept) if h)
        return OutputError(f"--save-bundle: {doing}: {os_reason(exc)}", Location(str(self.dir)), hint)

    def _register(self, source: str) -> str:
        """Register `source`, creating its (empty) file, and return the file name."""
        if source not in self.files:
            assert self.stage is not None
            name = _file_name(len(self.order) + 1, source)
            (self.stage / name).touch(exist_ok=False)  # a source with no lines still has its file
            self.files[source] = name
            self.counts[source] = 0
            self.order.append(source)
        return self.files[source]

    def _handle(self, source: str) -> IO[str]:
        """Return the open file of `source`, closing the least recently written one past MAX_OPEN_FILES."""
        handle = self._handles.pop(source, None)
        if handle is None:
            assert self.stage is not None
            if len(self._handles) >= MAX_OPEN_FILES:
                self._handles.popitem(last=False)[1].close()
            handle = open(self.stage / self._register(source), "a", encoding="utf-8", newline="\n")  # noqa: SIM115
        self._handles[source] = handle
        return handle

    def _close_handles(self) -> None:
        """Close every open file; closing flushes, so a full disk may show only here."""
        handles = list(self._handles.values())
        self._handles.clear()
        for handle in handles:
            try:
                handle.close()
            except OSError as exc:
                self._fail(exc)

    def _fail(self, exc: OSError) -> None:
        """Stop writing: keep the first error for `finish`, and remove what was staged."""
        if self.failure is None:
            self.failure = exc
        for handle in self._handles.values():
            with contextlib.suppress(OSError):
                handle.close()
        self._handles.clear()
        self._discard()

    def _discard(self) -> None:
        """Remove the staging directory, if it is still there."""
        if self.stage is not None:
            shutil.rmtree(self.stage, ignore_errors=True)
            self.stage = None
        atexit.unregister(self._discard)

    def tee(self, lines: Iterable[RawLine]) -> Iterator[RawLine]:
        """Yield `lines` redacted, writing each to its source's file."""
        complete = False
        try:
            for raw in self.redactor.lines(lines):
                if self.failure is None:
                    try:
                        self._handle(raw.source).write(raw.text + "\n")
                        self.counts[raw.source] += 1
                    except OSError as exc:
                        self._fail(exc)
                yield raw
            complete = True
        finally:
            self._close_handles()
            if not complete:  # the run failed or stopped: there will be no finish
                self._discard()

    def finish(self, warnings: Sequence[str] = ()) -> Path:
        """Write the manifest, move the bundle into place and return its directory; raise OutputError
        when any write failed (nothing is saved then, and a bundle it would replace is kept)."""
        if self.failure is not None:
            raise self._error(self.failure, "cannot write the bundle")
        manifest = {
            "diagnoser_bundle": BUNDLE_VERSION,
            "tool": {"name": "diagnoser", "version": __version__},
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            **self.meta,
            "warnings": [self.redactor(w) for w in warnings],
            "sources": [{"name": s, "file": self.files[s], "lines": self.counts[s]} for s in self.order],
        }
        try:
            assert self.stage is not None, "finish() after a tee that did not complete"
            with open(self.stage / MANIFEST, "x", encoding="utf-8") as out:
                out.write(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
            self._commit(self.stage)
        except OSError as exc:
            self._fail(exc)
            raise self._error(exc, "cannot write the bundle") from None
        self.stage = None
        atexit.unregister(self._discard)
        return self.dir

    def _commit(self, stage: Path) -> None:
        """Move the complete bundle into place: a new directory in one rename; into an existing one
        file by file, an old bundle's files removed first and the manifest moved last."""
        if stage.parent != self.target:
            os.rename(stage, self.target)
            return
        if self.replaces:
            self.replaces = False  # from here on, the old bundle is gone whatever happens
            os.unlink(self.target / MANIFEST)  # first: a half-replaced bundle must not look whole
            for name in os.listdir(self.target):
                if _OWN_FILE.fullmatch(name):
                    os.unlink(self.target / name)
        for name in os.listdir(stage):
            if name != MANIFEST:
                os.rename(stage / name, self.target / name)
        os.rename(stage / MANIFEST, self.target / MANIFEST)
        os.rmdir(stage)


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """Return the bundle manifest of `directory`, checked."""
    path = Path(directory) / MANIFEST
    fd = open_member(path, "bundle manifest")
    try:
        with os.fdopen(fd, "rb") as manifest:
            text = manifest.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        raise InputError(f"unreadable bundle manifest: {os_reason(exc)}", Location(str(path))) from None
    if len(text) > MAX_MANIFEST_BYTES:
        raise InputError(f"bundle manifest larger than {MAX_MANIFEST_BYTES >> 20} MiB", Location(str(path)))
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InputError(f"unreadable bundle manifest: {exc}", Location(str(path))) from None
    if (
        not isinstance(data, dict)
        or data.get("diagnoser_bundle") != BUNDLE_VERSION
        or not isinstance(data.get("sources"), list)
    ):
        raise InputError("not a diagnoser bundle manifest of version 1", Location(str(path)))
    for entry in data["sources"]:
        name = entry.get("file") if isinstance(entry, dict) else None
        # A plain name in the directory itself: no path, no NUL, not the directory or its parent, and
        # one the file system can spell (JSON can hold a lone surrogate, which no path can).
        if not isinstance(name, str) or name in ("", ".", "..") or "/" in name or "\x00" in name:
            raise InputError(f"bad source entry {entry!r}", Location(str(path)))
        try:
            os.fsencode(name)
        except UnicodeEncodeError:
            raise InputError(f"bad source entry {entry!r}", Location(str(path))) from None
        if not entry.get("name"):
            raise InputError(f"bad source entry {entry!r}", Location(str(path)))
    return data


def bundle_sources(directory: str | Path) -> list[tuple[str, str]]:
    """Return (file path, source name) for each source of the bundle, in the order they were read;
    raise InputError when a file is missing or is not a regular file inside the bundle."""
    data = read_manifest(directory)
    out = []
    for entry in data["sources"]:
        path = Path(directory) / entry["file"]
        _check_member(path, "bundle file")
        out.append((str(path), str(entry["name"])))
    return out


def bundle_warnings(paths: Iterable[str]) -> tuple[str, ...]:
    """Return the collection warnings recorded in the bundles among `paths`."""
    warnings: list[str] = []
    for path in paths:
        if path != "-" and is_bundle(path):
            warnings += [str(w) for w in read_manifest(path).get("warnings") or []]
    return tuple(warnings)
