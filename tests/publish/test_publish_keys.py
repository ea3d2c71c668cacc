"""Records must not repeat a key: a key of several columns is checked row against row, without
rendering its JSON text, and finds exactly the repeats the text would."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from publish_helpers import STOCK, STOCK_KEY, stock_table, stock_update

from exchanged.publish import publisher as publisher_module
from exchanged.publish import state as state_module
from exchanged.publish.publisher import prepared
from exchanged.publish.state import duplicate_keys, key_text, repeats_a_key, sort_by_key

PRICE_KEY = ("sku", "min_quantity", "valid_from")
PRICE = pa.schema([pa.field("sku", pa.string()), pa.field("min_quantity", pa.decimal128(24, 6)),
                   pa.field("valid_from", pa.date32())])
VALUES: dict[str, list[Any]] = {"sku": ["A", "B", None], "min_quantity": [Decimal("1"), Decimal("1.000"), None],
                                "valid_from": [dt.date(2026, 12, 1), None]}


def sorted_table(rows: list[tuple[Any, ...]]) -> pa.Table:
    table = pa.Table.from_pylist([dict(zip(PRICE_KEY, row)) for row in rows], schema=PRICE)
    order = sort_by_key(table, PRICE_KEY)
    return table if order is None else table.take(order)


@pytest.mark.parametrize("size", [2, 3, 4])
def test_a_composite_key_repeats_exactly_when_its_json_text_does(size: int) -> None:
    keys = list(itertools.product(*VALUES.values()))
    for start in range(0, len(keys)):
        rows = [keys[(start + step * 5) % len(keys)] for step in range(size)]
        table = sorted_table(rows)
        assert repeats_a_key(table, PRICE_KEY) == bool(duplicate_keys(key_text(table, PRICE_KEY))), rows


def test_a_composite_key_of_comparable_columns_is_checked_without_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_rendering(*args: Any) -> None:
        raise AssertionError("key_text rendered the key's JSON")

    monkeypatch.setattr(state_module, "key_text", no_rendering)
    monkeypatch.setattr(publisher_module, "key_text", no_rendering, raising=False)
    stock = stock_table(("B", None, 1), ("A", "W1", 2), ("A", None, 3))
    assert prepared(stock_update(stock, mode="full"), lambda: None).column("sku").to_pylist() == ["A", "A", "B"]
    repeated = stock_table(("A", "W1", 2), ("B", None, 1), ("A", "W1", 3))
    with pytest.raises(ValueError, match="repeat a key"):
        prepared(stock_update(repeated, mode="full"), lambda: None)
    assert not repeats_a_key(STOCK.empty_table(), STOCK_KEY)
