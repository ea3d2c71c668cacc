"""The source table's columns as a mapping sees them: found by name, prepared once, checked.

Names are looked up exactly first, then with blanks at the ends and letter case ignored (the same
rule routing uses), so ``EAN`` finds a header `` ean ``. A column read by several fields (``sku``
in product and price) is stripped and emptied once.
"""

from __future__ import annotations

import re

import pyarrow as pa

from exchanged.errors import InputRejected
from exchanged.mapping import transforms as tf
from exchanged.mapping.rules import ATTRIBUTE_WILDCARD
from exchanged.mapping.spec import Mapping
from exchanged.report import Issue, Location


def normalise(name: str) -> str:
    """How header names compare: blanks at the ends, a BOM and letter case do not count."""
    return name.strip().lstrip("\ufeff").strip().casefold()


class SourceColumns:
    """Lookup and per-file cache over one source table."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table
        self.names: list[str] = list(table.column_names)
        self._exact: dict[str, int] = {}
        self._loose: dict[str, int] = {}
        for index, name in enumerate(self.names):
            self._exact.setdefault(name, index)
            self._loose.setdefault(normalise(name), index)
        self._prepared: dict[tuple[int, bool, str], tf.Column] = {}

    def find(self, name: str) -> int | None:
        """The index of column ``name``, or None when the file has no such column."""
        found = self._exact.get(name)
        return found if found is not None else self._loose.get(normalise(name))

    def raw(self, index: int) -> tf.Column:
        """The column as read (for quoting failing values)."""
        return self.table.column(index)

    def prepared(self, index: int, strip: bool, empty: str) -> tf.Column:
        """The column stripped (if ``strip``), empty cells null (``empty = "null"``) or ``""`` ("keep")."""
        key = (index, strip, empty)
        if key not in self._prepared:
            values = self.table.column(index)
            if strip:
                values = tf.strip_blanks(values)
            # Readers may give an empty cell as "" or as null: "null" makes both null, "keep" both "".
            values = tf.empty_to_null(values) if empty == "null" else tf.keep_empty(values)
            self._prepared[key] = values
        return self._prepared[key]

    def preview(self, limit: int = 8) -> str:
        """The first header names, for messages: ``Artikelnr, EAN, … (12 columns)``."""
        shown = ", ".join(self.names[:limit])
        return shown + (f", … ({len(self.names)} columns)" if len(self.names) > limit else "")


def column_pattern(glob: str) -> re.Pattern[str]:
    """A column pattern with one ``*`` (``Merkmal_*``); the star captures the attribute name."""
    head, tail = glob.split("*", 1)
    return re.compile(f"^{re.escape(head)}(.+){re.escape(tail)}$", re.IGNORECASE | re.DOTALL)


def require_columns(mapping: Mapping, columns: SourceColumns) -> None:
    """Every column a field needs must be in the file (``optional`` ones and patterns aside)."""
    missing: list[tuple[str, str]] = []
    for entity, specs in mapping.entity.items():
        for path, spec in specs.items():
            if spec.optional or path == ATTRIBUTE_WILDCARD:
                continue
            missing.extend((name, f"entity.{entity}.{path}") for name in spec.source_columns if columns.find(name) is None)
    if mapping.op is not None and mapping.mode == "delta" and not mapping.op.optional:
        missing.extend((name, "op") for name in mapping.op.source_columns if columns.find(name) is None)
    if missing:
        name, key = missing[0]
        others = f" (and {', '.join(repr(n) for n, _ in missing[1:])})" if len(missing) > 1 else ""
        raise InputRejected(Issue(
            code="missing-column", location=Location(field=name),
            message=f"the file has no column {name!r}{others}, which mapping {mapping.name!r} reads for {key}; "
                    f"its header is: {columns.preview()}",
        ))


def unknown_columns(mapping: Mapping, columns: SourceColumns) -> list[Issue]:
    """With ``unknown_columns = "warn"``: one warning per header column no field reads."""
    if mapping.unknown_columns != "warn":
        return []
    used = {columns.find(name) for name in mapping.columns_used if "*" not in name}
    patterns = [column_pattern(name) for name in mapping.columns_used if "*" in name]
    issues = []
    for index, name in enumerate(columns.names):
        if index in used or any(p.match(name.strip()) for p in patterns):
            continue
        issues.append(Issue(
            code="unknown-column", severity="warning", location=Location(column=index + 1, field=name),
            message=f"column {name!r} is not read by mapping {mapping.name!r}; its values are ignored",
        ))
    return issues


__all__ = ["SourceColumns", "column_pattern", "normalise", "require_columns", "unknown_columns"]
