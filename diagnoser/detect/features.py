"""Features for the classifier: words of the suspicious lines, a cross-server lexicon, and structured signals.

Three kinds of token, all computed from the events `is_suspicious` keeps (the rest are only counted):

- words: lower-case unigrams and bigrams of the masked message. Masking is ordered data applied
  before tokenising (as Drain3 does), so that pids, paths, hosts, numbers and ids never become
  features: "Worker (pid:24563) was sent SIGKILL" and "Worker (pid:7) was sent SIGKILL" give the
  same tokens.
- concepts (`c:memory`, `c:timeout`, ...): what a line is about, recognised by a lexicon written
  across servers and languages of log (gunicorn, Kubernetes, JVM, Go, Node, Rust launchers, Celery,
  Heroku, cloud platforms), plus the pairs of concepts that occur in the same line
  (`c:exception+c:startup` differs from `c:exception+c:request`). Concepts are what lets a model
  trained on one server's wording name the cause in another's.
- structured signals: typed fields the parsers extract (kind, reason, exception type, exit code,
  signal, HTTP status) and whole-input counts (worker boots, the mix of HTTP statuses, how much of
  the input looks wrong).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache, lru_cache
from itertools import combinations
from types import SimpleNamespace

from diagnoser.detect.prefilter import LiteralSet, Pattern
from diagnoser.detect.regexes import literals, plain_alternatives
from diagnoser.model import Event, EventKind, Level

MAX_TOKENS = 4000  # distinct tokens kept per input: memory stays flat on huge logs
MAX_MESSAGE = 400  # characters of a message that are tokenised
# Record kinds that say a failure by their structure, and the kinds compared per event, bound once:
# on Python 3.11 an EventKind.X lookup costs about three function calls (see model.EventKind).
_ACCESS, _WORKER_BOOT, _K8S_EVENT = EventKind.ACCESS, EventKind.WORKER_BOOT, EventKind.K8S_EVENT
_TRACEBACK = EventKind.TRACEBACK
FAILURE_KINDS = frozenset(
    {
        EventKind.TRACEBACK,
        EventKind.OOM_KILL,
        EventKind.WORKER_TIMEOUT,
        EventKind.WORKER_EXIT,
        EventKind.FATAL_ERROR,
        EventKind.CONTAINER_STATE,
    }
)
MAX_EVIDENCE = 64  # suspicious events remembered for evidence

# (name, pattern) applied in order; each match becomes <NAME>. Patterns here and below are compiled on
# first use (_compiled): importing the module stays cheap, and a healthy log with no suspicious line
# never compiles them.
MASKS: tuple[tuple[str, str, int], ...] = (
    ("URL", r"\b[a-z][a-z0-9+.-]*://\S+", re.I),
    ("UUID", r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I),
    ("PATH", r"(?:[A-Za-z]:)?(?:/[\w.@+-]+){2,}/?", 0),
    ("IP", r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b", 0),
    ("HEX", r"\b(?:0x[0-9a-f]+|[0-9a-f]{12,})\b", re.I),
    ("TIME", r"\b\d{1,4}[-/:]\d{1,2}[-/:]\d{1,4}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?)?\b", 0),
    ("NUM", r"\b\d+(?:\.\d+)?(?:[a-z]{1,3})?\b", re.I),
)
_WORD = r"<[A-Z]+>|[A-Za-z][A-Za-z_.]*[A-Za-z]|[A-Za-z]"
# Words too common to say anything ("no" and "not" stay: not found, no such file); single letters (the
# pieces of pod hashes and ids the masks miss) are dropped too.
STOPWORDS = frozenset(
    "a an the of for to in on at is are was were be been being and or with by this that these those it "
    "its as "
    "from has have had will would should please you your we our i if there then than so into also".split()
)
# Wording that marks a line worth reading even without a level. It is also compiled into the
# prefilter backend by ClassifierGate below (hyperscan / RE2 / re), so it keeps to
# plain alternation and \b: no look-around, no back-references.
_ALARM = re.compile(
    "|".join(
        (
            r"error|exception|fail|fatal|killed|kill|denied|refused|timeout|timed out|unable|cannot|can't",
            r"could not|couldn't|not found|no such|insufficient|back-?off|oom|out of memory|crash",
            r"exit(?:ed)? (?:with )?code|abort|unschedulable|evict|unhealthy|probe|illegal|segmentation",
            r"signal|too many|overload|unavailable|warn|traceback|memory|quota|exceeded|capacity|deadline",
            r"context canceled|died|dead\b|lost|terminated|panic|missing|does not exist|doesn't exist",
            r"not available|no available|no worker|throttl|rejected|too large|to be scheduled",
            r"cannot be scheduled|pending|\b(?:429|50[0234])\b",
        )
    ),
    re.I,
)
# Status codes the seed page names; other codes fold into their class.
_KEPT_STATUSES = {404, 408, 424, 429, 500, 502, 503, 504}

# The cross-server lexicon: (concept, alternatives over the lower-cased message). A line may carry several.
_LEXICON: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "memory",
        (
            r"out of memory|memory (?:quota|limit|pressure|cgroup|exhaust|exceed|usage|leak)|(?<![\w-])oom"
            r"|outofmemory",
            r"heap|bad_alloc|cannot allocate|memoryerror|\bmem=|\bram\b|\br1[45]\b|resource:memory",
            r"(?:system|insufficient|more|enough|low|of|physical|available) memory",
        ),
    ),
    ("kill", (r"kill|sigkill|signal 9\b|\b137\b|signal: killed|-9\b|reaped|worker lost|workerlosterror",)),
    (
        "died",
        (
            r"died|dead\b|exited|terminated|lost\b|shut ?down|stopped|crash",
            r"exit code|exit status|status \d",
        ),
    ),
    ("timeout", (r"time ?out|timed out|deadline|context canceled|\b504\b|\bh12\b|took too long|time limit",)),
    (
        "notfound",
        (
            r"not found|no such|does not exist|doesn't exist|missing|cannot find|can't find|could not find",
            r"unable to find|\b404\b|filenotfound|enoent|not a valid|no versions? of|failed to locate",
        ),
    ),
    (
        "model",
        (
            r"model|checkpoint|weights|\.pth?\b|\.pkl\b|\.onnx\b|\.h5\b|\.ckpt\b|savedmodel|servable",
            r"safetensors|joblib|pickle|\.mar\b|\.bin\b",
        ),
    ),
    (
        "schedule",
        (
            r"schedul|pending|insufficient|\bplace\b|placement|provision|no nodes|nodes are available",
            r"node affinity|taint|didn't match|resources required|resource:|no container instance",
        ),
    ),
    (
        "capacity",
        (
            r"capacity|quota|limit|exceed|too large|requires more|not enough|insufficient",
            r"resourcelimitexceeded|than is available",
        ),
    ),
    (
        "overload",
        (
            r"overload|too many|\b429\b|\b503\b|queue (?:is )?full|no available|no worker|throttl",
            r"rate limit|service unavailable|backlog|busy|max.?concurren|rejected",
        ),
    ),
    ("exception", (r"exception\b|traceback|error\b|errors\b|\braise|\bpanic",)),
    (
        "startup",
        (
            r"init|startup|start ?up|starting|boot|load|constructor|lifespan|failed to start",
            r"cannot start|creation task|deploy|import|launch|ready|<module>",
        ),
    ),
    (
        "request",
        (
            r"predict|inference|request|invocation|invok|/score|\bpost\b|\bget\b|handler|\bin run\b",
            r"\brun\(|scoring|generat|\bcall\b|endpoint|/api/|/v\d|dispatch|forward",
        ),
    ),
    ("http5xx", (r"\b50[02]\b|internal server error|bad gateway|server error",)),
    # not "core dumped": every fatal signal (SEGV, ABRT, BUS ...) dumps core
    ("sigill", (r"illegal instruction|sigill|signal 4\b|\b132\b|\bavx",)),
    ("gpu", (r"cuda|\bgpu|nvidia|cudnn|nccl|\bdevice",)),
    ("image", (r"pull|\bimage|manifest|registry|errimagepull|unauthorized|repository",)),
    # the port is taken; a failed bind alone is not (`cannot assign requested address`, `permission denied`)
    ("port", (r"address already in use|already in use|port is already|connection in use|eaddrinuse",)),
    ("permission", (r"permission|eacces|read-only|forbidden|access denied|not permitted",)),
    (
        "dependency",
        (
            r"no module named|modulenotfound|importerror|cannot import|not installed|command not found",
            r"undefined symbol|incompatible|version",
        ),
    ),
    ("evict", (r"evict|ephemeral|disk ?pressure|low on resource|no space left",)),
    ("probe", (r"probe|liveness|readiness|health ?check|unhealthy|not ready",)),
    (
        "config",
        (
            r"\bsecret|configmap|config ?map|environment variable|env var|placeholder|setting",
            r"config(?:uration)? (?:key|file|value|error)|createcontainerconfigerror|field required",
            r"required (?:key|field|variable)",
        ),
    ),
    ("volume", (r"mount|volume|persistentvolumeclaim|\bpvc\b|\bnfs\b|attach",)),
    (
        "connect",
        (
            r"connection refused|econnrefused|(?:could not|couldn't|unable to|failed to|cannot) connect",
            r"can't connect",
            r"no such host|name or service not known|name resolution|unknownhost|getaddrinfo|enotfound",
            r"communications link failure|no route to host|network is unreachable|dial tcp",
        ),
    ),
    ("bind", (r"\bbind\b|cannot assign requested address",)),
)
CONCEPTS: tuple[tuple[str, str], ...] = tuple((name, "|".join(alts)) for name, alts in _LEXICON)

# A level written in the text of a line the parsers left without one ("uvicorn.error INFO ...",
# "level=info", Heroku's "at=info"): such a line is informational unless it says something strong.
# A line that is mostly key-value pairs (a configuration or an environment dump: "timeout": 120,
# OLLAMA_LOAD_TIMEOUT=5m0s) is informational in the same way.
_TEXT_INFO = r"\b(?:INFO|DEBUG|TRACE|NOTICE)\b|\b(?:level|at)=(?:info|debug|trace)\b"
_KEY_VALUE = r"\b\w+=[^\s=]|\"\w+\"\s?:\s?[\w\"'\[{-]"
_STRONG = "|".join(
    (
        r"fail|fatal|exception|traceback|killed|sigkill|denied|refused|timed out|not found|no such",
        r"insufficient|out of memory|\boom|crash|unschedulable|evict|overload|exceeded|unable|cannot",
        r"can't|could not|couldn't|died|panic|abort|unavailable|too many|no available|no worker|deadline",
        r"quota|\b(?:429|50[0234])\b|(?:request|gateway|worker|read|connect) timeout|timeouterror",
        r"\bat=error|level\"?\s?[:=]\s?\"?(?:error|fatal)",
    )
)


@cache
def _compiled() -> SimpleNamespace:
    """Return the module's patterns, compiled once."""
    return SimpleNamespace(
        masks=tuple((name, re.compile(pattern, flags)) for name, pattern, flags in MASKS),
        word=re.compile(_WORD),
        concepts=tuple((name, re.compile(pattern)) for name, pattern in CONCEPTS),
        text_info=re.compile(_TEXT_INFO),
        key_value=re.compile(_KEY_VALUE),
        strong=re.compile(_STRONG, re.I),
    )


