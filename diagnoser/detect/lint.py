"""Rule checks: small validator classes that return issues (as in pySigma and flake8)."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import ClassVar

from diagnoser.detect.condition import names_used
from diagnoser.detect.rules import EXAMPLE_KEYS, RULE_KEYS, Op, Rule
from diagnoser.detect.templates import FIXED_PLACEHOLDERS, placeholders_of, rule_captures
from diagnoser.errors import Location, did_you_mean
from diagnoser.paths import CATALOGUE_DIR
from diagnoser.regexsafety import matches_empty, regex_problem

ID_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")


class Check(StrEnum):
    """The checks `rules lint` runs; the value is the code shown after each issue."""

    UNKNOWN_KEY = "unknown-key"
    BAD_ID = "bad-id"
    ID_NOT_STEM = "id-not-stem"
    UNKNOWN_CAUSE = "unknown-cause"
    UNUSED_MATCHER = "unused-matcher"
    UNDEFINED_NAME = "undefined-name"
    BAD_REGEX = "bad-regex"
    UNKNOWN_PLACEHOLDER = "unknown-placeholder"
    MISSING_EXAMPLES = "missing-examples"
    DUPLICATE_ID = "duplicate-id"


@dataclass(frozen=True, slots=True)
class LintIssue:
    """One problem a check found in a rule."""

    check: Check
    rule: str
    message: str
    location: Location | None = None
    hint: str | None = None

    def __str__(self) -> str:
        text = self.message + (f" ({self.hint})" if self.hint else "") + f" [{self.check.value}]"
        return f"{self.location}: {text}" if self.location is not None else f"{self.rule}: {text}"


class Validator(ABC):
    """A rule check: `validate` runs per rule, `finalize` once after all rules (for set-wide checks)."""

    check: ClassVar[Check]

    @abstractmethod
    def validate(self, rule: Rule) -> Iterator[LintIssue]:
        """Yield the issues of one rule."""

    def finalize(self) -> Iterator[LintIssue]:
        """Yield issues that need every rule seen (none by default)."""
        return iter(())

    def issue(
        self, rule: Rule, message: str, location: Location | None = None, hint: str | None = None
    ) -> LintIssue:
        """Return an issue of this validator's check."""
        return LintIssue(self.check, rule.id, message, location or rule.location(), hint)


class UnknownKeyValidator(Validator):
    """Reject keys the rule format does not know, with a did-you-mean."""

    check = Check.UNKNOWN_KEY

    def validate(self, rule: Rule) -> Iterator[LintIssue]:
        """Yield an issue per unknown top-level or examples key."""
        for ref in rule.keys:
            if ref.name not in RULE_KEYS:
                yield self.issue(
                    rule, f"unknown key {ref.name!r}", ref.location, did_you_mean(ref.name, RULE_KEYS)
                )
        for ref in rule.examples.keys:
            if ref.name not in EXAMPLE_KEYS:
                hint = did_you_mean(ref.name, EXAMPLE_KEYS)
                yield self.issue(rule, f"unknown examples key {ref.name!r}", ref.location, hint)


class IdValidator(Validator):
    """Require a kebab-case id equal to the file stem."""

    check = Check.ID_NOT_STEM

    def validate(self, rule: Rule) -> Iterator[LintIssue]:
        """Yield an issue when the id is not kebab-case or differs from the file name."""
        where = rule.location("id")
        if not ID_RE.match(rule.id):
            yield LintIssue(
                Check.BAD_ID, rule.id, f"rule id {rule.id!r} is not kebab-case", where, "e.g. oom-killed"
            )
        if rule.path is not None and rule.path.stem != rule.id:
            yield self.issue(
                rule, f"rule id {rule.id!r} differs from the file stem {rule.path.stem!r}", where
            )


class CauseValidator(Validator):
    """Require the cause to be a catalogue id (skipped when the catalogue is empty)."""

    check = Check.UNKNOWN_CAUSE

    def __init__(self, catalogue: Collection[str]):
        self.catalogue = tuple(sorted(catalogue))

    def validate(self, rule: Rule) -> Iterator[LintIssue]:
        """Yield an issue when the cause or a superseded cause is not in the catalogue."""
        if not self.catalogue:
            return
        for key, cause in [("cause", rule.cause)] + [("supersedes", c) for c in rule.supersedes]:
            if cause not in self.catalogue:
                hint = did_you_mean(cause, self.catalogue) or "see diagnoser/catalogue/"
                yield self.issue(rule, f"unknown cause {cause!r}", rule.location(key), hint)


class UnusedMatcherValidator(Validator):
    """Flag matchers the condition never uses."""

    check = Check.UNUSED_MATCHER

    def validate(self, rule: Rule) -> Iterator[LintIssue]:
        """Yield an issue per matcher the condition does not refer to."""
        used = set(names_used(rule.ast))
        for m in rule.matchers:
            if m.name not in used:
                yield self.issue(rule, f"matcher {m.name!r} is not used by the condition", m.location)


