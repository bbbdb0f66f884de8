"""Lazy loading: names and patterns that cost start-up time are made on first use, here.

The start-up budget: `diagnose` on a realistic 50-line log within 3x of `python -c pass` (DESIGN.md,
"Budgets"; measured by bench/). Every millisecond spent importing or compiling what a run never
uses counts against it, so the two tools that defer such work live in this one module:

- `lazy_names` gives a package a PEP 562 `__getattr__` that imports a submodule when one of its
  names is first looked up (`diagnose` needs the rule engine, not the linter or the self-test).
- `LazyRegex` compiles a module-level pattern at its first use. Compiling costs ~0.1 ms; a module
  with twenty patterns adds 2 ms to every start-up even when no line reaches them. Patterns used
  on every line should stay `re.compile`d.

Heavy third-party modules (scikit-learn, numpy, kubernetes, docker, pyparsing) are imported inside
the functions that use them; ruff's banned-module-level-imports keeps the first four there.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(namespace: dict[str, Any], homes: Mapping[str, str]) -> Callable[[str], Any]:
    """Return a module `__getattr__` that imports `name` from submodule `homes[name]` on first use.

    `namespace` is the package's `globals()`: the name is stored there, so later lookups are plain.
    """
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{home}"), name)
        namespace[name] = value
        return value

    return __getattr__


class LazyRegex:
    """`re.compile(pattern, flags)`, done when a method is first looked up."""

    __slots__ = ("_pattern", "_flags", "_rx")

    def __init__(self, pattern: str, flags: int = 0):
        self._pattern = pattern
        self._flags = flags
        self._rx: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> Any:  # called only for names the slots do not hold
        rx = self._rx
        if rx is None:
            rx = self._rx = re.compile(self._pattern, self._flags)
        return getattr(rx, name)

    def __repr__(self) -> str:
        return f"LazyRegex({self._pattern!r}, {self._flags})"
