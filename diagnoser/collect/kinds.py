"""Where `--source` may look for a service (kept apart so the CLI reads it without the collectors)."""

from __future__ import annotations

from enum import StrEnum


class SourceKind(StrEnum):
    """Where `--source` may look for the service."""

    AUTO = "auto"
    KUBERNETES = "kubernetes"
    DOCKER = "docker"
    JOURNALD = "journald"
