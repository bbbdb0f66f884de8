"""Where the data that ships with the package lives: rules, catalogue, classifier weights."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def rules_dir() -> Path:
    """Return the directory of the shipped rules.

    A wheel carries them inside the package (`diagnoser/rules`, mapped from the top-level `rules/`
    in pyproject.toml); a source checkout or an editable install reads the top-level `rules/`.
    """
    shipped = PACKAGE / "rules"
    return shipped if shipped.is_dir() else PACKAGE.parent / "rules"


CATALOGUE_DIR = PACKAGE / "catalogue"
MODEL_PATH = PACKAGE / "models" / "classifier.json"
