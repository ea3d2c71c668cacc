"""Routing: the best-matching mapping wins; none or a tie rejects the file with a clear code."""

from __future__ import annotations

from pathlib import Path

import pytest
from mapping_helpers import make_mapping

from exchanged.errors import InputRejected
from exchanged.mapping import load_mapping, load_mappings, route, route_file

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def m(name: str, *, filename: str | None = None, columns: list[str] | None = None, priority: int = 0):
    match = []
    if filename is not None:
        match.append(f'filename = "{filename}"')
    if columns is not None:
        match.append("columns = [" + ", ".join(f'"{c}"' for c in columns) + "]")
    match.append(f"priority = {priority}")
    body = "\n".join(match)
    return make_mapping(f'name = "{name}"\n[match]\n{body}\n[entity.product]\nsku = "A"\nname = "B"\n')


def rejected(file_name: str, header: list[str] | None, mappings: list) -> tuple[str, str]:
    with pytest.raises(InputRejected) as caught:
        route(file_name, header, mappings)
    return caught.value.issue.code, caught.value.issue.message


def test_no_candidate_is_no_mapping_naming_the_file_and_its_header() -> None:
    header = ["Nummer", "Text", "Preis", "A", "B", "C", "D", "E", "F", "G"]
    assert rejected("inbox/x/EXPORT.csv", header, [m("p", columns=["sku"])]) == (
        "no-mapping",
        "no mapping recognises EXPORT.csv (header: Nummer, Text, Preis, A, B, C, D, E, … (10 columns)); "
        "add a mapping file whose [match] fits it",
    )


def test_two_equally_good_candidates_are_ambiguous_naming_both() -> None:
    mappings = [m("zeta", columns=["sku", "name"]), m("alpha", columns=["SKU", "Name"]), m("other", columns=["x"])]
    assert rejected("a.csv", ["sku", "name"], mappings) == (
        "ambiguous-mapping",
        "a.csv matches mappings 'alpha' and 'zeta' equally well (priority 0, no file-name glob, 2 match column(s)); "
        "raise match.priority of the right one or make its [match] stricter",
    )


def test_a_filename_glob_wins_over_columns_only() -> None:
    generic = m("generic", columns=["Artikelnr", "EAN", "Bezeichnung"])
    specific = m("acme", filename="ARTIKEL_*.csv", columns=["Artikelnr"])
    assert route("ARTIKEL_20261127.csv", ["Artikelnr", "EAN", "Bezeichnung"], [generic, specific]).name == "acme"
    assert route("OTHER.csv", ["Artikelnr", "EAN", "Bezeichnung"], [generic, specific]).name == "generic"


def test_priority_wins_over_everything_else() -> None:
    specific = m("acme", filename="ARTIKEL_*.csv", columns=["Artikelnr", "EAN"])
    preferred = m("preferred", columns=["Artikelnr"], priority=5)
    assert route("ARTIKEL_1.csv", ["Artikelnr", "EAN"], [specific, preferred]).name == "preferred"


def test_more_match_columns_win() -> None:
    few = m("few", columns=["sku"])
    many = m("many", columns=["sku", "currency", "amount"])
    assert route("p.csv", ["sku", "currency", "amount"], [few, many]).name == "many"


def test_columns_compare_without_blanks_and_case_and_globs_without_case() -> None:
    mapping = m("acme", filename="artikel_*.CSV", columns=["Artikelnr", "VK netto"])
    assert route(r"C:\export\ARTIKEL_1.csv", [" ARTIKELNR ", "vk NETTO", "\ufeffx"], [mapping]).name == "acme"
    assert rejected("ARTIKEL_1.txt", ["Artikelnr", "VK netto"], [mapping])[0] == "no-mapping"


