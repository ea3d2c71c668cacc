"""Builders for the publish tests: a small product-like entity, updates, and readers of the outputs."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from exchanged.publish import EntityUpdate, SourceRef
from tests.canonical_json import canonical

UTC = dt.timezone.utc

PRODUCT = pa.schema([
    pa.field("sku", pa.string(), nullable=False),
    pa.field("name", pa.string(), nullable=False),
    pa.field("price", pa.decimal128(24, 6)),
    pa.field("attributes", pa.map_(pa.string(), pa.string()), nullable=False),
    pa.field("active", pa.bool_(), nullable=False),
    pa.field("changed_at", pa.timestamp("us", tz="UTC")),
])

STOCK = pa.schema([
    pa.field("sku", pa.string(), nullable=False),
    pa.field("warehouse", pa.string()),
    pa.field("quantity", pa.decimal128(24, 6), nullable=False),
    pa.field("as_of", pa.date32()),
])


def product(sku: str, name: str | None = None, price: str | None = "9.90", **extra: Any) -> dict[str, Any]:
    row = {"sku": sku, "name": name or f"Article {sku}", "price": None if price is None else Decimal(price),
           "attributes": [], "active": True, "changed_at": None}
    row.update(extra)
    return row


def products(*rows: dict[str, Any]) -> pa.Table:
    return pa.Table.from_pylist(list(rows), schema=PRODUCT)


def full(table: pa.Table, entity: str = "product", key: tuple[str, ...] = ("sku",),
         schema: pa.Schema = PRODUCT) -> EntityUpdate:
    return EntityUpdate(entity=entity, key=key, schema=schema, records=table, deletes=None, mode="full")


def delta(table: pa.Table, deletes: list[str] | pa.Table | None = None, entity: str = "product",
          key: tuple[str, ...] = ("sku",), schema: pa.Schema = PRODUCT) -> EntityUpdate:
    if isinstance(deletes, list):
        deletes = pa.table({"sku": pa.array(deletes, pa.string())})
    return EntityUpdate(entity=entity, key=key, schema=schema, records=table, deletes=deletes, mode="delta")


def source(n: int = 1) -> SourceRef:
    return SourceRef(id=f"id-{n}", file=f"inbox/ARTIKEL_{n}.csv", sha256=f"{n:064x}")


def change_lines(shop: Path, seq: int, entity: str = "product") -> list[str]:
    text = (shop / "changes" / entity / f"{seq:010d}.jsonl").read_text(encoding="utf-8")
    assert text.endswith("\n")
    return text.split("\n")[:-1]


def change_files(shop: Path, entity: str = "product") -> list[str]:
    folder = shop / "changes" / entity
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def manifest(shop: Path) -> dict[str, Any]:
    return json.loads((shop / "manifest.json").read_text(encoding="utf-8"))


def state_rows(shop: Path, entity: str = "product") -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the Parquet rows made canonical, the JSONL rows), for comparing row by row."""
    import pyarrow.parquet as pq

    table = pq.read_table(shop / f"{entity}.parquet")
    types = {field.name: field.type for field in table.schema}
    parquet_rows = [{k: canonical(v, types[k]) for k, v in row.items()} for row in table.to_pylist()]
    jsonl_rows = [json.loads(line) for line in (shop / f"{entity}.jsonl").read_bytes().split(b"\n")[:-1]]
    return parquet_rows, jsonl_rows
