"""``exchanged roi``: what the integration saves, from the ledger's real counts (docs/roi.md).

The classic ERP-integration ROI calculation, per kind of occurrence a person would otherwise
handle by hand::

    saving per day  = cost per occurrence × occurrences per working day × gain % / 100
    saving per year = cost per occurrence × occurrences per year        × gain % / 100

Occurrences come from the audit ledger, read-only; costs and gains are estimates from ``[roi]``.
What counts (see :data:`KINDS`): the records of the files that published something (``accepted``
or ``partial``), each content once: a replay or re-delivery of content already applied is not new
work. ``rejected``, ``duplicate`` and ``stale`` files published nothing and count nothing.

Averages are per *working* day, and the working days of a period are estimated from its calendar
days at the configured rate (``days × working_days_per_year / 365``): a weekend's orders are keyed
in on Monday, and a fixed rate keeps a rolling 30-day figure from jumping with how many weekends
the window happens to hold. So ``per year = per day × working_days_per_year`` is the observed
volume annualised. Days are UTC days, as the ledger stores its timestamps.

Decimal arithmetic throughout; amounts are rounded (2 places, half up) only by :func:`render_roi`
and :func:`roi_json`.
"""

from __future__ import annotations

import decimal
import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from exchanged.errors import OutputUnavailable, UsageError
from exchanged.ledger_rows import utc_timestamp

DAYS_PER_YEAR = 365  # calendar days; leap days do not move an estimate
CENT = Decimal("0.01")
# Fixed precision, independent of whatever the caller's thread context was set to.
_CONTEXT = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN)
# Statuses whose file published records; stale and duplicate files applied nothing.
_COUNTED_STATUSES = ("accepted", "partial")


class RoiSettings(BaseModel):
    """``[roi]``: the estimates the ROI report multiplies the ledger's counts with.

    The defaults are plausible placeholders, not measurements: replace them with your own figures
    (time a person spends per occurrence × their hourly cost; the share of that work that goes away).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: str = Field("EUR", pattern=r"^[A-Z]{3}$", description="ISO 4217 code of the costs below and of the report")
    period_days: int = Field(
        30, ge=1, le=3660, description="the report averages over this many full days before today (today is still incomplete)")
    working_days_per_year: int = Field(
        250, ge=1, le=366, description="working days a year: occurrences per working day × this = per year")
    product_change_basis: Literal["records", "files"] = Field(
        "records",
        description="what one product data change is: 'records' = each product, price, stock or customer record"
        " published (right for delta exports); 'files' = each file published (for full snapshots, whose every"
        " record the ledger counts, changed or not)",
    )
    product_change_cost: Decimal = Field(
        Decimal("2.50"), ge=0, description="estimate: average cost of maintaining one product data change in the shop by hand")
    product_change_gain_percent: Decimal = Field(
        Decimal("80"), ge=0, le=100, description="estimate: share of that handling the integration saves, in percent")
    order_cost: Decimal = Field(
        Decimal("8.00"), ge=0, description="estimate: average cost of keying one shop order into the ERP by hand")
    order_gain_percent: Decimal = Field(
        Decimal("95"), ge=0, le=100, description="estimate: share of that handling the integration saves, in percent")
    status_update_cost: Decimal = Field(
        Decimal("1.50"), ge=0, description="estimate: average cost of updating one order's status in the shop by hand")
    status_update_gain_percent: Decimal = Field(
        Decimal("90"), ge=0, le=100, description="estimate: share of that handling the integration saves, in percent")

    @model_validator(mode="before")
    @classmethod
    def _from_json_text(cls, data: Any) -> Any:
        # The environment layer hands over text: EXCHANGED_ROI='{"order_cost": "9.50"}'.
        if isinstance(data, str):
            try:
                return json.loads(data)
            except ValueError:
                raise ValueError("expected a JSON object such as {\"order_cost\": \"9.50\"}") from None
        return data


@dataclass(frozen=True)
class Kind:
    """One kind of occurrence: which ledger entities it counts, and which settings price it."""

    name: str
    label: str
    entities: tuple[str, ...]
    setting: str  # prefix of the ``<setting>_cost`` and ``<setting>_gain_percent`` fields


KINDS: tuple[Kind, ...] = (
    Kind("product_changes", "product data changes", ("product", "price", "stock", "customer"), "product_change"),
    # The order pipeline records an order file as entity "order", entities {"order": n}: n orders.
    Kind("orders", "orders transferred", ("order",), "order"),
    Kind("status_updates", "order status updates", ("order_status",), "status_update"),
)
_KIND_OF = {entity: kind.name for kind in KINDS for entity in kind.entities}


@dataclass(frozen=True)
class KindRoi:
    """The figures of one kind; amounts in the report's currency, unrounded."""

    kind: str
    label: str
    entities: tuple[str, ...]
    files: int                 # files in the period that contributed occurrences
    occurrences: int           # in the period
    per_day: Decimal           # occurrences per working day
    per_year: Decimal          # occurrences per year (per_day × working days per year)
    cost_per_occurrence: Decimal
    gain_percent: Decimal
    cost_per_day: Decimal      # what handling them by hand costs per working day
    saving_per_day: Decimal
    saving_per_year: Decimal


