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

# What makes a name (of an env var, a JSON or YAML key, a query parameter, a flag) a secret's: judged
# on its words (`AZURE_STORAGE_KEY` -> azure, storage, key; `dbPass` -> db, pass), so that `tokenizer`
# or `KeyError` keep their values and `DB_PASS`, `?pw=`, `"auth":` lose theirs.
_SECRET_WORDS = frozenset(
    "secret secrets token password passwd passphrase pass pwd pw creds credential credentials auth "
    "authorization apikey sas sig signature cookie".split()
)
_SECRET_LAST_WORDS = frozenset({"key", "keys"})  # AZURE_STORAGE_KEY, primaryKey; not KeyError, key_vault_url
_SECRET_RUNS = (  # inside the name with its separators removed: private_key_id, AccountKey, x-api-key
    "secret", "passw", "passphrase", "credential", "apikey", "accesskey", "accountkey", "privatekey",
    "clientsecret", "connectionstring", "sastoken", "signingkey", "masterkey", "encryptionkey",
)  # fmt: skip
# A name ending in one of these refers to a secret or describes one; its value is not the secret
# (secretName: model-creds, secretKeyRef, PASSWORD_FILE=/run/secrets/db, token_type: Bearer).
_NOT_SECRET_LAST_WORDS = frozenset(
    "name names ref keyref file filename path dir type length len size count ttl expiry expires url uri "
    "endpoint host header format mode method enabled required version policy scheme error provider kind "
    "source algorithm".split()
)
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


@functools.lru_cache(maxsize=4096)
def secret_name(name: str) -> bool:
    """Return True when `name` (an env var, a key, a parameter or a flag) says its value is a secret."""
    words = [w.lower() for w in _WORDS.findall(name)]
    if not words or words[-1] in _NOT_SECRET_LAST_WORDS:
        return False
    if len(words) > 1 and words[-1] in _SECRET_LAST_WORDS:
        return True
    flat = "".join(words)
    return any(w in _SECRET_WORDS for w in words) or any(run in flat for run in _SECRET_RUNS)


# Candidate names for the name=value patterns: any name holding one of these runs; secret_name decides.
_NAME = r"[\w.-]*(?:secret|token|pass|pwd|pw|key|auth|cred|sas|sig|phrase|connection|cookie)[\w.-]*"
_PEM = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
_PEM_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")


def _spec(pattern: str, flags: int = 0) -> tuple[str, int]:
    """Return a regex as (pattern, flags): the secret patterns compile on first use, not at import."""
    return pattern, flags


_SCHEMES = frozenset({"bearer", "basic", "token", "sharedaccesssignature", "digest", "negotiate"})


class _Keep(int):
    """A match the replacement turned down: the text stays, and the search resumes at this index
    (after the name), so that a secret inside the refused value is still found."""


def _named(name_group: int, value_group: int) -> Any:
    """Return a replacement that masks the value when the name says secret (and it is not a count)."""

    def replace(m: re.Match[str]) -> str | _Keep:
        value = m.group(value_group)
        if (
            value is None
            or value.lower() in _SCHEMES
            or not secret_name(m.group(name_group))
            or _counted(m.group(name_group), value)
        ):
            return _Keep(m.end(name_group))
        start, end = m.span(value_group)
        whole, base = m.group(0), m.start(0)
        return whole[: start - base] + MASK + whole[end - base :]

    return replace


# The name=value replacements by (name group, value group), made once rather than at every match.
_MASK_1_3, _MASK_2_3, _MASK_2_4 = _named(1, 3), _named(2, 3), _named(2, 4)


def _url_password(m: re.Match[str]) -> str:
    """Mask the password of scheme://user:password@host, unless the "password" is a port and a path
    (`https://registry:443/@scope/pkg`)."""
    if re.fullmatch(r"\d{1,5}/.*", m.group(2), re.S):
        return m.group(0)
    return m.group(1) + MASK + m.group(3)


