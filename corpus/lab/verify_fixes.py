#!/usr/bin/env python3
"""Check the fix plans against the lab: do the suggested values remove the faults?

For each fault scenario whose fix plan suggests a value (memory limit, WORKER_COUNT, gunicorn
--timeout / WORKER_TIMEOUT, SCORING_TIMEOUT_MS), on several server versions:

1. take the recorded corpus case (`corpus/cases/lab/<server>/<scenario>/`; the lab's true knob values
   are in its meta.yaml), or run a variant when the check needs other base knobs;
2. diagnose it with the pipeline and read the fix step of the knob that applies: `current`, `suggested`;
3. compare `current` with the lab's true value;
4. re-run the same scenario with the suggested value applied (`run.py --set ... --out <tmp>`: a real
   cgroup limit, --timeout / WORKER_TIMEOUT, SCORING_TIMEOUT_MS), never writing the corpus;
5. diagnose the re-run and check the fault is gone (no diagnosis of that cause, no SIGKILL / WORKER
   TIMEOUT / UserScriptTimeout lines, no kernel OOM kill, every request 200).

When one suggestion is not enough, the re-run's own plan is applied next (round 2, 3, ...), up to
--rounds: how many rounds an operator following the plan would need.

Results: `corpus/lab/fix-verification.md` (a table, the findings, and the raw results as a JSON
block that `tests/test_fix_verification.py` checks without running servers).

    python corpus/lab/verify_fixes.py                 # every check (~8-12 min; root, like run.py)
    python corpus/lab/verify_fixes.py --only oom-run  # some scenarios
    python corpus/lab/verify_fixes.py --list
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

LAB_DIR = Path(__file__).resolve().parent
REPO = LAB_DIR.parent.parent
sys.path.insert(0, str(REPO))

from diagnoser.model import Platform, Report, ValueSource  # noqa: E402
from diagnoser.options import Files, Options, PlanOptions  # noqa: E402
from diagnoser.pipeline import diagnose  # noqa: E402

CORPUS = REPO / "corpus" / "cases" / "lab"
RESULTS_MD = LAB_DIR / "fix-verification.md"
WORK = Path("/tmp/diagnoser-lab/fix-verification")
RUN_TIMEOUT = 120  # one run.py call (one scenario, incl. the netns re-exec): all are well under a minute
JSON_BEGIN = "<!-- fix-verification-json:begin -->"
JSON_END = "<!-- fix-verification-json:end -->"

# Lines that show each fault in a server log (any version).
FAULT_LINES = {
    "oom_worker_reboot": re.compile(r"was terminated due to signal 9|was sent SIGKILL"),
    "worker_timeout": re.compile(r"WORKER TIMEOUT"),
    "scoring_timeout": re.compile(r"UserScriptTimeout: Script failed"),
}


@dataclass(frozen=True)
class Check:
    scenario: str
    server: str
    knob: str  # the fix step's knob whose suggestion is applied
    cause: str
    base: dict = field(
        default_factory=dict
    )  # run.py --set values of the base run (a variant); {} = recorded case
    note: str = ""

    @property
    def id(self) -> str:
        extra = ",".join(f"{k}={v}" for k, v in self.base.items())
        return f"{self.scenario}/{self.server}/{self.knob}" + (f"[{extra}]" if extra else "")


MEM, WT, ST = "oom_worker_reboot", "request_timeout", "request_timeout"
CHECKS = [
    Check("oom-init", "gunicorn-20.1.0", "--memory", MEM),
    Check("oom-init", "gunicorn-27.0.1", "--memory", MEM),
    Check("oom-init", "azmlinfsrv-0.8.4.2", "memory_gb", MEM),
    Check("oom-init", "azmlinfsrv-1.5.1", "memory_gb", MEM),
    Check("oom-init", "azmlinfsrv-1.5.1", "WORKER_COUNT", MEM),
    Check(
        "oom-init",
        "azmlinfsrv-1.5.1",
        "WORKER_COUNT",
        MEM,
        base={"workers": 2, "memory_mb": 1536},
        note="variant (not a corpus case): 2 workers each loading 1 GiB under 1.5 GiB",
    ),
    Check("oom-run", "gunicorn-23.0.0", "--memory", MEM),
    Check("oom-run", "azmlinfsrv-1.0.0", "memory_gb", MEM),
    Check("oom-run", "azmlinfsrv-1.5.1", "memory_gb", MEM),
    Check("worker-timeout", "gunicorn-20.1.0", "--timeout", WT),
    Check("worker-timeout", "gunicorn-27.0.1", "--timeout", WT),
    Check("worker-timeout", "azmlinfsrv-0.8.4.2", "WORKER_TIMEOUT", WT),
    Check("worker-timeout", "azmlinfsrv-1.5.1", "WORKER_TIMEOUT", WT),
    Check("scoring-timeout", "azmlinfsrv-0.7.7", "SCORING_TIMEOUT_MS", ST),
    Check("scoring-timeout", "azmlinfsrv-1.0.0", "SCORING_TIMEOUT_MS", ST),
    Check("scoring-timeout", "azmlinfsrv-1.5.1", "SCORING_TIMEOUT_MS", ST),
]

# The plan platform a knob's step belongs to. gunicorn's own steps have no memory knob (a bare
# gunicorn's limit is its container's): the plan is read with --platform docker for `--memory`.
KNOB_PLATFORM = {
    "--memory": Platform.DOCKER,
    "memory_gb": Platform.AZUREML_V1_AKS,  # the AksWebservice variant (ACI's reads the same values)
    "WORKER_COUNT": Platform.AZMLINFSRV,
    "--timeout": Platform.GUNICORN,
    "WORKER_TIMEOUT": Platform.AZMLINFSRV,
    "SCORING_TIMEOUT_MS": Platform.AZMLINFSRV,
}


# --------------------------------------------------------------------------- values


def true_value(check: Check, meta: dict) -> int | None:
    """The lab's value of the knob (meta.yaml knobs), in the knob's unit: MiB, count, s, ms."""
    knobs = meta["knobs"]
    return {
        "--memory": knobs.get("memory_limit_mb"),
        "memory_gb": knobs.get("memory_limit_mb"),
        "WORKER_COUNT": knobs.get("workers"),
        "--timeout": knobs.get("worker_timeout_s"),
        "WORKER_TIMEOUT": knobs.get("worker_timeout_s"),
        "SCORING_TIMEOUT_MS": knobs.get("scoring_timeout_ms"),
    }[check.knob]


def to_lab_value(knob: str, text: str | None) -> int | None:
    """A plan value (`current` or `suggested`) as the lab's number: MiB for memory, else the integer.

    `None` when the plan shows no value, or only a documented default ("30 (default)"): that is not
    a value read from the logs.
    """
    if text is None or "default" in text:
        return None
    text = text.strip()
    if knob == "memory_gb":
        return round(float(text) * 1024)
    if knob == "--memory":
        m = re.fullmatch(r"(\d+(?:\.\d+)?)([mg])", text.lower())
        if not m:
            return None
        return round(float(m.group(1)) * (1024 if m.group(2) == "g" else 1))
    return int(text) if text.isdigit() else None


def override_for(knob: str, value: int) -> dict:
    """run.py --set values that apply `value` of `knob`."""
    return {
        "--memory": {"memory_mb": value},
        "memory_gb": {"memory_mb": value},
        "WORKER_COUNT": {"workers": value},
        "--timeout": {"timeout": value},
        "WORKER_TIMEOUT": {"timeout": value},
        "SCORING_TIMEOUT_MS": {"SCORING_TIMEOUT_MS": value},
    }[knob]


UNITS = {
    "--memory": "MiB",
    "memory_gb": "MiB",
    "WORKER_COUNT": "workers",
    "--timeout": "s",
    "WORKER_TIMEOUT": "s",
    "SCORING_TIMEOUT_MS": "ms",
}


# --------------------------------------------------------------------------- diagnose


def diagnose_case(case_dir: Path, knob: str) -> Report:
    import yaml

    case = yaml.safe_load((case_dir / "case.yaml").read_text())
    # The knobs of a deployment platform (docker run, an AKS web service) are planned for that platform as
    # a user on it would ask (--platform): the lab's local runs do not show it.
    platform = KNOB_PLATFORM[knob] if knob in ("--memory", "memory_gb") else None
    plan = PlanOptions(platform=platform)
    return diagnose([Files(tuple(str(case_dir / f) for f in case["inputs"]))], Options(plan=plan))


def plan_step(report: Report, cause: str, knob: str) -> dict | None:
    """The fix step of `knob` in the diagnosis of `cause`, as a dict; None if not diagnosed/no step."""
    for d in report.diagnoses:
        if d.cause != cause:
            continue
        for f in d.fixes:
            if f.knob == knob and f.platform is KNOB_PLATFORM[knob]:
                # Only a value read from the logs is compared with the lab's truth; a documented
                # default (current_source "default") is "not in logs".
                return {
                    "platform": f.platform.value,
                    "knob": f.knob,
                    "current": f.current if f.current_source is ValueSource.OBSERVED else None,
                    "suggested": f.suggested,
                    "why": f.why,
                }
    return None


def fault_evidence(case_dir: Path, report: Report, check: Check) -> dict:
    import yaml

    meta = yaml.safe_load((case_dir / "meta.yaml").read_text())
    truth = meta["truth"]
    text = (case_dir / "input.log").read_text(errors="replace")
    lines = {k: len(p.findall(text)) for k, p in FAULT_LINES.items()}
    statuses = {str(k): v for k, v in (truth.get("request_status_counts") or {}).items()}
    health = (truth.get("first_health_probe") or {}).get("status")
    cg = truth.get("cgroup") or {}
    oom_kills = cg.get("oom_control.oom_kill", cg.get("oom_kill"))
    return {
        "diagnoses": [d.cause for d in report.diagnoses],
        "fault_lines": lines,
        "request_status_counts": statuses,
        "health_probe_status": health,
        "cgroup_oom_kills": oom_kills,
        "kernel_killed_pids": len(truth.get("kernel_killed_pids") or []),
    }


def fault_gone(ev: dict, cause: str) -> bool:
    """No diagnosis of the cause, no fault line, no kernel kill, healthy probe, every request 200."""
    return (
        cause not in ev["diagnoses"]
        and not any(ev["fault_lines"].values())
        and not ev["cgroup_oom_kills"]
        and not ev["kernel_killed_pids"]
        and ev["health_probe_status"] == 200
        and all(k == "200" for k in ev["request_status_counts"])
    )


# --------------------------------------------------------------------------- runs


def lab_run(server: str, scenario: str, out: Path, overrides: dict) -> Path:
    """One run.py call with knob overrides into `out` (the corpus is never written)."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    cmd = [sys.executable, str(LAB_DIR / "run.py"), "--server", server, "--only", scenario, "--out", str(out)]
    for k, v in overrides.items():
        cmd += ["--set", f"{k}={v}"]
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    print(f"    run.py {' '.join(cmd[2:])}  ({time.monotonic() - t0:.1f}s) {r.stdout.strip()}", flush=True)
    case_dir = out / server / scenario
    if r.returncode != 0 or not (case_dir / "meta.yaml").exists():
        raise RuntimeError(f"run.py failed ({r.returncode}): {r.stderr[-1500:]}")
    return case_dir


