"""EDIFACT messages through the mapping: selectors, groups, locations, rejections, routing, round trips."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exchanged.config import Settings
from exchanged.formats.edifact.selectors import SelectorError, parse_selector
from exchanged.formats.edifact.serialise import Envelope, Message, write_interchange
from exchanged.formats.edifact.tokenizer import Segment
from exchanged.mapping import load_mappings
from exchanged.pipeline import Evaluation, Source, evaluate

MAPPINGS = load_mappings(None)
AT = dt.datetime(2026, 11, 27, 8, 15)


def run(data: bytes, name: str = "PRICAT.edi") -> Evaluation:
    return evaluate(Source.from_bytes(data, f"inbox/{name}"), MAPPINGS, Settings())


def records(evaluation: Evaluation, entity: str) -> list[dict]:
    update = next(u for u in evaluation.updates if u.entity == entity)
    return update.records.to_pylist()


def pricat(body: list, *, syntax: str = "UNOC", version: int = 3, decimal: str = ".", ref: str = "PC1",
           message: tuple[str, ...] = ("PRICAT", "D", "96A", "UN", "EAN008")) -> bytes:
    envelope = Envelope(syntax, version, ["4012345000009", "14"], ["4098765000004", "14"], ref, AT)
    return write_interchange(envelope, [Message("1", message, body)], decimal=decimal)


HEADER = [("BGM", ["9", "P-1", "9"]), ("DTM", [["137", "20261127", "102"]]), ("CUX", [["2", "EUR", "8"]])]


def item(n: int, sku: str, gtin: str, name: str, prices: list) -> list:
    return [("LIN", [str(n), "", [gtin, "EN"]]), ("PIA", ["5", [sku, "SA"]]), ("IMD", ["F", "", ["", "", "", name]]),
            *prices]


# --- selectors ------------------------------------------------------------------------------------

def test_a_selector_reads_like_the_segment_and_matches_on_its_conditions() -> None:
    selector = parse_selector("PIA+1|5+:SA/2.1")
    assert selector.matches(Segment("PIA", [["5"], ["A-1", "SA"]]))
    assert selector.matches(Segment("PIA", [["1"], ["A-1", "SA"]]))
    assert not selector.matches(Segment("PIA", [["5"], ["A-1", "IN"]]))
    assert not selector.matches(Segment("PIA", [["3"], ["A-1", "SA"]]))
    assert not selector.matches(Segment("IMD", [["5"], ["A-1", "SA"]]))
    assert selector.value(Segment("PIA", [["5"], ["A-1", "SA"]])) == "A-1"
    assert parse_selector("LIN/3").component == 1


@pytest.mark.parametrize("text", ["LIN", "lin/3.1", "LIN/0", "LIN/x", "LI/1", "PIA+5/2.1.1"])
def test_an_unreadable_selector_is_refused(text: str) -> None:
    with pytest.raises(SelectorError):
        parse_selector(text)


EDIFACT_MAPPING = """\
name = "partner"
format = "edifact"
[match]
message = "PRICAT"
[edifact]
levels = ["LIN"]
records = { product = "LIN" }
[entity.product]
sku = "PIA+5/2.1"
name = "IMD/3.4"
"""


@pytest.mark.parametrize(("change", "expected"), [
    (("PIA+5/2.1", "PIA+5"), "line 9: entity.product.sku: 'PIA+5': no value position"),
    (('product = "LIN" }', 'product = "PRI" }'), "line 7: edifact.records.product: 'PRI' is not one of levels"),
    (('message = "PRICAT"', 'filename = "*.edi"'), "match.message: an EDIFACT mapping names its message type"),
])
def test_an_edifact_mapping_with_a_bad_selector_level_or_match_is_refused_with_its_key(
        tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    from exchanged.errors import MappingError
    from exchanged.mapping import load_mapping

    good = tmp_path / "good.toml"
    good.write_text(EDIFACT_MAPPING, encoding="utf-8")
    assert load_mapping(good).edifact is not None
    bad = tmp_path / "partner.toml"
    bad.write_text(EDIFACT_MAPPING.replace(*change), encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        load_mapping(bad)
    assert expected in str(caught.value)


# --- PRICAT -> product and price ------------------------------------------------------------------

def test_a_pricat_gives_a_product_per_lin_and_a_price_per_pri_with_breaks_validity_and_header_currency() -> None:
    body = HEADER + item(1, "ART-1", "4006381333931", "Stift blau", [
        ("PRI", [["AAA", "1.20"]]), ("DTM", [["194", "20261201", "102"]]),
        ("PRI", [["AAA", "0.95"]]), ("RNG", ["4", ["PCE", "100"]]), ("DTM", [["194", "20261201", "102"]]),
    ]) + item(2, "ART-2", "4000862141404", "Block A4", [
        ("PRI", [["AAB", "2.50"]]), ("CUX", [["2", "CHF", "8"]]),
        ("PRI", [["NTP", "3.99", "", "SRP"]]),
    ]) + [("UNS", ["S"]), ("CNT", [["2", "2"]])]
    evaluation = run(pricat(body))
    report = evaluation.report
    assert (report.status.value, report.mapping, report.entities) == ("accepted", "eancom-pricat", {"product": 2, "price": 4})
    products = records(evaluation, "product")
    assert [(p["sku"], p["gtin"], p["name"]) for p in products] == [
        ("ART-1", "4006381333931", "Stift blau"), ("ART-2", "4000862141404", "Block A4")]
    prices = [(p["sku"], p["price_type"], p["currency"], p["amount"], p["min_quantity"], p["valid_from"])
              for p in records(evaluation, "price")]
    assert prices == [
        ("ART-1", "net", "EUR", Decimal("1.20"), Decimal(1), dt.date(2026, 12, 1)),
        ("ART-1", "net", "EUR", Decimal("0.95"), Decimal(100), dt.date(2026, 12, 1)),
        ("ART-2", "gross", "CHF", Decimal("2.50"), Decimal(1), None),   # the PRI group's own CUX
        ("ART-2", "retail", "EUR", Decimal("3.99"), Decimal(1), None),  # 5387 SRP; header CUX
    ]


def test_a_bad_value_is_located_at_its_group_with_segment_line_and_references() -> None:
    body = HEADER + item(1, "ART-1", "4006381333932", "Stift", [("PRI", [["AAA", "1.20"]])])
    report = run(pricat(body, ref="REF9")).report
    issue = next(i for i in report.issues if i.code == "invalid-gtin")
    assert issue.location.model_dump(exclude_none=True) == {
        "line": 7, "column": 1, "field": "gtin", "segment_index": 5, "segment_tag": "LIN",
        "interchange_ref": "REF9", "message_ref": "1"}
    assert issue.value == "4006381333932"
    assert report.status.value == "partial"  # the price of ART-1 still applies


def test_the_declared_decimal_comma_is_read() -> None:
    body = HEADER + item(1, "ART-1", "4006381333931", "Stift", [("PRI", [["AAA", "1,25"]])])
    assert records(run(pricat(body, decimal=",")), "price")[0]["amount"] == Decimal("1.25")


def test_an_unnamed_line_is_a_located_issue_not_a_record() -> None:
    body = HEADER + [("LIN", ["1", "", ["4006381333931", "EN"]]), ("PIA", ["5", ["ART-1", "SA"]])]
    report = run(pricat(body)).report
    assert report.status.value == "rejected"
    assert {(i.code, i.location.field, i.location.segment_tag) for i in report.issues} == {("missing-value", "name", "LIN")}


# --- rejected messages, foreign messages, duplicates -------------------------------------------------

def test_a_message_with_a_wrong_unt_count_gives_no_records_and_the_file_is_rejected() -> None:
    data = pricat(HEADER + item(1, "ART-1", "4006381333931", "Stift", [("PRI", [["AAA", "1"]])]))
    broken = data.replace(b"UNT+9+1", b"UNT+8+1")
    assert broken != data
    report = run(broken).report
    assert report.status.value == "rejected" and report.records == 0
    assert [i.code for i in report.issues] == ["edifact-segment-count"]


def test_a_message_of_another_type_is_skipped_with_no_mapping_at_its_unh() -> None:
    envelope = Envelope("UNOC", 3, ["S", "14"], ["R", "14"], "MIX", AT)
    pricat_message = Message("1", ("PRICAT", "D", "96A", "UN", "EAN008"),
                             HEADER + item(1, "ART-1", "4006381333931", "Stift", [("PRI", [["AAA", "1"]])]))
    orders = Message("2", ("ORDERS", "D", "96A", "UN", "EAN008"), [("BGM", ["220", "O-1", "9"])])
    report = run(write_interchange(envelope, [pricat_message, orders])).report
    assert report.status.value == "partial"
    issue = next(i for i in report.issues if i.code == "no-mapping")
    assert (issue.value, issue.location.segment_tag, issue.location.message_ref) == ("ORDERS", "UNH", "2")
    assert report.entities == {"product": 1, "price": 1}


def test_the_same_interchange_again_in_another_layout_is_a_duplicate(tmp_path: Path) -> None:
    from exchanged.lifecycle import Workspace, handle

    settings = Settings(base_dir=tmp_path)
    body = HEADER + item(1, "ART-1", "4006381333931", "Stift", [("PRI", [["AAA", "1"]])])
    first, second = pricat(body, ref="77"), pricat(body, ref="77").replace(b"'\n", b"'")
    assert first != second
    workspace = Workspace.open(settings)
    try:
        assert handle(Source.from_bytes(first, "inbox/a.edi"), workspace).status.value == "accepted"
        again = handle(Source.from_bytes(second, "inbox/b.edi"), workspace)
        assert again.status.value == "duplicate"
        assert [(i.code, i.value) for i in again.issues] == [("duplicate-interchange", "4012345000009:14+77")]
        other = handle(Source.from_bytes(pricat(body, ref="78"), "inbox/c.edi"), workspace)
        assert other.status.value == "accepted"
    finally:
        workspace.close()


# --- INVRPT -> stock ------------------------------------------------------------------------------

def test_an_invrpt_gives_actual_stock_per_line_with_warehouse_and_report_date() -> None:
    body = [("BGM", ["35", "I-1", "9"]), ("DTM", [["137", "20261127", "102"]]),
            ("LIN", ["1", "", ["4006381333931", "EN"]]), ("PIA", ["5", ["ART-1", "SA"]]),
            ("QTY", [["146", "50"]]), ("QTY", [["145", "12"]]), ("LOC", ["18", ["LAGER1"]]),
            ("LIN", ["2", "", ["4000862141404", "EN"]]), ("PIA", ["5", ["ART-2", "SA"]]), ("QTY", [["145", "0"]])]
    evaluation = run(pricat(body, message=("INVRPT", "D", "96A", "UN", "EAN008")), "INVRPT.edi")
    assert evaluation.report.mapping == "eancom-invrpt"
    stock = [(s["sku"], s["warehouse"], s["quantity"], s["as_of"].isoformat()) for s in records(evaluation, "stock")]
    assert stock == [("ART-1", "LAGER1", Decimal(12), "2026-11-27T00:00:00+00:00"),
                     ("ART-2", "default", Decimal(0), "2026-11-27T00:00:00+00:00")]


# --- round trip: records -> EDIFACT -> records, in each character set ----------------------------

_SEPARATORS = ":+?'*"
_CHARSETS = {  # syntax identifier -> letters its repertoire has (besides the separators and ASCII)
    "UNOA": "ABCXYZ0189 .,-()/=",
    "UNOB": "abcxyzABC0189 .,-()/=!\"%&;<>",
    "UNOC": "abcÄÖÜäöüßéèçñ 0189.,-",
    "UNOY": "abcÄß東京Ωжё€ 0189.,-",
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), syntax=st.sampled_from(sorted(_CHARSETS)))
def test_products_and_prices_survive_records_to_edifact_to_records(data: st.DataObject, syntax: str) -> None:
    letters = _CHARSETS[syntax] + _SEPARATORS
    text = st.text(alphabet=letters, min_size=1, max_size=30).map(str.strip).filter(bool)
    count = data.draw(st.integers(1, 4))
    skus = data.draw(st.lists(text.filter(lambda s: "  " not in s), min_size=count, max_size=count, unique=True))
    names = data.draw(st.lists(text, min_size=count, max_size=count))
    amounts = data.draw(st.lists(st.decimals(0, 99999, places=2), min_size=count, max_size=count))
    body = list(HEADER)
    for n, (sku, name, amount) in enumerate(zip(skus, names, amounts), 1):
        body += item(n, sku, "4006381333931", name, [("PRI", [["AAA", str(amount)]])])
    evaluation = run(pricat(body, syntax=syntax, version=4 if syntax == "UNOY" else 3))
    assert evaluation.report.status.value == "accepted", evaluation.report.issues
    assert [(p["sku"], p["name"]) for p in records(evaluation, "product")] == list(zip(skus, names))
    assert [(p["sku"], p["amount"]) for p in records(evaluation, "price")] == list(zip(skus, amounts))


# --- the column-wise reading agrees with Segment.get --------------------------------------------

@settings(max_examples=80, deadline=None)
@given(rows=st.lists(st.lists(st.lists(st.text(alphabet="ab:+?'* 1é", max_size=4), min_size=1, max_size=3),
                              max_size=4), min_size=1, max_size=6),
       element=st.integers(1, 5), component=st.integers(1, 4), syntax4=st.booleans())
def test_components_read_column_wise_equal_segment_get(rows: list, element: int, component: int, syntax4: bool) -> None:
    import numpy as np

    from exchanged.formats.edifact.bodies import run_of
    from exchanged.formats.edifact.extract import Components
    from exchanged.formats.edifact.separators import Separators
    from exchanged.formats.edifact.serialise import serialise
    from exchanged.formats.edifact.tokenizer import Syntax, tokenize

    separators = Separators(repetition="*" if syntax4 else " ")
    rows = [[["x"]] + row for row in rows]  # a segment has data (serialise refuses an empty one)
    text = serialise([("FTX", [e if len(e) > 1 else e[0] for e in row]) for row in rows], separators, newline=False)
    segments = [s for s in tokenize(text[9:], separators)]  # after the UNA
    run = run_of(segments, Syntax(separators))
    texts, tags = run.texts, run.tags
    components = Components(texts, tags, separators)
    got = components.component("FTX", element, component).to_pylist()
    assert len(got) == len(rows)
    unmask = Syntax(separators).unmask
    assert [g.translate(unmask) for g in got] == [s.get(element, component) for s in segments]
    assert np.array_equal(components.candidates("FTX"), np.arange(len(segments)))


# --- CONTRL per received interchange ---------------------------------------------------------------

def test_with_contrl_on_every_interchange_is_acknowledged_in_outbox_erp(tmp_path: Path) -> None:
    from exchanged.lifecycle import Workspace, handle

    good = pricat(HEADER + item(1, "ART-1", "4006381333931", "Stift", [("PRI", [["AAA", "1"]])]), ref="A1")
    broken = pricat(HEADER + item(1, "ART-2", "4006381333931", "Stift", [("PRI", [["AAA", "1"]])]), ref="B2")
    broken = broken.replace(b"UNT+9+1", b"UNT+7+1")
    workspace = Workspace.open(Settings(base_dir=tmp_path, contrl=True, contrl_sender="4098765000004"))
    try:
        accepted = handle(Source.from_bytes(good, "inbox/a.edi"), workspace)
        rejected = handle(Source.from_bytes(broken, "inbox/b.edi"), workspace)
        duplicate = handle(Source.from_bytes(good + b"\n", "inbox/c.edi"), workspace)
    finally:
        workspace.close()
    erp = sorted((tmp_path / "outbox" / "erp").iterdir())
    assert [p.name for p in erp] == [f"CONTRL_4012345000009_A1_{accepted.id}.edi", f"CONTRL_4012345000009_B2_{rejected.id}.edi"]
    assert f"outbox/erp/{erp[0].name}" in accepted.outputs and duplicate.status.value == "duplicate"
    ok, bad = (p.read_text("latin-1") for p in erp)
    assert "UNB+UNOC:3+4098765000004+4012345000009:14+" in ok and ok.split("UNB", 1)[1].split("'")[0].endswith("+1")
    assert "UCI+A1+4012345000009:14+4098765000004:14+7'" in ok and "UCM+1+PRICAT:D:96A:UN:EAN008+7'" in ok
    assert "UCI+B2+4012345000009:14+4098765000004:14+7'" in bad   # the interchange is sound ...
    assert "UCM+1+PRICAT:D:96A:UN:EAN008+4+29+UNT'" in bad         # ... its message is not: UNT count (0085 29)
    assert bad.split("UNB", 1)[1].split("'")[0].endswith("+2")        # our control reference counts up


def test_without_contrl_nothing_is_written_to_the_erp(tmp_path: Path) -> None:
    from exchanged.lifecycle import Workspace, handle

    workspace = Workspace.open(Settings(base_dir=tmp_path))
    try:
        handle(Source.from_bytes(pricat(HEADER + item(1, "A", "4006381333931", "S", [("PRI", [["AAA", "1"]])])),
                                 "inbox/a.edi"), workspace)
    finally:
        workspace.close()
    assert list((tmp_path / "outbox" / "erp").iterdir()) == []


def test_a_stray_segment_found_after_its_messages_drops_their_rows_afterwards() -> None:
    envelope = Envelope("UNOC", 3, ["S", "14"], ["R", "14"], "X1", AT)
    first = Message("1", ("PRICAT", "D", "96A", "UN", "EAN008"),
                    HEADER + item(1, "ART-1", "4006381333931", "Stift", [("PRI", [["AAA", "1"]])]))
    second = Message("2", ("PRICAT", "D", "96A", "UN", "EAN008"),
                     HEADER + item(1, "ART-2", "4000862141404", "Block", [("PRI", [["AAA", "2"]])]))
    data = write_interchange(envelope, [first, second])
    assert run(data).report.entities == {"product": 2, "price": 2}
    report = run(data.replace(b"UNT+9+2'\n", b"UNT+9+2'\nFTX+AAI+++stray'\n")).report  # after both messages
    assert (report.status.value, report.entities) == ("rejected", {})
    assert [(i.code, i.location.segment_tag) for i in report.issues if i.severity == "error"] == [
        ("edifact-segment-outside-message", "FTX")]


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(["5", "1", "3", ""]), st.sampled_from(["SA", "IN", ""]),
                               st.text(alphabet="ab?:+'1", max_size=3)), max_size=8),
       wanted=st.sampled_from(["PIA+5/2.1", "PIA+1|5+:SA/2.1", "PIA++:IN/2.1", "PIA/2.2", "PIA+3/1.1"]))
def test_selectors_column_wise_pick_what_matches_and_value_pick_one_segment_at_a_time(rows: list, wanted: str) -> None:
    from exchanged.formats.edifact.bodies import run_of
    from exchanged.formats.edifact.extract import Components, Groups, selector_values
    from exchanged.formats.edifact.selectors import parse_selector
    from exchanged.formats.edifact.separators import Separators
    from exchanged.formats.edifact.serialise import serialise
    from exchanged.formats.edifact.tokenizer import Syntax, tokenize

    separators = Separators()
    segments_spec = [("LIN", ["1"])] + [("PIA", [qualifier or "x", [value or "v", kind] if kind else value or "v"])
                                        for qualifier, kind, value in rows]
    segments = tokenize(serialise(segments_spec, separators, newline=False)[9:], separators)
    syntax = Syntax(separators)
    run = run_of(segments, syntax)
    texts, tags = run.texts, run.tags
    selector = parse_selector(wanted)
    components = Components(texts, tags, separators)
    got = selector_values(selector, components, Groups(tags, ["LIN"]), 0, syntax)
    expected = next((selector.value(s) for s in segments if selector.matches(s)), None)
    assert got.to_pylist() == [expected]