# Order matters: whole-token shapes first, then name=value forms (which must not re-redact a mask).
_SECRET_SPECS: tuple[tuple[tuple[str, int], Any], ...] = (
    # An env entry of a pod spec in JSON, `"name":"…","value":"…"`: the whole value goes when the name
    # says secret (OPENAI_API_KEY, DB_PASS).
    (
        _spec(r'(?i)"name"\s*:\s*"([^"\\]*)"\s*,\s*"value"\s*:\s*"((?:[^"\\]|\\.)*)"'),
        _named(1, 2),
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
    # Passwords in URLs: scheme://user:password@host; the password may hold `/` and `@` (the host
    # follows the last `@` of the URL).
    (
        _spec(
            r"(?i)\b([a-z][a-z0-9+.-]{1,20}://[^\s:/@\"'<>]*:)([^\s\"'<>]+)(@[^\s@/\"'<>]+(?:[/?#:\s\"'<>]|$))"
        ),
        _url_password,
    ),
    # Credentials on a command line: curl -u / --user user:password, docker login -p / mysql -p.
    (
        _spec(r"(?:^|\s)((?:-u|--user)[= ]\s*[\"']?[^\s:\"']+:)([^\s\"']+)"),
        lambda m: m.group(0) if m.group(2).isdigit() else m.group(0)[: m.start(2) - m.start(0)] + MASK,
    ),
    (_spec(r"(\blogin\b[^\n]*?\s-p\s*[\"']?)([^\s\"'-][^\s\"']*)"), r"\1" + MASK),
    # Connection strings, SAS and presigned URLs: the value of these keys is the secret.
    (
        _spec(
            r"(?i)\b(AccountKey|SharedAccessKey|SharedAccessSignature|sig|"
            r"X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|X-Goog-Signature|X-Goog-Credential|"
            r"Signature|AWSAccessKeyId|access_token|refresh_token|id_token|client_secret|api-key|apikey|key)=(?!<redacted)([^;&\s\"'<>]{4,})"
        ),
        r"\1=" + MASK,
    ),
    # Webhook URLs: the path is the credential.
    (
        _spec(r"(?i)\b(hooks\.slack\.com/(?:services|workflows|triggers)/)[A-Za-z0-9/_-]{8,}"),
        r"\1" + MASK,
    ),
    (_spec(r"(?i)\b(discord(?:app)?\.com/api/webhooks/\d+/)[A-Za-z0-9_-]{8,}"), r"\1" + MASK),
    # Well-known token shapes that carry no name in front of them.
    (
        _spec(
            r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b"  # AWS access key ids
            r"|\bgh[pousr]_[A-Za-z0-9]{30,}"  # GitHub tokens
            r"|\bgithub_pat_[A-Za-z0-9_]{30,}"
            r"|\bxox[abposr]-[A-Za-z0-9-]{10,}|\bxapp-[A-Za-z0-9-]{10,}"  # Slack tokens
            r"|\bAIza[0-9A-Za-z_-]{35}"  # Google API keys
            r"|\bGOCSPX-[A-Za-z0-9_-]{20,}"  # Google OAuth client secrets
            r"|\bya29\.[A-Za-z0-9_-]{20,}"  # Google OAuth access tokens
            r"|\bsk-(?:proj-|live-|test-|ant-)?[A-Za-z0-9_-]{20,}"  # OpenAI / Anthropic style secret keys
            r"|\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"  # Stripe secret and restricted keys
            r"|\bhf_[A-Za-z0-9]{30,}"  # Hugging Face tokens
            r"|\bdapi[0-9a-f]{32}(?:-\d+)?"  # Databricks personal access tokens
            r"|\bSG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{30,64}"  # SendGrid API keys
            r"|\bglpat-[A-Za-z0-9_-]{20,}"  # GitLab tokens
            r"|\bnpm_[A-Za-z0-9]{36}"  # npm tokens
            r"|\bpypi-AgE[A-Za-z0-9_-]{50,}"  # PyPI upload tokens
        ),
        MASK,
    ),
    # "name": "a quoted value, spaces and all" / name='…' for names that say secret.
    (
        _spec(
            r"(?i)((?:\"|\b)(" + _NAME + r")\"?[^\S\n]*[:=][^\S\n]*)"
            r"(?:\"(?!<redacted)((?:[^\"\\\n]|\\.){4,})\"|'(?!<redacted)([^'\n]{4,})')"
        ),
        lambda m: _MASK_2_3(m) if m.group(3) is not None else _MASK_2_4(m),
    ),
    # name=value / name: value / --name value (also `"--name", "value"` in a JSON args list).
    (
        _spec(
            r"(?i)(?:(?:\"|\b)(" + _NAME + r")\"?[^\S\n]*[:=][^\S\n]*\"?|"
            r"--(" + _NAME + r")(?:[^\S\n]+|=|\",[^\S\n]*)\"?)"
            r"(?!<redacted)([^\s\"',;}<>]{4,})"
        ),
        lambda m: _MASK_1_3(m) if m.group(1) is not None else _MASK_2_3(m),
    ),
)


def _substitute(pattern: re.Pattern[str], replacement: Any, text: str) -> str:
    """Return `text` with `pattern` replaced, as re.sub does, except that a replacement may turn a
    match down (_Keep) and have the search go on inside it."""
    if not callable(replacement):
        return pattern.sub(replacement, text)
    out: list[str] = []
    pos = 0
    while (m := pattern.search(text, pos)) is not None:
        new = replacement(m)
        if isinstance(new, _Keep):
            out.append(text[pos:new])
            pos = new
            continue
        out += (text[pos : m.start()], new)
        if m.end() == m.start():  # an empty match (a user's pattern may have one): step over a character
            out.append(text[m.end() : m.end() + 1])
            pos = m.end() + 1
        else:
            pos = m.end()
    out.append(text[pos:])
    return "".join(out)


@functools.cache
def secret_patterns() -> tuple[tuple[re.Pattern[str], Any], ...]:
    """Return the built-in secret patterns, compiled (once, when a text first looks like it holds one)."""
    return tuple((re.compile(p, f), repl) for (p, f), repl in _SECRET_SPECS)


def _counted(name: str, value: str) -> bool:
    """Return True for `max_tokens=1024`-style counts: a plain number after a name that is not a password."""
    return value.isdigit() and re.search(r"(?i)passw|pwd|secret|passphrase|key|pass\b|pw\b", name) is None


# Every default pattern needs one of these runs; most lines have none and skip the patterns.
_HINT = re.compile(
    r"(?i)secret|token|pass|pwd|pw|key|sig|bearer|auth|cred|connection|cookie|eyJ|PRIVATE|://|"
    r"signature|code=|AKIA|ASIA|AGPA|AIDA|AROA|gh[pousr]_|github_pat|xox|xapp-|AIza|sk-|sk_|rk_|glpat-|"
    r"sas|hf_|dapi|SG\.|GOCSPX|ya29\.|npm_|pypi-|hooks\.slack|webhooks|login|-u|--user"
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


# Structure: values that are secret because of the lines before them. Pod specs printed by kubectl
# (YAML or indented JSON) give an env entry's name on one line and its value on the next; a Secret's
# `data:` (base64) and `stringData:` blocks hold secrets under any key.
_BLOCK_START = re.compile(r'^(\s*)(?:-\s+)?"?(data|stringData|binaryData)"?\s*:\s*\{?\s*$')
_KEY_VALUE = re.compile(r'^(\s*(?:-\s+)?"?[^":\s][^":]*"?\s*:\s*)("?)(.*?)("?,?\s*)$')
_ENV_NAME = re.compile(r'^\s*(?:-\s+|\{\s*)?"?name"?\s*:\s*"?([^",\s}]+)"?\s*,?\s*$')
_ENV_VALUE = re.compile(r'^(\s*(?:-\s+)?"?value"?\s*:\s*)(.+?)(\s*,?\s*)$')
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}|[A-Za-z0-9_-]+={0,2}")
_STRUCTURE_HINT = re.compile(r"(?i)name|value|data")


def _encoded(value: str) -> bool:
    """Return True for a value that reads as base64 of something (a Secret's data), not a plain word or
    number (a ConfigMap's `enabled: true`, `workers: "1024"`)."""
    v = value.strip().strip("\"'")
    if len(v) < 4 or len(v) % 4 or _BASE64.fullmatch(v) is None:
        return False
    classes = (any(c.isupper() for c in v), any(c.islower() for c in v), any(c.isdigit() for c in v))
    return v.endswith("=") or sum(classes) >= 2


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" \t-"))


