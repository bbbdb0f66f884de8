"""Error hierarchy; every message reads `path:line:col: what is wrong (hint)`."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


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


class CollectorError(DiagnoserError):
    """A collector failed."""


class CollectorUnavailable(CollectorError):
    """A collector's daemon or API cannot be reached."""
