"""diagnoser: name the documented root cause of a failing ML model service from its logs."""

from __future__ import annotations

__version__ = "0.1.0"