class _Structure:
    """What one source's earlier lines say about its next one: inside a data block, after a secret
    env name, inside a private key."""

    __slots__ = ("block", "block_all", "env_secret", "env_wait", "in_key")

    def __init__(self) -> None:
        self.block: int | None = None  # indent of the `data:` line whose block we are in
        self.block_all = False  # stringData: every value goes, not only encoded ones
        self.env_secret = False  # the last env name said secret: its `value:` goes
        self.env_wait = 0  # lines the value may still come in
        self.in_key = False  # inside a private key's BEGIN..END

    def __call__(self, text: str) -> str:
        """Return `text` with what its context makes secret masked (the line patterns come after)."""
        if self.in_key:
            if end := _PEM_END.search(text):  # kept, so that the BEGIN..END pattern still spans the key
                self.in_key = False
                return "<redacted-private-key>" + text[end.start() :]
            return "<redacted-private-key>"
        if "PRIVATE KEY" in text and re.search(_PEM, text) and not _PEM_END.search(text):
            self.in_key = True
            return text
        if self.block is not None:
            if text.strip() and _indent(text) <= self.block:
                self.block = None
            elif text.strip():
                masked = self._in_block(text)
                if masked != text:
                    return masked
        if not _STRUCTURE_HINT.search(text):
            self.env_wait = max(0, self.env_wait - 1)
            return text
        if m := _BLOCK_START.match(text):
            self.block, self.block_all = _indent(text), m.group(2) == "stringData"
            return text
        if m := _ENV_NAME.match(text):
            self.env_secret, self.env_wait = secret_name(m.group(1)), 2
            return text
        if self.env_secret and self.env_wait and (m := _ENV_VALUE.match(text)):
            self.env_secret = False
            return m.group(1) + MASK + m.group(3)
        self.env_wait = max(0, self.env_wait - 1)
        return text

    def _in_block(self, text: str) -> str:
        m = _KEY_VALUE.match(text)
        if m is None:  # a line of a block scalar (`key: |` then indented text)
            return text[: _indent(text)] + MASK if self.block_all else text
        value = m.group(3)
        if not value or value in ("|", ">", "|-", ">-", "{", "["):
            return text
        if self.block_all or _encoded(value):
            return m.group(1) + m.group(2) + MASK + m.group(4)
        return text


