"""Stage 5: name each ranked cause as a Diagnosis with ordered fix steps for the platforms the logs reveal."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from diagnoser.model import Action, Diagnosis, Evidence, FixStep, Origin, Platform, Severity, ValueSource
from diagnoser.options import PlanOptions
from diagnoser.parse.traceback import Described, describe
from diagnoser.plan.observe import Observations
from diagnoser.plan.summary import compose

if TYPE_CHECKING:  # the catalogue and the suggesters load only when there is a diagnosis to plan for
    from diagnoser.plan.catalogue import Cause, StepTemplate, Suggester
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
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def load_catalogue(*args: Any) -> dict[str, Cause]:
    """Return every cause of the catalogue by id (see plan/catalogue.py)."""
    from diagnoser.plan import catalogue

    return catalogue.load_catalogue(*args)


def select_platforms(observed: tuple[Platform, ...], override: Platform | None) -> tuple[Platform, ...]:
    """Return the platforms whose steps the plan shows: those the input shows, or the one --platform names.

    Empty when the input shows none: the plan then gives only steps that hold everywhere. A platform is
    never guessed (azmlinfsrv runs under SDK v1 and v2 deployments alike, and locally: the logs of the
    server alone do not say which).
    """
    if override is not None:
        return (override,)
    chosen = list(observed)
    # azmlinfsrv runs gunicorn for its workers: its knobs are its own environment variables.
    if Platform.AZMLINFSRV in chosen and Platform.GUNICORN in chosen:
        chosen.remove(Platform.GUNICORN)
    return tuple(chosen)


def shows(step: Platform, platforms: tuple[Platform, ...]) -> bool:
    """Return True when a step written for `step` belongs in a plan for `platforms` (empty: generic only).

    A family's steps hold for each of its sub-platforms; a sub-platform's steps show when it is
    chosen, or when only its family is known (each variant is then labelled with its sub-platform).
    """
    if step is Platform.GENERIC or step in platforms:
        return True
    if not platforms:
        return False
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


MAX_STEPS = 3  # a plan a person acts on; --platform narrows it to the steps of one platform


def _below_minimum(template: StepTemplate, suggestion: Suggestion | None) -> bool:
    """Return True for a "decrease" step whose knob is already at 1 or less (one worker, one replica)."""
    if template.action is not Action.DECREASE or suggestion is None or suggestion.current is None:
        return False
    number = _NUMBER.match(suggestion.current)
    return number is not None and float(number.group()) <= 1


def build_fixes(
    cause: Cause,
    platforms: tuple[Platform, ...],
    obs: Observations,
    options: PlanOptions,
    context: Context | None = None,
) -> tuple[FixStep, ...]:
    """Return at most MAX_STEPS fix steps of the cause for `platforms` (generic steps only when empty).

    Steps whose current value the logs show come first (the knob that fired); a generic step that
    repeats a platform step's knob (the memory limit, a timeout) gives way to it; a "decrease" step at
    its minimum is left out. When the autoscaler is pinned at its maximum, the maximum-replica steps
    come first: raising the minimum or lowering the target cannot add replicas beyond it.
    """
    context = context or Context.of((), platforms)
    steps: list[tuple[FixStep, Suggester | None]] = []
    for template in cause.fix:
        if not shows(template.platform, platforms):
            continue
        if template.requires is not None and template.requires not in obs.markers:
            continue  # a step for Knative or ACR on an input that never names them
        suggestion = _suggest(template, obs, options)
        if _below_minimum(template, suggestion):
            continue
        if (
            template.platform is Platform.GENERIC
            and template.suggest is not None
            and any(
                other.suggest is template.suggest
                and other.platform is not Platform.GENERIC
                and shows(other.platform, platforms)
                for other in cause.fix
            )
        ):
            continue  # the platform's own step for the same knob says it in the platform's words
        steps.append((_step(template, suggestion, context), template.suggest))
    from diagnoser.plan.catalogue import Suggester
    from diagnoser.plan.suggest import replica_role

    def priority(item: tuple[FixStep, Suggester | None]) -> int:
        step, suggester = item
        if obs.scaling.pinned_at_max and suggester is Suggester.REPLICAS and replica_role(step.knob) == "max":
            return 0
        return 1 if step.current_source in (ValueSource.OBSERVED, ValueSource.INFERRED) else 2

    steps.sort(key=priority)
    return tuple(step for step, _ in steps[:MAX_STEPS])


def _step(template: StepTemplate, suggestion: Suggestion | None, context: Context) -> FixStep:
    """Return the fix step of a template with the values a suggester computed and the input's names."""
    why = template.why
    if suggestion is not None and suggestion.reasoning:
        why = f"{why} ({suggestion.reasoning})" if why else suggestion.reasoning
    known = suggestion is not None and suggestion.current is not None
    quote = suggestion.quote if suggestion is not None and known else None
    snippet = _fill(template.snippet, suggestion)
    return FixStep(
        action=template.action,
        knob=context.fill(template.knob),
        platform=template.platform,
        where=context.fill(template.where),
        why=context.fill(why),
        docs=template.docs,
        text=context.fill(template.text),
        current=suggestion.current if suggestion else None,
        suggested=suggestion.suggested if suggestion else None,
        snippet=context.fill(snippet) if snippet else None,
        current_source=suggestion.current_source if suggestion and known else None,
        current_docs=suggestion.current_docs if suggestion and known else None,
        current_from=f"{quote.source}:{quote.line}" if quote is not None else None,
    )


