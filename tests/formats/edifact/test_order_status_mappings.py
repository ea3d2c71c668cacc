"""ORDRSP, DESADV and INVOIC through the built-in mappings into ``order_status`` records.

Each test writes an EANCOM interchange with ``write_interchange`` and pins the exact records, or
the exact issue and where it is. The codes behind ``status`` are the mappings' data
(mappings/eancom-ordrsp.toml, eancom-desadv.toml, eancom-invoic.toml).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exchanged.config import Settings
from exchanged.formats.edifact.serialise import Envelope, Message, write_interchange
from exchanged.mapping import load_mappings
from exchanged.pipeline import Evaluation, Source, evaluate

MAPPINGS = load_mappings(None)
AT = dt.datetime(2026, 11, 28, 9, 0)
D96A = ("D", "96A", "UN", "EAN005")


def interchange(kind: str, body: list, *, ref: str = "OS1", version: tuple[str, ...] = D96A) -> bytes:
    envelope = Envelope("UNOC", 3, ["4012345000094", "14"], ["5412345000176", "14"], ref, AT)
    return write_interchange(envelope, [Message("1", (kind, *version), body)])


def run(data: bytes, name: str) -> Evaluation:
    return evaluate(Source.from_bytes(data, f"inbox/{name}"), MAPPINGS, Settings())


def records(evaluation: Evaluation) -> list[dict[str, Any]]:
    """The order_status records, without the fields no test here fills."""
    update = next(u for u in evaluation.updates if u.entity == "order_status")
    return [{k: v for k, v in r.items() if v is not None} for r in update.records.to_pylist()]


def issues(evaluation: Evaluation) -> list[tuple]:
    return [(i.code, i.location.segment_index, i.location.segment_tag, i.location.field, i.value)
            for i in evaluation.report.issues]


def line(number: str, action: str | None, gtin: str, sku: str, *rest: tuple) -> list:
    return [("LIN", [number, action or "", [gtin, "EN"]]), ("PIA", ["5", [sku, "SA"]]), *rest]


# --- ORDRSP ---------------------------------------------------------------------------------------

ORDRSP_HEADER = [("BGM", ["231", "ORSP12856", "4"]), ("DTM", [["137", "20261128", "102"]]),
                 ("RFF", [["ON", "SO-1001"]]), ("NAD", ["BY", ["5412345000176", "", "9"]]),
                 ("NAD", ["SU", ["4012345000094", "", "9"]]), ("CUX", [["2", "EUR", "9"]])]


def test_an_ordrsp_that_changes_the_order_gives_each_line_its_action_and_confirmed_quantity() -> None:
    body = ORDRSP_HEADER + line("1", "5", "4006381333931", "A-1", ("QTY", [["21", "2"]])) \
        + line("2", "3", "4000862141404", "B-2", ("QTY", [["113", "7"]]), ("DTM", [["2", "20261205", "102"]])) \
        + line("3", "7", "4012345678901", "C-3") \
        + line("4", "2", "4023456789011", "D-4") \
        + [("UNS", ["S"]), ("CNT", [["2", "4"]])]
    evaluation = run(interchange("ORDRSP", body), "ORDRSP.edi")
    assert (evaluation.report.status.value, evaluation.report.mapping) == ("accepted", "eancom-ordrsp")
    common = {"order_id": "SO-1001", "document_number": "ORSP12856", "document_date": dt.date(2026, 11, 28)}
    assert records(evaluation) == [
        {**common, "line_no": 1, "status": "accepted", "sku": "A-1", "gtin": "4006381333931", "confirmed_quantity": Decimal(2)},
        {**common, "line_no": 2, "status": "changed", "sku": "B-2", "gtin": "4000862141404", "confirmed_quantity": Decimal(7)},
        {**common, "line_no": 3, "status": "rejected", "sku": "C-3", "gtin": "4012345678901"},
        {**common, "line_no": 4, "status": "cancelled", "sku": "D-4", "gtin": "4023456789011"},
    ]


@pytest.mark.parametrize(("function", "status"), [("29", "accepted"), ("27", "rejected"), ("12", "received")])
def test_lines_without_an_action_code_take_the_message_function(function: str, status: str) -> None:
    header = [("BGM", ["231", "ORSP1", function])] + ORDRSP_HEADER[1:]
    body = header + line("1", None, "4006381333931", "A-1", ("QTY", [["21", "2"]])) + line("2", None, "4000862141404", "B-2")
    assert [(r["line_no"], r["status"]) for r in records(run(interchange("ORDRSP", body), "r.edi"))] == [(1, status), (2, status)]


def test_a_line_that_contradicts_the_message_function_is_an_issue_at_its_lin() -> None:
    header = [("BGM", ["231", "ORSP1", "27"])] + ORDRSP_HEADER[1:]
    body = header + line("1", "7", "4006381333931", "A-1") + line("2", "5", "4000862141404", "B-2")
    evaluation = run(interchange("ORDRSP", body), "r.edi")
    assert evaluation.report.status.value == "partial"
    assert [(r["line_no"], r["status"]) for r in records(evaluation)] == [(1, "rejected")]
    # One issue for the status: the code the mapping could not read (not a missing value as well).
    assert issues(evaluation) == [("unmapped-code", 10, "LIN", "LIN/2.1+BGM/3.1", "5 | 27")]


def test_a_line_names_its_own_order_where_the_response_covers_several() -> None:
    body = ORDRSP_HEADER + line("1", "5", "4006381333931", "A-1", ("RFF", [["ON", "SO-2002"]])) \
        + line("2", "5", "4000862141404", "B-2")
    assert [(r["order_id"], r["line_no"]) for r in records(run(interchange("ORDRSP", body), "r.edi"))] == [
        ("SO-2002", 1), ("SO-1001", 2)]


def test_a_response_to_the_whole_order_without_lines_gives_no_record() -> None:
    """The mapping's limit, pinned: a record level is one group (LIN), so there is no line 0."""
    body = [("BGM", ["231", "ORSP1", "27"])] + ORDRSP_HEADER[1:] + [("UNS", ["S"]), ("CNT", [["2", "0"]])]
    evaluation = run(interchange("ORDRSP", body), "r.edi")
    assert (evaluation.report.status.value, evaluation.report.entities) == ("accepted", {"order_status": 0})