@dataclass(frozen=True, slots=True)
class Redactor:
    """Replace secrets in text: the built-in patterns plus extra ones a user gave."""

    extra: tuple[re.Pattern[str], ...] = ()
    enabled: bool = True

    def __call__(self, text: str) -> str:
        """Return `text` with every secret replaced by a mask; a text of several lines (a record, a
        pasted manifest) is read line by line for its structure first."""
        if not self.enabled or not text:
            return text
        if "\n" in text:
            structure = _Structure()
            text = "\n".join(structure(line) for line in text.split("\n"))
        return self._line(text)

    def _line(self, text: str) -> str:
        """Return `text` with the patterns applied (no structure)."""
        if _HINT.search(text):
            for pattern, replacement in secret_patterns():
                text = _substitute(pattern, replacement, text)
        if "\n" in text or _PEM_BODY.search(text):
            text = "\n".join(
                "<redacted-private-key>" if _pem_body(line) else line for line in text.split("\n")
            )
        for pattern in self.extra:
            text = pattern.sub(_extra_mask, text)
        return text

    def lines(self, raws: Iterable[RawLine]) -> Iterator[RawLine]:
        """Yield `raws` redacted, each source's lines read in order for their structure (a private
        key's body up to its END line, an env value after its secret name, a Secret's data block)."""
        from diagnoser.model import RawLine

        if not self.enabled:
            yield from raws
            return
        structures: dict[str, _Structure] = {}
        for raw in raws:
            structure = structures.get(raw.source)
            if structure is None:
                structure = structures[raw.source] = _Structure()
            text = self._line(structure(raw.text))
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
    "secret_name",
    "Redactor",
    "secret_patterns",
    "make_redactor",
    "clip_record",
    "redact",
    "redact_and_clip",
]