def _path(match: re.Match[str]) -> str:
    """Mask a path's folders but keep a short file name: "model.pkl" and "score.py" carry meaning."""
    base = match.group(0).rstrip("/").rsplit("/", 1)[-1]
    return f"<PATH>/{base}" if 0 < len(base) <= 32 else "<PATH>"


def mask(text: str) -> str:
    """Return `text` with variable parts replaced by <NAME> placeholders."""
    for name, pattern in _compiled().masks:
        text = pattern.sub(_path if name == "PATH" else f"<{name}>", text)
    return text


# The masks and the word pattern tell digits apart only by `0x` (a digit is never part of a word), so
# texts that differ in their digits 1-9 alone (pids, counters: a crash loop's lines) have the same
# tokens: they are computed once for all such texts.
_SAME_TOKENS = str.maketrans("23456789", "11111111")


def tokens(text: str) -> list[str]:
    """Return lower-case word unigrams and bigrams of the masked text."""
    return list(_tokens(text[:MAX_MESSAGE].translate(_SAME_TOKENS)))


@lru_cache(maxsize=4096)
def _tokens(text: str) -> tuple[str, ...]:
    found = _compiled().word.findall(mask(text))
    words = [w for w in (m.lower() for m in found) if len(w) > 1 and w not in STOPWORDS]
    return (*words, *(f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)))


