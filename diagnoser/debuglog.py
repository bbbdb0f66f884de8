"""The debug log: one door for what the library tells a developer (`-vv`), and only when asked.

`logging` costs a few milliseconds to import, part of the start-up budget (`diagnose` on a 50-line
log within 3x of `python -c pass`). The library logs only at debug level and only on rare paths
(a parser bug, a damaged cache entry, a collector call that failed quietly), so `debug` imports it
when a message is actually logged. The CLI attaches the handler (`-v` / `-vv`, cli/common.py).
"""

from __future__ import annotations


def debug(logger: str, message: str, *args: object, exc_info: bool = True) -> None:
    """Log `message % args` at debug level under `logger` (a module's name), with the current exception."""
    import logging

    logging.getLogger(logger).debug(message, *args, exc_info=exc_info)
