"""Stale full snapshots (DESIGN §1 status ``stale``, §5 promise 5): an older snapshot never
overwrites newer data.

A full snapshot is stale for an entity when its ``document_date`` is older than the document date
of any source that built the entity's published state (the manifest entry's ``sources``: the last
full snapshot and the deltas after it). Equal dates are not stale (a re-export of the same day
applies); deltas are never stale; a snapshot without a date, or a state without dated sources, is
not stale; a date that does not parse is ignored (it cannot prove anything stale).

Dates are ISO 8601 dates (``2026-11-27``, ``20261127``) or timestamps (``2026-11-27T08:00:00``,
with ``Z`` or an offset, or without a zone). Two timestamps with zones compare as instants; a
timestamp without a zone is taken as UTC. A date and a timestamp compare on the date: the
timestamp's calendar date as written (in its own offset), so ``2026-11-27T23:30:00-05:00`` is
the 27th.

>>> is_stale("2026-11-26", [{"document_date": "2026-11-27"}])
True
>>> is_stale("2026-11-27", [{"document_date": "2026-11-27T18:00:00Z"}])
False
>>> is_stale("2026-11-27T10:00:00+02:00", [{"document_date": "2026-11-27T09:00:00Z"}])
True
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

__all__ = ["is_stale", "parse_date"]


def is_stale(document_date: str | None, sources: Iterable[dict[str, Any]]) -> bool:
    """True when ``document_date`` is older than the ``document_date`` of one of ``sources``."""
    new = parse_date(document_date)
    if new is None:
        return False
    for source in sources:
        old = parse_date(source.get("document_date")) if isinstance(source, dict) else None
        if old is not None and _before(new, old):
            return True
    return False


def parse_date(text: object) -> dt.date | dt.datetime | None:
    """An ISO 8601 date or timestamp (a timestamp without a zone is made UTC); None if it is not one."""
    if not isinstance(text, str) or not text.strip():
        return None
    text = text.strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.timezone.utc)


def _before(a: dt.date | dt.datetime, b: dt.date | dt.datetime) -> bool:
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return a < b  # both carry a zone: instants
    return _day(a) < _day(b)


def _day(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value
