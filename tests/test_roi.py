"""``exchanged roi``: exact figures from a real ledger, its period, its settings and its output."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from exchanged.audit import Ledger
from exchanged.config import Settings, load_settings
from exchanged.errors import ConfigError, UsageError
from exchanged.report import FileReport, Status
from exchanged.roi import (
    KINDS,
    RoiSettings,
    build_report,
    compute_roi,
    money,
    occurrences,
    parse_since,
    render_roi,
    roi_json,
)
from exchanged.schemas import json_schema

TODAY = date(2026, 12, 1)
# 73 calendar days at 250 working days a year are exactly 50 working days: figures come out exact.
SETTINGS = RoiSettings(period_days=73)


def report(n: int, received_at: str, status: str = "accepted", *, content: str | None = None,
           entity: str | None = "product", entities: dict[str, int] | None = None, records: int | None = None) -> FileReport:
    entities = entities or {}
    return FileReport(
        id=f"R{n:03d}", file=f"inbox/file{n}.csv", sha256=hashlib.sha256((content or f"c{n}").encode()).hexdigest(),
        size=10, status=Status(status), entity=entity, entities=entities,
        records=sum(entities.values()) if records is None else records, received_at=received_at,
    )


def ledger_with(path: Path, reports: list[FileReport]) -> Path:
    with Ledger(path) as ledger:
        ledger.record_all(reports)
    return path


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    return ledger_with(tmp_path / "archive" / "ledger.sqlite3", [
        report(1, "2026-11-02T09:00:00Z", entities={"product": 60, "price": 40}, content="A"),
        report(2, "2026-11-03T10:00:00Z", "partial", entity="stock", entities={"stock": 50}),
        # Orders as issue 6's order pipeline will record them: entity "order", {"order": n}.
        report(3, "2026-11-03T11:00:00Z", entity="order", entities={"order": 3}),
        report(4, "2026-11-04T08:00:00Z", entity="order", entities={"order": 7}),
        report(5, "2026-11-05T12:00:00+01:00", entity="order_status", entities={"order_status": 25}),
        # A report from before per-entity counts: entity and records only.
        report(6, "2026-11-05T13:00:00Z", entity="customer", records=10),
        # Nothing published: none of these count.
        report(7, "2026-11-06T09:00:00Z", "rejected", entities={"product": 5}),
        report(8, "2026-11-06T09:00:00Z", "duplicate", content="A"),
        report(9, "2026-11-06T09:00:00Z", "stale", entities={"product": 999}),
        # `exchanged replay` of content already applied: no new work for anyone.
        report(10, "2026-11-07T09:00:00Z", entities={"product": 60, "price": 40}, content="A"),
        # Outside the period [2026-09-19, 2026-12-01).
        report(11, "2026-09-18T23:59:59.999999Z", entities={"product": 1000}),
        report(12, "2026-12-01T00:00:00Z", entities={"product": 1000}),
        # An entity of no kind counts nothing.
        report(13, "2026-11-08T09:00:00Z", entity="mystery", entities={"mystery": 4}),
    ])


def by_kind(result) -> dict:
    return {k.kind: k for k in result.kinds}


# --- the figures ----------------------------------------------------------------------------------

def test_exact_per_day_and_per_year_figures_from_a_real_ledger(ledger: Path) -> None:
    result = compute_roi(ledger, SETTINGS, today=TODAY)
    assert (result.first_day, result.last_day, result.calendar_days) == (date(2026, 9, 19), date(2026, 11, 30), 73)
    assert result.working_days == 50 and result.currency == "EUR"
    kinds = by_kind(result)
    products, orders, statuses = kinds["product_changes"], kinds["orders"], kinds["status_updates"]
    # 100 (product + price) + 50 stock + 10 customers (legacy row)
    assert (products.occurrences, products.files, products.per_day, products.per_year) == (160, 3, Decimal("3.2"), 800)
    assert (products.cost_per_day, products.saving_per_day, products.saving_per_year) == (8, Decimal("6.4"), 1600)
    assert (orders.occurrences, orders.files, orders.per_day, orders.per_year) == (10, 2, Decimal("0.2"), 50)
    assert (orders.cost_per_day, orders.saving_per_day, orders.saving_per_year) == (Decimal("1.6"), Decimal("1.52"), 380)
    assert (statuses.occurrences, statuses.per_day, statuses.per_year) == (25, Decimal("0.5"), 125)
    assert (statuses.cost_per_day, statuses.saving_per_day, statuses.saving_per_year) == (
        Decimal("0.75"), Decimal("0.675"), Decimal("168.75"))
    assert (result.cost_per_day, result.saving_per_day, result.saving_per_year) == (
        Decimal("10.35"), Decimal("8.595"), Decimal("2148.75"))
    assert result.daily == (
        (date(2026, 11, 2), {"product_changes": 100, "orders": 0, "status_updates": 0}),
        (date(2026, 11, 3), {"product_changes": 50, "orders": 3, "status_updates": 0}),
        (date(2026, 11, 4), {"product_changes": 0, "orders": 7, "status_updates": 0}),
        (date(2026, 11, 5), {"product_changes": 10, "orders": 0, "status_updates": 25}),
    )


def test_per_year_is_per_day_times_working_days(ledger: Path) -> None:
    settings = RoiSettings(period_days=30, working_days_per_year=220, order_cost="7.35", order_gain_percent="87.5")
    orders = by_kind(compute_roi(ledger, settings, today=date(2026, 11, 10)))["orders"]
    assert orders.occurrences == 10
    assert money(orders.per_day) == "0.55"  # 10 × 365 / (30 × 220)
    assert money(orders.per_day * 220) == money(orders.per_year) == "121.67"
    assert money(orders.saving_per_year) == money(Decimal("7.35") * orders.per_year * Decimal("0.875")) == "782.47"


def test_files_basis_counts_each_product_data_file_once(ledger: Path) -> None:
    products = by_kind(compute_roi(ledger, RoiSettings(period_days=73, product_change_basis="files"), today=TODAY))
    assert (products["product_changes"].occurrences, products["orders"].occurrences) == (3, 10)


def test_a_replay_after_a_rejection_counts_once(tmp_path: Path) -> None:
    path = ledger_with(tmp_path / "l.sqlite3", [
        report(1, "2026-11-02T09:00:00Z", "rejected", content="X"),  # mapping fixed afterwards
        report(2, "2026-11-03T09:00:00Z", entities={"product": 4}, content="X"),
        report(3, "2026-11-04T09:00:00Z", entities={"product": 4}, content="X"),
    ])
    assert by_kind(compute_roi(path, SETTINGS, today=TODAY))["product_changes"].occurrences == 4
    # Applied before the period: its replay inside the period is no new work either.
    assert by_kind(compute_roi(path, SETTINGS, today=TODAY, since=date(2026, 11, 4)))["product_changes"].occurrences == 0


def test_occurrences_of_one_row() -> None:
    assert occurrences("order", 5, {"order": 5}) == {"orders": 5}
    assert occurrences("product", 3, {"product": 2, "price": 2, "order_status": 1}) == {"product_changes": 4, "status_updates": 1}
    assert occurrences("stock", 7, None) == {"product_changes": 7}
    assert occurrences("product", 9, {"product": 9, "stock": 1}, "files") == {"product_changes": 1}
    assert occurrences(None, 0, None) == {}
    assert [k.entities for k in KINDS] == [("product", "price", "stock", "customer"), ("order",), ("order_status",)]


# --- empty and missing ledgers, the period ----------------------------------------------------------

@pytest.mark.parametrize("create", [True, False], ids=["empty ledger", "no ledger"])
def test_an_empty_or_missing_ledger_saves_nothing(tmp_path: Path, create: bool) -> None:
    path = tmp_path / "archive" / "ledger.sqlite3"
    if create:
        ledger_with(path, [])
    result = compute_roi(path, RoiSettings(), today=TODAY)
    assert (result.first_day, result.calendar_days, money(result.working_days)) == (date(2026, 11, 1), 30, "20.55")
    assert all(k.occurrences == 0 and k.files == 0 and k.saving_per_year == 0 for k in result.kinds)
    assert result.daily == () and result.saving_per_year == 0
    assert path.exists() is create


def test_period_boundaries_are_utc_days_today_excluded(tmp_path: Path) -> None:
    path = ledger_with(tmp_path / "l.sqlite3", [
        report(1, "2026-11-29T23:59:59.999999Z", entity="order", entities={"order": 1}),
        report(2, "2026-11-30T00:00:00Z", entity="order", entities={"order": 10}),
        report(3, "2026-12-01T00:30:00+01:00", entity="order", entities={"order": 100}),  # 23:30Z on the 30th
        report(4, "2026-12-01T00:00:00Z", entity="order", entities={"order": 1000}),     # today: incomplete
    ])
    one_day = compute_roi(path, RoiSettings(period_days=1), today=TODAY)
    assert (one_day.first_day, one_day.last_day) == (date(2026, 11, 30), date(2026, 11, 30))
    assert by_kind(one_day)["orders"].occurrences == 110
    assert one_day.daily == ((date(2026, 11, 30), {"product_changes": 0, "orders": 110, "status_updates": 0}),)
    since = compute_roi(path, RoiSettings(period_days=1), today=TODAY, since=date(2026, 11, 29))
    assert (since.calendar_days, by_kind(since)["orders"].occurrences) == (2, 111)


@pytest.mark.parametrize("since", [TODAY, date(2026, 12, 24)])
def test_a_period_must_end_before_today(tmp_path: Path, since: date) -> None:
    with pytest.raises(UsageError, match="the period must start before today"):
        compute_roi(tmp_path / "none.sqlite3", RoiSettings(), today=TODAY, since=since)


def test_the_ledger_is_only_read(ledger: Path) -> None:
    before = ledger.read_bytes()
    with Ledger(ledger) as writer:  # the daemon may hold it open meanwhile
        compute_roi(ledger, SETTINGS, today=TODAY)
        assert sum(1 for _ in writer.rows()) == 13
    assert ledger.read_bytes() == before


def test_a_file_that_is_no_ledger_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    path.write_text("not a database, just text that is long enough to have a header" * 10)
    with pytest.raises(UsageError, match="ledger .*ledger.sqlite3"):
        compute_roi(path, RoiSettings(), today=TODAY)


def test_parse_since() -> None:
    assert parse_since(None) is None and parse_since("2026-11-01") == date(2026, 11, 1)
    with pytest.raises(UsageError, match="--since 'last week': expected an ISO date"):
        parse_since("last week")


# --- settings -----------------------------------------------------------------------------------------

def test_defaults_are_the_documented_estimates() -> None:
    roi = Settings().roi
    assert (roi.currency, roi.period_days, roi.working_days_per_year, roi.product_change_basis) == ("EUR", 30, 250, "records")
    assert (roi.product_change_cost, roi.order_cost, roi.status_update_cost) == (2.5, 8, 1.5)
    assert (roi.product_change_gain_percent, roi.order_gain_percent, roi.status_update_gain_percent) == (80, 95, 90)


@pytest.mark.parametrize("toml, message", [
    ("order_cost = -1", "roi.order_cost: Input should be greater than or equal to 0"),
    ("status_update_gain_percent = 101", "roi.status_update_gain_percent: Input should be less than or equal to 100"),
    ("product_change_gain_percent = -5", "roi.product_change_gain_percent: Input should be greater than or equal to 0"),
    ("order_cost = 'nan'", "roi.order_cost: Input should be a finite number"),
    ("currency = 'euro'", "roi.currency: String should match pattern"),
    ("order_costs = 9", "roi.order_costs: Extra inputs are not permitted"),
    ("working_days_per_year = 0", "roi.working_days_per_year: Input should be greater than or equal to 1"),
])
def test_invalid_roi_settings_are_rejected_with_a_clear_message(tmp_path: Path, toml: str, message: str) -> None:
    config = tmp_path / "exchanged.toml"
    config.write_text(f"[roi]\n{toml}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={})
    assert str(caught.value).startswith(f"{config}: {message}")


def test_roi_table_in_the_config_file_and_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "exchanged.toml"
    config.write_text("[roi]\ncurrency = 'CHF'\norder_cost = 9.5\nstatus_update_cost = '1.75'\n")
    roi = load_settings(config, environ={}).roi
    assert (roi.currency, roi.order_cost, roi.status_update_cost, roi.order_gain_percent) == ("CHF", 9.5, Decimal("1.75"), 95)
    from_env = load_settings(config, environ={"EXCHANGED_ROI": '{"order_cost": "12"}'}).roi
    assert (from_env.order_cost, from_env.currency) == (12, "EUR")  # the environment replaces the whole table
    with pytest.raises(ValidationError, match="less than or equal to 100"):
        RoiSettings(order_gain_percent="100.01")


def test_schema_config_documents_every_roi_key() -> None:
    schema = json_schema("config")
    assert "roi" in schema["properties"] and schema["properties"]["roi"]["description"]
    fields = schema["$defs"]["RoiSettings"]["properties"]
    assert set(fields) == set(RoiSettings.model_fields)
    assert all(field.get("description") for field in fields.values())


# --- output ---------------------------------------------------------------------------------------------

def fixed_report():
    days = {date(2026, 11, 2): {"product_changes": 1200, "orders": 40}, date(2026, 11, 3): {"orders": 33, "status_updates": 80}}
    files = {"product_changes": 4, "orders": 9, "status_updates": 2}
    return build_report(days, files, RoiSettings(), date(2026, 11, 1), TODAY)


GOLDEN = """\
ROI 2026-11-01 to 2026-11-30: 30 days = 20.55 working days at 250 a year; amounts in EUR
counted from the ledger: 15 published file(s), each content once; product data changes counted per record
costs and gains are the [roi] estimates (docs/roi.md)

