"""What an order is checked against: the products and customers published in ``outbox/shop/``.

Read from the state Parquet files (only the columns the checks need) and kept per process until
the file changes (its size and modification time), so a burst of small orders against a large
catalogue reads the catalogue once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq


@dataclass(frozen=True)
class PublishedProduct:
    sku: str
    gtin: str | None
    unit: str
    active: bool


@dataclass(frozen=True)
class PublishedCustomer:
    customer_id: str
    currency: str | None


@dataclass(frozen=True)
class Catalog:
    """The published products (by sku and by GTIN) and customers (None: none are published)."""

    products: dict[str, PublishedProduct]
    by_gtin: dict[str, str]
    customers: dict[str, PublishedCustomer] | None

    @classmethod
    def load(cls, shop_dir: Path) -> Catalog:
        products = {row["sku"]: PublishedProduct(row["sku"], row["gtin"], row["unit"], bool(row["active"]))
                    for row in _rows(shop_dir / "product.parquet", ["sku", "gtin", "unit", "active"])}
        customer_rows = _rows(shop_dir / "customer.parquet", ["customer_id", "currency"])
        customers = ({row["customer_id"]: PublishedCustomer(row["customer_id"], row["currency"]) for row in customer_rows}
                     if (shop_dir / "customer.parquet").exists() else None)
        return cls(products, {p.gtin: p.sku for p in products.values() if p.gtin}, customers or None)


_CACHE: dict[Path, tuple[tuple[int, int, int, int], Catalog]] = {}
_LOCK = threading.Lock()


def catalog(shop_dir: Path) -> Catalog:
    """The catalog of ``shop_dir``, read again only when a state file changed."""
    stamp = tuple(file_stamp(shop_dir / name) for name in ("product.parquet", "customer.parquet"))
    key = (stamp[0][0], stamp[0][1], stamp[1][0], stamp[1][1])
    with _LOCK:
        cached = _CACHE.get(shop_dir)
        if cached is not None and cached[0] == key:
            return cached[1]
    loaded = Catalog.load(shop_dir)
    with _LOCK:
        _CACHE[shop_dir] = (key, loaded)
    return loaded


def file_stamp(path: Path) -> tuple[int, int]:
    """(mtime in ns, size) of ``path``, (-1, -1) when it is missing: what a cache of a file is keyed by."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return (-1, -1)
    return (status.st_mtime_ns, status.st_size)


def _rows(path: Path, columns: list[str]) -> list[dict]:
    if not path.exists():
        return []
    return pq.read_table(path, columns=columns).to_pylist()


__all__ = ["Catalog", "PublishedCustomer", "PublishedProduct", "catalog", "file_stamp"]
