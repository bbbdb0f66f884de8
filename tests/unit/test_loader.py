"""Rule loader: typed rules from YAML, every error collected and located as path:line:col."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from diagnoser.detect.condition import MAX_INTEGER, MAX_NESTING, And, Ref
from diagnoser.detect.loader import MAX_RULE_FILE_BYTES, load_rules
from diagnoser.detect.rules import Op, Status
from diagnoser.errors import RuleLoadErrors
from diagnoser.model import Severity
from diagnoser.paths import rules_dir

GOOD = """\
id: {id}
cause: oom_worker_reboot
title: Workers killed
severity: high
status: stable
confidence: 0.7
sources: [gunicorn]
supersedes: [init_exception]
match:
  kill: {{message|re: 'Worker \\(pid:(?P<pid>\\d+)\\) was sent SIGKILL'}}
  code: {{fields.exit_code: [137, "139"]}}
  words: {{message|contains|i|all: [killed, memory]}}
condition: kill and (code or words)
window: 10m
explain: "pid {{pid}}"
examples:
  positive: ["Worker (pid:1) was sent SIGKILL!"]
  negative: ["ok"]
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def errors_of(*paths: Path) -> list[str]:
    with pytest.raises(RuleLoadErrors) as info:
        load_rules(list(paths))
    return [str(e) for e in info.value.errors]


def test_loads_a_full_rule(tmp_path):
    path = write(tmp_path, "w-kill", GOOD.format(id="w-kill"))
    (rule,) = load_rules([path])
    assert rule.id == "w-kill" and rule.cause == "oom_worker_reboot"
    assert rule.severity is Severity.HIGH and rule.status is Status.STABLE
    assert rule.confidence == 0.7 and rule.window == timedelta(minutes=10)
    assert rule.sources == ("gunicorn",) and rule.supersedes == ("init_exception",)
    assert rule.ast == And((Ref("kill"), rule.ast.items[1]))
    kill, code, words = rule.matchers
    assert kill.tests[0].op is Op.RE and kill.capture_names == ("pid",)
    assert code.tests[0].op is Op.EQ and code.tests[0].values == (137, "139")
    assert words.tests[0].ignore_case and words.tests[0].all
    assert rule.examples.positive == ("Worker (pid:1) was sent SIGKILL!",)
    assert rule.location("condition").line == 13


def test_directory_loads_sorted_yaml_files(tmp_path):
    write(tmp_path, "b-rule", GOOD.format(id="b-rule"))
    write(tmp_path, "a-rule", GOOD.format(id="a-rule"))
    (tmp_path / "notes.txt").write_text("not a rule")
    assert [r.id for r in load_rules([tmp_path])] == ["a-rule", "b-rule"]


def test_default_is_the_top_level_rules_directory_in_a_checkout():
    # An editable install or a checkout reads rules/ beside the package; a wheel maps it inside.
    assert rules_dir().name == "rules" and (rules_dir().parent / "diagnoser").is_dir()
    assert isinstance(load_rules(), tuple)


def test_missing_explicit_path_is_an_error(tmp_path):
    (msg,) = errors_of(tmp_path / "nope.yaml")
    assert msg.endswith("nope.yaml: no such rule file or directory (check the path)")


def test_every_error_across_files_is_collected(tmp_path):
    a = write(tmp_path, "a", GOOD.format(id="a").replace("severity: high", "severity: hgh"))
    b = write(tmp_path, "b", GOOD.format(id="b").replace("message|re", "mesage|re"))
    c = write(tmp_path, "c", GOOD.format(id="c").replace("kill and", "kil and"))
    msgs = errors_of(a, b, c, tmp_path / "gone")
    assert len(msgs) == 4
    assert msgs[0] == f"{tmp_path}/gone: no such rule file or directory (check the path)"
    assert msgs[1] == f"{a}:4:11: bad severity 'hgh' (did you mean 'high'?)"
    assert msgs[2] == f"{b}:10:10: unknown field 'mesage' (did you mean 'message'?)"
    assert msgs[3].startswith(f"{c}:13:12: unknown matcher 'kil' in condition (did you mean 'kill'?)\n")


def test_condition_error_column_points_into_the_file(tmp_path):
    text = GOOD.format(id="x").replace(
        "condition: kill and (code or words)", 'condition: "kill and (code or wrds)"'
    )
    (msg,) = errors_of(write(tmp_path, "x", text))
    assert msg.splitlines()[0].startswith(f"{tmp_path}/x.yaml:13:31: unknown matcher 'wrds'")
    assert msg.splitlines()[1:] == ["    kill and (code or wrds)", "                      ^"]


def test_condition_error_in_a_block_scalar(tmp_path):
    text = GOOD.format(id="x").replace(
        "condition: kill and (code or words)", "condition: >-\n  kill and\n  (code or wrds)"
    )
    (msg,) = errors_of(write(tmp_path, "x", text))
    assert msg.startswith(f"{tmp_path}/x.yaml:15:12: unknown matcher 'wrds'")


def test_yaml_syntax_error_is_located(tmp_path):
    (msg,) = errors_of(write(tmp_path, "x", "id: x\nmatch: {a: [1, 2}\n"))
    assert msg.startswith(f"{tmp_path}/x.yaml:2:") and "invalid YAML" in msg


