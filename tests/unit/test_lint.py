"""Rule lint: each validator reports located issues; a clean rule has none."""

from __future__ import annotations

from pathlib import Path

from diagnoser.detect.lint import Check, LintIssue, catalogue_ids, lint_rules
from diagnoser.detect.loader import load_rules

CLEAN = """\
id: {id}
cause: oom_worker_reboot
title: Workers killed
severity: high
match:
  kill: {{message|re: 'pid:(?P<pid>\\d+) killed'}}
  boot: {{message|contains: Booting}}
condition: kill and boot
explain: "{{kill_count}} kills, pid {{pid}}, {{count}} events, {{first_time}}"
examples:
  positive: ["Booting\\npid:1 killed"]
  negative: ["Booting"]
"""
CATALOGUE = ("oom_worker_reboot", "init_exception")


def lint(tmp_path: Path, text: str, name: str = "w-kill", catalogue=CATALOGUE) -> list[LintIssue]:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return lint_rules(load_rules([path]), catalogue=catalogue)


def checks(issues: list[LintIssue]) -> list[Check]:
    return [i.check for i in issues]


def test_clean_rule_has_no_issues(tmp_path):
    assert lint(tmp_path, CLEAN.format(id="w-kill")) == []


def test_unknown_key_with_did_you_mean(tmp_path):
    (issue,) = lint(tmp_path, CLEAN.format(id="w-kill") + "windw: 5m\n")
    assert issue.check is Check.UNKNOWN_KEY
    assert (
        str(issue)
        == f"{tmp_path}/w-kill.yaml:13:1: unknown key 'windw' (did you mean 'window'?) [unknown-key]"
    )


def test_unknown_examples_key(tmp_path):
    text = CLEAN.format(id="w-kill").replace("  negative:", "  negative: []\n  todo_postive: []\n  negativ:")
    issues = lint(tmp_path, text)
    assert checks(issues) == [Check.UNKNOWN_KEY, Check.UNKNOWN_KEY, Check.MISSING_EXAMPLES]
    assert issues[0].hint == "did you mean 'todo_positive'?"


def test_id_must_equal_stem_and_be_kebab_case(tmp_path):
    assert checks(lint(tmp_path, CLEAN.format(id="w-kill"), name="other")) == [Check.ID_NOT_STEM]
    assert Check.BAD_ID in checks(lint(tmp_path, CLEAN.format(id="W_Kill"), name="W_Kill"))


def test_unknown_cause(tmp_path):
    (issue,) = lint(tmp_path, CLEAN.format(id="w-kill").replace("oom_worker_reboot", "oom_worker_rebot"))
    assert issue.check is Check.UNKNOWN_CAUSE and issue.hint == "did you mean 'oom_worker_reboot'?"


def test_unknown_superseded_cause(tmp_path):
    issues = lint(tmp_path, CLEAN.format(id="w-kill") + "supersedes: [nope]\n")
    assert checks(issues) == [Check.UNKNOWN_CAUSE]


def test_cause_check_skipped_without_catalogue(tmp_path):
    text = CLEAN.format(id="w-kill").replace("oom_worker_reboot", "anything")
    assert lint(tmp_path, text, catalogue=()) == []


def test_unused_matcher(tmp_path):
    (issue,) = lint(
        tmp_path, CLEAN.format(id="w-kill").replace("condition: kill and boot", "condition: kill")
    )
    assert issue.check is Check.UNUSED_MATCHER and issue.location.line == 7


def test_quantifiers_count_as_use(tmp_path):
    assert lint(tmp_path, CLEAN.format(id="w-kill").replace("kill and boot", "all of them")) == []


def test_regex_matching_everything(tmp_path):
    issues = lint(tmp_path, CLEAN.format(id="w-kill").replace("'pid:(?P<pid>\\d+) killed'", "'(?P<pid>x*)'"))
    assert checks(issues) == [Check.BAD_REGEX]
    assert "matches the empty string" in issues[0].message


def test_unknown_and_malformed_placeholders(tmp_path):
    issues = lint(tmp_path, CLEAN.format(id="w-kill").replace("{count}", "{cont}"))
    assert checks(issues) == [Check.UNKNOWN_PLACEHOLDER] and issues[0].hint == "did you mean 'count'?"
    issues = lint(tmp_path, CLEAN.format(id="w-kill").replace("{count}", "{count"))
    assert checks(issues) == [Check.UNKNOWN_PLACEHOLDER] and "malformed" in issues[0].message


def test_missing_examples(tmp_path):
    text = CLEAN.format(id="w-kill").split("examples:")[0]
    issues = lint(tmp_path, text)
    assert checks(issues) == [Check.MISSING_EXAMPLES, Check.MISSING_EXAMPLES]
    assert [i.message for i in issues] == ["no positive example", "no negative example"]


def test_duplicate_ids(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "w-kill.yaml").write_text(CLEAN.format(id="w-kill"))
    (tmp_path / "b" / "w-kill.yaml").write_text(CLEAN.format(id="w-kill"))
    issues = lint_rules(load_rules([tmp_path / "a", tmp_path / "b"]), catalogue=CATALOGUE)
    assert checks(issues) == [Check.DUPLICATE_ID]
    assert issues[0].location.path.endswith("b/w-kill.yaml") and "a/w-kill.yaml:1:1" in (issues[0].hint or "")


def test_catalogue_ids_are_file_stems(tmp_path):
    (tmp_path / "oom_worker_reboot.yaml").write_text("id: oom_worker_reboot\n")
    (tmp_path / "README.md").write_text("")
    assert catalogue_ids(tmp_path) == ("oom_worker_reboot",)
    assert catalogue_ids(tmp_path / "missing") == ()
