"""Progress on stderr while a long input is read: only on a terminal, only after the first seconds.

A 1 GB log takes a while; a blank screen for that long looks like a hang. The line is rewritten in
place (carriage return, erase to the end of the line) and erased before the report is printed, so
nothing of it is left in the terminal or in what stdout receives.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

AFTER_SECONDS = 2.0  # a run that ends sooner shows nothing
EVERY_SECONDS = 0.25  # redraw at most this often
_ERASE = "\r\x1b[K"


def _mb(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "under 1 s"
    seconds = round(seconds)
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


class Progress:
    """The progress sink of one run: call it with (bytes read, bytes in all or None); `clear()` at the end."""

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic):
        self.stream = stream
        self.clock = clock
        self.start = clock()
        self.next = self.start + AFTER_SECONDS
        self.shown = False

    def __call__(self, done: int, size: int | None) -> None:
        """Redraw the line when it is time: what was read, of how much, and the time left."""
        now = self.clock()
        if now < self.next:
            return
        self.next = now + EVERY_SECONDS
        elapsed = now - self.start
        text = f"diagnose: read {_mb(done)}"
        if size:
            share = min(done / size, 1.0)
            text += f" of {_mb(size)} ({share:.0%})"
            if 0 < share < 1:
                text += f", about {_duration(elapsed * (1 - share) / share)} left"
        text += f", {_duration(elapsed)} so far (Ctrl-C stops)"
        self._write(_ERASE + text)
        self.shown = True

    def clear(self) -> None:
        """Erase the line, if one was drawn."""
        if self.shown:
            self._write(_ERASE)
            self.shown = False

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away: progress is not worth failing for
            pass