def verify(check: Check, rounds: int) -> dict:
    import yaml

    print(f"== {check.id}", flush=True)
    work = WORK / check.id.replace("/", "__").replace("[", "_").replace("]", "").replace(",", "_")
    shutil.rmtree(work, ignore_errors=True)  # no round of an earlier run left behind
    if check.base:
        case_dir = lab_run(check.server, check.scenario, work / "base", check.base)
        source = f"lab run with --set {' '.join(f'{k}={v}' for k, v in check.base.items())}"
    else:
        case_dir = CORPUS / check.server / check.scenario
        source = str(case_dir.relative_to(REPO))
    meta = yaml.safe_load((case_dir / "meta.yaml").read_text())
    report = diagnose_case(case_dir, check.knob)
    step = plan_step(report, check.cause, check.knob)
    truth = true_value(check, meta)
    ev0 = fault_evidence(case_dir, report, check)
    result: dict = {
        "id": check.id,
        "scenario": check.scenario,
        "server": check.server,
        "cause": check.cause,
        "knob": check.knob,
        "plan_platform": KNOB_PLATFORM[check.knob].value,
        "plan_platform_override": "docker" if check.knob == "--memory" else None,
        "unit": UNITS[check.knob],
        "base": source,
        "base_overrides": check.base or None,
        "base_fault_present": not fault_gone(ev0, check.cause),
        "base_evidence": ev0,
        "note": check.note,
        "true_value": truth,
        "current_read": step["current"] if step else None,
        "current_value": to_lab_value(check.knob, step["current"]) if step else None,
        "suggested": step["suggested"] if step else None,
        "plan_why": step["why"] if step else None,
        "rounds": [],
    }
    result["current_correct"] = (
        result["current_value"] == truth if result["current_value"] is not None else None
    )
    base_overrides = dict(check.base)
    while step is not None and step["suggested"] is not None and len(result["rounds"]) < rounds:
        n = len(result["rounds"]) + 1
        value = to_lab_value(check.knob, step["suggested"])
        applied = {**base_overrides, **override_for(check.knob, value)}
        rerun = lab_run(check.server, check.scenario, work / f"round{n}", applied)
        rmeta = yaml.safe_load((rerun / "meta.yaml").read_text())
        rreport = diagnose_case(rerun, check.knob)
        ev = fault_evidence(rerun, rreport, check)
        gone = fault_gone(ev, check.cause)
        nxt = plan_step(rreport, check.cause, check.knob)
        result["rounds"].append(
            {
                "round": n,
                "plan_current": step["current"],
                "plan_suggested": step["suggested"],
                "applied": applied,
                "applied_true_value": true_value(check, rmeta),
                "fault_gone": gone,
                "evidence": ev,
                "rerun_current_read": nxt["current"] if nxt else None,
                "rerun_suggested": nxt["suggested"] if nxt else None,
                "rerun_dir": str(rerun),
                "duration_s": rmeta.get("duration_s"),
            }
        )
        print(f"    round {n}: applied {applied} -> fault gone: {gone}  {ev}", flush=True)
        if gone:
            break
        step = nxt
    result["suggestion_sufficient"] = bool(result["rounds"]) and result["rounds"][0]["fault_gone"]
    fixed = [r["round"] for r in result["rounds"] if r["fault_gone"]]
    result["rounds_to_fix"] = fixed[0] if fixed else None
    return result


