"""Built-in mappings ship with the package; a user mapping of the same name replaces one."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchanged.errors import MappingError
from exchanged.mapping import load_mappings
from exchanged.mapping.loader import builtin_files

CANONICAL = {"canonical-product", "canonical-price", "canonical-stock", "canonical-customer", "canonical-order_status"}
BUILT_IN_STANDARDS = {"eancom-pricat", "eancom-invrpt", "eancom-ordrsp", "eancom-desadv", "eancom-invoic",
                      "bmecat-new-catalog", "bmecat-update-products", "bmecat-update-prices", "ubl-catalogue",
                      "ubl-inventory-report", "ubl-stock-availability-report", "ubl-order-response", "ubl-despatch-advice",
                      "opentrans-orderresponse", "opentrans-dispatchnotification", "opentrans-invoice"}
BUILT_IN = CANONICAL | BUILT_IN_STANDARDS

USER_PRODUCT = """\
name = "canonical-product"
[match]
columns = ["Artikel", "Text"]
[entity.product]
sku = "Artikel"
name = "Text"
"""


def test_the_built_in_mappings_are_the_canonical_layouts_and_the_standards() -> None:
    mappings = load_mappings(None)
    assert set(mappings) == CANONICAL | BUILT_IN_STANDARDS
    assert all(m.builtin for m in mappings.values())
    assert {p.name for p in builtin_files()} == {f"{name}.toml" for name in CANONICAL | BUILT_IN_STANDARDS}


def test_a_user_mapping_overrides_a_built_in_one_by_name(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(USER_PRODUCT, encoding="utf-8")
    mappings = load_mappings(tmp_path)
    assert set(mappings) == BUILT_IN
    assert mappings["canonical-product"].builtin is False
    assert mappings["canonical-product"].match.columns == ["Artikel", "Text"]
    assert mappings["canonical-price"].builtin is True


def test_user_mappings_add_to_the_built_in_ones(tmp_path: Path) -> None:
    (tmp_path / "acme.toml").write_text(USER_PRODUCT.replace('name = "canonical-product"\n', ""), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a mapping", encoding="utf-8")
    (tmp_path / ".hidden.toml").write_text("not = [valid", encoding="utf-8")
    assert set(load_mappings(tmp_path)) == BUILT_IN | {"acme"}


def test_two_user_files_with_the_same_name_are_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "mappings"
    folder.mkdir()
    (folder / "a.toml").write_text(USER_PRODUCT.replace("canonical-product", "acme"), encoding="utf-8")
    (folder / "b.toml").write_text(USER_PRODUCT.replace("canonical-product", "acme"), encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        load_mappings(folder)
    assert str(caught.value) == "mappings/b.toml: mapping name 'acme' is already used by mappings/a.toml; rename one"


def test_a_missing_user_folder_means_only_the_built_in_mappings(tmp_path: Path) -> None:
    assert set(load_mappings(tmp_path / "nope")) == BUILT_IN


def test_a_broken_user_mapping_stops_loading_with_its_location(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text('[match]\ncolumns = "A"\n', encoding="utf-8")
    with pytest.raises(MappingError, match=r"broken.toml line 2: match.columns: Input should be a valid list"):
        load_mappings(tmp_path)
