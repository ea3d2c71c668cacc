"""Price engine benchmark: one customer's whole price list (``PriceBook.price_list``) over 100,000 SKUs.

    python benchmarks/bench_pricing.py [--skus 100000] [--customers 1000] [--samples 200] [--seed 7]

The book is built with pyarrow directly (not through the pipeline) and written with the real
state schemas (``arrow_schema(Price)``, ``arrow_schema(Customer)``): list prices for every sku
with 2-3 quantity breaks (a tenth of them with a price change starting next month), group prices
for a share of skus, price-list prices, customer-specific prices for some skus per customer, and
validity windows (expired, current, future) on a fifth of the group and price-list rows.

Measured per customer, interleaved so that a noisy neighbour slows all three alike:
  * ``price_list(customer)`` (every sku's price for the customer);
  * baseline "filter": pyarrow alone filtering the in-memory price table by the customer id;
  * baseline "read+filter": pyarrow reading price.parquet and filtering it by the customer id;
  * baseline "sort" (every 10th customer, it is slow): pyarrow sorting the price table by sku.
The machine is shared and noisy: read the ratios (median of per-customer ratios); the absolute
figures are printed too. A spot check compares ``price_list`` with ``quote`` on sampled skus.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from exchanged.columns.schema import arrow_schema  # noqa: E402
from exchanged.pricing import PriceBook, Quote  # noqa: E402
from exchanged.records.customer import Customer  # noqa: E402
from exchanged.records.price import Price  # noqa: E402

PRICE, CUSTOMER = arrow_schema(Price), arrow_schema(Customer)
TODAY = dt.date(2026, 11, 27)
AT = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.timezone.utc)
GROUPS, LISTS = 10, 20


def names(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(numbers.astype(str), width))


def cents(values: np.ndarray) -> pa.Array:
    """Integer cents as exact decimal128(24, 6) amounts (integer -> decimal casts are exact)."""
    amount = PRICE.field("amount").type
    return pc.multiply(pa.array(values.astype(np.int32)).cast(amount), pa.scalar(Decimal("0.01"))).cast(amount)


def price_rows(sku: np.ndarray, cent: np.ndarray, breaks: np.ndarray, *, price_list=None, customer_id=None,
               customer_group=None, valid_from=None, valid_to=None) -> pa.Table:
    n = len(sku)
    def text(values):  # noqa: E306 - None: the key is not set
        return pa.nulls(n, pa.string()) if values is None else pa.array(values, pa.string())
    def day(values):  # noqa: E306 - date32 from days since the epoch; < 0 means open
        if values is None:
            return pa.nulls(n, pa.date32())
        return pa.array(values, mask=values < 0).cast(pa.int32()).cast(pa.date32())
    return pa.table({
        "sku": pa.array(sku, pa.string()), "price_type": pa.array(np.full(n, "net"), pa.string()),
        "currency": pa.array(np.full(n, "EUR"), pa.string()), "amount": cents(cent),
        "min_quantity": pa.array(breaks.astype(np.int32)).cast(PRICE.field("min_quantity").type),
        "price_list": text(price_list), "customer_id": text(customer_id), "customer_group": text(customer_group),
        "valid_from": day(valid_from), "valid_to": day(valid_to),
    }, schema=PRICE)


def windows(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A fifth of the rows get a window: expired, current or future (days since the epoch; -1 open)."""
    today = (TODAY - dt.date(1970, 1, 1)).days
    starts, ends = np.full(n, -1), np.full(n, -1)
    windowed = rng.random(n) < 0.2
    offset = rng.choice([-200, -30, 20], size=n)  # expired / current / future
    starts[windowed] = today + offset[windowed]
    ends[windowed] = today + offset[windowed] + 90 - 60 * (offset[windowed] == -200)
    return starts, ends


