"""Load rule files (YAML, safe loader only) into Rules; every error is collected and located."""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from diagnoser.detect import cache
from diagnoser.detect.condition import KEYWORDS, MAX_INTEGER, MAX_WINDOW_SECONDS, NAME_RE, parse_duration
from diagnoser.detect.rules import (
    EXAMPLE_KEYS,
    FIELD_PREFIX,
    PLAIN_FIELDS,
    Examples,
    FieldTest,
    KeyRef,
    Matcher,
    Modifier,
    Op,
    Rule,
    Status,
    as_number,
    as_text,
)
from diagnoser.errors import Location, RuleError, RuleLoadErrors, did_you_mean
from diagnoser.model import Severity
from diagnoser.paths import rules_dir

if TYPE_CHECKING:
    import yaml

MAX_RULE_FILE_BYTES = 256 * 1024
# Limits that keep a rule set (someone else's --rules DIR) from stalling the engine or the loader.
MAX_RULES = 2000  # rule files in one load
MAX_MATCHERS = 64  # named matchers in one rule
MAX_VALUES = 512  # values in one field test's list
MAX_PATTERN_CHARS = 2000  # characters of one regular expression or text value
MAX_CONDITION_CHARS = 2000
RULE_SUFFIXES = (".yaml", ".yml")


def rule_files(paths: Sequence[Path] | None) -> tuple[list[Path], list[RuleError]]:
    """Return the rule files `paths` name (files, or directories of *.yaml) and path errors."""
    if paths is None:
        root = rules_dir()
        return (sorted(p for p in root.glob("*.yaml") if p.is_file()) if root.is_dir() else []), []
    files: list[Path] = []
    errors: list[RuleError] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in RULE_SUFFIXES and p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            errors.append(RuleError("no such rule file or directory", Location(str(path)), "check the path"))
    return files, errors


def load_rules(paths: Sequence[Path] | None = None, lean: bool = False) -> tuple[Rule, ...]:
    """Load every rule in `paths` (default: the shipped rules); raise RuleLoadErrors listing all errors.

    `lean=True` may leave out what only the rule tools read (examples, key locations): the engine
    gives the same answers with either (see detect/cache.py).
    """
    files, errors = rule_files(paths)
    if len(files) > MAX_RULES:
        where = Location(str(paths[0])) if paths else None
        raise RuleLoadErrors(
            [
                RuleError(
                    f"too many rule files ({len(files)})", where, f"limit {MAX_RULES}; split the directory"
                )
            ]
        )
    key = None if errors else _cache_key(files)
    if key is not None:
        cached = cache.read(key, lean)
        if cached is not None:
            return cached
    rules: list[Rule] = []
    for file in files:
        rule, errs = load_rule_file(file)
        errors.extend(errs)
        if rule is not None:
            rules.append(rule)
    if errors:
        raise RuleLoadErrors(errors)
    if key is not None:
        cache.write(key, rules)
    return tuple(rules)


def _cache_key(files: Sequence[Path]) -> str | None:
    """Return the cache key of `files`, or None when one cannot be read (the loader reports it)."""
    try:
        if any(f.stat().st_size > MAX_RULE_FILE_BYTES for f in files):
            return None
        return cache.key_of(files, [f.read_bytes() for f in files])
    except OSError:
        return None


def load_rule_file(path: Path) -> tuple[Rule | None, list[RuleError]]:
    """Return the rule in one file (None when it has errors) and the errors found."""
    where = Location(str(path))
    try:
        size = path.stat().st_size
        if size > MAX_RULE_FILE_BYTES:
            hint = f"limit {MAX_RULE_FILE_BYTES // 1024} KB; one rule per file"
            return None, [RuleError(f"rule file too large ({size} bytes)", where, hint)]
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [RuleError(f"rule file is not UTF-8: {exc.reason}", where)]
    except OSError as exc:
        return None, [RuleError(f"cannot read rule file: {exc.strerror or exc}", where)]
    return load_rule_text(text, path)


