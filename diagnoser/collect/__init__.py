"""Stage 1: sources -> RawLine. Files, stdin and bundles here; service collectors in collect/service.py."""

from __future__ import annotations

from diagnoser.collect.files import InputSource, open_inputs

__all__ = ["InputSource", "open_inputs"]
