"""Save exactly what a run read (redacted) as a directory, and read such a directory back as inputs.

A bundle holds one text file per source plus `diagnoser-bundle.json`, which lists the sources in
the order they were read with the names evidence shows (`k8s:NS/POD/CONTAINER (previous)`, …)
and the collection warnings, so `diagnose DIR` reproduces the same report offline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from diagnoser import __version__
from diagnoser.errors import ConfigError, InputError, Location
from diagnoser.model import RawLine
from diagnoser.redact import Redactor

MANIFEST = "diagnoser-bundle.json"
BUNDLE_VERSION = 1


def is_bundle(path: str | Path) -> bool:
    """Return True when `path` is a directory holding a bundle manifest."""
    return (Path(path) / MANIFEST).is_file()


def _file_name(index: int, source: str) -> str:
    """Return a safe file name for the `index`-th source."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", source).strip("_")[:80] or "source"
    return f"{index:03d}-{slug}.log"


def refuse_overwrite(directory: str | Path, paths: Sequence[str]) -> None:
    """Raise ConfigError when writing a bundle to `directory` would overwrite or delete an input.

    Saving a bundle first clears the directory's source files: replaying a bundle into itself, or
    reading a file inside the directory, would read empty files and lose what the user gave.
    """
    target = Path(directory).resolve()
    for path in paths:
        if path == "-":
            continue
        where = Path(path).resolve()
        if where == target or target in where.parents:
            raise ConfigError(
                f"--save-bundle would overwrite an input: {path} is in {directory}",
                Location(str(directory)),
                "save the bundle to another directory",
            )


class BundleWriter:
    """Write every line that passes through `tee` into the file of its source: an exit, so it redacts.

    The lines it passes on are the redacted ones too, so that this run's report is the one
    `diagnose DIR` gives when it replays the bundle.
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
        if self.dir.exists() and not self.dir.is_dir():
            raise ConfigError("--save-bundle: not a directory", Location(str(self.dir)))
        if self.dir.is_dir() and any(self.dir.iterdir()) and not is_bundle(self.dir):
            raise ConfigError(
                "--save-bundle: directory is not empty",
                Location(str(self.dir)),
                "name a new or empty directory",
            )
        if is_bundle(self.dir):
            for old in self.dir.glob("[0-9][0-9][0-9]-*.log"):
                old.unlink()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.meta = dict(meta or {})
        self.files: dict[str, str] = {}
        self.counts: dict[str, int] = {}
        self.order: list[str] = []
        for source in sources:
            self._open(source)
        self._handles: dict[str, IO[str]] = {}

    def _open(self, source: str) -> str:
        """Register `source` and return its file name."""
        if source not in self.files:
            name = _file_name(len(self.order) + 1, source)
            (self.dir / name).write_text("", encoding="utf-8")
            self.files[source] = name
            self.counts[source] = 0
            self.order.append(source)
        return self.files[source]

    def tee(self, lines: Iterable[RawLine]) -> Iterator[RawLine]:
        """Yield `lines` redacted, writing each to its source's file."""
        try:
            for raw in self.redactor.lines(lines):
                name = self._open(raw.source)
                handle = self._handles.get(raw.source)
                if handle is None:
                    handle = self._handles[raw.source] = open(
                        self.dir / name, "a", encoding="utf-8", newline="\n"
                    )  # noqa: SIM115
                handle.write(raw.text + "\n")
                self.counts[raw.source] += 1
                yield raw
        finally:
            for handle in self._handles.values():
                handle.close()
            self._handles.clear()

    def finish(self, warnings: Sequence[str] = ()) -> Path:
        """Write the manifest and return the bundle directory."""
        manifest = {
            "diagnoser_bundle": BUNDLE_VERSION,
            "tool": {"name": "diagnoser", "version": __version__},
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            **self.meta,
            "warnings": [self.redactor(w) for w in warnings],
            "sources": [{"name": s, "file": self.files[s], "lines": self.counts[s]} for s in self.order],
        }
        (self.dir / MANIFEST).write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        return self.dir


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """Return the bundle manifest of `directory`, checked."""
    path = Path(directory) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"unreadable bundle manifest: {exc}", Location(str(path))) from None
    if (
        not isinstance(data, dict)
        or data.get("diagnoser_bundle") != BUNDLE_VERSION
        or not isinstance(data.get("sources"), list)
    ):
        raise InputError("not a diagnoser bundle manifest of version 1", Location(str(path)))
    for entry in data["sources"]:
        if not isinstance(entry, dict) or "/" in str(entry.get("file", "/")) or not entry.get("name"):
            raise InputError(f"bad source entry {entry!r}", Location(str(path)))
    return data


def bundle_sources(directory: str | Path) -> list[tuple[str, str]]:
    """Return (file path, source name) for each source of the bundle, in the order they were read."""
    data = read_manifest(directory)
    out = []
    for entry in data["sources"]:
        path = Path(directory) / entry["file"]
        if not path.is_file():
            raise InputError(f"bundle file missing: {entry['file']}", Location(str(directory)))
        out.append((str(path), str(entry["name"])))
    return out


def bundle_warnings(paths: Iterable[str]) -> tuple[str, ...]:
    """Return the collection warnings recorded in the bundles among `paths`."""
    warnings: list[str] = []
    for path in paths:
        if path != "-" and is_bundle(path):
            warnings += [str(w) for w in read_manifest(path).get("warnings") or []]
    return tuple(warnings)