AZURE_FAMILIES = (Platform.AZUREML_V1, Platform.AZUREML_V2, Platform.AZMLINFSRV)
RAISED = "the exception the traceback shows, where it was raised"


@dataclass(frozen=True, slots=True)
class Context:
    """Names from the input that fill a step's placeholders: {script} (the user's file), {at} (where the
    traceback was raised, `score.py:14 in init()`), {raised} (what to fix), <pod>, <namespace>, <container>.
    """

    script: str
    at: str
    names: tuple[tuple[str, str], ...] = ()  # ("<pod>", "web-7d9"): placeholders of commands the input fills
    raised: str = RAISED  # {raised}: what to fix, in the service's own code or in a package it uses

    @classmethod
    def of(
        cls,
        tracebacks: Sequence[Described],
        platforms: tuple[Platform, ...],
        names: dict[str, str] | None = None,
    ) -> Context:
        """Return the names the evidence's tracebacks give (the first with a frame of the user's code), else
        plain words (an Azure ML platform's where one is shown: score.py)."""
        azure = any(p.family in AZURE_FAMILIES for p in platforms)
        script = "score.py" if azure else "the service's code"
        at = "score.py, where the traceback ends" if azure else "the code the error points to"
        raised = RAISED
        for told in tracebacks:
            frame = told.frame
            if frame is None:
                continue
            if frame.user_code:
                script = frame.where.rsplit(":", 1)[0]
                at = f"{frame.where}{frame.in_function}"
                raised = f"the {told.exception} where it was raised ({at})"
                break
            # no frame of the service's own: the exception comes from inside an installed package
            package = _package(frame.path)
            at = f"{frame.where}{frame.in_function}, inside {package}"
            raised = (
                f"the {told.exception} raised inside the installed package {package} ({frame.where}): check "
                f"that the versions of {package} and of what calls it work together (upgrade or pin them)"
            )
        filled = tuple((f"<{key}>", value) for key, value in sorted((names or {}).items()))
        return cls(script, at, filled, raised)

    def fill(self, text: str) -> str:
        """Return `text` with {script}, {at} and {raised} replaced, and <pod>, <namespace>, <container> where
        the input names them."""
        text = text.replace("{script}", self.script).replace("{at}", self.at).replace("{raised}", self.raised)
        for placeholder, name in self.names:
            text = text.replace(placeholder, name)
        return text


def _package(path: str) -> str:
    """Return the installed package a file belongs to (`.../site-packages/uvicorn/main.py` -> uvicorn)."""
    parts = path.replace("\\", "/").split("/")
    for i, part in enumerate(parts[:-1]):
        if part in ("site-packages", "dist-packages"):
            return parts[i + 1].split(".", 1)[0]
    return "the standard library" if "/lib/python" in path else parts[-1]


def other_platforms(cause: Cause, platforms: tuple[Platform, ...]) -> tuple[Platform, ...]:
    """Return the platforms the cause has steps for that the plan does not show (for --platform)."""
    seen: list[Platform] = []
    for template in cause.fix:
        p = template.platform
        if p is not Platform.GENERIC and not shows(p, platforms) and p not in seen:
            seen.append(p)
    return tuple(seen)


def value_quotes(obs: Observations, fixes: tuple[FixStep, ...]) -> list[Evidence]:
    """Return the lines the fix steps read their current values from (quoted beside the evidence)."""
    wanted = {s.current_from for s in fixes if s.current_from}
    return [q for q in obs.quotes.values() if f"{q.source}:{q.line}" in wanted]


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
        evidence = entry.evidence
        # what the evidence's tracebacks say, read once: the plan's names and the summary both use it
        tracebacks = [told for ev in evidence if (told := describe(ev.text)) is not None]
        context = Context.of(tracebacks, platforms, obs.names)
        fixes = build_fixes(cause, platforms, obs, options, context) if cause else ()
        quoted = {(e.source, e.line) for e in evidence}
        added = tuple(q for q in value_quotes(obs, fixes) if (q.source, q.line) not in quoted)
        evidence += added
        tracebacks += [told for q in added if (told := describe(q.text)) is not None]
        summary = entry.best.summary or (cause.summary if cause else "")
        diagnoses.append(
            Diagnosis(
                cause=entry.cause,
                title=title,
                severity=entry.severity,
                confidence=entry.confidence,
                origin=entry.origin,
                rule=entry.best.rule,
                summary=compose(entry.cause, summary, evidence, tracebacks, fixes),
                evidence=evidence,
                fixes=fixes,
                platforms=platforms,
                other_platforms=other_platforms(cause, platforms) if cause else (),
            )
        )
    return Plan(tuple(diagnoses), tuple(warnings))
