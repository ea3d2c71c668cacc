"""The wheel ships every sub-package and the built-in mappings (pyproject lists them by hand)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "exchanged").rglob("__init__.py")}
    assert found | {"exchanged._builtin_mappings"} == listed


def test_builtin_mappings_are_importable_as_package_data() -> None:
    from importlib.resources import files

    names = {p.name for p in files("exchanged._builtin_mappings").iterdir() if p.name.endswith(".toml")}
    assert {"canonical-product.toml", "canonical-price.toml", "canonical-stock.toml", "canonical-customer.toml"} <= names
