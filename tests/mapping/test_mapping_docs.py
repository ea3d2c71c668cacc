"""docs/mappings.md stays complete: every field path, every key, every canonical mapping."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import exchanged.mapping
from exchanged.mapping import CsvSpec, FieldSpec, Mapping, MatchSpec, load_mappings
from exchanged.records import ENTITIES
from exchanged.records.fields import ATTRIBUTES, flat_fields

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "mappings.md").read_text(encoding="utf-8")


def section(title_start: str) -> str:
    start = DOC.index(title_start)
    following = DOC.find("\n### ", start + 1)
    following2 = DOC.find("\n## ", start + 1)
    ends = [e for e in (following, following2) if e != -1]
    return DOC[start : min(ends) if ends else len(DOC)]


def field_paths(entity: str) -> list[str]:
    return [f"{ATTRIBUTES}.<name>" if p == ATTRIBUTES else p for p in flat_fields(ENTITIES[entity].model)]


@pytest.mark.parametrize("entity", list(ENTITIES))
def test_the_canonical_layout_section_lists_every_field_path_of_every_entity(entity: str) -> None:
    text = section(f"### {entity} — `canonical-{entity}`")
    listed = re.findall(r"^\| `([^`]+)` \|", text, flags=re.MULTILINE)
    assert listed == field_paths(entity)


@pytest.mark.parametrize("entity", list(ENTITIES))
def test_each_canonical_mapping_reads_every_field_from_the_column_of_its_name(entity: str) -> None:
    mapping = load_mappings(None)[f"canonical-{entity}"]
    specs = mapping.entity[entity]
    expected = [f"{ATTRIBUTES}.*" if p == ATTRIBUTES else p for p in flat_fields(ENTITIES[entity].model)]
    assert sorted(specs) == sorted(expected)
    for path, spec in specs.items():
        assert spec.column == path
        required = flat_fields(ENTITIES[entity].model).get(path)
        assert spec.optional is not (required is not None and required.required), path
    assert mapping.mode == "auto" and mapping.unknown_columns == "warn" and mapping.csv.decimal == "auto"
    assert mapping.match.columns == [p for p, f in flat_fields(ENTITIES[entity].model).items() if f.required]


@pytest.mark.parametrize("model", [Mapping, MatchSpec, CsvSpec, FieldSpec])
def test_every_key_of_a_mapping_file_is_documented(model: type) -> None:
    for name, info in model.model_fields.items():
        if info.exclude:
            continue
        assert any(f"`{form}`" in DOC for form in (name, f"[{name}]", f"[{name}.<name>]")), f"{model.__name__}.{name} is not in docs/mappings.md"


def test_every_issue_code_the_mapping_raises_is_documented() -> None:
    source = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "exchanged" / "mapping").glob("*.py"))
    codes = set(re.findall(r'"((?:invalid|unmapped|missing|unknown|no|ambiguous)-[a-z-]+)"', source))
    assert codes >= {"invalid-date", "invalid-timestamp", "invalid-decimal", "unmapped-code", "invalid-op",
                     "missing-column", "unknown-column", "no-mapping", "ambiguous-mapping"}
    for code in codes:
        assert f"`{code}`" in DOC, code


def test_the_walk_through_shows_the_example_mapping_file_as_it_is() -> None:
    example = tomllib.loads((ROOT / "docs" / "examples" / "acme-erp-articles.toml").read_text(encoding="utf-8"))
    shown = re.search(r"The mapping \(.*?```toml\n(.*?)```", DOC, flags=re.DOTALL)
    assert shown is not None
    documented = tomllib.loads(shown.group(1))
    example.pop("description")
    assert documented == example


def test_the_package_exports_exactly_its_public_names() -> None:
    assert sorted(exchanged.mapping.__all__) == [
        "CsvSpec", "EntityBatch", "FieldSpec", "Mapping", "MatchSpec", "apply_mapping", "load_mapping", "load_mappings",
        "route", "route_file",
    ]
    for name in exchanged.mapping.__all__:
        assert hasattr(exchanged.mapping, name)