def load_rule_text(text: str, path: Path) -> tuple[Rule | None, list[RuleError]]:
    """Return the rule in YAML `text` read from `path`, and the errors found."""
    import yaml  # here, not at the top: a cached rule set never needs the YAML parser

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(str(path), mark.line + 1, mark.column + 1) if mark else Location(str(path))
        what = str(exc.problem or exc.context or "invalid YAML")
        if "another document" in what or "single document" in str(exc.context or ""):
            what, hint = "more than one YAML document", "one rule per file"
        else:
            hint = None
        return None, [RuleError(f"invalid YAML: {what}", loc, hint)]
    except yaml.YAMLError as exc:
        return None, [RuleError(f"invalid YAML: {exc}", Location(str(path)))]
    except ValueError:  # an integer of thousands of digits: Python refuses to convert it
        bad = _huge_integer(node)
        loc = Location(str(path))
        if bad is not None:
            loc = Location(str(path), bad.start_mark.line + 1, bad.start_mark.column + 1)
        return None, [RuleError("number too large", loc, f"at most {MAX_INTEGER}")]
    finally:
        loader.dispose()
    builder = _Builder(path, text)
    rule = builder.build(data, node)
    return (rule if not builder.errors else None), builder.errors


def _huge_integer(root: yaml.Node | None) -> yaml.Node | None:
    """Return the first integer scalar under `root` with more digits than MAX_INTEGER has, or None."""
    digits = len(str(MAX_INTEGER))
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        kind = type(node).__name__  # yaml's node classes, not importing yaml
        if kind == "ScalarNode":
            if node.tag.endswith(":int") and sum(c.isdigit() for c in str(node.value)) > digits:
                return node
        elif kind == "MappingNode":
            stack.extend(n for pair in reversed(node.value) for n in reversed(pair))
        elif kind == "SequenceNode":
            stack.extend(reversed(node.value))
    return None


