"""The built-in parsers, registered by format name; each reads one line with the streaming engine."""

from __future__ import annotations

from diagnoser.model import Event, RawLine
from diagnoser.parse import Parser, parsers

FORMATS = (
    "docker",
    "cri",
    "kubectl-prefix",
    "timestamped",
    "journald",
    "syslog",
    "dmesg",
    "klog",
    "kubectl-events",
    "kubectl-get",
    "kubectl-describe",
    "kubectl-json",
    "kubectl-yaml",
    "gunicorn",
    "access",
    "azmlinfsrv",
    "runit",
    "golog",
    "kernel",
    "json",
    "torchserve",
    "compose",
    "k6-csv",
    "envoy-stats",
    "traceback",
    "plain",
)


def _one(raw: RawLine) -> Event | None:
    from diagnoser.parse.stream import Engine

    eng = Engine()
    evs = list(eng.feed(raw))
    evs += eng.close()
    return evs[0] if evs else None


class _LineParser(Parser):
    """Parse single lines with the engine and keep those it names with this parser's format."""

    def sniff(self, line: str) -> float:
        """Return 1.0 when the engine reads `line` as this format, else 0.0."""
        ev = _one(RawLine("sniff", 1, line))
        return 1.0 if ev is not None and ev.format == self.name else 0.0

    def parse(self, raw: RawLine) -> Event | None:
        """Return the event for `raw` when the engine reads it as this format, else None."""
        try:
            ev = _one(raw)
        except Exception:  # never raise per line
            return None
        return ev if ev is not None and ev.format == self.name else None


def _register(name: str) -> None:
    cls = type(
        f"{name.title().replace('-', '')}Parser",
        (_LineParser,),
        {"name": name, "__doc__": f"Parse {name} lines."},
    )
    parsers.register(name)(cls)


for _name in FORMATS:
    _register(_name)
