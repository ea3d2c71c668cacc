"""Helpers for the mapping tests: mappings from TOML text, sources from plain columns."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from exchanged.mapping import Mapping
from exchanged.mapping.loader import parse_mapping


@dataclass
class Source:
    """A stand-in for ``formats.csv.TabularSource``: all-string table, line and row per row."""

    table: pa.Table
    lines: pa.Array
    rows: pa.Array
    issues: list[Any] = field(default_factory=list)


def make_source(columns: dict[str, list[str | None]], first_line: int = 2) -> Source:
    table = pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})
    count = table.num_rows
    return Source(table, pa.array(range(first_line, first_line + count), pa.int64()), pa.array(range(1, count + 1), pa.int64()))


def make_mapping(text: str, name: str = "test.toml") -> Mapping:
    return parse_mapping(textwrap.dedent(text), Path(name))
