"""Orders through `exchanged process` and the daemon: published checks at commit, one ERP file per
order, nothing twice (same content, same order id in new content, a replay on purpose)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from test_order_checks import CUSTOMERS, PRICES, PRODUCTS, order, settings_for, shop  # noqa: F401  (shop: the fixture)

from exchanged.cli import main
from exchanged.config import Settings
from exchanged.exchange.daemon import Daemon
from exchanged.exchange.log import EventLog
from exchanged.lifecycle import Workspace, handle
from exchanged.pipeline import Source


def process(settings: Settings, name: str, body: dict | list) -> dict:
    workspace = Workspace.open(settings)
    try:
        report = handle(Source.from_bytes(json.dumps(body).encode(), f"inbox/{name}"), workspace)
    finally:
        workspace.close()
    return json.loads(report.model_dump_json())


def erp_files(settings: Settings) -> list[str]:
    return sorted(p.name for p in settings.erp_dir.iterdir() if not p.name.startswith("."))


def test_an_accepted_order_is_archived_audited_and_sent_once(shop: Settings) -> None:  # noqa: F811
    report = process(shop, "order-1.json", order())
    assert (report["status"], report["entity"], report["entities"]) == ("accepted", "order", {"order": 1})
    [sent] = erp_files(shop)
    assert report["outputs"] == [f"outbox/erp/{sent}"] and sent.startswith("ORDER_SO-1_")
    assert report["archive"] and (shop.base_dir / report["archive"]).exists()

    again = process(shop, "order-1-again.json", order())  # the same bytes under another name
    assert again["status"] == "duplicate" and [i["code"] for i in again["issues"]] == ["duplicate-content"]
    changed = process(shop, "order-1-v2.json", order(shipping_address={"city": "Bonn"}))  # same id, new content
    assert changed["status"] == "duplicate" and [i["code"] for i in changed["issues"]] == ["duplicate-order"]
    assert erp_files(shop) == [sent]


def test_a_rejected_order_is_quarantined_and_sends_nothing(shop: Settings) -> None:  # noqa: F811
    report = process(shop, "order-bad.json", order(lines=[{"sku": "A-1", "quantity": "1", "unit_price": "1.00"}]))
    assert report["status"] == "rejected" and [i["code"] for i in report["issues"]] == ["price-mismatch"]
    assert "quarantine" in report["archive"]
    assert not shop.erp_dir.exists() or erp_files(shop) == []


def test_replaying_an_order_file_sends_the_erp_nothing(shop: Settings, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    first = process(shop, "order-1.json", order())
    monkeypatch.chdir(shop.base_dir)
    config = '[orders.edifact]\nsender_id = "4012345000009"\nrecipient_id = "4098765000004"\n'
    (shop.base_dir / "exchanged.toml").write_text(config)
    monkeypatch.delenv("EXCHANGED_CONFIG", raising=False)
    assert main(["replay", first["id"], "--json"]) == 0
    [replayed] = json.loads(capsys.readouterr().out)
    assert replayed["status"] == "duplicate" and [i["code"] for i in replayed["issues"]] == ["duplicate-order"]
    assert len(erp_files(shop)) == 1


def test_an_order_waits_for_the_prices_that_arrived_before_it(tmp_path: Path) -> None:



    settings = settings_for(tmp_path)
    inbox = settings.folder("inbox")
    inbox.mkdir(parents=True)
    # Arrival order: the catalogue, then the order. The daemon evaluates them in parallel, but the
    # order is checked when its turn to commit comes, against what was published before it.
    for number, (name, text) in enumerate((("products.csv", PRODUCTS), ("prices.csv", PRICES),
                                           ("customers.csv", CUSTOMERS), ("order.json", json.dumps(order())))):
        (inbox / name).write_text(text)
        os.utime(inbox / name, (1_700_000_000 + number, 1_700_000_000 + number))
    reports = Daemon(settings, log=EventLog(stream=io.StringIO())).run(once=True)
    assert [(r.file.rsplit("/", 1)[-1], r.status.value) for r in reports][-1] == ("order.json", "accepted")
    assert len(erp_files(settings)) == 1
