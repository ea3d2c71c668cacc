"""The canonical JSON value of an Arrow value (docs/architecture.md), written independently of
``exchanged.formats.jsonl`` so tests can hold the writer to it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pyarrow as pa
from pydantic import TypeAdapter

DATETIME = TypeAdapter(dt.datetime)


def canonical(value: Any, t: pa.DataType) -> Any:
    """The canonical JSON value of a Python value read from Arrow type ``t``."""
    if value is None:
        return None
    if pa.types.is_decimal(t):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if pa.types.is_timestamp(t):
        return json.loads(DATETIME.dump_json(value))  # pydantic's own text for the instant
    if pa.types.is_date(t):
        return value.isoformat()
    if pa.types.is_map(t):
        return {k: canonical(v, t.item_type) for k, v in value}
    if pa.types.is_struct(t):
        return {f.name: canonical(value[f.name], f.type) for f in t}
    if pa.types.is_list(t):
        return [canonical(v, t.value_type) for v in value]
    return value
