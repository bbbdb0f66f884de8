"""Did-you-mean hints for names a user mistyped, and a small name -> object registry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from diagnoser.errors import did_you_mean

T = TypeVar("T")


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
