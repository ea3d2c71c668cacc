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


STOCK_KEY = ("sku", "warehouse")


def stock_table(*rows: tuple[str, str | None, int]) -> pa.Table:
    """Stock rows (sku, warehouse, quantity), all as of 2026-11-27."""
    return pa.Table.from_pylist([{"sku": s, "warehouse": w, "quantity": Decimal(q), "as_of": dt.date(2026, 11, 27)}
                                 for s, w, q in rows], schema=STOCK)


def stock_update(table: pa.Table, mode: str = "delta",
                 deletes: list[tuple[str, str | None]] | None = None) -> EntityUpdate:
    gone = None
    if mode == "delta" and deletes:
        gone = pa.table({"sku": pa.array([s for s, _ in deletes], pa.string()),
                         "warehouse": pa.array([w for _, w in deletes], pa.string())})
    return EntityUpdate("stock", STOCK_KEY, STOCK, table, gone, mode)  # type: ignore[arg-type]


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


class Crash(Exception):
    """Stands for kill -9 at a write boundary (raised before or after the write)."""


def watch_writes(monkeypatch: Any, shop: Path, crash_at: int | None = None, after: bool = False) -> list[str]:
    """Record every write of a publish, in order, as paths relative to ``shop`` (``-.publishing``: the
    marker removed); with ``crash_at``, raise ``Crash`` before (or ``after``) that write (0-based)."""
    from exchanged.publish import commit as commit_module
    from exchanged.publish import manifest as manifest_module
    from exchanged.publish import marker as marker_module

    writes: list[str] = []

    def boundary(name: str, real: Any) -> None:
        n = len(writes)
        writes.append(name)
        if crash_at == n and not after:
            raise Crash(name)
        real()
        if crash_at == n and after:
            raise Crash(name)

    for module in (commit_module, manifest_module, marker_module):
        real_write = module.write_atomic

        def write(path: Path, data: Any, real_write: Any = real_write, **options: Any) -> None:
            boundary(Path(path).relative_to(shop).as_posix(), lambda: real_write(path, data, **options))

        monkeypatch.setattr(module, "write_atomic", write)
    real_remove = marker_module._remove
    monkeypatch.setattr(marker_module, "_remove",
                        lambda path: boundary("-" + Path(path).relative_to(shop).as_posix(), lambda: real_remove(path)))
    return writes


def outputs_of(shop: Path) -> dict[str, Any]:
    """Every output file of ``shop`` (not dot files) by relative path: bytes, and the manifest parsed
    without its timestamps (``updated_at``, top level and per entity)."""
    found: dict[str, Any] = {}
    for path in sorted(shop.rglob("*")) if shop.exists() else []:
        name = path.relative_to(shop).as_posix()
        if not path.is_file() or any(part.startswith(".") for part in path.relative_to(shop).parts):
            continue
        if name == "manifest.json":
            data = json.loads(path.read_bytes())
            data.pop("updated_at")
            for entry in data["entities"].values():
                entry.pop("updated_at")
            found[name] = data
        else:
            found[name] = path.read_bytes()
    return found


def marker_state(shop: Path) -> tuple[frozenset[str] | None, list[str], bool]:
    """What ``.publishing`` tells the next publish: the entities still pending (their JSONL
    untrusted), the sha256 of the inputs it keeps as applied, and whether its record is committed."""
    from exchanged.publish.marker import Replay, committed, read_marker

    marker, current = read_marker(shop), manifest(shop) if (shop / "manifest.json").exists() else {}
    replay = Replay(marker, current)
    return replay.pending, [i.sha256 for i in replay.carried], marker.record is None or committed(marker, current)

