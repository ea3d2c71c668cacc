"""Coalescing benchmark: 200 one-row stock deltas against a 100,000-row stock state.

    python benchmarks/bench_coalesce.py [--rows 100000] [--inputs 200]

Publishes the same inputs twice into fresh shop folders that start from the same published state:
one by one (``publish`` per input: the state files are rendered and written 200 times), and as one
``publish_batch`` (one change file per input, the state files written once). Prints both times,
their ratio, and checks that both runs left the same bytes (state files, change files, and the
manifest apart from its timestamps). The machines are shared and noisy: read the ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from exchanged.publish import EntityUpdate, SourceRef, publish, publish_batch  # noqa: E402
from tests.publish.publish_helpers import outputs_of  # noqa: E402  (the tests' comparison, not a copy)

STOCK = pa.schema([
    pa.field("sku", pa.string(), nullable=False),
    pa.field("warehouse", pa.string()),
    pa.field("quantity", pa.decimal128(24, 6), nullable=False),
    pa.field("as_of", pa.date32()),
])
KEY = ("sku", "warehouse")


def stock_table(skus: np.ndarray, quantities: np.ndarray) -> pa.Table:
    return pa.table({
        "sku": pa.array(skus, pa.string()),
        "warehouse": pa.array(np.where(np.arange(len(skus)) % 2 == 0, "W1", "W2"), pa.string()),
        "quantity": pa.array(quantities.astype(np.int32), pa.int32()).cast(pa.decimal128(24, 6)),
        "as_of": pa.array([dt.date(2026, 11, 27)] * len(skus), pa.date32()),
    }, schema=STOCK)


def inputs(rows: int, count: int) -> list[tuple[list[EntityUpdate], SourceRef]]:
    rng = np.random.default_rng(7)
    picked = rng.integers(0, rows, size=count)
    out = []
    for n, row in enumerate(picked):
        sku = f"SKU-{row:07d}"
        table = stock_table(np.array([sku]), np.array([1000 + n]))
        table = table.set_column(1, "warehouse", pa.array(["W1" if row % 2 == 0 else "W2"], pa.string()))
        update = EntityUpdate("stock", KEY, STOCK, table, None, "delta")
        out.append(([update], SourceRef(id=f"id-{n}", file=f"inbox/stock_{n}.csv", sha256=f"{n + 1:064x}")))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--inputs", type=int, default=200)
    args = parser.parse_args()
    skus = np.char.add("SKU-", np.char.zfill(np.arange(args.rows).astype(str), 7))
    base = stock_table(skus, np.arange(args.rows) % 50)
    batch = inputs(args.rows, args.inputs)
    with tempfile.TemporaryDirectory() as folder:
        one, many = Path(folder) / "one_by_one" / "shop", Path(folder) / "batched" / "shop"
        for shop in (one, many):
            publish(shop, [EntityUpdate("stock", KEY, STOCK, base, None, "full")],
                    SourceRef(id="base", file="inbox/stock.csv", sha256="0" * 64))

        started = time.perf_counter()
        for updates, ref in batch:
            publish(one, updates, ref)
        singles = time.perf_counter() - started

        started = time.perf_counter()
        publish_batch(many, batch)
        batched = time.perf_counter() - started

        same = outputs_of(one) == outputs_of(many)
    print(f"{args.inputs} one-row stock deltas against {args.rows:,} rows")
    per = 1000 / args.inputs
    print(f"  one by one (publish x {args.inputs}): {singles:8.2f} s  ({singles * per:.1f} ms per input)")
    print(f"  publish_batch (one call):        {batched:8.2f} s  ({batched * per:.1f} ms per input)")
    print(f"  ratio: batch is {singles / batched:.1f}x faster; identical outputs: {same}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
