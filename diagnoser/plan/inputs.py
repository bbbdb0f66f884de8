"""What the user tells the plan: a platform override and the replica formula's numbers.

Kept apart from plan/suggest.py and the catalogue so that a run that finds nothing (most of
start-up's budget is imports) never imports them.
"""

from __future__ import annotations

from dataclasses import dataclass

from diagnoser.model import Platform


@dataclass(frozen=True, slots=True)
class ReplicaInputs:
    """What the replica formula needs; None where neither the user nor the logs say."""

    target_rps: float | None = None
    request_seconds: float | None = None
    max_requests_per_container: int = 1
    target_utilization: float | None = None


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """User-supplied inputs to the plan: a platform override and the replica formula's numbers."""

    platform: Platform | None = None
    replicas: ReplicaInputs = ReplicaInputs()
