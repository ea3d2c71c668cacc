"""An order file's verdict: its orders checked against what is published, ready to be sent.

A file's orders are accepted together or rejected together (DESIGN §3: "an order is accepted
whole or not at all"; a file of several orders holds none back silently): any error rejects the
file and nothing goes to the ERP. Here each order is also rendered once in the ERP's format, so
text the format cannot carry rejects the order now instead of failing later.

The checks against what is published (``recheck``) run when the file is committed, after the
inputs that arrived before it are published: the daemon evaluates files in parallel, and an
order must be checked against the catalogue as it stands when the order's turn comes (DESIGN §5
promise 5), not as it stood while an earlier price list was still being read. ``exchanged check``
runs them right after evaluating (``check_published``), against what is published then.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from exchanged.config import Settings
from exchanged.errors import ConfigError, InputRejected
from exchanged.orders.checks import Quoter, check_order
from exchanged.orders.published import catalog, file_stamp
from exchanged.records.order import Order
from exchanged.report import FileReport, Issue, IssueCollector, Location, Status

Located = tuple[Order, Location]


def judge_orders(report: FileReport, collector: IssueCollector, orders: list[Located], settings: Settings) -> list[Located]:
    """Check ``orders`` on their own (``collector`` may already hold the file's reading issues); set
    the report's status and counts; return the orders to send (none when the file is rejected).
    The checks against what is published come at commit (``recheck``)."""
    report.entity = "order"
    if orders and not collector.errors:
        _check_writable([o for o, _ in orders], [w for _, w in orders], settings, collector)
    report.issues, report.issues_truncated = collector.issues, collector.truncated
    if collector.errors or not orders:
        report.status = Status.REJECTED
        report.records, report.entities = 0, {}
        return []
    report.status = Status.ACCEPTED
    report.records = len(orders)
    report.entities = {"order": len(orders)}
    return orders


def recheck(orders: list[Located], report: FileReport, settings: Settings) -> bool:
    """The checks against what is published, again, at commit time. False (the report rejected,
    with the issues) when an order no longer passes."""
    collector = IssueCollector(settings.issue_limit)
    _check_published(orders, settings, collector)
    # What the evaluation said about the published state is replaced by what holds now (prices
    # not yet published while the order was read may be published by its turn).
    report.issues = [*(issue for issue in report.issues if issue.code != "prices-not-checked"), *collector.issues]
    if not collector.errors:
        return True
    report.status = Status.REJECTED
    report.records, report.entities = 0, {}
    return False


def check_published(evaluation: Any, settings: Settings) -> None:
    """``exchanged check``: the commit-time checks of an evaluated order file, against the state
    published now (read only)."""
    if evaluation.orders and not recheck(evaluation.orders, evaluation.report, settings):
        evaluation.orders = []


def _check_published(orders: list[Located], settings: Settings, collector: IssueCollector) -> None:
    if not orders:
        return
    quote = _quoter(settings, collector) if settings.orders.check_prices else None
    published = catalog(settings.shop_dir)
    for order, where in orders:
        collector.extend(check_order(order, where, published, quote, settings.orders.price_tolerance))


def _check_writable(orders: list[Order], where: list[Location], settings: Settings, collector: IssueCollector) -> None:
    from exchanged.orders.send import render

    now = dt.datetime.now(dt.timezone.utc)
    for order, location in zip(orders, where):
        try:
            render(order, settings, now, control_ref="1")  # a trial: the real number is drawn when sent
        except ConfigError as exc:
            collector.add(Issue(code="orders-not-configured", message=f"orders cannot be written for the ERP: {exc}"))
            return
        except InputRejected as rejected:
            issue = rejected.issue
            collector.add(issue.model_copy(update={"location": location.with_field(issue.location.field or "")}))


_BOOKS: dict[Path, tuple[tuple[int, ...], Any]] = {}
_LOCK = threading.Lock()


def _quoter(settings: Settings, collector: IssueCollector) -> Quoter | None:
    """The price engine's quote for the published prices; None (with a warning) when no prices are
    published at all: a shop that does not replicate prices cannot have them checked."""
    prices = settings.shop_dir / "price.parquet"
    try:
        status = prices.stat()
        customers = settings.shop_dir / "customer.parquet"
        stamp = (status.st_mtime_ns, status.st_size, *file_stamp(customers))
    except FileNotFoundError:
        collector.add(Issue(code="prices-not-checked", severity="warning",
                            message="no prices are published (outbox/shop/price.parquet): unit prices were not checked"))
        return None
    from exchanged.pricing import PriceBook

    with _LOCK:
        cached = _BOOKS.get(settings.shop_dir)
    if cached is None or cached[0] != stamp:
        cached = (stamp, PriceBook.load(settings.shop_dir))
        with _LOCK:
            _BOOKS[settings.shop_dir] = cached
    book = cached[1]
    quote: Callable[..., Any] = book.quote
    return lambda customer, sku, quantity, at, currency: quote(customer, sku, quantity, at, currency=currency)


__all__ = ["Located", "check_published", "judge_orders", "recheck"]