# --------------------------------------------------------------------------- report


def _cell(value: object) -> str:
    return "—" if value is None else str(value).replace("|", "\\|")


def _rerun_cell(r: dict) -> str:
    if not r["rounds"]:
        return "not re-run (no suggested value)"
    first = r["rounds"][0]
    ev = first["evidence"]
    if first["fault_gone"]:
        what = "fault gone"
    else:
        bits = [f"{k} ×{v}" for k, v in ev["fault_lines"].items() if v]
        if ev["cgroup_oom_kills"]:
            bits.append(f"oom_kill ×{ev['cgroup_oom_kills']}")
        what = "STILL FAULTY (" + ", ".join(bits or ev["diagnoses"]) + ")"
    reqs = (
        ", ".join(f"{k}×{v}" for k, v in ev["request_status_counts"].items())
        or f"probe {ev['health_probe_status']}"
    )
    return f"{what}; {reqs}"


def _rounds_cell(r: dict) -> str:
    if not r["rounds"]:
        return "—"
    path = " → ".join(f"{x['plan_suggested']}{'✓' if x['fault_gone'] else '✗'}" for x in r["rounds"])
    return f"{r['rounds_to_fix'] or 'not fixed'} ({path})"


def table(results: list[dict]) -> str:
    head = (
        "| scenario | server | knob (plan platform) | true value | current read | suggested | "
        "re-run with suggested | rounds to fix (values applied) |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- |\n"
    )
    rows = []
    for r in results:
        true = f"{_cell(r['true_value'])} {r['unit']}"
        if r["current_correct"] is True:
            cur = f"{_cell(r['current_read'])} ✓"
        elif r["current_correct"] is False:
            cur = f"{_cell(r['current_read'])} ✗ WRONG"
        else:
            cur = f"{_cell(r['current_read'])} (not in logs)"
        scen = r["scenario"] + (" (variant)" if r["base_overrides"] else "")
        rows.append(
            f"| {scen} | {r['server']} | `{r['knob']}` ({r['plan_platform']}) | {true} | {cur} | "
            f"{_cell(r['suggested'])} | {_rerun_cell(r)} | {_rounds_cell(r)} |"
        )
    return head + "\n".join(rows) + "\n"