@pytest.mark.parametrize(
    ("replace", "expect"),
    [
        (("cause: oom_worker_reboot\n", ""), "missing required key 'cause'"),
        (("confidence: 0.7", "confidence: 7"), "'confidence' must be a number from 0 to 1"),
        (("window: 10m", "window: 30"), "bad window 30 (write '30s')"),
        (("message|re:", "message|regex:"), "unknown operator or modifier 'regex' in 'message|re"),
        (("|contains|i|all", "|contains|re"), "more than one operator"),
        (("fields.exit_code: [137", "fields.exit_code|gt: [x"), "compares numbers"),
        (('[137, "139"]', "null"), "use 'exists: false' for an absent field"),
        (("kill: {", "and: {"), "bad matcher name 'and'"),
        (("sources: [gunicorn]", "sources: gunicorn"), "'sources' must be a list of strings"),
        (("status: stable", "status: stabel"), "bad status 'stabel' (did you mean 'stable'?)"),
        (("positive: [", "positive: ["), None),
    ],
)
def test_field_errors(tmp_path, replace, expect):
    text = GOOD.format(id="x").replace(*replace)
    path = write(tmp_path, "x", text)
    if expect is None:
        assert load_rules([path])
        return
    msgs = errors_of(path)
    assert any(expect in m for m in msgs), msgs


def test_catastrophic_regex_is_rejected(tmp_path):
    text = GOOD.format(id="x").replace("message|re: 'Worker", "message|re: '(a+)+Worker")
    (msg,) = errors_of(write(tmp_path, "x", text))
    assert msg.startswith(f"{tmp_path}/x.yaml:10:") and "catastrophically" in msg


def test_invalid_regex_is_rejected(tmp_path):
    text = GOOD.format(id="x").replace("message|re: 'Worker \\(", "message|re: 'Worker (")
    (msg,) = errors_of(write(tmp_path, "x", text))
    assert "bad regular expression" in msg


def test_duplicate_keys_are_errors(tmp_path):
    text = GOOD.format(id="x").replace("  code:", "  kill: {message: x}\n  code:")
    msgs = errors_of(write(tmp_path, "x", text))
    assert any("duplicate matcher 'kill'" in m for m in msgs)


def test_oversized_file_is_rejected(tmp_path):
    path = write(tmp_path, "x", GOOD.format(id="x") + "#" * MAX_RULE_FILE_BYTES)
    (msg,) = errors_of(path)
    assert "rule file too large" in msg


def test_unsafe_yaml_tags_are_rejected(tmp_path):
    (msg,) = errors_of(write(tmp_path, "x", "id: !!python/object/apply:os.system ['true']\n"))
    assert "invalid YAML" in msg


def test_more_than_one_document(tmp_path):
    (msg,) = errors_of(write(tmp_path, "x", GOOD.format(id="x") + "---\nid: y\n"))
    assert "more than one YAML document (one rule per file)" in msg


def test_unknown_top_level_keys_load_and_are_left_to_lint(tmp_path):
    (rule,) = load_rules([write(tmp_path, "x", GOOD.format(id="x") + "descripton: hi\n")])
    assert "descripton" in [k.name for k in rule.keys]


def _rule_with(tmp_path: Path, name: str, condition: str, extra: str = "") -> Path:
    text = (
        f"id: {name}\ncause: unknown\ntitle: t\nseverity: high\n"
        f"match:\n  a: {{message|contains: boom}}\n{extra}condition: {condition}\n"
    )
    return write(tmp_path, name, text)


@pytest.mark.parametrize("cache", ["on", "off"])
def test_a_too_deep_or_too_large_condition_is_a_located_error(tmp_path, monkeypatch, cache):
    # 44 nested parentheses raised RecursionError; a 20-digit count crashed encoding the rule cache
    monkeypatch.setenv("DIAGNOSER_CACHE_DIR", str(tmp_path / "cache") if cache == "on" else "off")
    deep = _rule_with(tmp_path, "deep", "(" * 44 + "a" + ")" * 44)
    big = _rule_with(tmp_path, "big", "count(a) >= 99999999999999999999")
    (deep_msg,) = errors_of(deep)
    assert deep_msg.startswith(f"{deep}:7:{12 + MAX_NESTING}: condition nested too deeply"), deep_msg
    (big_msg,) = errors_of(big)
    assert big_msg.startswith(f"{big}:7:24: number 99999999999999999999 too large"), big_msg


@pytest.mark.parametrize("cache", ["on", "off"])
def test_field_test_numbers_beyond_the_limit_are_located_errors(tmp_path, monkeypatch, cache):
    monkeypatch.setenv("DIAGNOSER_CACHE_DIR", str(tmp_path / "cache") if cache == "on" else "off")
    big = _rule_with(tmp_path, "big", "a or b", "  b: {fields.exit_code|gte: 99999999999999999999}\n")
    (msg,) = errors_of(big)
    assert msg.startswith(f"{big}:7:29: number too large for 'fields.exit_code|gte'"), msg
    # thousands of digits: more than Python converts, refused while the YAML is read, still located
    huge = _rule_with(tmp_path, "huge", "a or b", "  b: {pid: " + "9" * 5000 + "}\n")
    (msg,) = errors_of(huge)
    assert msg.startswith(f"{huge}:7:12: number too large"), msg
    # the largest allowed number loads, and round-trips through the cache
    ok = _rule_with(tmp_path, "ok", f"a or count(b) > {MAX_INTEGER - 1}", f"  b: {{pid: {MAX_INTEGER}}}\n")
    assert load_rules([ok]) == load_rules([ok])


def test_a_bad_rule_exits_2_with_its_location_and_no_traceback(tmp_path, cli):
    deep = _rule_with(tmp_path, "deep", "(" * 44 + "a" + ")" * 44)
    r = cli("diagnose", "--rules", str(deep), stdin=b"boom\n")
    assert r.code == 2
    assert f"{deep}:7:" in r.err and "nested too deeply" in r.err
    assert "Traceback" not in r.err
