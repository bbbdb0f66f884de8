"""Stage 1: sources -> RawLine. Files and stdin here; cluster and daemon collectors come later."""

from __future__ import annotations

from diagnoser.collect.files import InputSource, open_inputs

__all__ = ["InputSource", "open_inputs"]