def test_a_response_without_order_number_is_located_at_each_line() -> None:
    body = [b for b in ORDRSP_HEADER if b[0] != "RFF"] + line("1", "5", "4006381333931", "A-1")
    evaluation = run(interchange("ORDRSP", body), "r.edi")
    assert evaluation.report.status.value == "rejected"
    assert issues(evaluation) == [("missing-value", 7, "LIN", "order_id", None)]


# --- DESADV ---------------------------------------------------------------------------------------

DESADV_HEADER = [("BGM", ["351", "DES587441", "9"]), ("DTM", [["137", "20261129", "102"]]),
                 ("DTM", [["11", "20261129", "102"]]), ("RFF", [["ON", "SO-1001"]]), ("RFF", [["AAS", "JJD00123456789"]]),
                 ("NAD", ["SU", ["4012345000094", "", "9"]])]


def test_a_desadv_gives_shipped_quantities_per_line_with_the_tracking_number() -> None:
    body = DESADV_HEADER + [
        ("CPS", ["1"]), ("PAC", ["1", "", "201"]),
        ("CPS", ["2", "1"]), ("PAC", ["1", "", "CT"]), ("PCI", ["33E"]), ("GIN", ["BJ", "354123450000000014"]),
        ("LIN", ["001", "", ["4006381333931", "EN"]]), ("PIA", ["5", ["A-1", "SA"]]), ("QTY", [["12", "2"]]),
        ("LIN", ["002", "", ["4000862141404", "EN"]]), ("QTY", [["12", "5"]]), ("RFF", [["ON", "SO-2002"]]),
        ("CNT", [["2", "2"]]),
    ]
    evaluation = run(interchange("DESADV", body), "DESADV.edi")
    assert (evaluation.report.status.value, evaluation.report.mapping) == ("accepted", "eancom-desadv")
    common = {"status": "shipped", "document_number": "DES587441", "document_date": dt.date(2026, 11, 29),
              "tracking_number": "JJD00123456789"}
    assert records(evaluation) == [
        {**common, "order_id": "SO-1001", "line_no": 1, "sku": "A-1", "gtin": "4006381333931", "shipped_quantity": Decimal(2)},
        {**common, "order_id": "SO-2002", "line_no": 2, "gtin": "4000862141404", "shipped_quantity": Decimal(5)},
    ]


def test_a_returns_advice_is_not_a_shipment() -> None:
    body = [("BGM", ["35E", "RET1", "9"])] + DESADV_HEADER[1:] + [
        ("CPS", ["1"]), ("LIN", ["1", "", ["4006381333931", "EN"]]), ("QTY", [["12", "1"]])]
    evaluation = run(interchange("DESADV", body), "d.edi")
    assert evaluation.report.status.value == "rejected"
    assert issues(evaluation) == [("unmapped-code", 9, "LIN", "BGM/1.1", "35E")]


# --- INVOIC ---------------------------------------------------------------------------------------