def build(skus: int, customers: int, rng: np.random.Generator) -> tuple[pa.Table, pa.Table]:
    sku = names("SKU-", np.arange(skus), 7)
    base = rng.integers(100, 100_000, size=skus)
    parts = []
    # list prices: breaks 1 and 10 for all, 100 for half of the skus; a tenth change price next month
    parts.append(price_rows(sku, base, np.ones(skus)))
    parts.append(price_rows(sku, base * 95 // 100, np.full(skus, 10)))
    half = rng.random(skus) < 0.5
    parts.append(price_rows(sku[half], base[half] * 90 // 100, np.full(half.sum(), 100)))
    change = rng.random(skus) < 0.1
    next_month = np.full(change.sum(), (TODAY - dt.date(1970, 1, 1)).days + 5)
    parts.append(price_rows(sku[change], base[change] * 105 // 100, np.ones(change.sum()), valid_from=next_month))
    # group prices: each group prices 5 % of the skus, from 1 and (half of them) from 10
    for g in range(GROUPS):
        pick = np.flatnonzero(rng.random(skus) < 0.05)
        starts, ends = windows(rng, len(pick))
        group = np.full(len(pick), f"G{g:02d}")
        parts.append(price_rows(sku[pick], base[pick] * 92 // 100, np.ones(len(pick)), customer_group=group,
                                valid_from=starts, valid_to=ends))
        tens = pick[rng.random(len(pick)) < 0.5]
        parts.append(price_rows(sku[tens], base[tens] * 88 // 100, np.full(len(tens), 10), customer_group=group[:len(tens)]))
    # price lists: each list prices 5 % of the skus
    for p in range(LISTS):
        pick = np.flatnonzero(rng.random(skus) < 0.05)
        starts, ends = windows(rng, len(pick))
        parts.append(price_rows(sku[pick], base[pick] * 93 // 100, np.ones(len(pick)),
                                price_list=np.full(len(pick), f"PL{p:02d}"), valid_from=starts, valid_to=ends))
    # customer-specific prices: 20 skus per customer
    owner = np.repeat(np.arange(customers), 20)
    pick = rng.integers(0, skus, size=len(owner))
    parts.append(price_rows(sku[pick], base[pick] * 85 // 100, np.ones(len(pick)), customer_id=names("C", owner, 5)))
    prices = pa.concat_tables(parts)
    # The state is unique by key and sorted; drop the rare duplicate customer/sku draws.
    key = ["sku", "price_type", "currency", "min_quantity", "price_list", "customer_id", "customer_group", "valid_from"]
    prices = prices.group_by(key, use_threads=False).aggregate([("amount", "min"), ("valid_to", "max")])
    prices = prices.rename_columns([c.removesuffix("_min").removesuffix("_max") for c in prices.column_names])
    prices = prices.select(PRICE.names).cast(PRICE).sort_by([(k, "ascending") for k in key])
    ids = names("C", np.arange(customers), 5)
    has = lambda share: rng.random(customers) < share  # noqa: E731
    group = np.where(has(0.7), np.char.add("G", np.char.zfill((np.arange(customers) % GROUPS).astype(str), 2)), None)
    plist = np.where(has(0.5), np.char.add("PL", np.char.zfill((np.arange(customers) % LISTS).astype(str), 2)), None)
    table = {name: pa.nulls(customers, CUSTOMER.field(name).type) for name in CUSTOMER.names}
    table.update(customer_id=pa.array(ids, pa.string()), name=pa.array(np.char.add("Customer ", ids), pa.string()),
                 customer_group=pa.array(group, pa.string()), price_list=pa.array(plist, pa.string()),
                 currency=pa.array(np.full(customers, "EUR"), pa.string()))
    return prices, pa.table(table, schema=CUSTOMER)


def read_and_filter(path: Path, customer_id: str) -> pa.Table:
    table = pq.read_table(path)
    return table.filter(pc.equal(table.column("customer_id"), customer_id))


def timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def spot_check(book: PriceBook, customer_ids: list[str], rng: np.random.Generator) -> int:
    """``price_list`` rows against ``quote`` on 50 random skus of a few customers; returns mismatches."""
    bad = 0
    for cid in customer_ids:
        sheet = book.price_list(cid, AT)
        for row_no in rng.integers(0, sheet.num_rows, size=50):
            row = {k: v[0] for k, v in sheet.slice(int(row_no), 1).to_pydict().items()}
            quote = book.quote(cid, row["sku"], Decimal(1), AT)
            if isinstance(quote, Quote):
                bad += (row["amount"], row["level"], row["min_quantity"]) != (quote.amount, quote.level.value, quote.min_quantity)
            else:
                bad += row["reason"] != quote.reason
    return bad


def ms(seconds: list[float], q: float) -> float:
    return 1000 * float(np.quantile(seconds, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=1_000)
    parser.add_argument("--samples", type=int, default=200, help="customers priced (a random sample)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    prices, customers = build(args.skus, args.customers, rng)
    with tempfile.TemporaryDirectory() as folder:
        shop = Path(folder)
        pq.write_table(prices, shop / "price.parquet")
        pq.write_table(customers, shop / "customer.parquet")
        load_s, book = timed(lambda: PriceBook.load(shop))
        stored = pq.read_table(shop / "price.parquet")
        sample = [f"C{n:05d}" for n in rng.choice(args.customers, size=min(args.samples, args.customers), replace=False)]
        book.price_list(sample[0], AT)  # warm up (first-call allocations)
        engine, filtering, reading, quoting, sorting = [], [], [], [], []
        for n, cid in enumerate(sample):
            engine.append(timed(lambda: book.price_list(cid, AT))[0])
            filtering.append(timed(lambda: stored.filter(pc.equal(stored.column("customer_id"), cid)))[0])
            reading.append(timed(lambda: read_and_filter(shop / "price.parquet", cid))[0])
            quoting.append(timed(lambda: book.quote(cid, f"SKU-{rng.integers(args.skus):07d}", Decimal(1), AT))[0])
            if n % 10 == 0:
                sorting.append(timed(lambda: stored.sort_by("sku"))[0])
        mismatches = spot_check(book, sample[:5], rng)
    sheet = book.price_list(sample[0], AT)
    priced = sheet.column("reason").null_count  # a priced sku has no reason
    print(f"book: {args.skus:,} skus, {prices.num_rows:,} price rows, {args.customers:,} customers; "
          f"loaded (read + sort once) in {load_s:.2f} s")
    print(f"price_list per customer ({len(sample)} customers, {sheet.num_rows:,} skus each, {priced:,} priced for {sample[0]}):")
    print(f"  price_list           median {ms(engine, .5):7.1f} ms   p95 {ms(engine, .95):7.1f} ms")
    print(f"  baseline filter      median {ms(filtering, .5):7.1f} ms   p95 {ms(filtering, .95):7.1f} ms"
          "   (pyarrow: in-memory price table filtered by customer_id)")
    print(f"  baseline read+filter median {ms(reading, .5):7.1f} ms   p95 {ms(reading, .95):7.1f} ms"
          "   (pyarrow: read price.parquet, filter by customer_id)")
    print(f"  baseline sort        median {ms(sorting, .5):7.1f} ms   p95 {ms(sorting, .95):7.1f} ms"
          "   (pyarrow: price table sorted by sku)")
    print(f"  quote (one sku)      median {ms(quoting, .5):7.2f} ms   p95 {ms(quoting, .95):7.2f} ms")
    ratio_filter = statistics.median(e / f for e, f in zip(engine, filtering))
    ratio_read = statistics.median(e / r for e, r in zip(engine, reading))
    ratio_sort = statistics.median(engine) / statistics.median(sorting)
    print(f"  ratio price_list / filter: {ratio_filter:.1f}x   price_list / read+filter: {ratio_read:.2f}x   "
          f"(medians of per-customer ratios)   price_list / sort: {ratio_sort:.2f}x (ratio of medians)")
    print(f"  spot check price_list == quote on {5 * 50} sampled skus: {'ok' if not mismatches else f'{mismatches} MISMATCHES'}")
    if mismatches:
        sys.exit(1)


if __name__ == "__main__":
    main()
