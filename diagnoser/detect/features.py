"""Features for the classifier: masked templates of suspicious events plus structured signals.

Masking is ordered data applied before tokenising (as Drain3 does), so that pids, paths, hosts,
numbers and ids never become features: "Worker (pid:24563) was sent SIGKILL" and
"Worker (pid:7) was sent SIGKILL" give the same tokens.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from diagnoser.model import Event, Level

MAX_TOKENS = 4000  # distinct tokens kept per input: memory stays flat on huge logs
MAX_MESSAGE = 400  # characters of a message that are tokenised
MAX_EVIDENCE = 64  # suspicious events remembered for evidence

# (name, pattern) applied in order; each match becomes <NAME>.
MASKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("URL", re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.I)),
    ("UUID", re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)),
    ("PATH", re.compile(r"(?:[A-Za-z]:)?(?:/[\w.@+-]+){2,}/?")),
    ("IP", re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b")),
    ("HEX", re.compile(r"\b(?:0x[0-9a-f]+|[0-9a-f]{12,})\b", re.I)),
    ("TIME", re.compile(r"\b\d{1,4}[-/:]\d{1,2}[-/:]\d{1,4}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?)?\b")),
    ("NUM", re.compile(r"\b\d+(?:\.\d+)?(?:[a-z]{1,3})?\b", re.I)),
)
_WORD = re.compile(r"<[A-Z]+>|[A-Za-z][A-Za-z_.]*[A-Za-z]|[A-Za-z]")
# Wording that marks a line worth reading even without a level.
_ALARM = re.compile(
    r"error|exception|fail|fatal|killed|kill|denied|refused|timeout|timed out|unable|cannot|can't|could not|"
    r"not found|no such|insufficient|back-?off|oom|out of memory|crash|exit(?:ed)? (?:with )?code|abort|"
    r"unschedulable|evict|unhealthy|probe|illegal|segmentation|signal|too many|overloaded|unavailable",
    re.I,
)
# Status codes the seed page names; other codes fold into their class.
_KEPT_STATUSES = {408, 424, 429, 500, 502, 503, 504}


def _path(match: re.Match[str]) -> str:
    """Mask a path's folders but keep a short file name: "model.pkl" and "score.py" carry meaning."""
    base = match.group(0).rstrip("/").rsplit("/", 1)[-1]
    return f"<PATH>/{base}" if 0 < len(base) <= 32 else "<PATH>"


def mask(text: str) -> str:
    """Return `text` with variable parts replaced by <NAME> placeholders."""
    for name, pattern in MASKS:
        text = pattern.sub(_path if name == "PATH" else f"<{name}>", text)
    return text


def tokens(text: str) -> list[str]:
    """Return lower-case word unigrams and bigrams of the masked text."""
    words = [w.lower() for w in _WORD.findall(mask(text[:MAX_MESSAGE]))]
    return words + [f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)]


def is_suspicious(event: Event) -> bool:
    """Return True for events that can say why a service fails."""
    if event.level in (Level.WARNING, Level.ERROR, Level.CRITICAL):
        return True
    kind = event.fields.get("kind")
    if kind in ("traceback", "oom_kill", "worker_timeout", "worker_exit", "fatal_error", "container_state"):
        return True
    if kind == "access":
        status = event.fields.get("status")
        return isinstance(status, int) and status >= 400
    if kind == "k8s_event":
        return event.fields.get("event_type") != "Normal"
    return _ALARM.search(event.message[:MAX_MESSAGE]) is not None


def structured(event: Event) -> list[str]:
    """Return tokens for the typed fields that carry meaning on their own."""
    fields = event.fields
    out = []
    kind = fields.get("kind")
    if kind:
        out.append(f"kind={kind}")
    for name in ("reason", "exception", "event_type", "signal_name", "state"):
        value = fields.get(name)
        if isinstance(value, str) and value:
            out.append(f"{name}={value.lower()}")
    for name in ("exit_code", "signal"):
        value = fields.get(name)
        if isinstance(value, int):
            out.append(f"{name}={value}")
    status = fields.get("status")
    if isinstance(status, int):
        out.append(f"status={status if status in _KEPT_STATUSES else f'{status // 100}xx'}")
    return out


@dataclass(slots=True)
class FeatureBag:
    """Token counts of one input, built event by event with bounded memory."""

    counts: Counter[str] = field(default_factory=Counter)
    evidence: list[tuple[Event, frozenset[str]]] = field(default_factory=list)
    events: int = 0
    suspicious: int = 0
    boots: int = 0

    def feed(self, event: Event) -> None:
        """Add one event's features."""
        self.events += 1
        if event.fields.get("kind") == "worker_boot":
            self.boots += 1
        if not is_suspicious(event):
            return
        self.suspicious += 1
        toks = tokens(event.message) + structured(event)
        counts = self.counts
        for tok in toks:
            if tok in counts or len(counts) < MAX_TOKENS:
                counts[tok] += 1
        if len(self.evidence) < MAX_EVIDENCE:
            self.evidence.append((event, frozenset(toks)))

    def finish(self) -> Counter[str]:
        """Return the token counts with whole-input signals added."""
        counts = Counter(self.counts)
        if self.boots >= 3:
            counts["boots>=3"] += 1
        if self.boots >= 8:
            counts["boots>=8"] += 1
        if self.suspicious == 0:
            counts["no_suspicious_lines"] += 1
        return counts