def concepts(text: str) -> list[str]:
    """Return the lexicon's concepts in `text` (c:name), then every pair of them (c:a+b)."""
    global _concepts_read
    low = text[:MAX_MESSAGE].lower()
    patterns = _compiled().concepts
    if _concepts_read < GATE_AFTER:
        _concepts_read += 1
    elif low.isascii():
        # one scan for the literals the lexicon's patterns require, then only the patterns it leaves,
        # and of those only the ones no literal found already proves (a plain alternative such as `kill`)
        needles, owners, proofs = _concept_gate()
        seen = tuple(needles.which(low))
        known = _PROVEN.get(seen)
        if known is not None:  # these needles prove every concept they allow: the text adds nothing
            return list(known)
        maybe: set[int] = set()
        proven: set[int] = set()
        for n in seen:
            maybe.update(owners[n])
            proven.update(proofs[n])
        found = [patterns[i][0] for i in sorted(maybe) if i in proven or patterns[i][1].search(low)]
        if maybe <= proven and len(_PROVEN) < MAX_TOKENS:
            _PROVEN[seen] = _concept_tokens(found)
            return list(_PROVEN[seen])
        return list(_concept_tokens(found))
    # every pattern: the scanners decide ASCII text only, and a short log is done before the gate is built
    found = [name for name, pattern in patterns if pattern.search(low)]
    return list(_concept_tokens(found))


