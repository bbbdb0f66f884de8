"""Run one coverage-guided fuzz target under atheris (libFuzzer) for a bounded time.

    python tests/fuzz/run_atheris.py TARGET SECONDS [WORKDIR]

Seeds come from the repository (format samples, corpus logs, rules, conditions); the growing
corpus lives in WORKDIR (default /tmp/diagnoser-fuzz/TARGET). A crash or a hang (an input slower
than --timeout) is written to WORKDIR/crash-* and the run stops with libFuzzer's exit code; copy
the input into tests/fuzz/regressions/TARGET/ so test_fuzz_regressions.py replays it for good.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

with atheris.instrument_imports(include=["diagnoser"]):
    import diagnoser.collect.bundle  # noqa: F401
    import diagnoser.collect.files  # noqa: F401
    import diagnoser.detect.condition  # noqa: F401
    import diagnoser.detect.engine  # noqa: F401
    import diagnoser.detect.loader  # noqa: F401
    import diagnoser.parse.stream  # noqa: F401
    import diagnoser.pipeline  # noqa: F401
    import diagnoser.redact  # noqa: F401
    import diagnoser.render  # noqa: F401
    import diagnoser.render.escape  # noqa: F401

from tests.fuzz.targets import TARGETS  # noqa: E402

MAX_LEN = {
    "pipeline": 32768,
    "parse": 32768,
    "condition": 512,
    "rule": 4096,
    "redaction": 4096,
    "structure": 8192,
    "output": 16384,
    "bundle": 4096,
}


def seed(target: str, corpus: Path) -> None:
    """Fill `corpus` with starting inputs from the repository (once)."""
    corpus.mkdir(parents=True, exist_ok=True)
    if any(corpus.iterdir()):
        return
    files: list[Path] = []
    if target in ("pipeline", "parse", "redaction", "structure", "output"):
        files += sorted((ROOT / "tests" / "data" / "formats").rglob("*.log"))
        files += sorted((ROOT / "corpus").rglob("input.log"))[:150]
    if target == "structure":  # pasted manifests and API answers: env lists, Secrets, configs
        files += sorted((ROOT / "tests" / "data" / "k8s-api").rglob("*.json"))
        files += sorted((ROOT / "corpus").rglob("*.yaml"))[:100]
    if target == "bundle":  # manifests as the writer makes them, and as a hostile sender might
        import json

        good = {
            "diagnoser_bundle": 1,
            "tool": {"name": "diagnoser", "version": "0.1.0"},
            "warnings": ["kubernetes: GET failed"],
            "sources": [
                {"name": "k8s:ns/pod/app", "file": "001-a.log", "lines": 1},
                {"name": "k8s:ns/pod/app (previous)", "file": "002-b.log", "lines": 1},
            ],
        }
        hostile = json.loads(json.dumps(good))
        hostile["sources"][0]["file"] = "../../etc/passwd"
        hostile["sources"][1]["name"] = "\x1b]52;c;cHduZWQ=\x07[x](https://evil.example)"
        for i, manifest in enumerate((good, hostile)):
            (corpus / f"seed-manifest-{i}").write_text(json.dumps(manifest))
    if target == "rule":
        files += sorted((ROOT / "diagnoser" / "rules").glob("*.yaml"))
    for i, f in enumerate(files):
        data = f.read_bytes()[: MAX_LEN[target]]
        (corpus / f"seed-{i:04d}").write_bytes(data)
    if target == "condition":
        import yaml

        for i, f in enumerate(sorted((ROOT / "diagnoser" / "rules").glob("*.yaml"))):
            cond = yaml.safe_load(f.read_text()).get("condition", "")
            (corpus / f"seed-{i:04d}").write_text(str(cond))
    regressions = ROOT / "tests" / "fuzz" / "regressions" / target
    if regressions.is_dir():
        for f in regressions.iterdir():
            shutil.copy(f, corpus / f"regression-{f.name}")


def main() -> None:
    """Run TARGET for SECONDS."""
    target, seconds = sys.argv[1], int(sys.argv[2])
    work = Path(sys.argv[3]) if len(sys.argv) > 3 else Path("/tmp/diagnoser-fuzz") / target
    corpus = work / "corpus"
    seed(target, corpus)
    fn = TARGETS[target]

    def one(data: bytes) -> None:
        fn(data)

    args = [
        sys.argv[0],
        str(corpus),
        f"-max_total_time={seconds}",
        f"-max_len={MAX_LEN[target]}",
        "-timeout=10",
        "-rss_limit_mb=2048",
        "-print_final_stats=1",
        f"-artifact_prefix={work}/",
    ]
    os.chdir(work)
    atheris.Setup(args, one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
