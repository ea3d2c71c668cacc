"""``ZoneName``: an IANA time zone name, checked when a config or layout is read."""

from __future__ import annotations

import zoneinfo
from typing import Annotated

from pydantic import AfterValidator


def known_zone(name: str) -> str:
    """``name`` when ``zoneinfo`` knows it, else a ValueError naming it (pydantic reports it)."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)") from None
    return name


ZoneName = Annotated[str, AfterValidator(known_zone)]

__all__ = ["ZoneName", "known_zone"]