_PROVEN: dict[tuple[int, ...], tuple[str, ...]] = {}  # needles found -> the concept tokens they prove
# Texts read before the gate is built (parsing the lexicon's patterns for their literals): a short log,
# the start-up budget's, never pays for it.
GATE_AFTER = 256
_concepts_read = 0


def _concept_tokens(found: list[str]) -> tuple[str, ...]:
    return (*(f"c:{n}" for n in found), *(f"c:{a}+{b}" for a, b in combinations(found, 2)))


@cache
def _concept_gate() -> tuple[LiteralSet, list[tuple[int, ...]], list[frozenset[int]]]:
    """Return a scanner of the literals one of which each concept's pattern requires; per needle the
    concepts (their indices in CONCEPTS) that require it, and those it proves (a plain alternative)."""
    owners: dict[str, list[int]] = {}
    proofs: dict[str, set[int]] = {}
    for i, (name, pattern) in enumerate(CONCEPTS):
        found = literals(pattern, shortest=2)
        if not found:
            raise AssertionError(f"concept {name!r} requires no literal: the gate would drop it")
        plain = plain_alternatives(pattern)
        for needle in found:
            owners.setdefault(needle, []).append(i)
            if needle in plain:
                proofs.setdefault(needle, set()).add(i)
    needles = sorted(owners)
    return (
        LiteralSet(needles),
        [tuple(owners[n]) for n in needles],
        [frozenset(proofs.get(n, ())) for n in needles],
    )


def is_informational(event: Event) -> bool:
    """Return True for an event at info / debug level (by its parsed level or a level in its text),
    or a line without a level that is mostly key-value pairs (a configuration dump)."""
    if event.level is not None:
        return event.level in (Level.INFO, Level.DEBUG)
    text = event.message[:MAX_MESSAGE]
    rx = _compiled()
    return rx.text_info.search(text[:100]) is not None or len(rx.key_value.findall(text)) >= 5


# Lines that are never a failure of the service: a client's report of its call to the service (the
# user's `curl` probe, grpc-java's client "RPC failed: Status{...}": what the user saw from outside),
# and a deprecation notice (Python's FutureWarning / DeprecationWarning: a change to come).
_NOT_A_FAILURE = re.compile(
    r"^(?:curl: \(\d+\) |wget: )|RPC failed: Status\{|\b(?:Future|Deprecation|PendingDeprecation)Warning: "
)
_NOT_A_FAILURE_STARTS = ("curl: (", "wget: ")  # with "Warning: " and "RPC failed: Status{": what it requires


def is_suspicious(event: Event) -> bool:
    """Return True for events that can say why a service fails."""
    # the exclusions are searched only on the few lines that look suspicious, not on every line, and
    # only where the text they each require is there
    if not _looks_suspicious(event):
        return False
    text = event.message[:MAX_MESSAGE]
    if "Warning: " in text or "RPC failed: Status{" in text or text.startswith(_NOT_A_FAILURE_STARTS):
        return _NOT_A_FAILURE.search(text) is None
    return True


def _looks_suspicious(event: Event) -> bool:
    """Return True for events whose level, kind or wording marks them as a possible failure."""
    if event.level in (Level.WARNING, Level.ERROR, Level.CRITICAL):
        return True
    kind = event.fields.get("kind")
    if kind in FAILURE_KINDS:
        return True
    if kind == _ACCESS:
        status = event.fields.get("status")
        return isinstance(status, int) and status >= 400
    if kind == _K8S_EVENT:
        return event.fields.get("event_type") != "Normal"
    text = event.message[:MAX_MESSAGE]
    if _ALARM.search(text) is None:
        return False
    return not is_informational(event) or _compiled().strong.search(text) is not None


