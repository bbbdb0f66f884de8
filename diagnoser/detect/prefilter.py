"""Multi-pattern prefilters: which of many literals (or one regex) occur in a text, in one pass.

The backend is chosen at run time: hyperscan where its wheel is installed, RE2 next, the standard
library last. `DIAGNOSER_PREFILTER=hyperscan|re2|re` forces one (an unavailable one falls back).
Every backend gives the same answers; only the speed differs. Texts that are not pure ASCII are
never decided by a prefilter (callers treat them as candidates): case-folding beyond ASCII
(`"K".lower() == "k"` for the Kelvin sign) is not something the byte scanners know.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

BACKENDS = ("hyperscan", "re2", "re")


@lru_cache(maxsize=1)
def _hyperscan() -> Any:
    try:
        import hyperscan
    except ImportError:
        return None
    return hyperscan


@lru_cache(maxsize=1)
def _re2() -> Any:
    try:
        import re2
    except ImportError:
        return None
    return re2


def backend() -> str:
    """Return the backend in use: the forced one when available, else the fastest installed."""
    forced = os.environ.get("DIAGNOSER_PREFILTER", "").strip().lower()
    order = (forced, *BACKENDS) if forced in BACKENDS else BACKENDS
    for name in order:
        if name == "re" or (name == "hyperscan" and _hyperscan()) or (name == "re2" and _re2()):
            return name
    return "re"


def _hs_literal(needle: str) -> bytes:
    """Return a hyperscan (PCRE syntax) pattern matching `needle` literally."""
    return "".join(c if c.isalnum() else f"\\x{ord(c):02x}" for c in needle).encode("ascii")


class LiteralSet:
    """A set of ASCII literals searched case-insensitively; `which(text)` names those that occur."""

    def __init__(self, needles: Sequence[str], prefer: str | None = None):
        self.needles = tuple(n.lower() for n in needles)
        if not all(n.isascii() and n for n in self.needles):
            raise ValueError("prefilter needles must be non-empty ASCII")
        self.backend = prefer or backend()
        self._db: Any = None
        self._rx: Any = None
        if not self.needles:
            return
        if self.backend == "hyperscan":
            hs = _hyperscan()
            flag = hs.HS_FLAG_CASELESS | hs.HS_FLAG_SINGLEMATCH
            self._db = _hs_database(self.needles, flag, literal=True)
            return
        alternation = "|".join(re.escape(n) for n in sorted(set(self.needles), key=lambda s: (-len(s), s)))
        self._rx = _re2().compile(alternation) if self.backend == "re2" else re.compile(alternation)

    def which(self, text: str) -> list[int]:
        """Return the indices of the needles that occur in ASCII `text` (any case), in index order."""
        if not self.needles:
            return []
        if self._db is not None:
            found: list[int] = []
            self._db.scan(
                text.encode("ascii"), match_event_handler=_collect, context=found, scratch=_scratch(self._db)
            )
            if len(found) > 1:
                found.sort()
            return found
        low = text.lower()
        if self._rx.search(low) is None:
            return []
        return [i for i, n in enumerate(self.needles) if n in low]


def _hs_database(patterns: Sequence[str], flag: int, literal: bool = False) -> Any:
    """Return a block-mode hyperscan database of `patterns` (ids 0..n-1), from the cache if built before.

    `literal`: the patterns are ASCII strings to match as written. Compiling costs ~10 ms per
    database at every start; a serialised one loads in microseconds. The key covers the patterns,
    the flag and hyperscan's version; a database hyperscan will not load is compiled again.
    """
    from diagnoser import diskcache

    hs = _hyperscan()
    n = len(patterns)
    names = [f"{flag}:{literal}:{hs.__version__}:{n}"]
    key = diskcache.key_of("hyperscan", 1, names, ["\n".join(patterns).encode("ascii")])
    blob = diskcache.read("hyperscan", key)
    if blob is not None:
        try:
            db = hs.loadb(blob, hs.HS_MODE_BLOCK)
            db.scratch = hs.Scratch(db)  # a loaded database comes without one (python-hyperscan #153)
            return db
        except Exception:  # an entry from another build of hyperscan: compile afresh
            pass
    expressions = [_hs_literal(p) if literal else p.encode("ascii") for p in patterns]
    db = hs.Database(mode=hs.HS_MODE_BLOCK)
    db.compile(expressions=expressions, ids=list(range(n)), elements=n, flags=[flag] * n)
    try:
        diskcache.write("hyperscan", key, bytes(hs.dumpb(db)))
    except Exception:  # serialising is only an optimisation
        pass
    return db


_MAIN_THREAD = threading.main_thread().ident
_per_thread = threading.local()


def _scratch(db: Any) -> Any:
    """Return the scratch space a scan of `db` may use in this thread (None: the database's own).

    A hyperscan scratch serves one scan at a time; a cluster scan diagnoses workloads in threads, and
    sharing one would fail with ScratchInUseError. The main thread keeps the database's own.
    """
    if threading.get_ident() == _MAIN_THREAD:
        return None
    spaces = getattr(_per_thread, "spaces", None)
    if spaces is None:
        spaces = _per_thread.spaces = {}
    scratch = spaces.get(id(db))
    if scratch is None:
        scratch = spaces[id(db)] = _hyperscan().Scratch(db)
    return scratch


def _collect(index: int, start: int, end: int, flags: int, found: list[int]) -> None:
    found.append(index)


class Pattern:
    """One case-insensitive regex (ASCII texts only) that a scanner answers yes/no for."""

    def __init__(self, pattern: str, prefer: str | None = None):
        self.backend = prefer or backend()
        self._db: Any = None
        self._rx: Any = None
        if self.backend == "hyperscan":
            hs = _hyperscan()
            try:
                self._db = _hs_database([pattern], hs.HS_FLAG_CASELESS)
                self._stopped = hs.ScanTerminated
                return
            except Exception:  # a construct hyperscan lacks: fall back to the next backend
                self.backend = "re2" if _re2() else "re"
        if self.backend == "re2":
            self._rx = _re2().compile("(?i)" + pattern)
        else:
            self._rx = re.compile(pattern, re.IGNORECASE)

    def search(self, text: str) -> bool:
        """Return True when the pattern occurs in ASCII `text`."""
        if self._db is not None:
            hit: list[int] = []
            try:
                self._db.scan(
                    text.encode("ascii"), match_event_handler=_first, context=hit, scratch=_scratch(self._db)
                )
            except self._stopped:
                pass
            return bool(hit)
        return self._rx.search(text) is not None


def _first(index: int, start: int, end: int, flags: int, hit: list[int]) -> bool:
    hit.append(index)
    return True  # stop the scan: one match answers the question