class UndefinedNameValidator(Validator):
    """Flag condition names that are no matcher."""

    check = Check.UNDEFINED_NAME

    def validate(self, rule: Rule) -> Iterator[LintIssue]:
        """Yield an issue per name the condition uses that no matcher defines."""
        names = rule.matcher_names
        for name in names_used(rule.ast):
            if name not in names:
                hint = did_you_mean(name, names)
                yield self.issue(
                    rule, f"condition uses {name!r}, which is no matcher", rule.condition_location, hint
                )


class RegexValidator(Validator):
    """Flag invalid, catastrophic or match-everything regular expressions."""

    check = Check.BAD_REGEX

    def validate(self, rule: Rule) -> Iterator[LintIssue]:
        """Yield an issue per problematic `re` value."""
        for m in rule.matchers:
            for test in m.tests:
                if test.op is not Op.RE:
                    continue
                for rx in test.regexes:
                    problem = regex_problem(rx.pattern, rx.flags)
                    if problem is not None:
                        yield self.issue(rule, problem, test.location)
                    elif matches_empty(rx.pattern, rx.flags):
                        msg = f"regular expression {rx.pattern!r} matches the empty string, so every line"
                        yield self.issue(rule, msg, test.location)


class PlaceholderValidator(Validator):
    """Flag explain placeholders the engine cannot fill."""

    check = Check.UNKNOWN_PLACEHOLDER

    def validate(self, rule: Rule) -> Iterator[LintIssue]:
        """Yield an issue per unknown or malformed placeholder."""
        where = rule.location("explain")
        try:
            fields = placeholders_of(rule.explain)
        except ValueError as exc:
            yield self.issue(
                rule, f"malformed explain template: {exc}", where, "double braces to print one: {{"
            )
            return
        known = (
            list(FIXED_PLACEHOLDERS) + [f"{n}_count" for n in rule.matcher_names] + list(rule_captures(rule))
        )
        for name in fields:
            if name not in known:
                hint = did_you_mean(name, known) or "known: " + ", ".join(known)
                yield self.issue(rule, f"unknown explain placeholder {{{name}}}", where, hint)


class ExamplesValidator(Validator):
    """Require at least one positive and one negative example."""

    check = Check.MISSING_EXAMPLES

    def validate(self, rule: Rule) -> Iterator[LintIssue]:
        """Yield an issue per missing example kind."""
        where = rule.examples.location or rule.location()
        if not rule.examples.positive:
            yield self.issue(
                rule, "no positive example", where, "add examples.positive: a log the rule must fire on"
            )
        if not rule.examples.negative:
            yield self.issue(
                rule, "no negative example", where, "add examples.negative: a near miss it must ignore"
            )


class DuplicateIdValidator(Validator):
    """Flag rule ids used more than once."""

    check = Check.DUPLICATE_ID

    def __init__(self) -> None:
        self.seen: dict[str, list[Rule]] = {}

    def validate(self, rule: Rule) -> Iterator[LintIssue]:
        """Remember the rule; issues come from finalize."""
        self.seen.setdefault(rule.id, []).append(rule)
        return iter(())

    def finalize(self) -> Iterator[LintIssue]:
        """Yield an issue per extra use of an id."""
        for rid, rules in self.seen.items():
            for rule in rules[1:]:
                first = rules[0].location("id")
                yield self.issue(
                    rule, f"duplicate rule id {rid!r}", rule.location("id"), f"first used at {first}"
                )


def catalogue_ids(directory: Path | None = None) -> tuple[str, ...]:
    """Return the cause ids of the catalogue: the stems of its *.yaml files."""
    root = directory or CATALOGUE_DIR
    return tuple(sorted(p.stem for p in root.glob("*.yaml"))) if root.is_dir() else ()


def default_validators(catalogue: Collection[str]) -> list[Validator]:
    """Return a fresh instance of every built-in validator."""
    return [
        UnknownKeyValidator(),
        IdValidator(),
        CauseValidator(catalogue),
        UnusedMatcherValidator(),
        UndefinedNameValidator(),
        RegexValidator(),
        PlaceholderValidator(),
        ExamplesValidator(),
        DuplicateIdValidator(),
    ]


def lint_rules(rules: Sequence[Rule], catalogue: Collection[str] | None = None) -> list[LintIssue]:
    """Return every issue the built-in checks find in `rules` (catalogue default: the shipped one)."""
    validators = default_validators(catalogue_ids() if catalogue is None else catalogue)
    issues: list[LintIssue] = []
    for rule in rules:
        for v in validators:
            issues.extend(v.validate(rule))
    for v in validators:
        issues.extend(v.finalize())
    return issues
