"""Error hierarchy; every message reads `path:line:col: what is wrong (hint)`."""

from __future__ import annotations

import difflib
import errno
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


def did_you_mean(name: str, choices: list[str] | tuple[str, ...]) -> str | None:
    """Return a hint naming the closest choice, or None."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def did_you_mean_any(name: str, candidates: Iterable[str]) -> str:
    """Return "did you mean 'a' or 'b'?" for up to three close names (or names holding it), or ''."""
    pool = sorted(set(candidates))
    close = difflib.get_close_matches(name, pool, n=3, cutoff=0.5)
    close += [c for c in pool if name.lower() in c.lower() and c not in close][: 3 - len(close)]
    if not close:
        return ""
    return "did you mean " + " or ".join(repr(c) for c in close) + "?"


@dataclass(frozen=True, slots=True)
class Location:
    """Where in a file an error is."""

    path: str
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        parts = [self.path]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)


class DiagnoserError(Exception):
    """Base of every error the CLI reports with exit code 2."""

    def __init__(self, message: str, location: Location | None = None, hint: str | None = None):
        self.message = message
        self.location = location
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        text = self.message
        if self.hint:
            text = f"{text} ({self.hint})"
        if self.location is not None:
            text = f"{self.location}: {text}"
        return text


class InputError(DiagnoserError):
    """An input path or stream cannot be read as a log."""


class RuleError(DiagnoserError):
    """A rule file is invalid."""


class ConditionSyntaxError(RuleError):
    """A rule condition does not parse."""


class RuleLoadErrors(RuleError):
    """Every error found while loading a set of rules, reported together."""

    def __init__(self, errors: list[RuleError]):
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


class ConfigError(DiagnoserError):
    """A command-line option or configuration value is invalid."""


class OutputError(DiagnoserError):
    """An output (stdout, a bundle directory) cannot be written.

    `report` is the run's report when only saving its bundle failed: the CLI prints it before the error.
    """

    report: Any = None


class CollectorError(DiagnoserError):
    """A collector failed."""


class CollectorUnavailable(CollectorError):
    """A collector's daemon or API cannot be reached."""


# What usually fixes an OS error a path meets; the message itself says what happened (os_reason).
_OS_HINTS = {
    errno.ELOOP: "a symbolic link on the path leads back to itself; fix or remove the link",
    errno.ENOTDIR: "a part of the path that should be a directory is a file; check the path",
    errno.ENAMETOOLONG: "shorten the path: a name may have 255 bytes, a whole path 4096",
    errno.EACCES: "run as a user who may, or change the permissions",
    errno.EPERM: "run as a user who may, or change the permissions",
    errno.EROFS: "the file system is mounted read-only; use a path on a writable one",
    errno.ENOSPC: "free space on that file system, or use a path on another one",
    errno.EDQUOT: "the disk quota is used up; free space, or use a path on another file system",
    errno.EFBIG: "the file size limit (ulimit -f) was reached; raise it or write less",
    errno.EMFILE: "raise the limit of open files (ulimit -n)",
    errno.ENFILE: "the whole system ran out of open files; try again when fewer programs run",
    errno.EIO: "the device reported an I/O error; check it (dmesg)",
    errno.EISDIR: "name a file, not a directory",
}


def os_reason(exc: OSError) -> str:
    """Return what an OS error says, without the path it names: 'no space left on device'."""
    return (exc.strerror or str(exc)).lower()


def os_hint(exc: OSError) -> str | None:
    """Return what usually fixes an OS error, or None."""
    return _OS_HINTS.get(exc.errno) if exc.errno is not None else None
