"""Stale full snapshots (DESIGN §1 status ``stale``, §5 promise 5): an older snapshot never overwrites
newer data; it changes nothing and says so."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from publish_helpers import (change_files, delta, full, manifest, outputs_of, product, products, stock_table,
                             stock_update, watch_writes)

from exchanged.publish import EntityResult, SourceRef, publish
from exchanged.publish.dates import is_stale, parse_date


def dated(n: int, date: str | None) -> SourceRef:
    return SourceRef(id=f"id-{n}", file=f"inbox/{n}.csv", sha256=f"{n:064x}", document_date=date)


def test_an_older_full_snapshot_changes_nothing_and_is_stale(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    publish(shop, [full(products(product("A"), product("B")))], dated(1, "2026-11-27"))
    before = outputs_of(shop)
    manifest_bytes = (shop / "manifest.json").read_bytes()
    writes = watch_writes(monkeypatch, shop)

    [result] = publish(shop, [full(products(product("C")))], dated(2, "2026-11-26"))

    assert result == EntityResult("product", 0, 0, 0, 2, None, [], stale=True)
    assert writes == []  # not even the manifest
    assert outputs_of(shop) == before and (shop / "manifest.json").read_bytes() == manifest_bytes
    assert change_files(shop) == ["0000000001.jsonl"]


@pytest.mark.parametrize(("published", "snapshot", "stale"), [
    ("2026-11-27", "2026-11-27", False),                     # a re-export of the same day applies
    ("2026-11-27", "2026-11-28", False),
    ("2026-11-27", "2026-11-26", True),
    ("2026-11-27T18:00:00Z", "2026-11-27", False),           # date against timestamp: on the date
    ("2026-11-27", "2026-11-27T00:00:01+14:00", False),
    ("2026-11-27T00:30:00+02:00", "2026-11-26", True),       # the 27th where it was written
    ("2026-11-27T09:00:00Z", "2026-11-27T10:00:00+02:00", True),   # instants: 08:00Z is older
    ("2026-11-27T09:00:00Z", "2026-11-27T12:00:00+02:00", False),  # 10:00Z
    ("2026-11-27T09:00:00Z", "2026-11-27T11:00:00+02:00", False),  # the same instant
    ("2026-11-27T09:00:00", "2026-11-27T08:59:59Z", True),   # no zone: UTC
    (None, "2026-11-26", False),                              # nothing to compare with
    ("2026-11-27", None, False),
    ("not a date", "2026-11-26", False),
])
def test_document_dates_compare_as_dates_or_instants(shop: Path, published: str | None, snapshot: str | None,
                                                     stale: bool) -> None:
    publish(shop, [full(products(product("A")))], dated(1, published))
    [result] = publish(shop, [full(products(product("B")))], dated(2, snapshot))
    assert result.stale is stale
    assert result.seq == (None if stale else 2)


def test_deltas_are_never_stale(shop: Path) -> None:
    publish(shop, [full(products(product("A")))], dated(1, "2026-11-27"))
    [result] = publish(shop, [delta(products(product("B")))], dated(2, "2020-01-01"))
    assert (result.stale, result.seq, result.records) == (False, 2, 2)


def test_the_newest_source_of_the_published_state_counts(shop: Path) -> None:
    publish(shop, [full(products(product("A")))], dated(1, "2026-11-20"))
    publish(shop, [delta(products(product("B")))], dated(2, "2026-11-27"))  # the state now includes the 27th
    [result] = publish(shop, [full(products(product("C")))], dated(3, "2026-11-25"))
    assert result.stale
    [newer] = publish(shop, [full(products(product("C")))], dated(4, "2026-11-28"))
    assert (newer.stale, newer.seq) == (False, 3)
    assert [s["id"] for s in manifest(shop)["entities"]["product"]["sources"]] == ["id-4"]


def test_an_input_stale_for_one_entity_still_applies_to_another(shop: Path) -> None:
    stocks = stock_update(stock_table(("A", "W1", 1)), "full")
    publish(shop, [full(products(product("A")))], dated(1, "2026-11-27"))
    product_entry = manifest(shop)["entities"]["product"]

    results = publish(shop, [full(products(product("B"))), stocks], dated(2, "2026-11-26"))

    assert [(r.entity, r.stale, r.seq) for r in results] == [("product", True, None), ("stock", False, 1)]
    entries = manifest(shop)["entities"]
    assert entries["product"] == product_entry  # untouched, updated_at included
    assert entries["stock"]["sources"][0]["id"] == "id-2"
    # Published again, the stale part is stale again and the rest was applied already.
    again = publish(shop, [full(products(product("B"))), stocks], dated(2, "2026-11-26"))
    assert [(r.stale, r.replayed) for r in again] == [(True, False), (False, True)]


def test_parse_date() -> None:
    assert parse_date("2026-11-27") == dt.date(2026, 11, 27)
    assert parse_date("20261127") == dt.date(2026, 11, 27)
    assert parse_date("2026-11-27T08:00:00Z") == dt.datetime(2026, 11, 27, 8, tzinfo=dt.timezone.utc)
    assert parse_date("2026-11-27 08:00") == dt.datetime(2026, 11, 27, 8, tzinfo=dt.timezone.utc)
    assert parse_date("") is None and parse_date(None) is None and parse_date("27.11.2026") is None
    assert not is_stale("2026-11-26", [{"id": "x"}, "not a source"])  # type: ignore[list-item]
