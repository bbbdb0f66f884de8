"""Redact secrets from text as it leaves the program: one policy, applied at the exits.

The exits are the renderers (every report format), the bundle writer and `diagnoser parse`; the
stages before them see the logs as they are. Evidence leaves redacted first and clipped second (a
secret cut in two may no longer match).

Secrets that show up in logs, pod specs and `docker inspect` output: bearer tokens and JWTs, cloud
account keys and connection strings, SAS and presigned-URL signatures, passwords in URLs and in
assignments, environment variables whose names say secret, well-known API-token shapes, and private
keys. The value goes, the name stays (`AccountKey=<redacted>`), so a reader still sees what kind of
secret was there. Users add their own patterns (`--redact-pattern`); `--no-redact` turns redaction off.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from diagnoser.errors import ConfigError

if TYPE_CHECKING:
    from diagnoser.model import Diagnosis, Evidence, FixStep, RawLine, Report

MASK = "<redacted>"
EVIDENCE_CHARS = 500  # an evidence text leaves cut to this many characters

# Words that make an environment variable's name a secret's (AML_APP_INSIGHTS_KEY, DB_PASSWORD): an
# env entry of a pod spec (`"name":"…","value":"…"`) loses its value. Judged on the whole name, so
# broader than the `name=value` names below, which are judged inside free text.
SECRET_ENV_WORDS = ("KEY", "SECRET", "TOKEN", "PASSWORD", "PASSWD", "CREDENTIAL", "CONNECTION", "SAS", "AUTH")

# Names whose value is a secret in `name=value`, `name: value`, `"name": "value"`, `--name value`.
_SECRET_NAMES = (
    r"secret|token|password|passwd|passphrase|pwd|api[_-]?key|access[_-]?key|account[_-]?key|"
    r"private[_-]?key|primary[_-]?key|secondary[_-]?key|subscription[_-]?key|functions[_-]?key|"
    r"client[_-]?secret|connection[_-]?string|credentials?|auth[_-]?key|sas[_-]?token|signing[_-]?key"
)
_PEM = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
_PEM_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")


def _spec(pattern: str, flags: int = 0) -> tuple[str, int]:
    """Return a regex as (pattern, flags): the secret patterns compile on first use, not at import."""
    return pattern, flags


# Order matters: whole-token shapes first, then name=value forms (which must not re-redact a mask).
_SECRET_SPECS: tuple[tuple[tuple[str, int], Any], ...] = (
    # An env entry whose name says secret, as a pod spec in JSON has it: the whole value goes.
    (
        _spec(
            r'(?i)("name"\s*:\s*"[^"\\]*(?:'
            + "|".join(SECRET_ENV_WORDS)
            + r')[^"\\]*"\s*,\s*"value"\s*:\s*")'
            r'(?:[^"\\]|\\.)*(")'
        ),
        r"\1" + MASK + r"\2",
    ),
    # A private key, whole (BEGIN..END in one text, real or JSON-escaped newlines) or from BEGIN on.
    (
        _spec(_PEM + r"(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|.*)", re.S),
        "<redacted-private-key>",
    ),
    # JWTs (also a JWT cut short by a length cap): base64url JSON header `{"` = eyJ.
    (_spec(r"\beyJ[A-Za-z0-9_-]{10,}(?:\.[A-Za-z0-9_-]*){0,2}"), "<redacted-jwt>"),
    # Authorization headers: Bearer / Basic / token schemes, quoted or not.
    (
        _spec(
            r"(?i)\b(authorization[\"']?\s*[:=]\s*[\"']?(?:bearer|basic|token|sharedaccesssignature)\s+)[^\s\"',;]{4,}"
        ),
        r"\1" + MASK,
    ),
    (_spec(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/-]{16,}=*"), r"\1" + MASK),
    # Passwords in URLs: scheme://user:password@host.
    (_spec(r"(?i)\b([a-z][a-z0-9+.-]{1,20}://[^\s:/@\"'<>]*:)[^\s@/\"'<>]+(@)"), r"\1" + MASK + r"\2"),
    # Connection strings, SAS and presigned URLs: the value of these keys is the secret.
    (
        _spec(
            r"(?i)\b(AccountKey|SharedAccessKey|SharedAccessSignature|sig|"
            r"X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|X-Goog-Signature|X-Goog-Credential|"
            r"Signature|AWSAccessKeyId|access_token|refresh_token|id_token|client_secret|api-key|apikey|key)=(?!<redacted)([^;&\s\"'<>]{4,})"
        ),
        r"\1=" + MASK,
    ),
    # Well-known token shapes that carry no name in front of them.
    (
        _spec(
            r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b"  # AWS access key ids
            r"|\bgh[pousr]_[A-Za-z0-9]{30,}"  # GitHub tokens
            r"|\bgithub_pat_[A-Za-z0-9_]{30,}"
            r"|\bxox[abposr]-[A-Za-z0-9-]{10,}"  # Slack tokens
            r"|\bAIza[0-9A-Za-z_-]{35}"  # Google API keys
            r"|\bsk-(?:proj-|live-|test-)?[A-Za-z0-9_-]{20,}"  # OpenAI / Stripe style secret keys
            r"|\bglpat-[A-Za-z0-9_-]{20,}"  # GitLab tokens
        ),
        MASK,
    ),
    # "name": "a quoted value, spaces and all" / name='…' for names that say "secret".
    (
        _spec(
            r"(?i)((?:\"|\b)[\w.-]*(?:" + _SECRET_NAMES + r")[\w.-]*\"?\s*[:=]\s*)"
            r"(?:\"(?!<redacted)((?:[^\"\\\n]|\\.){4,})\"|'(?!<redacted)([^'\n]{4,})')"
        ),
        lambda m: (
            m.group(0)
            if _counted(m)
            else m.group(1)
            + ('"' if m.group(2) is not None else "'")
            + MASK
            + ('"' if m.group(2) is not None else "'")
        ),
    ),
    # name=value / name: value / --name value, for names that say "secret".
    (
        _spec(
            r"(?i)((?:\"|\b)[\w.-]*(?:" + _SECRET_NAMES + r")[\w.-]*\"?\s*[:=]\s*\"?|"
            r"--[\w-]*(?:" + _SECRET_NAMES + r")[\w-]*(?:\s+|=)\"?)"
            r"(?!<redacted)([^\s\"',;}<>]{4,})"
        ),
        lambda m: m.group(0) if _counted(m) else m.group(1) + MASK,
    ),
)


@functools.cache
def secret_patterns() -> tuple[tuple[re.Pattern[str], Any], ...]:
    """Return the built-in secret patterns, compiled (once, when a text first looks like it holds one)."""
    return tuple((re.compile(p, f), repl) for (p, f), repl in _SECRET_SPECS)


def _counted(match: re.Match[str]) -> bool:
    """Return True for `max_tokens=1024`-style counts: a plain number after a name that is not a password."""
    value = match.group(2) if match.group(2) is not None else match.group(3) or ""
    return value.isdigit() and re.search(r"(?i)passw|pwd|secret|passphrase|key", match.group(1)) is None


# Every default pattern needs one of these words; most lines have none and skip the patterns.
_HINT = re.compile(
    r"(?i)secret|token|passw|pwd|key|sig|bearer|auth|credential|connection|eyJ|PRIVATE|://|"
    r"signature|code=|AKIA|ASIA|AGPA|AIDA|AROA|gh[pousr]_|github_pat|xox|AIza|sk-|glpat-|sas"
)
# A line of a PEM body (64 base64 characters) seen without its BEGIN line, e.g. as a lone evidence line.
_PEM_BODY = re.compile(r"[A-Za-z0-9+/]{40,76}={0,2}")


def _pem_body(line: str) -> bool:
    """Return True for a line that looks like the body of a PEM block (mixed-case base64 with digits)."""
    s = line.strip()
    return (
        _PEM_BODY.fullmatch(s) is not None
        and any(c.isupper() for c in s)
        and any(c.islower() for c in s)
        and any(c.isdigit() for c in s)
    )


@dataclass(frozen=True, slots=True)
class Redactor:
    """Replace secrets in text: the built-in patterns plus extra ones a user gave."""

    extra: tuple[re.Pattern[str], ...] = ()
    enabled: bool = True

    def __call__(self, text: str) -> str:
        """Return `text` with every secret replaced by a mask."""
        if not self.enabled or not text:
            return text
        if _HINT.search(text):
            for pattern, replacement in secret_patterns():
                text = pattern.sub(replacement, text)
        if "\n" in text or _PEM_BODY.search(text):
            text = "\n".join(
                "<redacted-private-key>" if _pem_body(line) else line for line in text.split("\n")
            )
        for pattern in self.extra:
            text = pattern.sub(_extra_mask, text)
        return text

    def lines(self, raws: Iterable[RawLine]) -> Iterator[RawLine]:
        """Yield `raws` redacted; the body of a private key spread over lines goes up to its END line."""
        from diagnoser.model import RawLine

        in_key: set[str] = set()
        for raw in raws:
            text = raw.text
            if not self.enabled:
                yield raw
                continue
            if raw.source in in_key:
                if _PEM_END.search(text):
                    in_key.discard(raw.source)
                    text = _PEM_END.split(text, 1)[1]
                    text = "<redacted-private-key>" + self(text)
                else:
                    text = "<redacted-private-key>"
            else:
                if re.search(_PEM, text) and not _PEM_END.search(text):
                    in_key.add(raw.source)
                text = self(text)
            yield raw if text == raw.text else RawLine(raw.source, raw.line, text)


def _extra_mask(match: re.Match[str]) -> str:
    """Return the mask for a user pattern: only its `secret` group when it has one, else the whole match."""
    if "secret" in match.re.groupindex and match.group("secret") is not None:
        start, end = match.span("secret")
        whole = match.group(0)
        base = match.start(0)
        return whole[: start - base] + MASK + whole[end - base :]
    return MASK


DEFAULT = Redactor()
NONE = Redactor(enabled=False)


def redact(text: str) -> str:
    """Return `text` with credentials (tokens, keys, passwords, signatures) replaced by <redacted>."""
    return DEFAULT(text)


def make_redactor(patterns: Sequence[str] = (), enabled: bool = True) -> Redactor:
    """Return a Redactor with the built-in patterns plus `patterns` (checked like rule regexes)."""
    compiled: list[re.Pattern[str]] = []
    for text in patterns:
        # Here: every run builds a redactor, and only a user's pattern needs the analysis (start-up).
        from diagnoser.regexsafety import regex_problem

        problem = regex_problem(text)
        if problem is not None:
            raise ConfigError(f"--redact-pattern: {problem}")
        if re.compile(text).search("") is not None:
            raise ConfigError(
                f"--redact-pattern: regular expression {text!r} matches the empty string",
                hint="make it match the secret itself",
            )
        compiled.append(re.compile(text))
    if not enabled:
        return NONE
    return Redactor(tuple(compiled)) if compiled else DEFAULT


def clip_record(text: str, limit: int = EVIDENCE_CHARS) -> str:
    """Return `text` cut to `limit` characters, keeping the head and the tail of a multi-line record.

    The tail of a traceback (the exception line) proves more than its middle frames.
    """
    if len(text) <= limit:
        return text
    if "\n" not in text:
        return text[: limit - 1] + "…"
    tail_budget = limit * 3 // 5
    head = text[: limit - tail_budget - 3].rstrip()
    tail = text[-tail_budget:]
    if "\n" in tail:
        tail = tail[tail.index("\n") + 1 :]
    return f"{head}\n…\n{tail}"


def _evidence(ev: Evidence, r: Redactor, clip: bool = True) -> Evidence:
    """Return `ev` as it leaves: redacted, then clipped."""
    text = clip_record(r(ev.text)) if clip else r(ev.text)
    return ev if text == ev.text else replace(ev, text=text)


def _fix(step: FixStep, r: Redactor) -> FixStep:
    """Return a step as it leaves: its values and every text the plan filled from the logs (the user's
    file and frame in knob, where, text and why; pod and container names in the snippet) redacted."""
    return replace(
        step,
        current=r(step.current) if step.current else step.current,
        suggested=r(step.suggested) if step.suggested else step.suggested,
        knob=r(step.knob),
        where=r(step.where),
        text=r(step.text),
        why=r(step.why),
        snippet=r(step.snippet) if step.snippet else step.snippet,
    )


def _diagnosis(d: Diagnosis, r: Redactor, clip: bool) -> Diagnosis:
    return replace(
        d,
        summary=r(d.summary),
        evidence=tuple(_evidence(e, r, clip) for e in d.evidence),
        fixes=tuple(_fix(s, r) for s in d.fixes),
    )


def redact_and_clip(report: Report, r: Redactor = DEFAULT, clip: bool = True) -> Report:
    """Return `report` as it leaves: every text from the logs redacted, then evidence clipped.

    Clipped even when redaction is off (`--no-redact`): evidence is a quote, not the whole record. The
    text and markdown reports pass clip=False: they quote chosen lines of each record (render/quote.py).
    """
    return replace(
        report,
        diagnoses=tuple(_diagnosis(d, r, clip) for d in report.diagnoses),
        suspicious=tuple(_evidence(e, r, clip) for e in report.suspicious),
        warnings=tuple(r(w) for w in report.warnings),
    )


__all__ = [
    "DEFAULT",
    "EVIDENCE_CHARS",
    "MASK",
    "NONE",
    "SECRET_ENV_WORDS",
    "Redactor",
    "secret_patterns",
    "make_redactor",
    "clip_record",
    "redact",
    "redact_and_clip",
]