class _Builder:
    """Turn one parsed YAML document and its node tree into a Rule, collecting errors."""

    def __init__(self, path: Path, text: str):
        self.path = path
        self.text = text
        self.errors: list[RuleError] = []
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    # -- locations -------------------------------------------------------------------------------

    def loc(self, node: yaml.Node | None) -> Location:
        """Return where `node` starts."""
        if node is None:
            return Location(str(self.path))
        return Location(str(self.path), node.start_mark.line + 1, node.start_mark.column + 1)

    def error(self, what: str, node: yaml.Node | None, hint: str | None = None) -> None:
        """Record an error at `node`."""
        self.errors.append(RuleError(what, self.loc(node), hint))

    def _index(self, mark: yaml.Mark) -> int:
        line = min(mark.line, len(self._line_starts) - 1)
        return self._line_starts[line] + mark.column

    def locator(self, node: yaml.ScalarNode) -> Callable[[int], Location]:
        """Return a function mapping an offset in a scalar's value to its file location."""
        start = self._index(node.start_mark)
        raw = self.text[start : self._index(node.end_mark)]
        value = str(node.value)
        first = 0
        if node.style in ('"', "'"):
            first = 1
        elif node.style in ("|", ">"):
            first = raw.find("\n") + 1

        def locate(offset: int) -> Location:
            j = first
            for ch in value[:offset]:
                if ch.isspace():
                    while j < len(raw) and raw[j].isspace():
                        j += 1
                else:
                    k = raw.find(ch, j)
                    if k < 0:
                        break
                    j = k + 1
            if offset < len(value) and not value[offset].isspace():
                while j < len(raw) and raw[j].isspace():
                    j += 1
            idx = start + j
            line = self.text.count("\n", 0, idx)
            col = idx - (self.text.rfind("\n", 0, idx) + 1)
            return Location(str(self.path), line + 1, col + 1)

        return locate

    @staticmethod
    def pairs(node: yaml.Node | None) -> list[tuple[yaml.ScalarNode, yaml.Node]]:
        """Return the (key node, value node) pairs of a mapping node."""
        if node is not None and type(node).__name__ == "MappingNode":  # yaml.MappingNode, not importing yaml
            return list(node.value)
        return []

    def child(self, node: yaml.Node | None, key: str) -> yaml.Node | None:
        """Return the value node under `key` of a mapping node."""
        for k, v in self.pairs(node):
            if getattr(k, "value", None) == key:
                return v
        return None

    def key_node(self, node: yaml.Node | None, key: str) -> yaml.Node | None:
        """Return the key node `key` of a mapping node."""
        for k, _ in self.pairs(node):
            if getattr(k, "value", None) == key:
                return k
        return None

    def check_duplicate_keys(self, node: yaml.Node | None, what: str) -> None:
        """Record an error for each key that appears twice in a mapping."""
        seen: set[str] = set()
        for k, _ in self.pairs(node):
            name = str(getattr(k, "value", ""))
            if name in seen:
                self.error(f"duplicate {what} {name!r}", k, "YAML keeps only the last one")
            seen.add(name)

    # -- fields ----------------------------------------------------------------------------------

    def build(self, data: Any, root: yaml.Node | None) -> Rule | None:
        """Return the Rule described by `data`, or None after recording errors."""
        if not isinstance(data, dict):
            self.error("a rule file must be a YAML mapping", root, "see docs/RULES.md")
            return None
        self.check_duplicate_keys(root, "key")
        keys = tuple(KeyRef(str(k.value), self.loc(k)) for k, _ in self.pairs(root))
        rid = self.string(data, root, "id", required=True)
        cause = self.string(data, root, "cause", required=True)
        title = self.string(data, root, "title", required=True)
        severity = self.enum(data, root, "severity", Severity, None)
        status = self.enum(data, root, "status", Status, Status.EXPERIMENTAL)
        confidence = self.confidence(data, root)
        sources = self.strings(data, root, "sources")
        supersedes = self.strings(data, root, "supersedes")
        explain = self.string(data, root, "explain") or ""
        window = self.window(data, root)
        matchers = self.matchers(data.get("match"), self.child(root, "match"), root)
        examples = self.examples(data.get("examples"), self.child(root, "examples"))
        condition, ast, cond_loc = None, None, None
        cond_node = self.child(root, "condition")
        if "condition" not in data:
            self.error("missing required key 'condition'", root)
        elif not isinstance(data["condition"], str) or type(cond_node).__name__ != "ScalarNode":
            self.error("'condition' must be a string", cond_node)
        elif len(data["condition"]) > MAX_CONDITION_CHARS:
            self.error(
                f"condition too long ({len(data['condition'])} characters)",
                cond_node,
                f"limit {MAX_CONDITION_CHARS}",
            )
        elif matchers is not None:
            # here, not at the top: a cached rule set never parses a condition (start-up time)
            from diagnoser.detect.grammar import parse_condition

            condition = data["condition"]
            cond_loc = self.loc(cond_node)
            try:
                names = tuple(m.name for m in matchers)
                scalar = cast("yaml.ScalarNode", cond_node)  # its type was checked by name above
                ast = parse_condition(condition, names, self.locator(scalar))
            except RuleError as exc:
                self.errors.append(exc)
        if self.errors or None in (rid, cause, title, severity, matchers, condition, ast):
            return None
        assert rid and cause and title and severity and matchers and condition and ast
        return Rule(
            id=rid,
            cause=cause,
            title=title,
            severity=severity,
            matchers=matchers,
            condition=condition,
            ast=ast,
            status=status or Status.EXPERIMENTAL,
            confidence=confidence,
            sources=sources,
            supersedes=supersedes,
            window=window,
            explain=explain,
            examples=examples,
            path=self.path,
            keys=keys,
            condition_location=cond_loc,
        )

    def string(
        self, data: dict[str, Any], root: yaml.Node | None, key: str, required: bool = False
    ) -> str | None:
        """Return a non-empty string value, recording an error when it is missing or mistyped."""
        if key not in data:
            if required:
                self.error(f"missing required key {key!r}", root)
            return None
        value = data[key]
        if not isinstance(value, str) or not value.strip():
            self.error(f"{key!r} must be a non-empty string", self.child(root, key))
            return None
        return value

    def strings(self, data: dict[str, Any], root: yaml.Node | None, key: str) -> tuple[str, ...]:
        """Return a list of strings, recording an error when it is mistyped."""
        value = data.get(key, [])
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(f"{key!r} must be a list of strings", self.child(root, key), f"{key}: [a, b]")
            return ()
        return tuple(value)

    def enum(self, data: dict[str, Any], root: yaml.Node | None, key: str, cls: Any, default: Any) -> Any:
        """Return an enum member named by a string value."""
        if key not in data:
            if default is None:
                self.error(f"missing required key {key!r}", root)
            return default
        choices = [m.value for m in cls]
        value = data[key]
        if value not in choices:
            hint = did_you_mean(str(value), choices) or "one of " + ", ".join(choices)
            self.error(f"bad {key} {value!r}", self.child(root, key), hint)
            return default
        return cls(value)

    def confidence(self, data: dict[str, Any], root: yaml.Node | None) -> float:
        """Return the confidence, a number in 0..1 (default 0.8)."""
        value = data.get("confidence", 0.8)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            self.error("'confidence' must be a number from 0 to 1", self.child(root, "confidence"))
            return 0.8
        return float(value)

    def window(self, data: dict[str, Any], root: yaml.Node | None) -> timedelta | None:
        """Return the rule-wide window, or None."""
        if data.get("window") is None:
            return None
        value = data["window"]
        seconds = parse_duration(value) if isinstance(value, str) else None
        if seconds and seconds > MAX_WINDOW_SECONDS:
            self.error(
                f"window {value!r} longer than 366 days",
                self.child(root, "window"),
                "a window is minutes or hours",
            )
            return None
        if not seconds:
            hint = f"write '{value}s'" if isinstance(value, int) else "a whole number and s, m or h: 10m"
            self.error(f"bad window {value!r}", self.child(root, "window"), hint)
            return None
        return timedelta(seconds=seconds)

    # -- matchers --------------------------------------------------------------------------------

    def matchers(
        self, data: Any, node: yaml.Node | None, root: yaml.Node | None
    ) -> tuple[Matcher, ...] | None:
        """Return the named matchers of `match:`."""
        if data is None:
            self.error("missing required key 'match'" if node is None else "'match' is empty", node or root)
            return None
        if not isinstance(data, dict) or not data:
            self.error("'match' must be a mapping of matcher names to field tests", node)
            return None
        self.check_duplicate_keys(node, "matcher")
        if len(data) > MAX_MATCHERS:
            self.error(f"too many matchers ({len(data)})", node, f"limit {MAX_MATCHERS}; split the rule")
            return None
        out: list[Matcher] = []
        ok = True
        for name, value in data.items():
            key_node = self.key_node(node, str(name)) or node
            value_node = self.child(node, str(name)) or node
            if (
                not isinstance(name, str)
                or not NAME_RE.match(name)
                or name in KEYWORDS
                or keyword.iskeyword(name)
            ):
                hint = "letters, digits and _, not a condition keyword"
                self.error(f"bad matcher name {name!r}", key_node, hint)
                ok = False
                continue
            matcher = self.matcher(name, value, key_node, value_node)
            if matcher is None:
                ok = False
            else:
                out.append(matcher)
        return tuple(out) if ok else None

    def matcher(
        self, name: str, data: Any, key_node: yaml.Node | None, node: yaml.Node | None
    ) -> Matcher | None:
        """Return one matcher: a mapping of `field|op|modifiers` keys to values."""
        if not isinstance(data, dict) or not data:
            self.error(
                f"matcher {name!r} must be a non-empty mapping of field tests",
                node,
                "for example {message|contains: Killed}",
            )
            return None
        self.check_duplicate_keys(node, "field test")
        tests: list[FieldTest] = []
        ok = True
        for key, value in data.items():
            k_node = self.key_node(node, str(key)) or node
            v_node = self.child(node, str(key)) or node
            test = self.field_test(str(key), value, k_node, v_node)
            if test is None:
                ok = False
            else:
                tests.append(test)
        return Matcher(name, tuple(tests), self.loc(key_node)) if ok else None

    def field_test(
        self, key: str, value: Any, key_node: yaml.Node | None, node: yaml.Node | None
    ) -> FieldTest | None:
        """Return the FieldTest for one `field|op|modifiers: value` entry."""
        parts = key.split("|")
        field = parts[0]
        if field not in PLAIN_FIELDS and not (
            field.startswith(FIELD_PREFIX) and len(field) > len(FIELD_PREFIX)
        ):
            hint = (
                did_you_mean(field, list(PLAIN_FIELDS))
                or "one of " + ", ".join(PLAIN_FIELDS) + ", fields.NAME"
            )
            self.error(f"unknown field {field!r}", key_node, hint)
            return None
        op = Op.EQ
        seen_op = False
        mods: set[Modifier] = set()
        words = [o.value for o in Op] + [m.value for m in Modifier]
        for part in parts[1:]:
            if part in (o.value for o in Op):
                if seen_op:
                    self.error(f"more than one operator in {key!r}", key_node)
                    return None
                op, seen_op = Op(part), True
            elif part in (m.value for m in Modifier):
                mods.add(Modifier(part))
            else:
                hint = did_you_mean(part, words) or "operators: " + ", ".join(o.value for o in Op)
                self.error(f"unknown operator or modifier {part!r} in {key!r}", key_node, hint)
                return None
        ignore_case = Modifier.I in mods
        if ignore_case and (op.numeric or op is Op.EXISTS):
            self.error(f"modifier 'i' does not apply to {op.value!r}", key_node)
            return None
        values = value if isinstance(value, list) else [value]
        if not values:
            self.error(f"empty value list for {key!r}", node)
            return None
        if len(values) > MAX_VALUES:
            self.error(f"too many values for {key!r} ({len(values)})", node, f"limit {MAX_VALUES}")
            return None
        if any(isinstance(v, str) and len(v) > MAX_PATTERN_CHARS for v in values):
            self.error(f"value for {key!r} too long", node, f"limit {MAX_PATTERN_CHARS} characters")
            return None
        loc = self.loc(key_node)
        for v in values:
            if v is None or isinstance(v, dict | list):
                hint = (
                    "use 'exists: false' for an absent field"
                    if v is None
                    else "a scalar or a list of scalars"
                )
                self.error(f"bad value for {key!r}", node, hint)
                return None
            if isinstance(v, float) and not math.isfinite(v):
                self.error(f"bad number for {key!r}", node)
                return None
            if isinstance(v, int) and not isinstance(v, bool) and abs(v) > MAX_INTEGER:
                # beyond the cache's 64-bit integers and exact float comparison; no field holds such a value
                self.error(f"number too large for {key!r}", node, f"at most {MAX_INTEGER}")
                return None
        if op is Op.EXISTS:
            if len(values) != 1 or not isinstance(values[0], bool):
                self.error(f"{key!r} takes true or false", node)
                return None
            return FieldTest(field, op, (values[0],), location=loc)
        if op.numeric:
            nums = [as_number(v) for v in values]
            if any(n is None for n in nums):
                self.error(f"{key!r} compares numbers; {value!r} is not one", node)
                return None
            return FieldTest(field, op, tuple(values), all=Modifier.ALL in mods, location=loc)
        texts = tuple(as_text(v) for v in values)
        if op is Op.RE:
            # Here, not at the top: a cached rule set was checked when it was built, and start-up
            # (DESIGN.md budget) would otherwise load the backtracking analysis on every run.
            from diagnoser.regexsafety import regex_problem

            flags = re.IGNORECASE if ignore_case else 0
            for pattern in texts:
                problem = regex_problem(pattern, flags)  # also proves that it compiles
                if problem is not None:
                    self.error(problem, node)
                    return None
        return FieldTest(
            field,
            op,
            tuple(values) if op is Op.EQ else texts,
            ignore_case=ignore_case,
            all=Modifier.ALL in mods,
            location=loc,
        )

    # -- examples --------------------------------------------------------------------------------

    def examples(self, data: Any, node: yaml.Node | None) -> Examples:
        """Return the examples; missing kinds are empty (lint reports missing ones)."""
        if data is None:
            return Examples()
        if not isinstance(data, dict):
            self.error("'examples' must be a mapping of positive/negative lists", node)
            return Examples()
        self.check_duplicate_keys(node, "example kind")
        found: dict[str, tuple[str, ...]] = {}
        for kind in EXAMPLE_KEYS:
            items = data.get(kind)
            if items is None:
                continue
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                self.error(
                    f"examples.{kind} must be a list of strings",
                    self.child(node, kind),
                    "one log stream each",
                )
                continue
            found[kind] = tuple(items)
        keys = tuple(KeyRef(str(k.value), self.loc(k)) for k, _ in self.pairs(node))
        return Examples(**found, keys=keys, location=self.loc(node))
