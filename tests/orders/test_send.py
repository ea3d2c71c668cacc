"""The ERP file of each order: named from the order and the input, in the configured format, sent once."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from exchanged.config import Settings
from exchanged.orders.send import dispatch_orders, send_orders
from exchanged.orders.settings import OrdersSettings
from exchanged.records.order import Order
from exchanged.report import FileReport, Location, Status

EDIFACT = {"sender_id": "4012345000009", "recipient_id": "4098765000004"}
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def an_order(order_id: str = "SO-1/2026") -> Order:
    return Order.model_validate({
        "order_id": order_id, "customer_id": "K-1", "ordered_at": "2026-11-27T10:00:00+01:00", "currency": "EUR",
        "lines": [{"sku": "A-1", "quantity": "2", "unit_price": "10.00", "description": "Hammer"}],
        "totals": {"net": "20.00", "gross": "20.00"}})


def a_report(report_id: str = "20261127T100000000-00000001", sha: str = "ab" * 32) -> FileReport:
    return FileReport(id=report_id, file="inbox/order.json", sha256=sha, size=1, status=Status.ACCEPTED,
                      received_at="2026-11-27T09:00:00Z")


def settings_for(base: Path, **orders: Any) -> Settings:
    return Settings(base_dir=base, orders=OrdersSettings(**({"edifact": EDIFACT} | orders)))


def sent_files(settings: Settings) -> list[str]:
    return sorted(p.name for p in settings.erp_dir.iterdir())


def test_an_order_becomes_one_edifact_file_named_after_order_and_input(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    report = a_report()
    assert send_orders([an_order()], report, settings, str) == 1
    [name] = sent_files(settings)
    assert name == "ORDER_SO-1_2026_abababababab.edi"  # the "/" of the order id cannot make a folder
    data = (settings.erp_dir / name).read_bytes()
    assert data.startswith(b"UNA:+.? '") and b"UNH+1+ORDERS:D:96A:UN:EAN008'" in data and b"BGM+220+SO-1/2026+9'" in data
    assert report.outputs == [str(settings.erp_dir / name)]


@pytest.mark.parametrize(("orders", "suffix", "marker"), [
    ({"format": "opentrans", "opentrans": {"supplier_id": "SUP-1"}}, ".xml", b"<ORDER "),
    ({"format": "csv", "layout": EXAMPLES / "erp-order-lines.csv.toml"}, ".csv", b"SO-1/2026"),
    ({"format": "xml", "layout": EXAMPLES / "erp-order-layout.toml"}, ".xml", b"SO-1/2026"),
])
def test_each_configured_format_is_written(tmp_path: Path, orders: dict, suffix: str, marker: bytes) -> None:
    settings = Settings(base_dir=tmp_path, orders=OrdersSettings(**orders))
    send_orders([an_order()], a_report(), settings, str)
    [name] = sent_files(settings)
    assert name.endswith(suffix) and marker in (settings.erp_dir / name).read_bytes()


def test_the_same_order_from_another_input_is_not_sent_again(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    send_orders([an_order()], a_report(), settings, str)
    again = a_report("20261127T110000000-00000002", "cd" * 32)
    assert send_orders([an_order()], again, settings, str) == 0
    assert len(sent_files(settings)) == 1
    [issue] = again.issues
    assert (issue.code, issue.severity, issue.value) == ("duplicate-order", "warning", "SO-1/2026")
    assert "20261127T100000000-00000001" in issue.message


def test_a_crash_between_journal_and_erp_file_replays_the_same_bytes(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    send_orders([an_order()], a_report(), settings, str)
    [name] = sent_files(settings)
    first = (settings.erp_dir / name).read_bytes()
    # As if the daemon died after the journal entry and before the ERP file: the file is not there
    # and the entry says "writing", with the bytes.
    [entry_path] = (tmp_path / "work" / "orders-sent").iterdir()
    entry = json.loads(entry_path.read_bytes())
    entry_path.write_text(json.dumps({**entry, "state": "writing", "data": base64.b64encode(first).decode()}))
    (settings.erp_dir / name).unlink()
    replay = a_report()  # the same input (same report id) committed again
    assert send_orders([an_order()], replay, settings, str) == 1
    assert (settings.erp_dir / name).read_bytes() == first  # same name, same bytes, same control reference
    assert json.loads(entry_path.read_bytes())["state"] == "sent"
    assert send_orders([an_order()], a_report(), settings, str) == 1  # finished: nothing written again
    assert sent_files(settings) == [name]


def test_control_references_never_repeat_across_orders(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    send_orders([an_order("SO-1"), an_order("SO-2")], a_report(), settings, str)
    unbs = [(settings.erp_dir / name).read_bytes().split(b"UNB+", 1)[1].split(b"'", 1)[0] for name in sent_files(settings)]
    refs = [unb.split(b"+")[4] for unb in unbs]  # UNB 0020
    assert len(set(refs)) == 2


def test_an_input_whose_orders_were_all_sent_before_is_a_duplicate(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    send_orders([an_order()], a_report(), settings, str)
    second = a_report("20261127T110000000-00000002", "cd" * 32)
    # Sent before: a duplicate, even though the article is no longer published (nothing is here).
    dispatch_orders([(an_order(), Location(row=1))], second, settings, str)
    assert second.status is Status.DUPLICATE and second.outputs == []
    assert [i.code for i in second.issues] == ["duplicate-order"]


def test_an_order_that_no_longer_passes_at_commit_is_rejected_and_not_sent(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)  # nothing published: the article is unknown by now
    report = a_report()
    dispatch_orders([(an_order(), Location(row=1))], report, settings, str)
    assert report.status is Status.REJECTED and [i.code for i in report.issues if i.severity == "error"] == ["unknown-sku"]
    assert not settings.erp_dir.exists() or sent_files(settings) == []
