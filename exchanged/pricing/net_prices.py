"""The net price rows as the engine keeps them: sorted once in precedence order, with the columns
every lookup compares precomputed, so that pricing a customer is filters and a take (``sheet.py``).

Sort order (the same for every customer, which is why it can be done once): sku; level, most
specific first; ``min_quantity`` descending (the highest break first); then the tie-breaks of
rows that agree on all of that (see ``rules.py``): more key columns set first, the later
``valid_from`` first, the lower amount first, then ``price_list`` and ``customer_group`` ascending
(nulls last). After filtering the rows that apply to one lookup, the first row of each sku is its
price.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from exchanged.columns.schema import arrow_schema
from exchanged.nulls import filled
from exchanged.pricing.results import LEVELS
from exchanged.pricing.terms import CurrencyFacts
from exchanged.publish.state import align
from exchanged.records.price import Price

__all__ = ["NetPrices", "KeyCodes", "PRICE_SCHEMA", "LEVEL_NAMES"]

PRICE_SCHEMA = arrow_schema(Price)
LEVEL_NAMES = pa.array([level.value for level in LEVELS], pa.string())
CUSTOMER_KEYS = ("customer_id", "customer_group", "price_list")
SHEET_COLUMNS = ["amount", "min_quantity", "valid_from", "valid_to", "price_list", "customer_group", "_level"]

SORT_KEYS = [
    ("sku", "ascending"), ("_level", "ascending"), ("min_quantity", "descending"), ("_specificity", "descending"),
    ("_starts", "descending"), ("amount", "ascending"), ("price_list", "ascending"), ("customer_group", "ascending"),
]


@dataclass(frozen=True)
class KeyCodes:
    """A string column dictionary-encoded: comparing int32 codes is several times faster than
    comparing strings, and each lookup compares every row."""

    dictionary: pa.Array
    codes: pa.Array  # int32, null where the column is null

    @classmethod
    def of(cls, column: pa.ChunkedArray) -> KeyCodes:
        encoded = pc.dictionary_encode(column.combine_chunks())
        return cls(encoded.dictionary, encoded.indices)

    def code(self, value: str | None) -> int:
        """The code of ``value``; -1 when no row holds it (or it is None)."""
        return -1 if value is None else pc.index(self.dictionary, value).as_py()

    def matching(self, value: str | None) -> pa.Array:
        """Rows that apply to a buyer whose attribute is ``value``: the column is null (the row
        does not restrict it) or holds ``value``."""
        code = self.code(value)
        if code < 0:
            return self.codes.is_null()
        # Kleene "or": a null code is unrestricted (true), without a fill_null pass over all rows.
        return pc.or_kleene(self.codes.is_null(), pc.equal(self.codes, code))

    def equal(self, value: str) -> pa.Array:
        code = self.code(value)
        return filled(pc.equal(self.codes, code), False)


@dataclass(frozen=True)
class Breaks:
    """``min_quantity`` as the rank of its value among the distinct breaks (ascending): whether a
    quantity reaches a row's break is then one integer comparison per row instead of a decimal
    one; the few distinct breaks are compared with the quantity as decimals, exactly."""

    values: pa.Array  # the distinct min_quantity values, ascending
    ranks: pa.Array  # per row, the position of its min_quantity in ``values``

    @classmethod
    def of(cls, column: pa.ChunkedArray) -> Breaks:
        distinct = pc.unique(column)
        values = distinct.take(pc.array_sort_indices(distinct))
        return cls(values, pc.index_in(column, value_set=values).combine_chunks())

    def reached(self, quantity: Decimal) -> pa.Array:
        """Rows whose break is at most ``quantity``."""
        below = pc.sum(pc.less_equal(self.values, pa.scalar(quantity, self.values.type))).as_py() or 0
        return pc.less(self.ranks, below)


@dataclass(frozen=True)
class NetPrices:
    """The ``net`` rows of ``price.parquet`` in precedence order (see the module docstring)."""

    table: pa.Table
    skus: pa.Array  # the distinct skus, ascending
    sku_starts: np.ndarray  # first row of each sku in ``table``; one more entry: the row count
    sku_numbers: pa.Array  # per row, the position of its sku in ``skus`` (int32)
    keys: dict[str, KeyCodes]  # customer_id, customer_group, price_list and currency, encoded
    starts: pa.Array  # valid_from, open start as date.min
    ends: pa.Array  # valid_to, open end as date.max
    breaks: Breaks
    sheet_columns: pa.Table  # what a price sheet shows of a row, plus one all-null row at the end
    facts: CurrencyFacts

    @classmethod
    def of(cls, prices: pa.Table) -> NetPrices:
        table = _net_rows(prices)
        table = table.append_column("_level", _levels(table)).append_column("_specificity", _specificity(table))
        table = table.append_column("_starts", filled(table.column("valid_from"), dt.date.min))
        table = table.sort_by(SORT_KEYS).combine_chunks()
        sku = table.column("sku")
        first_of_sku = _run_starts(sku)
        starts = np.flatnonzero(first_of_sku.to_numpy(zero_copy_only=False))
        numbers = np.cumsum(first_of_sku.to_numpy(zero_copy_only=False), dtype=np.int64) - 1
        return cls(
            table=table,
            skus=pc.filter(sku, first_of_sku).combine_chunks() if table.num_rows else pa.array([], pa.string()),
            sku_starts=np.append(starts, table.num_rows),
            sku_numbers=pa.array(numbers.astype(np.int32)),
            keys={name: KeyCodes.of(table.column(name)) for name in (*CUSTOMER_KEYS, "currency")},
            starts=table.column("_starts").combine_chunks(),
            ends=filled(table.column("valid_to"), dt.date.max).combine_chunks(),
            breaks=Breaks.of(table.column("min_quantity")),
            sheet_columns=_with_null_row(table.select(SHEET_COLUMNS)),
            facts=_currency_facts(table),
        )

    def sku_rows(self, sku: str) -> pa.Table | None:
        """The rows of one sku (a zero-copy slice), or None for a sku without net prices."""
        number = pc.index(self.skus, sku).as_py()
        if number < 0:
            return None
        start, end = int(self.sku_starts[number]), int(self.sku_starts[number + 1])
        return self.table.slice(start, end - start)


def _with_null_row(table: pa.Table) -> pa.Table:
    """``table`` and one more row of nulls: a sku without a price takes that row, so that the
    sheet is one ``take`` with plain indices (a take with null indices is several times slower)."""
    nullable = pa.schema([field.with_nullable(True) for field in table.schema])
    nulls = pa.table({field.name: pa.nulls(1, field.type) for field in nullable}, schema=nullable)
    return pa.concat_tables([table.cast(nullable), nulls]).combine_chunks()


def _net_rows(prices: pa.Table) -> pa.Table:
    """The rows orders are checked against (``price_type`` net), in the model's schema; rows a
    schema evolution left without sku, currency or amount cannot be priced and are dropped."""
    table = align(prices, PRICE_SCHEMA)[0]
    net = pc.equal(filled(table.column("price_type"), "net"), "net")
    for name in ("sku", "currency", "amount"):
        if table.column(name).null_count:
            net = pc.and_(net, table.column(name).is_valid())
    table = table.filter(net).combine_chunks()
    if table.column("min_quantity").null_count:  # the model's default: from the first piece
        table = table.set_column(table.schema.get_field_index("min_quantity"), "min_quantity",
                                 filled(table.column("min_quantity"), pa.scalar(1, table.schema.field("min_quantity").type)))
    return table


def _levels(table: pa.Table) -> pa.ChunkedArray:
    """The level of each row: the most specific customer key it sets (0 customer … 3 list price)."""
    customer, group, price_list = (table.column(name).is_valid() for name in CUSTOMER_KEYS)
    level = pc.if_else(customer, 0, pc.if_else(group, 1, pc.if_else(price_list, 2, 3)))
    return level.cast(pa.int8())


def _specificity(table: pa.Table) -> pa.ChunkedArray:
    """How many of the customer keys a row sets: among rows of one level and break, the row that
    restricts more (customer *and* its group) is the more specific agreement."""
    total = pa.chunked_array([pa.array(np.zeros(table.num_rows, dtype=np.int8))])
    for name in CUSTOMER_KEYS:
        total = pc.add(total, table.column(name).is_valid().cast(pa.int8()))
    return total


def _run_starts(values: pa.ChunkedArray) -> pa.Array:
    """True at each row whose value differs from the row before (the first row of each run)."""
    values = values.combine_chunks()
    if len(values) == 0:
        return pa.array([], pa.bool_())
    changed = pc.not_equal(values.slice(1), values.slice(0, len(values) - 1))
    return pa.concat_arrays([pa.array([True]), changed])


def _currency_facts(table: pa.Table) -> CurrencyFacts:
    currencies = tuple(sorted(pc.unique(table.column("currency")).to_pylist()))
    in_lists = table.filter(table.column("price_list").is_valid()).select(["price_list", "currency"])
    per_list = in_lists.group_by("price_list").aggregate([("currency", "distinct")])
    lists, found = per_list.column("price_list").to_pylist(), per_list.column("currency_distinct").to_pylist()
    return CurrencyFacts(
        currencies=currencies,
        list_currencies={name: values[0] for name, values in zip(lists, found) if len(values) == 1},
        mixed_lists={name: tuple(sorted(values)) for name, values in zip(lists, found) if len(values) > 1},
    )