def text_of(event: Event) -> str:
    """Return the text whose words describe `event`: for a traceback its innermost frames and its
    exception (the head of a long traceback is framework frames), else the message."""
    fields = event.fields
    if fields.get("kind") != EventKind.TRACEBACK or not fields.get("exception"):
        return event.message
    functions = [f for f in fields.get("functions") or () if isinstance(f, str)]
    exc = f"{fields.get('exception_full') or fields['exception']}: {fields.get('exception_message') or ''}"
    return " ".join(functions[-4:]) + " " + exc


def phase(event: Event) -> list[str]:
    """Return tb:startup or tb:request for a traceback whose frames say when it was raised (the
    parser's `phase` field, parse/traceback.py)."""
    value = event.fields.get("phase")
    if event.fields.get("kind") != _TRACEBACK or value is None:
        return []
    return [f"tb:{value}"]


def structured(event: Event) -> list[str]:
    """Return tokens for the typed fields that carry meaning on their own."""
    fields = event.fields
    out = []
    kind = fields.get("kind")
    if kind:
        out.append("kind=" + kind)  # an EventKind formats slowly; + gives the same str
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
    if event.level in (Level.ERROR, Level.CRITICAL):
        out.append("level=error")
    return out


@dataclass(slots=True)
class FeatureBag:
    """Token counts of one input, built event by event with bounded memory.

    Only suspicious events add tokens; every event is counted (`events`), and worker boots and
    HTTP statuses of access lines are tallied, so the whole-input signals never need the text of
    a healthy line (ClassifierGate skips those and adds them to `events` in bulk).
    """

    counts: Counter[str] = field(default_factory=Counter)
    evidence: list[tuple[Event, frozenset[str]]] = field(default_factory=list)
    events: int = 0
    suspicious: int = 0
    boots: int = 0
    access_ok: int = 0  # access lines with a status below 400
    access_5xx: int = 0

    def feed(self, event: Event) -> None:
        """Add one event's features."""
        self.events += 1
        fields = event.fields
        kind = fields.get("kind")
        if kind == _WORKER_BOOT:
            self.boots += 1
        elif kind == _ACCESS:
            status = fields.get("status")
            if isinstance(status, int):
                if status < 400:
                    self.access_ok += 1
                elif status >= 500:
                    self.access_5xx += 1
        if not is_suspicious(event):
            return
        self.suspicious += 1
        text = text_of(event)
        toks = tokens(text) + concepts(text) + structured(event) + phase(event)
        counts = self.counts
        if len(counts) + len(toks) <= MAX_TOKENS:
            counts.update(toks)  # each token would pass the test below: counted in C
        else:
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
        elif self.suspicious * 20 < self.events:
            counts["suspicious<5%"] += 1
        if self.access_5xx:
            counts["access:5xx_with_ok" if self.access_ok else "access:5xx_only"] += 1
        return counts


class ClassifierGate:
    """Tell, cheaply, whether an event can change the classifier's feature bag.

    `FeatureBag.feed` counts an event and stops unless it is a worker boot or suspicious; most
    lines are neither, and finding that out costs its alarm-lexicon regex. This answers the same
    question with the lexicon compiled into the prefilter backend: `wants(ev)` is False only when
    the bag would ignore `ev` (it never says False for an event the bag uses).
    """

    def __init__(self) -> None:
        self._alarm = Pattern(_ALARM.pattern)
        self._limit = MAX_MESSAGE
        self._levels = frozenset({Level.WARNING, Level.ERROR, Level.CRITICAL})
        # Kinds `is_suspicious` decides by structure, plus worker_boot, which the bag counts: the same
        # constants the bag reads, so the gate can never drop a kind the bag would use.
        self._kinds = FAILURE_KINDS | {EventKind.ACCESS, EventKind.K8S_EVENT, EventKind.WORKER_BOOT}

    def wants(self, event: Event) -> bool:
        """Return False only when feeding `event` to the feature bag would just count it."""
        if event.level in self._levels:
            return True
        fields = event.fields
        if fields:
            kind = fields.get("kind")
            if kind in self._kinds:
                return True
        text = event.message[: self._limit]
        return not text.isascii() or self._alarm.search(text)
