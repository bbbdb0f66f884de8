"""The rule-set cache: a rule set that loaded cleanly, as JSON, so start-up skips YAML and pyparsing.

Loading the shipped rules from YAML costs about 200 ms (pyparsing, the catastrophic-regex check,
the YAML parser), several times what starting Python costs. The entry is keyed by every rule
file's path and bytes (see diagnoser/diskcache.py), so an edited rule is never served stale, and a
test checks that a rule set decoded from the cache equals the one loaded from YAML.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson

from diagnoser import diskcache
from diagnoser.debuglog import debug
from diagnoser.detect.condition import And, Cmp, CountCmp, Node, Not, Of, Or, Ref, Then, Within
from diagnoser.detect.regexes import LITERALS_MEMO, required_literals
from diagnoser.detect.rules import Examples, FieldTest, KeyRef, Matcher, Op, Rule, Status
from diagnoser.errors import Location
from diagnoser.model import Severity

FORMAT = 2  # bump when the encoding or the Rule model changes


def key_of(files: Sequence[Path], texts: Sequence[bytes]) -> str:
    """Return the cache key of a rule set: its files' paths and bytes, the version and the format."""
    return diskcache.key_of("rules", FORMAT, files, texts)


def read(key: str, lean: bool = False) -> tuple[Rule, ...] | None:
    """Return the cached rule set under `key`, or None when absent, stale or unreadable.

    `lean`: without what only the rule tools read (examples, key and error locations), from a
    smaller entry; the engine never reads those, and decoding them was a third of the load.
    """
    kind = "leanrules" if lean else "rules"
    data = diskcache.read(kind, key)
    if data is None:
        return None
    try:
        doc = orjson.loads(data)
        rules = tuple(_rule(r) for r in doc["rules"])
        for pattern, flags, needles in doc["literals"]:
            LITERALS_MEMO[(pattern, flags)] = None if needles is None else tuple(needles)
        return rules
    except Exception:  # a damaged entry is a miss: the YAML is the truth
        debug(__name__, "ignoring a damaged rule cache entry %s", key)
        return None


def write(key: str, rules: Sequence[Rule]) -> None:
    """Store `rules` under `key`, whole and lean (with the literals the prefilter derives from them).

    A rule set the encoding cannot hold is not cached (the loader bounds its numbers; this is the
    backstop): the cache is an optimisation, never a reason to fail.
    """
    if diskcache.cache_dir() is None:
        return  # caching is off: encoding would be wasted work
    literals = [
        [p, t.flags, required_literals(p, t.flags)]
        for r in rules
        for m in r.matchers
        for t in m.tests
        for p in t.patterns
    ]
    encoded = [_enc_rule(r) for r in rules]
    lean = [{k: v for k, v in r.items() if k not in _TOOLS_ONLY} for r in encoded]
    for r in lean:
        r["matchers"] = [
            [name, [{**t, "loc": None} for t in tests], None] for name, tests, _ in r["matchers"]
        ]
    try:
        whole = orjson.dumps({"rules": encoded, "literals": literals})
        lean_whole = orjson.dumps({"rules": lean, "literals": literals})
    except TypeError:  # orjson.JSONEncodeError: a value it cannot encode (an integer beyond 64 bits)
        debug(__name__, "not caching a rule set the cache cannot encode")
        return
    diskcache.write("rules", key, whole)
    diskcache.write("leanrules", key, lean_whole)


_TOOLS_ONLY = ("examples", "keys", "condition_loc")  # left out of lean entries (defaults on decode)


# -- encoding -----------------------------------------------------------------------------------


def _enc_loc(loc: Location | None) -> list[Any] | None:
    return None if loc is None else [loc.path, loc.line, loc.col]


def _loc(data: list[Any] | None) -> Location | None:
    return None if data is None else Location(data[0], data[1], data[2])


def _enc_keys(keys: Sequence[KeyRef]) -> list[Any]:
    return [[k.name, _enc_loc(k.location)] for k in keys]


def _keys(data: list[Any]) -> tuple[KeyRef, ...]:
    return tuple(KeyRef(name, _loc(loc)) for name, loc in data)


