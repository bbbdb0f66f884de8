"""The summary a person reads first: what failed, because of what, where, and the first step.

"init() in score.py:14 raised ValueError: model config is missing required key 'n_features'; the
worker exited with code 3. Next: fix init() in score.py."
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from diagnoser.clip import clip_words
from diagnoser.model import Action, Evidence, FixStep, ValueSource
from diagnoser.parse.traceback import Described

# Causes whose root is an exception in the program: the traceback's original exception is the headline.
EXCEPTION_CAUSES = frozenset(
    {
        "init_exception",
        "run_exception",
        "model_not_found",
        "missing_dependency",
        "config_missing",
        "permission_denied",
        "dependency_unreachable",
        "gpu_out_of_memory",
        "unknown",
    }
)
_EXIT = re.compile(
    r"exited with code (\d+)|Exit Code:\s+(\d+)|exit(?:ed)? (?:with )?(?:code|status) (\d+)", re.I
)
_VERBS = {Action.INCREASE: "raise", Action.DECREASE: "lower"}
MESSAGE_CHARS = 160


def _raised(told: Described) -> str:
    """Return "init() in score.py:14 raised ValueError: …", in the words of the phase it was raised in."""
    message = clip_words(told.message, MESSAGE_CHARS)
    exception = f"{told.exception}: {message}" if message else told.exception
    frame = told.frame
    if frame is None:
        return f"{exception} was raised"
    if frame.user_code and frame.function == "<module>":
        place = f"the import of {frame.where.rsplit(':', 1)[0]} (line {frame.line})"
    elif frame.function and not frame.function.startswith("<"):
        place = f"{frame.function}() in {frame.where}"
    else:
        place = frame.where
    when = " while starting" if told.phase == "startup" and frame.function not in ("<module>", "init") else ""
    return f"{place} raised {exception}{when}"


def _exited(evidence: Sequence[Evidence]) -> str | None:
    """Return "the worker exited with code 3" for the first non-zero exit code the evidence quotes."""
    for ev in evidence:
        for m in _EXIT.finditer(ev.text):
            code = next(g for g in m.groups() if g is not None)
            if code != "0":
                who = (
                    "the worker"
                    if "worker" in ev.text[max(0, m.start() - 40) : m.start()].lower()
                    else "the process"
                )
                return f"{who} exited with code {code}"
    return None


def next_step(step: FixStep) -> str:
    """Return a fix step as a short imperative: "raise --timeout from 30 to 60 (gunicorn command line)"."""
    verb = _VERBS.get(step.action, step.action.value)
    phrase = f"{verb} {step.knob}"
    if step.action is Action.FIX and step.where:
        phrase += f" ({step.where})"
    if step.current is not None and step.suggested is not None:
        default = " (the default)" if step.current_source is ValueSource.DEFAULT else ""
        phrase += f" from {step.current}{default} to {step.suggested}"
    elif step.suggested is not None:
        phrase += f" to {step.suggested}"
    return phrase


def compose(
    cause: str,
    summary: str,
    evidence: Sequence[Evidence],
    tracebacks: Sequence[Described],
    fixes: Sequence[FixStep],
) -> str:
    """Return the summary: the headline the evidence allows (else the rule's words), then the first step.

    `tracebacks` are what the evidence's tracebacks say (parse/traceback.py describe), in evidence order.
    """
    parts = []
    told = tracebacks[0] if tracebacks and cause in EXCEPTION_CAUSES else None
    if told is not None:
        headline = _raised(told)
        exited = _exited(evidence)
        if exited is not None:
            headline += f"; {exited}"
        parts.append(headline + ".")  # says more than the rule's general words, which it replaces
    elif summary:
        parts.append(summary)
    if fixes:
        then = ""
        if fixes[0].action is Action.FIX and len(fixes) > 1 and fixes[1].action is Action.CHECK:
            then = f", then {next_step(fixes[1])}"  # fix the code, then the way to try it again
        parts.append(f"Next: {next_step(fixes[0])}{then}.")
    return " ".join(p if p.endswith((".", "!", "?", ")")) else p + "." for p in parts)
