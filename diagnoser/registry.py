"""Did-you-mean hints for names a user mistyped, and a small name -> object registry."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


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


class Registry(Generic[T]):
    """Map names to registered objects; a duplicate name is an error at import time."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Return a decorator that registers its argument under `name`."""

        def deco(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"duplicate {self.kind} name {name!r}")
            self._items[name] = obj
            return obj

        return deco

    def get(self, name: str) -> T:
        """Return the object registered under `name`, or raise KeyError with a hint."""
        try:
            return self._items[name]
        except KeyError:
            hint = did_you_mean(name, self.names())
            raise KeyError(f"unknown {self.kind} {name!r}" + (f" ({hint})" if hint else "")) from None

    def names(self) -> list[str]:
        """Return registered names in registration order."""
        return list(self._items)

    def items(self) -> Iterator[tuple[str, T]]:
        """Iterate over (name, object) pairs in registration order."""
        return iter(self._items.items())

    def __contains__(self, name: object) -> bool:
        return name in self._items
