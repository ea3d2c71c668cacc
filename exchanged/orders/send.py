"""The ERP file of each accepted order in ``outbox/erp/``, written once (DESIGN §5 promise 4).

``ORDER_<order id>_<first 12 hex of the input's sha256>.<edi|csv|xml>``, sanitised (no path
separators, no control characters). Each order id is sent once: a journal entry per order id
in ``work/orders-sent/`` records which input sent it and holds the exact bytes while they are
being written::

    journal entry written ("writing", with the bytes)  ->  ERP file written  ->  entry "sent"

* The same order again (another file, a replay on purpose) finds an entry that another input wrote
  and is not sent: ``duplicate-order``.
* A crash between the steps: the replay of the same input finds its own entry. If it says
  "writing", the ERP file is written again from the bytes in the entry: same name, same bytes (the
  EDIFACT control reference is not drawn twice), so an ERP that already took the first copy finds
  a file identical in name and content. If it says "sent", nothing is written.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from exchanged.archive import safe_name
from exchanged.atomic import write_atomic
from exchanged.config import Settings
from exchanged.records.order import Order
from exchanged.report import FileReport, Issue, Location, Status

EXTENSIONS = {"edifact": "edi", "csv": "csv", "opentrans": "xml", "xml": "xml"}


def render(order: Order, settings: Settings, now: dt.datetime, *, control_ref: str | None = None) -> bytes:
    """The order in the ERP's format. Raises InputRejected for text the format cannot carry.
    ``control_ref``: EDIFACT only; None draws the next one from the persistent counter."""
    orders = settings.orders
    config = orders.writer_config(settings.base_dir)
    if orders.format == "edifact":
        from exchanged.formats.edifact.control_ref import next_control_ref
        from exchanged.formats.edifact.orders import write_orders

        if control_ref is None:
            control_ref = next_control_ref(settings.folder("work") / "edifact-control-ref", config.sender_id, config.recipient_id)
        return write_orders(order, config, control_ref, now)
    if orders.format == "opentrans":
        from exchanged.formats.xml.opentrans import write_opentrans_order

        return write_opentrans_order(order, config, now)
    if orders.format == "csv":
        from exchanged.formats.csv_orders import write_csv_order

        return write_csv_order(order, config, now)
    from exchanged.formats.xml.layout import write_xml_order

    return write_xml_order(order, config, now)


def dispatch_orders(located: list[tuple[Order, Location]], report: FileReport, settings: Settings,
                    show: Callable[[Path], str]) -> None:
    """At commit: check the orders again against what is published now (``evaluate.recheck``),
    then send each one not sent before. A file whose every order was sent before is a duplicate."""
    from exchanged.orders.evaluate import recheck

    if not located or report.status not in (Status.ACCEPTED, Status.PARTIAL):
        return
    journal = _journal(settings)
    fresh = [(order, where) for order, where in located
             if (entry := _read(_entry_path(journal, order))) is None or entry["report_id"] == report.id]
    if fresh and not recheck(fresh, report, settings):  # an order sent before stays a duplicate, whatever changed
        return
    if send_orders([order for order, _ in located], report, settings, show) == 0:
        report.status = Status.DUPLICATE


def send_orders(orders: list[Order], report: FileReport, settings: Settings, show: Callable[[Path], str]) -> int:
    """Write the ERP file of each order not sent before; list them in ``report.outputs``, each
    order sent before as a ``duplicate-order`` warning. Returns how many were sent now."""
    journal = _journal(settings)
    journal.mkdir(parents=True, exist_ok=True)
    settings.erp_dir.mkdir(parents=True, exist_ok=True)
    sent = 0
    for order in orders:
        entry_path = _entry_path(journal, order)
        entry = _read(entry_path)
        if entry is not None and entry["report_id"] != report.id:
            report.issues.append(Issue(
                code="duplicate-order", severity="warning", location=Location(field="order_id"), value=order.order_id,
                message=f"order {order.order_id} was sent to the ERP before ({entry['file']}, by input {entry['report_id']}); "
                        "not sent again"))
            continue
        target = settings.erp_dir / Path(entry["file"]).name if entry is not None else settings.erp_dir / safe_name(
            f"ORDER_{order.order_id}_{report.sha256[:12]}.{EXTENSIONS[settings.orders.format]}")
        if entry is None:
            data = render(order, settings, dt.datetime.now(dt.timezone.utc))
            entry = {"order_id": order.order_id, "report_id": report.id, "file": target.name, "state": "writing",
                     "data": base64.b64encode(data).decode("ascii")}
            write_atomic(entry_path, json.dumps(entry).encode())
        if entry["state"] == "writing":
            write_atomic(target, base64.b64decode(entry["data"]))
            entry = {**entry, "state": "sent", "data": None}
            write_atomic(entry_path, json.dumps(entry).encode())
        report.outputs.append(show(target))
        sent += 1
    return sent


def _journal(settings: Settings) -> Path:
    return settings.folder("work") / "orders-sent"


def _entry_path(journal: Path, order: Order) -> Path:
    """One entry per order id; hashed, so that any id makes a safe file name."""
    return journal / f"{hashlib.sha256(order.order_id.encode()).hexdigest()[:40]}.json"


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        return None


__all__ = ["EXTENSIONS", "dispatch_orders", "render", "send_orders"]
