"""The cause catalogue: one YAML file per documented cause, shipped in the package."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from diagnoser.errors import ConfigError, Location
from diagnoser.model import Action, Platform, Severity
from diagnoser.paths import CATALOGUE_DIR

CAUSE_KEYS = {"id", "title", "severity", "summary", "description", "seed_section", "docs", "fix"}
STEP_KEYS = {"platform", "action", "knob", "where", "text", "why", "docs", "snippet", "suggest", "requires"}
CACHE_FORMAT = 1


class Suggester(StrEnum):
    """What computes a step's current and suggested values (`suggest:` in the catalogue; plan/suggest.py)."""

    MEMORY = "memory"
    TIMEOUT = "timeout"
    REPLICAS = "replicas"
    WORKERS = "workers"


@dataclass(frozen=True, slots=True)
class StepTemplate:
    """A fix step as the catalogue writes it, before values are filled in."""

    platform: Platform
    action: Action
    knob: str
    where: str
    text: str
    why: str
    docs: str
    snippet: str | None = None
    suggest: Suggester | None = None
    requires: str | None = None  # a marker the input must show (plan/observe.py MARKERS): Knative, ACR


@dataclass(frozen=True, slots=True)
class Cause:
    """A documented root cause with its fix steps."""

    id: str
    title: str
    severity: Severity
    summary: str
    description: str
    seed_section: str | None
    docs: str
    fix: tuple[StepTemplate, ...]


def _cause_from_dict(data: object, path: Path) -> Cause:
    """Build a Cause from one parsed catalogue file, raising ConfigError with the file named."""
    loc = Location(str(path))
    if not isinstance(data, dict):
        raise ConfigError("a catalogue file must be a mapping", loc)
    unknown = set(data) - CAUSE_KEYS
    if unknown:
        raise ConfigError(f"unknown keys {sorted(unknown)}", loc, f"allowed: {sorted(CAUSE_KEYS)}")
    if data.get("id") != path.stem:
        raise ConfigError(f"id {data.get('id')!r} differs from the file name {path.stem!r}", loc)
    steps = []
    for i, step in enumerate(data.get("fix") or []):
        if not isinstance(step, dict) or set(step) - STEP_KEYS:
            raise ConfigError(f"fix[{i}]: bad step (allowed keys: {sorted(STEP_KEYS)})", loc)
        suggest = step.get("suggest")
        try:
            suggester = Suggester(suggest) if suggest is not None else None
        except ValueError:
            choices = sorted(s.value for s in Suggester)
            raise ConfigError(f"fix[{i}]: unknown suggest {suggest!r}", loc, f"one of {choices}") from None
        try:
            steps.append(
                StepTemplate(
                    platform=Platform(step["platform"]),
                    action=Action(step["action"]),
                    knob=str(step["knob"]),
                    where=str(step.get("where", "")),
                    text=str(step.get("text", "")),
                    why=str(step.get("why", "")),
                    docs=str(step["docs"]),
                    snippet=step.get("snippet"),
                    suggest=suggester,
                    requires=_marker(step.get("requires"), i, loc),
                )
            )
        except (KeyError, ValueError) as exc:
            raise ConfigError(f"fix[{i}]: {exc}", loc) from None
    try:
        return Cause(
            id=data["id"],
            title=str(data["title"]),
            severity=Severity(data["severity"]),
            summary=str(data.get("summary", "")),
            description=str(data.get("description", "")),
            seed_section=data.get("seed_section"),
            docs=str(data.get("docs", "")),
            fix=tuple(steps),
        )
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"bad or missing field: {exc}", loc) from None


def _marker(value: object, i: int, loc: Location) -> str | None:
    """Return a step's `requires:` marker, which must be one the observer looks for."""
    from diagnoser.plan.observe import MARKERS

    if value is None:
        return None
    if value not in MARKERS:
        raise ConfigError(f"fix[{i}]: unknown requires {value!r}", loc, f"one of {sorted(MARKERS)}")
    return str(value)


@lru_cache(maxsize=4)
def load_catalogue(directory: Path = CATALOGUE_DIR) -> dict[str, Cause]:
    """Return every cause of the catalogue by id."""
    causes: dict[str, Cause] = {}
    for path, data in _documents(sorted(directory.glob("*.yaml"))):
        cause = _cause_from_dict(data, path)
        causes[cause.id] = cause
    return causes


def _documents(paths: list[Path]) -> list[tuple[Path, Any]]:
    """Return each file's YAML document, from the start-up cache when the files are unchanged."""
    import orjson

    from diagnoser import diskcache

    blobs = [p.read_bytes() for p in paths]
    key = diskcache.key_of("catalogue", CACHE_FORMAT, paths, blobs)
    cached = diskcache.read("catalogue", key)
    if cached is not None:
        try:
            return [(p, d) for p, d in zip(paths, orjson.loads(cached), strict=True)]
        except (ValueError, TypeError):
            pass  # a damaged entry: parse the YAML again
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    docs = [yaml.load(b.decode("utf-8"), Loader=loader) for b in blobs]  # noqa: S506 - a safe loader
    try:
        blob = orjson.dumps(docs)
        if orjson.loads(blob) == docs:  # only what JSON keeps exactly (no dates, no integer keys)
            diskcache.write("catalogue", key, blob)
    except TypeError:
        pass
    return list(zip(paths, docs, strict=True))