def invoic_body(document: str = "380") -> list:
    return [
        ("BGM", [document, "IN432097", "9"]), ("DTM", [["137", "20261130", "102"]]),
        ("RFF", [["ON", "SO-1001"]]), ("DTM", [["171", "20261127", "102"]]),
        ("NAD", ["BY", ["5412345000176", "", "9"]]), ("CUX", [["2", "EUR", "4"]]),
        ("ALC", ["C", "", "", "", ["FC"]]), ("MOA", [["23", "120"]]),
        ("LIN", ["1", "", ["4006381333931", "EN"]]), ("PIA", ["5", ["A-1", "SA"]]), ("QTY", [["47", "2"]]),
        ("MOA", [["203", "19.90"]]), ("PRI", [["AAA", "9.95"]]), ("TAX", ["7", "VAT", "", "", ["", "", "", "19"], "S"]),
        ("LIN", ["2", "", ["4000862141404", "EN"]]), ("QTY", [["46", "5"]]), ("QTY", [["47", "12.65", "KGM"]]),
        ("MOA", [["203", "25.30"]]),
        ("UNS", ["S"]), ("CNT", [["2", "2"]]), ("MOA", [["77", "54.59"]]), ("MOA", [["203", "999"]]),
    ]


def test_an_invoic_gives_invoiced_quantities_and_line_amounts_with_the_invoice_number() -> None:
    evaluation = run(interchange("INVOIC", invoic_body(), version=("D", "96A", "UN", "EAN008")), "INVOIC.edi")
    assert (evaluation.report.status.value, evaluation.report.mapping) == ("accepted", "eancom-invoic")
    common = {"order_id": "SO-1001", "status": "invoiced", "document_number": "IN432097", "invoice_number": "IN432097",
              "document_date": dt.date(2026, 11, 30), "currency": "EUR"}
    assert records(evaluation) == [  # the summary after UNS (MOA 77) is not read
        {**common, "line_no": 1, "sku": "A-1", "gtin": "4006381333931", "invoiced_quantity": Decimal(2),
         "invoiced_amount": Decimal("19.90")},
        {**common, "line_no": 2, "gtin": "4000862141404", "invoiced_quantity": Decimal("12.65"),
         "invoiced_amount": Decimal("25.30")},
    ]


def test_a_credit_note_credits_and_a_proforma_invoice_is_an_issue() -> None:
    credit = run(interchange("INVOIC", invoic_body("381")), "c.edi")
    assert [(r["line_no"], r["status"]) for r in records(credit)] == [(1, "credited"), (2, "credited")]
    proforma = run(interchange("INVOIC", invoic_body("325")), "p.edi")
    assert proforma.report.status.value == "rejected"
    assert {(code, tag, field, value) for code, _, tag, field, value in issues(proforma)} == {
        ("unmapped-code", "LIN", "BGM/1.1", "325")}


def test_an_eancom_2002_invoic_d01b_reads_the_same() -> None:
    body = [("BGM", ["380", ["IN432097"], "9"])] + invoic_body()[1:]
    evaluation = run(interchange("INVOIC", body, version=("D", "01B", "UN", "EAN010")), "INVOIC.edi")
    assert [(r["line_no"], r["invoice_number"], r["invoiced_quantity"]) for r in records(evaluation)] == [
        (1, "IN432097", Decimal(2)), (2, "IN432097", Decimal("12.65"))]


# --- what the shop polls ----------------------------------------------------------------------------

def test_each_document_replaces_the_lines_it_names_and_the_change_feed_keeps_every_word(tmp_path: Path) -> None:
    from exchanged.lifecycle import Workspace, handle

    workspace = Workspace.open(Settings(base_dir=tmp_path))
    try:
        ordrsp = ORDRSP_HEADER + line("1", "5", "4006381333931", "A-1", ("QTY", [["21", "2"]])) \
            + line("2", "3", "4000862141404", "B-2", ("QTY", [["113", "7"]]))
        desadv = DESADV_HEADER + [("CPS", ["1"]), ("LIN", ["001", "", ["4006381333931", "EN"]]), ("QTY", [["12", "2"]])]
        for name, data in (("ORDRSP.edi", interchange("ORDRSP", ordrsp, ref="A1")),
                           ("DESADV.edi", interchange("DESADV", desadv, ref="A2"))):
            assert handle(Source.from_bytes(data, f"inbox/{name}"), workspace).status.value == "accepted"
        shop = workspace.settings.shop_dir
        state = [json.loads(text) for text in (shop / "order_status.jsonl").read_text().splitlines()]
        assert [(r["order_id"], r["line_no"], r["status"], r["confirmed_quantity"], r["shipped_quantity"],
                 r["tracking_number"]) for r in state] == [
            ("SO-1001", 1, "shipped", None, "2", "JJD00123456789"),   # the DESADV's word on line 1
            ("SO-1001", 2, "changed", "7", None, None),                # the ORDRSP's on line 2
        ]
        feed = sorted((shop / "changes" / "order_status").iterdir())
        assert [[(c["op"], c["line_no"], c["status"]) for c in map(json.loads, f.read_text().splitlines())]
                for f in feed] == [[("upsert", 1, "accepted"), ("upsert", 2, "changed")], [("upsert", 1, "shipped")]]
    finally:
        workspace.close()