def write_results(results: list[dict], path: Path = RESULTS_MD) -> None:
    """Rewrite the generated parts of fix-verification.md: the table and the JSON block."""
    now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    blob = json.dumps({"generated": now, "results": results}, indent=1, sort_keys=False)
    generated = (
        "<!-- fix-verification-table:begin (generated by corpus/lab/verify_fixes.py) -->\n"
        + table(results)
        + "<!-- fix-verification-table:end -->"
    )
    raw = f"{JSON_BEGIN}\n```json\n{blob}\n```\n{JSON_END}"
    text = path.read_text() if path.exists() else "# Fix verification\n\n"
    for begin, end, new in (
        ("<!-- fix-verification-table:begin", "<!-- fix-verification-table:end -->", generated),
        (JSON_BEGIN, JSON_END, raw),
    ):
        i, j = text.find(begin), text.find(end)
        if i >= 0 and j > i:
            text = text[:i] + new + text[j + len(end) :]
        else:
            text = text.rstrip("\n") + "\n\n" + new + "\n"
    path.write_text(text)


def load_results(path: Path = RESULTS_MD) -> list[dict]:
    text = path.read_text()
    i, j = text.index(JSON_BEGIN), text.index(JSON_END)
    body = text[i + len(JSON_BEGIN) : j].strip().removeprefix("```json").removesuffix("```")
    return json.loads(body)["results"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", action="append", default=[], help="scenario (repeatable, comma list)")
    ap.add_argument("--server", action="append", default=[], help="server (repeatable, comma list)")
    ap.add_argument(
        "--rounds", type=int, default=5, help="max re-runs per check (each applies the last plan)"
    )
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--no-write", action="store_true", help="print, do not rewrite fix-verification.md")
    args = ap.parse_args(argv)
    only = {x for a in args.only for x in a.split(",") if x}
    servers = {x for a in args.server for x in a.split(",") if x}
    checks = [c for c in CHECKS if (not only or c.scenario in only) and (not servers or c.server in servers)]
    if args.list:
        for c in checks:
            print(c.id)
        return 0
    results, failures = [], 0
    for c in checks:
        try:
            results.append(verify(c, args.rounds))
        except Exception as e:  # keep going
            failures += 1
            print(f"!! {c.id}: {type(e).__name__}: {e}", flush=True)
    print(table(results))
    if not args.no_write:
        if only or servers:  # a partial run updates its rows, keeps the others
            try:
                old = {r["id"]: r for r in load_results()}
            except (OSError, ValueError):
                old = {}
            old.update({r["id"]: r for r in results})
            order = [c.id for c in CHECKS]
            results = sorted(old.values(), key=lambda r: order.index(r["id"]) if r["id"] in order else 99)
        write_results(results)
        print(f"wrote {RESULTS_MD.relative_to(REPO)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