kind                  occurrences  per day  cost each  gain %  cost per day  saving per day  saving per year
product data changes         1200    58.40       2.50   80.00        146.00          116.80         29200.00
orders transferred             73     3.55       8.00   95.00         28.42           27.00          6750.07
order status updates           80     3.89       1.50   90.00          5.84            5.26          1314.00
total                                                                180.26          149.06         37264.07
"""


def test_render_golden_text() -> None:
    assert render_roi(fixed_report()) == GOLDEN


def test_json_shape() -> None:
    data = roi_json(fixed_report())
    assert data["period"] == {"first_day": "2026-11-01", "last_day": "2026-11-30", "calendar_days": 30,
                              "working_days": "20.55", "working_days_per_year": 250}
    assert (data["currency"], data["product_change_basis"]) == ("EUR", "records")
    assert data["kinds"][1] == {
        "kind": "orders", "label": "orders transferred", "entities": ["order"], "files": 9, "occurrences": 73,
        "per_day": "3.55", "per_year": "888.17", "cost_per_occurrence": "8.00", "gain_percent": "95.00",
        "cost_per_day": "28.42", "saving_per_day": "27.00", "saving_per_year": "6750.07",
    }
    assert [k["kind"] for k in data["kinds"]] == ["product_changes", "orders", "status_updates"]
    assert data["totals"] == {"cost_per_day": "180.26", "saving_per_day": "149.06", "saving_per_year": "37264.07"}
    assert data["daily"] == [
        {"date": "2026-11-02", "product_changes": 1200, "orders": 40, "status_updates": 0},
        {"date": "2026-11-03", "product_changes": 0, "orders": 33, "status_updates": 80},
    ]


def test_amounts_round_half_up_only_for_display() -> None:
    assert (money(Decimal("0.665")), money(Decimal("2.345")), money(Decimal("-0.005"))) == ("0.67", "2.35", "-0.01")
    # 80 × 365 / (30 × 250) × 1.50 × 90 %, unrounded; the total line rounds the unrounded sum.
    assert by_kind(fixed_report())["status_updates"].saving_per_day == Decimal("5.256")