def _enc_node(node: Node) -> list[Any]:
    """Encode a condition AST node as a tagged list."""
    match node:
        case Ref(name):
            return ["ref", name]
        case CountCmp(name, op, value, other):
            return ["count", name, op.value, value, other]
        case Of(need, names, spelled):
            return ["of", need, list(names), spelled]
        case Then(names):
            return ["then", list(names)]
        case And(items):
            return ["and", [_enc_node(i) for i in items]]
        case Or(items):
            return ["or", [_enc_node(i) for i in items]]
        case Not(item):
            return ["not", _enc_node(item)]
        case Within(item, seconds):
            return ["within", _enc_node(item), seconds]
    raise TypeError(f"unknown condition node {node!r}")


def _node(data: list[Any]) -> Node:
    """Decode a tagged list into a condition AST node."""
    tag = data[0]
    if tag == "ref":
        return Ref(data[1])
    if tag == "count":
        return CountCmp(data[1], Cmp(data[2]), data[3], data[4])
    if tag == "of":
        return Of(data[1], tuple(data[2]), data[3])
    if tag == "then":
        return Then(tuple(data[1]))
    if tag == "and":
        return And(tuple(_node(i) for i in data[1]))
    if tag == "or":
        return Or(tuple(_node(i) for i in data[1]))
    if tag == "not":
        return Not(_node(data[1]))
    if tag == "within":
        return Within(_node(data[1]), data[2])
    raise ValueError(f"unknown condition tag {tag!r}")


def _enc_test(t: FieldTest) -> dict[str, Any]:
    return {
        "field": t.field,
        "op": t.op.value,
        "values": list(t.values),
        "i": t.ignore_case,
        "all": t.all,
        "loc": _enc_loc(t.location),
    }


def _test(d: dict[str, Any]) -> FieldTest:
    return FieldTest(
        field=d["field"],
        op=Op(d["op"]),
        values=tuple(d["values"]),
        ignore_case=d["i"],
        all=d["all"],
        location=_loc(d["loc"]),
    )


def _enc_rule(r: Rule) -> dict[str, Any]:
    ex = r.examples
    return {
        "id": r.id,
        "cause": r.cause,
        "title": r.title,
        "severity": r.severity.value,
        "matchers": [[m.name, [_enc_test(t) for t in m.tests], _enc_loc(m.location)] for m in r.matchers],
        "condition": r.condition,
        "ast": _enc_node(r.ast),
        "status": r.status.value,
        "confidence": r.confidence,
        "sources": list(r.sources),
        "supersedes": list(r.supersedes),
        "window": None if r.window is None else r.window.total_seconds(),
        "explain": r.explain,
        "examples": {
            "positive": list(ex.positive),
            "negative": list(ex.negative),
            "todo_positive": list(ex.todo_positive),
            "todo_negative": list(ex.todo_negative),
            "keys": _enc_keys(ex.keys),
            "loc": _enc_loc(ex.location),
        },
        "path": None if r.path is None else str(r.path),
        "keys": _enc_keys(r.keys),
        "condition_loc": _enc_loc(r.condition_location),
    }


def _rule(d: dict[str, Any]) -> Rule:
    ex = d.get("examples")
    return Rule(
        id=d["id"],
        cause=d["cause"],
        title=d["title"],
        severity=Severity(d["severity"]),
        matchers=tuple(
            Matcher(name, tuple(_test(t) for t in tests), _loc(loc)) for name, tests, loc in d["matchers"]
        ),
        condition=d["condition"],
        ast=_node(d["ast"]),
        status=Status(d["status"]),
        confidence=d["confidence"],
        sources=tuple(d["sources"]),
        supersedes=tuple(d["supersedes"]),
        window=None if d["window"] is None else timedelta(seconds=d["window"]),
        explain=d["explain"],
        examples=Examples() if ex is None else _examples(ex),
        path=None if d["path"] is None else Path(d["path"]),
        keys=_keys(d.get("keys", ())),
        condition_location=_loc(d.get("condition_loc")),
    )


def _examples(ex: dict[str, Any]) -> Examples:
    return Examples(
        positive=tuple(ex["positive"]),
        negative=tuple(ex["negative"]),
        todo_positive=tuple(ex["todo_positive"]),
        todo_negative=tuple(ex["todo_negative"]),
        keys=_keys(ex["keys"]),
        location=_loc(ex["loc"]),
    )
