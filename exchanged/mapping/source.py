"""The source table's columns as a mapping sees them: found by name, prepared once.

Names are looked up exactly first, then with blanks at the ends and letter case ignored (the same
rule routing uses), so ``EAN`` finds a header `` ean ``. A column read by several fields (``sku``
in product and price) is stripped and emptied once.
"""

from __future__ import annotations

import pyarrow as pa

from exchanged.mapping import transforms as tf


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


__all__ = ["SourceColumns", "normalise"]