def test_a_list_of_globs_matches_any_and_a_file_without_header_only_by_name() -> None:
    by_name = m("by-name", filename="ART_*.csv")
    with_columns = m("cols", columns=["A"])
    listed = make_mapping('name = "listed"\n[match]\nfilename = ["X_*.csv", "Y_*.csv"]\n[entity.product]\nsku = "A"\nname = "B"\n')
    assert route("ART_1.csv", None, [by_name, with_columns]).name == "by-name"
    assert route("Y_1.csv", None, [listed, with_columns]).name == "listed"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["sku", "name", "unit"], "canonical-product"),
        (["sku", "currency", "amount", "price_type"], "canonical-price"),
        (["sku", "name", "currency", "amount"], "canonical-price"),  # 3 match columns beat 2 (docs/mappings.md)
        (["sku", "warehouse", "quantity", "op"], "canonical-stock"),
        (["customer_id", "name", "email"], "canonical-customer"),
    ],
)
def test_canonical_layouts_route_by_their_required_columns(header: list[str], expected: str) -> None:
    assert route("data.csv", header, load_mappings(None).values()).name == expected


def test_a_file_with_product_and_customer_keys_is_ambiguous_between_canonical_layouts() -> None:
    code, message = rejected("mixed.csv", ["sku", "name", "customer_id"], list(load_mappings(None).values()))
    assert code == "ambiguous-mapping"
    assert "'canonical-customer' and 'canonical-product'" in message


def test_route_file_reads_the_header_the_way_each_mapping_reads_it() -> None:
    pytest.importorskip("exchanged.formats.csv")
    acme = load_mapping(EXAMPLES / "acme-erp-articles.toml")
    mappings = [*load_mappings(None).values(), acme]
    data = (EXAMPLES / "ARTIKEL_20261127.csv").read_bytes()  # cp1252, ';', header on line 3
    assert route_file("ARTIKEL_20261127.csv", data, "csv", mappings).name == "acme-erp-articles"
    canonical = "sku;name;vat_rate\r\nA-1;Stift;19\r\n".encode("utf-8-sig")
    assert route_file("products.csv", canonical, "csv", mappings).name == "canonical-product"
    with pytest.raises(InputRejected) as caught:
        route_file("ARTIKEL_1.csv", b"Nummer,Text\n1,x\n", "csv", mappings)
    assert caught.value.issue.code == "no-mapping"
    assert "header: Nummer, Text" in caught.value.issue.message


def test_an_xml_root_no_mapping_names_is_no_mapping_naming_the_root() -> None:
    with pytest.raises(InputRejected) as caught:
        route_file("data.xml", b"<a><b/></a>", "xml", load_mappings(None).values())
    assert caught.value.issue.code == "no-mapping"
    assert "root element <a> without namespace" in caught.value.issue.message and "<b>" in caught.value.issue.message


def test_an_edifact_message_type_no_mapping_lists_is_no_mapping_naming_the_type() -> None:
    data = b"UNB+UNOC:3+S:14+R:14+261127:1200+7'UNH+1+ORDERS:D:96A:UN:EAN008'BGM+220+1'UNT+3+1'UNZ+1+7'"
    with pytest.raises(InputRejected) as caught:
        route_file("ORDERS.edi", data, "edifact", load_mappings(None).values())
    assert caught.value.issue.code == "no-mapping"
    assert "EDIFACT ORDERS D:96A (EAN008)" in caught.value.issue.message


def test_an_edifact_file_routes_by_its_first_message_type_and_version() -> None:
    data = b"UNA:+.? 'UNB+UNOC:3+S:14+R:14+261127:1200+7'UNH+1+PRICAT:D:96A:UN:EAN008'UNT+2+1'UNZ+1+7'"
    assert route_file("x.edi", data, "edifact", load_mappings(None).values()).name == "eancom-pricat"
    other_version = data.replace(b"D:96A", b"D:93A")
    with pytest.raises(InputRejected) as caught:
        route_file("x.edi", other_version, "edifact", load_mappings(None).values())
    assert caught.value.issue.code == "no-mapping"


def test_an_edifact_file_without_a_message_header_is_rejected_as_such() -> None:
    with pytest.raises(InputRejected) as caught:
        route_file("x.edi", b"UNB+UNOC:3+S:14+R:14+261127:1200+7'UNZ+0+7'", "edifact", load_mappings(None).values())
    assert caught.value.issue.code == "edifact-no-message"