@dataclass(frozen=True)
class RoiReport:
    first_day: date            # inclusive
    last_day: date             # inclusive (the day before the report's "today")
    calendar_days: int
    working_days: Decimal      # calendar_days × working_days_per_year / 365
    working_days_per_year: int
    currency: str
    product_change_basis: str
    kinds: tuple[KindRoi, ...]
    daily: tuple[tuple[date, dict[str, int]], ...]  # days with occurrences, oldest first

    @property
    def cost_per_day(self) -> Decimal:
        return _total(k.cost_per_day for k in self.kinds)

    @property
    def saving_per_day(self) -> Decimal:
        return _total(k.saving_per_day for k in self.kinds)

    @property
    def saving_per_year(self) -> Decimal:
        return _total(k.saving_per_year for k in self.kinds)


def _total(values: Iterable[Decimal]) -> Decimal:
    with decimal.localcontext(_CONTEXT):
        return sum(values, Decimal(0))


def parse_since(text: str | None) -> date | None:
    """``--since DATE``: an ISO date, the first day of the period."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--since {text!r}: expected an ISO date such as 2026-11-01") from None


def occurrences(entity: str | None, records: int, entities: dict[str, int] | None,
                basis: str = "records") -> dict[str, int]:
    """What one published file counts, per kind: its per-entity record counts summed by kind.

    Reports from before per-entity counts existed carry only ``entity`` and ``records``. Entities
    of no kind (none today) count nothing. With ``basis="files"`` a file with product data counts
    one product change, however many records it holds.
    """
    counts = entities or ({entity: records} if entity else {})
    out: dict[str, int] = defaultdict(int)
    for name, n in counts.items():
        kind = _KIND_OF.get(name)
        if kind is not None and isinstance(n, int) and n > 0:
            out[kind] += n
    if basis == "files" and out.get("product_changes"):
        out["product_changes"] = 1
    return dict(out)


def daily_counts(ledger_path: Path, first_day: date, end: date, basis: str = "records",
                 ) -> tuple[dict[date, dict[str, int]], dict[str, int]]:
    """Occurrences per UTC day received in ``[first_day, end)`` and files per kind, from the ledger.

    A missing ledger means nothing was processed: no occurrences. The ledger is opened read-only
    (``mode=ro``), so a report never changes it, even while the daemon writes.
    """
    days: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    files: dict[str, int] = defaultdict(int)
    if not Path(ledger_path).is_file():
        return {}, {}
    marks = ", ".join("?" * len(_COUNTED_STATUSES))
    # Each content counts once, on its first published row: a later row with the same sha256 is a
    # replay (or a duplicate processed in the same batch) and was no new work for anyone.
    sql = (
        "SELECT r.received_at, r.entity, r.records, json_extract(r.report_json, '$.entities')"
        f" FROM reports r WHERE r.received_at >= ? AND r.received_at < ? AND r.status IN ({marks})"
        f" AND NOT EXISTS (SELECT 1 FROM reports e WHERE e.sha256 = r.sha256 AND e.seq < r.seq"
        f" AND e.status IN ({marks})) ORDER BY r.received_at, r.seq"
    )
    params = [utc_timestamp(first_day), utc_timestamp(end), *_COUNTED_STATUSES, *_COUNTED_STATUSES]
    uri = Path(ledger_path).resolve().as_uri() + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=30.0)
        try:
            rows = conn.execute(sql, params).fetchall()
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF in (5, 6, 14):  # busy, locked, cannot open
            raise OutputUnavailable(f"ledger {ledger_path}: {exc}") from exc
        raise UsageError(f"ledger {ledger_path}: {exc}") from exc
    except sqlite3.DatabaseError as exc:  # not a database, corrupt
        raise UsageError(f"ledger {ledger_path}: {exc}") from exc
    for received_at, entity, records, entities_json in rows:
        entities = json.loads(entities_json) if entities_json else None
        found = occurrences(entity, records, entities if isinstance(entities, dict) else None, basis)
        day = date.fromisoformat(received_at[:10])
        for kind, n in found.items():
            days[day][kind] += n
            files[kind] += 1
    return {day: dict(kinds) for day, kinds in days.items()}, dict(files)


def compute_roi(ledger_path: Path, settings: RoiSettings, *, today: date | None = None,
                since: date | None = None) -> RoiReport:
    """The ROI report over ``[since, today)`` (default: the ``period_days`` days before today, UTC)."""
    today = today or datetime.now(UTC).date()
    first_day = since if since is not None else today - timedelta(days=settings.period_days)
    if first_day >= today:
        raise UsageError(f"--since {first_day.isoformat()}: the period must start before today"
                         f" ({today.isoformat()}, which is incomplete and not counted)")
    days, files = daily_counts(ledger_path, first_day, today, settings.product_change_basis)
    return build_report(days, files, settings, first_day, today)


def build_report(days: dict[date, dict[str, int]], files: dict[str, int], settings: RoiSettings,
                 first_day: date, end: date) -> RoiReport:
    """The report from daily counts (:func:`daily_counts`) over ``[first_day, end)``."""
    calendar_days = (end - first_day).days
    if calendar_days < 1:
        raise ValueError(f"empty period {first_day} .. {end}")
    per_year_days = settings.working_days_per_year
    kinds = []
    with decimal.localcontext(_CONTEXT):
        working_days = Decimal(calendar_days * per_year_days) / DAYS_PER_YEAR
        for kind in KINDS:
            total = sum(day.get(kind.name, 0) for day in days.values())
            cost: Decimal = getattr(settings, f"{kind.setting}_cost")
            gain: Decimal = getattr(settings, f"{kind.setting}_gain_percent")
            # One division each (not per_day × days), so exact inputs give exact figures.
            per_day = Decimal(total * DAYS_PER_YEAR) / Decimal(calendar_days * per_year_days)
            per_year = Decimal(total * DAYS_PER_YEAR) / Decimal(calendar_days)
            kinds.append(KindRoi(
                kind=kind.name, label=kind.label, entities=kind.entities, files=files.get(kind.name, 0),
                occurrences=total, per_day=per_day, per_year=per_year, cost_per_occurrence=cost,
                gain_percent=gain, cost_per_day=cost * per_day, saving_per_day=cost * per_day * gain / 100,
                saving_per_year=cost * per_year * gain / 100,
            ))
    return RoiReport(
        first_day=first_day, last_day=end - timedelta(days=1), calendar_days=calendar_days,
        working_days=working_days, working_days_per_year=per_year_days, currency=settings.currency,
        product_change_basis=settings.product_change_basis, kinds=tuple(kinds),
        daily=tuple((day, {k.name: days[day].get(k.name, 0) for k in KINDS}) for day in sorted(days)),
    )


# --- presentation: the only place amounts are rounded ------------------------------------------

def money(value: Decimal) -> str:
    """Two places, half up: ``Decimal("2.345")`` -> ``"2.35"``."""
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP, context=_CONTEXT))


def render_roi(report: RoiReport) -> str:
    """The report as an aligned text table, one line per kind and a total line (ends with a newline)."""
    header = ("kind", "occurrences", "per day", "cost each", "gain %", "cost per day", "saving per day", "saving per year")
    rows = [(k.label, str(k.occurrences), money(k.per_day), money(k.cost_per_occurrence), money(k.gain_percent),
             money(k.cost_per_day), money(k.saving_per_day), money(k.saving_per_year)) for k in report.kinds]
    total = ("total", "", "", "", "", money(report.cost_per_day), money(report.saving_per_day),
             money(report.saving_per_year))
    widths = [max(len(row[i]) for row in (header, *rows, total)) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        first = cells[0].ljust(widths[0])
        return "  ".join([first, *(cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True))]).rstrip()

    files = sum(k.files for k in report.kinds)
    lines = [
        f"ROI {report.first_day.isoformat()} to {report.last_day.isoformat()}: {report.calendar_days} days"
        f" = {money(report.working_days)} working days at {report.working_days_per_year} a year; amounts in {report.currency}",
        f"counted from the ledger: {files} published file(s), each content once;"
        f" product data changes counted per {'file' if report.product_change_basis == 'files' else 'record'}",
        "costs and gains are the [roi] estimates (docs/roi.md)",
        "",
        line(header),
        *(line(row) for row in rows),
        line(total),
    ]
    return "\n".join(lines) + "\n"


def roi_json(report: RoiReport) -> dict[str, Any]:
    """The report for ``--json``: decimals as strings rounded to 2 places, dates ISO."""
    return {
        "period": {
            "first_day": report.first_day.isoformat(), "last_day": report.last_day.isoformat(),
            "calendar_days": report.calendar_days, "working_days": money(report.working_days),
            "working_days_per_year": report.working_days_per_year,
        },
        "currency": report.currency,
        "product_change_basis": report.product_change_basis,
        "kinds": [
            {
                "kind": k.kind, "label": k.label, "entities": list(k.entities), "files": k.files,
                "occurrences": k.occurrences, "per_day": money(k.per_day), "per_year": money(k.per_year),
                "cost_per_occurrence": money(k.cost_per_occurrence), "gain_percent": money(k.gain_percent),
                "cost_per_day": money(k.cost_per_day), "saving_per_day": money(k.saving_per_day),
                "saving_per_year": money(k.saving_per_year),
            }
            for k in report.kinds
        ],
        "totals": {"cost_per_day": money(report.cost_per_day), "saving_per_day": money(report.saving_per_day),
                   "saving_per_year": money(report.saving_per_year)},
        "daily": [{"date": day.isoformat(), **counts} for day, counts in report.daily],
    }


__all__ = [
    "KINDS", "Kind", "KindRoi", "RoiReport", "RoiSettings", "build_report", "compute_roi", "daily_counts",
    "money", "occurrences", "parse_since", "render_roi", "roi_json",
]
