"""The wheel built from a clean tree ships every module, every rule and the package data, and the
installed wheel reads its rules from inside the package (rules/ lives at the top of the checkout)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is needed to list the tracked files")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Build a wheel from the tracked files alone, as a clean clone would have them."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout.split(b"\0")
    src = tmp_path_factory.mktemp("clean")
    for name in filter(None, tracked):
        path = ROOT / name.decode()
        if path.is_file():  # a file deleted in the working tree is not in a clean clone either
            (src / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, src / name.decode())
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(src),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("diagnoser-*.whl")
    return built


def test_wheel_ships_every_rule_module_and_data_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    rules = {f"diagnoser/rules/{p.name}" for p in (ROOT / "rules").glob("*.yaml")}
    assert len(rules) >= 50 and rules <= names
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "diagnoser").rglob("*.py")}
    assert modules - names == set()  # a package missing from pyproject's explicit list fails here
    data = {
        p.relative_to(ROOT).as_posix()
        for d in ("catalogue", "schema", "models")
        for p in (ROOT / "diagnoser" / d).iterdir()
    }
    assert data - names == set()


def test_installed_wheel_loads_its_rules_from_inside_the_package(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    env = {**os.environ, "PYTHONPATH": str(target), "DIAGNOSER_CACHE_DIR": "off"}
    code = (
        "from diagnoser.paths import rules_dir; from diagnoser.detect import load_rules; "
        "print(rules_dir()); print(len(load_rules()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, check=True, capture_output=True, text=True
    )
    where, count = out.stdout.split()
    assert Path(where) == target / "diagnoser" / "rules"
    assert int(count) == len(list((ROOT / "rules").glob("*.yaml")))
