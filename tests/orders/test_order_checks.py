"""Shop orders checked against what is published: each rule one by one, then the whole-file verdict."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exchanged.config import Settings
from exchanged.lifecycle import Workspace, handle
from exchanged.mapping import load_mappings
from exchanged.orders.evaluate import check_published
from exchanged.orders.settings import OrdersSettings
from exchanged.pipeline import Evaluation, Source, evaluate

EDIFACT = {"sender_id": "4012345000009", "recipient_id": "4098765000004"}
PRODUCTS = ("sku,gtin,name,unit,active\n"
            "A-1,4006381333931,Hammer,C62,true\n"
            "B-2,,Kabel,MTR,true\n"
            "C-3,,Alt,C62,false\n")
PRICES = ("sku,currency,amount,min_quantity,customer_id,customer_group,price_list\n"
          "A-1,EUR,10.00,1,,,\n"
          "A-1,EUR,9.00,10,,,\n"
          "A-1,EUR,8.50,1,,VIP,\n"
          "A-1,EUR,7.00,1,K-2,,\n"
          "B-2,EUR,1.20,1,,,\n"
          "C-3,EUR,5.00,1,,,\n")
CUSTOMERS = ("customer_id,name,customer_group,currency\n"
             "K-1,Kunde Eins,,EUR\n"
             "K-2,Kunde Zwei,VIP,EUR\n"
             "K-3,Kunde Drei,VIP,CHF\n")


def settings_for(base: Path, **orders: Any) -> Settings:
    return Settings(base_dir=base, settle_seconds=0.0, orders=OrdersSettings(**{"edifact": EDIFACT, **orders}))


@pytest.fixture
def shop(tmp_path: Path) -> Settings:
    """A workspace with products, prices and customers published."""
    settings = settings_for(tmp_path)
    workspace = Workspace.open(settings)
    try:
        for name, text in (("products.csv", PRODUCTS), ("prices.csv", PRICES), ("customers.csv", CUSTOMERS)):
            report = handle(Source.from_bytes(text.encode(), name), workspace)
            assert report.status.value == "accepted", report.issues
    finally:
        workspace.close()
    return settings


def order(**changes: Any) -> dict[str, Any]:
    lines = changes.pop("lines", [{"sku": "A-1", "quantity": "2", "unit_price": "10.00"}])
    net = sum(Decimal(str(line["quantity"])) * Decimal(str(line["unit_price"])) for line in lines)
    data = {"order_id": "SO-1", "customer_id": "K-1", "ordered_at": "2026-11-27T10:00:00+01:00", "currency": "EUR",
            "lines": lines, "totals": {"net": str(net), "gross": str(net)}}
    data.update(changes)
    return data


def run(settings: Settings, *orders: dict[str, Any] | str) -> Evaluation:
    """What ``exchanged check`` does: evaluate, then the checks against what is published."""
    body = orders[0] if len(orders) == 1 and isinstance(orders[0], str) else json.dumps(list(orders))
    evaluation = evaluate(Source.from_bytes(body.encode() if isinstance(body, str) else body, "inbox/order.json"),
                          load_mappings(None), settings)
    check_published(evaluation, settings)
    return evaluation


def codes(evaluation: Evaluation) -> list[tuple[str, str | None]]:
    return [(i.code, i.location.field) for i in evaluation.report.issues]


def test_a_valid_order_is_accepted_and_ready_to_send(shop: Settings) -> None:
    evaluation = run(shop, order())
    report = evaluation.report
    assert (report.status.value, report.format, report.mapping, report.entity, report.entities) == (
        "accepted", "json", "canonical-order", "order", {"order": 1})
    assert [(o.order_id, where.row) for o, where in evaluation.orders] == [("SO-1", 1)]
    assert report.issues == []


@pytest.mark.parametrize(("line", "expected"), [
    ({"sku": "Z-9", "quantity": "1", "unit_price": "1"}, ("unknown-sku", "lines[0].sku")),
    ({"gtin": "4006381333948", "quantity": "1", "unit_price": "1"}, ("unknown-gtin", "lines[0].gtin")),
    ({"sku": "C-3", "quantity": "1", "unit_price": "5.00"}, ("inactive-sku", "lines[0].sku")),
    ({"sku": "B-2", "quantity": "3", "unit_price": "1.20"}, ("unit-not-allowed", "lines[0].unit")),  # sold in MTR
    ({"sku": "A-1", "gtin": "96385074", "quantity": "1", "unit_price": "10.00"}, ("gtin-mismatch", "lines[0].gtin")),
    ({"sku": "A-1", "quantity": "1", "unit_price": "9.99"}, ("price-mismatch", "lines[0].unit_price")),
])
def test_each_line_rule_rejects_the_file_with_its_code_and_field(shop: Settings, line: dict, expected: tuple) -> None:
    evaluation = run(shop, order(lines=[line]))
    assert evaluation.report.status.value == "rejected"
    assert expected in codes(evaluation)
    assert evaluation.orders == []


def test_a_line_found_by_gtin_alone_is_that_product(shop: Settings) -> None:
    evaluation = run(shop, order(lines=[{"gtin": "4006381333931", "quantity": "1", "unit_price": "10.00"}]))
    assert evaluation.report.status.value == "accepted", evaluation.report.issues


def test_the_price_mismatch_names_expected_and_given_and_the_tolerance_applies(shop: Settings) -> None:
    evaluation = run(shop, order(lines=[{"sku": "A-1", "quantity": "10", "unit_price": "10.00"}]))
    [issue] = evaluation.report.issues
    assert issue.code == "price-mismatch" and issue.value == "10"
    assert "expected 9 EUR" in issue.message and "the order says 10" in issue.message  # the break at 10
    lenient = settings_for(shop.base_dir, price_tolerance=Decimal("1.00"))
    assert run(lenient, order(lines=[{"sku": "A-1", "quantity": "10", "unit_price": "10.00"}])).report.status.value == "accepted"


def test_customer_group_and_customer_prices_apply_to_their_customers(shop: Settings) -> None:
    vip = order(customer_id="K-2", lines=[{"sku": "A-1", "quantity": "1", "unit_price": "7.00"}])
    assert run(shop, vip).report.status.value == "accepted"  # K-2's own price beats the VIP group's 8.50
    assert codes(run(shop, order(customer_id="K-2"))) == [("price-mismatch", "lines[0].unit_price")]


def test_unknown_customer_and_wrong_currency_are_order_issues(shop: Settings) -> None:
    assert ("unknown-customer", "customer_id") in codes(run(shop, order(customer_id="K-404")))
    assert ("currency-mismatch", "currency") in codes(run(shop, order(customer_id="K-3")))  # K-3 buys in CHF


def test_one_bad_order_holds_back_the_whole_file(shop: Settings) -> None:
    evaluation = run(shop, order(), order(order_id="SO-2", lines=[{"sku": "Z-9", "quantity": "1", "unit_price": "1"}]))
    assert evaluation.report.status.value == "rejected" and evaluation.orders == []
    assert [(i.code, i.location.row) for i in evaluation.report.issues] == [("unknown-sku", 2)]


def test_model_rules_and_json_faults_are_located(shop: Settings) -> None:
    bad_totals = order()
    bad_totals["totals"] = {"net": "19.00", "gross": "19.00"}
    assert codes(run(shop, bad_totals)) == [("totals-mismatch", None)]
    assert codes(run(shop, order(lines=[{"quantity": "1", "unit_price": "1"}]))) == [("missing-item-id", "lines[0]")]
    assert codes(run(shop, order(), order())) == [("duplicate-key", "order_id")]
    broken = run(shop, '[{"order_id": "SO-1",')
    assert [(i.code, i.location.line) for i in broken.report.issues] == [("invalid-json", 1)]
    assert codes(run(shop, "[]")) == [("no-orders", None)]


def test_without_published_prices_the_prices_are_not_checked(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    workspace = Workspace.open(settings)
    handle(Source.from_bytes(PRODUCTS.encode(), "products.csv"), workspace)
    workspace.close()
    evaluation = run(settings, order(lines=[{"sku": "A-1", "quantity": "1", "unit_price": "123.45"}]))
    assert evaluation.report.status.value == "accepted"
    assert [(i.code, i.severity) for i in evaluation.report.issues] == [("prices-not-checked", "warning")]


def test_an_unconfigured_erp_format_rejects_orders_naming_what_to_set(shop: Settings) -> None:
    bare = Settings(base_dir=shop.base_dir)
    [issue] = run(bare, order()).report.issues
    assert issue.code == "orders-not-configured"
    assert "[orders.edifact]" in issue.message and "sender_id" in issue.message


def test_text_the_erp_format_cannot_carry_rejects_the_order(shop: Settings) -> None:
    evaluation = run(shop, order(lines=[{"sku": "A-1", "quantity": "1", "unit_price": "10.00", "description": "東京"}]))
    assert evaluation.report.status.value == "rejected"  # UNOC (ISO 8859-1) has no Kanji
    assert evaluation.report.issues[0].location.row == 1


# --- orders as CSV rows, read by a mapping -------------------------------------------------------

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "shop-orders.toml"
HEAD = "Bestellnummer;Kundennummer;Bestelldatum;Währung;Artikel;Menge;Einheit;Einzelpreis;Netto;MwSt;Brutto;Lieferort\n"


def run_csv(settings: Settings, text: str) -> Evaluation:
    from exchanged.mapping.loader import load_mapping

    mappings = {**load_mappings(None), "shop-orders": load_mapping(EXAMPLE)}
    evaluation = evaluate(Source.from_bytes(text.encode("utf-8"), "inbox/orders_20261127.csv"), mappings, settings)
    check_published(evaluation, settings)
    return evaluation


def test_csv_rows_become_orders_grouped_by_order_id_and_numbered(shop: Settings) -> None:
    text = HEAD + ("SO-7;K-1;27.11.2026 10:15;EUR;A-1;2;Stk;10,00;21,20;4,03;25,23;Köln\n"
                   "SO-7;K-1;27.11.2026 10:15;EUR;B-2;1;m;1,20;21,20;4,03;25,23;Köln\n"
                   "SO-8;K-2;27.11.2026 11:00;EUR;A-1;1;Stk;7,00;7,00;1,33;8,33;Bonn\n")
    evaluation = run_csv(shop, text)
    assert evaluation.report.status.value == "accepted", evaluation.report.issues
    assert evaluation.report.mapping == "shop-orders" and evaluation.report.entities == {"order": 2}
    (first, _), (second, _) = evaluation.orders
    assert [(line.line_no, line.sku, line.unit) for line in first.lines] == [(1, "A-1", "C62"), (2, "B-2", "MTR")]
    assert first.ordered_at.isoformat() == "2026-11-27T09:15:00+00:00"  # Europe/Berlin 10:15
    assert first.totals.tax == Decimal("4.03") and first.shipping_address.city == "Köln"
    assert second.lines[0].unit_price == Decimal("7.00")


def test_rows_of_one_order_must_agree_on_its_header(shop: Settings) -> None:
    text = HEAD + ("SO-7;K-1;27.11.2026 10:15;EUR;A-1;2;Stk;10,00;21,20;;21,20;Köln\n"
                   "SO-7;K-2;27.11.2026 10:15;EUR;B-2;1;m;1,20;21,20;;21,20;Köln\n")
    [issue] = run_csv(shop, text).report.issues
    where = issue.location
    assert (issue.code, where.row, where.line, where.field) == ("inconsistent-order", 2, 3, "customer_id")


def test_one_bad_row_rejects_the_whole_file(shop: Settings) -> None:
    text = HEAD + ("SO-7;K-1;27.11.2026 10:15;EUR;A-1;zwei;Stk;10,00;20,00;;20,00;Köln\n"
                   "SO-8;K-1;27.11.2026 10:15;EUR;A-1;2;Stk;10,00;20,00;;20,00;Köln\n")
    evaluation = run_csv(shop, text)
    assert evaluation.report.status.value == "rejected" and evaluation.orders == []
    assert [(i.code, i.location.row) for i in evaluation.report.issues][0] == ("invalid-decimal", 1)


def test_an_order_mapping_maps_orders_only_and_whole() -> None:
    from exchanged.errors import MappingError
    from exchanged.mapping.loader import parse_mapping

    text = EXAMPLE.read_text(encoding="utf-8")
    with pytest.raises(MappingError, match="on_row_error is reject_file"):
        parse_mapping(text.replace('[match]', 'on_row_error = "drop_row"\n[match]'), EXAMPLE)
    with pytest.raises(MappingError, match="never as a delta"):
        parse_mapping(text.replace('[match]', 'mode = "delta"\n[match]'), EXAMPLE)
