"""Stage 5: name each ranked cause as a Diagnosis with ordered fix steps for the platforms the logs reveal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from diagnoser.model import Diagnosis, FixStep, Origin, Platform, Severity
from diagnoser.options import PlanOptions
from diagnoser.plan.observe import Observations

if TYPE_CHECKING:  # the catalogue and the suggesters load only when there is a diagnosis to plan for
    from diagnoser.plan.catalogue import Cause, StepTemplate
    from diagnoser.plan.suggest import Suggestion
    from diagnoser.rank import Ranked

__all__ = [
    "Observations",
    "Plan",
    "build_fixes",
    "load_catalogue",
    "plan_diagnoses",
    "select_platforms",
    "shows",
]
AZUREML = (Platform.AZUREML_V1, Platform.AZUREML_V2)


def load_catalogue(*args: Any) -> dict[str, Cause]:
    """Return every cause of the catalogue by id (see plan/catalogue.py)."""
    from diagnoser.plan import catalogue

    return catalogue.load_catalogue(*args)


def select_platforms(observed: tuple[Platform, ...], override: Platform | None) -> tuple[Platform, ...]:
    """Return the platforms whose steps the plan shows; empty means all."""
    if override is not None:
        return (override,)
    chosen = list(observed)
    # azmlinfsrv runs gunicorn for its workers: its knobs are its own environment variables.
    if Platform.AZMLINFSRV in chosen and Platform.GUNICORN in chosen:
        chosen.remove(Platform.GUNICORN)
    # azmlinfsrv runs under both SDK v1 and v2 deployments: without a marker, show both dialects.
    if Platform.AZMLINFSRV in chosen and not any(p.family in AZUREML for p in chosen):
        chosen.extend(AZUREML)
    return tuple(chosen)


def shows(step: Platform, platforms: tuple[Platform, ...]) -> bool:
    """Return True when a step written for `step` belongs in a plan for `platforms` (empty: all).

    A family's steps hold for each of its sub-platforms; a sub-platform's steps show when it is
    chosen, or when only its family is known (each variant is then labelled with its sub-platform).
    """
    if not platforms or step is Platform.GENERIC or step in platforms:
        return True
    if step.sub_platforms:
        return any(p.family is step for p in platforms)
    family = step.family
    if family is not step and family in platforms:
        return not any(p.family is family and p is not family for p in platforms)
    return False


def _suggest(template: StepTemplate, obs: Observations, options: PlanOptions) -> Suggestion | None:
    """Return the computed values of a step, if it names a suggester."""
    if template.suggest is None:
        return None
    from diagnoser.plan.suggest import SUGGESTERS

    return SUGGESTERS[template.suggest](template.knob, obs, template.platform, options.replicas)


def _fill(snippet: str | None, suggestion: Suggestion | None) -> str | None:
    """Fill {suggested} and {current} in a snippet, leaving a placeholder where unknown."""
    if snippet is None:
        return None
    suggested = suggestion.suggested if suggestion and suggestion.suggested else "<value>"
    current = suggestion.current if suggestion and suggestion.current else "<current>"
    return snippet.replace("{suggested}", suggested).replace("{current}", current)


def build_fixes(
    cause: Cause, platforms: tuple[Platform, ...], obs: Observations, options: PlanOptions
) -> tuple[FixStep, ...]:
    """Return the cause's fix steps for `platforms` (all when empty), generic steps included.

    When the autoscaler is pinned at its maximum, the maximum-replica steps come first: raising the
    minimum or lowering the target cannot add replicas beyond it.
    """
    steps: list[FixStep] = []
    for template in cause.fix:
        if not shows(template.platform, platforms):
            continue
        suggestion = _suggest(template, obs, options)
        why = template.why
        if suggestion is not None and suggestion.reasoning:
            why = f"{why} ({suggestion.reasoning})" if why else suggestion.reasoning
        steps.append(
            FixStep(
                action=template.action,
                knob=template.knob,
                platform=template.platform,
                where=template.where,
                why=why,
                docs=template.docs,
                text=template.text,
                current=suggestion.current if suggestion else None,
                suggested=suggestion.suggested if suggestion else None,
                snippet=_fill(template.snippet, suggestion),
                current_source=suggestion.current_source
                if suggestion and suggestion.current is not None
                else None,
                current_docs=suggestion.current_docs
                if suggestion and suggestion.current is not None
                else None,
            )
        )
    if obs.scaling.pinned_at_max:
        from diagnoser.plan.catalogue import Suggester
        from diagnoser.plan.suggest import replica_role

        replica_knobs = {t.knob for t in cause.fix if t.suggest is Suggester.REPLICAS}
        steps.sort(key=lambda s: 0 if s.knob in replica_knobs and replica_role(s.knob) == "max" else 1)
    return tuple(steps)


@dataclass(frozen=True, slots=True)
class Plan:
    """The diagnoses planned for the ranked causes, and what the catalogue could not plan."""

    diagnoses: tuple[Diagnosis, ...]
    warnings: tuple[str, ...]  # a cause a rule names that the catalogue lacks


def plan_diagnoses(
    ranked: Sequence[Ranked], platforms: tuple[Platform, ...], obs: Observations, options: PlanOptions
) -> Plan:
    """Return a Diagnosis for each ranked cause, in rank order, with the fix steps for `platforms`."""
    catalogue = load_catalogue() if ranked else {}  # a healthy run never reads the fix plans
    diagnoses: list[Diagnosis] = []
    warnings: list[str] = []
    for entry in ranked:
        cause = catalogue.get(entry.cause)
        if cause is None:
            warnings.append(f"rule {entry.best.rule} names cause {entry.cause!r}, which the catalogue lacks")
        title = cause.title if cause else entry.best.title
        if entry.origin is Origin.CLASSIFIER and entry.severity is Severity.LOW:
            title = f"Possible: {title}"  # the classifier's lean, not a finding (detect/classifier.py)
        diagnoses.append(
            Diagnosis(
                cause=entry.cause,
                title=title,
                severity=entry.severity,
                confidence=entry.confidence,
                origin=entry.origin,
                rule=entry.best.rule,
                summary=entry.best.summary or (cause.summary if cause else ""),
                evidence=entry.evidence,
                fixes=build_fixes(cause, platforms, obs, options) if cause else (),
                platforms=platforms,
            )
        )
    return Plan(tuple(diagnoses), tuple(warnings))
