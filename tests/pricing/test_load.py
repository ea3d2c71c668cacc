"""``PriceBook.load``: the published state files, either of which may be absent."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pricing_helpers import NOON, PRICE_SCHEMA, D, customer, customers, price, prices

from exchanged.pricing import SHEET_SCHEMA, PriceBook, Quote


def test_load_reads_price_and_customer_state(tmp_path: Path) -> None:
    pq.write_table(prices(price(amount="10"), price(amount="7", customer_group="G1")), tmp_path / "price.parquet")
    pq.write_table(customers(customer("C1", customer_group="G1")), tmp_path / "customer.parquet")
    result = PriceBook.load(tmp_path).quote("C1", "A", D(1), NOON)
    assert isinstance(result, Quote) and result.amount == D("7")


def test_absent_files_are_empty(tmp_path: Path) -> None:
    assert PriceBook.load(tmp_path).quote("C1", "A", D(1), NOON).reason == "no-price"
    assert PriceBook.load(tmp_path).price_list("C1", NOON).schema.equals(SHEET_SCHEMA)
    pq.write_table(prices(price(amount="10")), tmp_path / "price.parquet")
    assert PriceBook.load(tmp_path).quote("C1", "A", D(1), NOON).amount == D("10")  # no customer.parquet


def test_older_state_without_optional_columns_still_prices(tmp_path: Path) -> None:
    old = prices(price(amount="10", valid_to=dt.date(2020, 1, 1)), price(amount="11"))
    old = old.drop_columns(["valid_to", "customer_group"])
    book = PriceBook.from_tables(old, None)
    assert book.quote("C1", "A", D(1), NOON).amount == D("10")  # the lower amount; the dropped window no longer limits it


def test_price_list_schema_and_sku_order() -> None:
    table = PriceBook.from_tables(prices(price("B"), price("A"), price("C", price_type="gross"))).price_list("C1", NOON)
    assert table.schema.equals(SHEET_SCHEMA)
    assert table.column("sku").to_pylist() == ["A", "B"]
    assert table.schema.field("amount").type == PRICE_SCHEMA.field("amount").type == pa.decimal128(24, 6)
