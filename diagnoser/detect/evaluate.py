"""Condition evaluation over the hits a rule kept: counts, windows, `then`, any/all/N of, and witnesses.

The engine keeps, per matcher, an exact count and the first and last hits (bounded); a rule's
condition is evaluated once, at the end, over those. When it holds, the witness names the
positive matchers and the hits that make it hold, and the evidence is chosen among them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from diagnoser.detect.condition import And, CountCmp, Node, Not, Of, Or, Ref, Then, Within, names_used
from diagnoser.detect.rules import Rule
from diagnoser.model import Event

EVIDENCE_MAX = 8
Witness = list[tuple[str, list["Hit"]]]  # positive matcher names, each with the hits that show it


class Hit:
    """One event that hit at least one matcher of a rule."""

    __slots__ = ("seq", "t", "when", "timestamp", "source", "line", "text", "mask")

    def __init__(self, seq: int, t: float | None, when: datetime | None, ev: Event, mask: int):
        self.seq = seq
        self.t = t  # effective time in epoch seconds (own or last seen in the source)
        self.when = when  # effective time as a datetime
        self.timestamp = ev.timestamp
        self.source = ev.source
        self.line = ev.line
        self.text = ev.text  # whole: the exits redact it, then clip it (diagnoser/redact.py)
        self.mask = mask


class _View:
    """The hits a (sub)condition is evaluated over: the whole input, or those inside a window."""

    __slots__ = ("counts", "hits")

    def __init__(self, counts: dict[str, int], hits: dict[str, list[Hit]]):
        self.counts = counts
        self.hits = hits  # per matcher, ordered by seq

    def count(self, name: str) -> int:
        """Return how many events `name` hit in this view."""
        return self.counts.get(name, 0)


def _then_chain(node: Then, view: _View) -> list[tuple[str, Hit]] | None:
    after = -1
    chain: list[tuple[str, Hit]] = []
    for name in node.names:
        hit = next((h for h in view.hits.get(name, ()) if h.seq > after), None)
        if hit is None:
            return None
        chain.append((name, hit))
        after = hit.seq
    return chain


def _holds(node: Node, view: _View) -> bool:
    if isinstance(node, Ref):
        return view.count(node.name) > 0
    if isinstance(node, CountCmp):
        right = node.value if node.other is None else view.count(node.other)
        return node.op.holds(view.count(node.name), right or 0)
    if isinstance(node, Of):
        return sum(1 for n in node.names if view.count(n) > 0) >= node.need
    if isinstance(node, Then):
        return _then_chain(node, view) is not None
    if isinstance(node, And):
        return all(_holds(i, view) for i in node.items)
    if isinstance(node, Or):
        return any(_holds(i, view) for i in node.items)
    if isinstance(node, Not):
        return not _holds(node.item, view)
    return _window(node, view) is not None


def _window(node: Within, view: _View) -> _View | None:
    """Return the first window view over which `node.item` holds, or None."""
    names = names_used(node.item)
    timed = sorted({h.t for n in names for h in view.hits.get(n, ()) if h.t is not None})
    if not timed:
        return view if _holds(node.item, view) else None
    span = node.seconds
    tried: set[tuple[float, float]] = set()
    for t in timed:
        for lo, hi in ((t, t + span), (t - span, t)):
            if (lo, hi) in tried:
                continue
            tried.add((lo, hi))
            hits = {n: [h for h in view.hits.get(n, ()) if h.t is None or lo <= h.t <= hi] for n in names}
            sub = _View({n: len(hs) for n, hs in hits.items()}, hits)
            if _holds(node.item, sub):
                return sub
    return None


def _spread(hits: list[Hit], k: int) -> list[Hit]:
    """Return up to k hits spread over the list: first, last, then evenly between."""
    if len(hits) <= k:
        return list(hits)
    if k == 1:
        return [hits[0]]
    idx = sorted({round(i * (len(hits) - 1) / (k - 1)) for i in range(k)})
    return [hits[i] for i in idx]


def _witness(node: Node, view: _View) -> Witness:
    """Return, for a condition that holds, the positive matchers and hits that make it hold."""
    if isinstance(node, Ref):
        return [(node.name, _spread(view.hits.get(node.name, []), 2))]
    if isinstance(node, CountCmp):
        left = view.hits.get(node.name, [])
        if node.other is None:
            if node.op.value in (">", ">=", "==", "!="):
                need = (node.value or 0) + (1 if node.op.value == ">" else 0)
                return [(node.name, _spread(left, max(1, min(need, 4))))]
            return []
        right = view.hits.get(node.other, [])
        if node.op.value in (">", ">="):
            return [(node.name, _spread(left, 3))]
        if node.op.value in ("<", "<="):
            return [(node.other, _spread(right, 3))]
        return [(node.name, _spread(left, 2)), (node.other, _spread(right, 2))]
    if isinstance(node, Of):
        return [(n, _spread(view.hits.get(n, []), 2)) for n in node.names if view.count(n) > 0]
    if isinstance(node, Then):
        return [(name, [hit]) for name, hit in _then_chain(node, view) or []]
    if isinstance(node, And):
        return [w for i in node.items for w in _witness(i, view)]
    if isinstance(node, Or):
        return [w for i in node.items if _holds(i, view) for w in _witness(i, view)]
    if isinstance(node, Not):
        return []
    sub = _window(node, view)
    return _witness(node.item, sub) if sub is not None else []


def pick_evidence(witness: Witness, limit: int = EVIDENCE_MAX) -> list[Hit]:
    """Choose up to `limit` hits, at least one per positive matcher where possible, by input order."""
    chosen: dict[int, Hit] = {}
    queues = [list(hits) for _, hits in witness if hits]
    while queues and len(chosen) < limit:
        for q in queues:
            while q and q[0].seq in chosen:
                q.pop(0)
            if q and len(chosen) < limit:
                h = q.pop(0)
                chosen[h.seq] = h
        queues = [q for q in queues if q]
    return sorted(chosen.values(), key=lambda h: h.seq)


def fired(rule: Rule, counts: Sequence[int], hits: dict[str, list[Hit]]) -> Witness | None:
    """Return the witness when the rule's condition holds over its matchers' counts and hits, else None."""
    view = _View(dict(zip(rule.matcher_names, counts, strict=True)), hits)
    node: Node = rule.ast
    if rule.window is not None:
        node = Within(node, int(rule.window.total_seconds()))
    if not _holds(node, view):
        return None
    return _witness(node, view)
