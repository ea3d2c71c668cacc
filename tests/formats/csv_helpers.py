"""Helpers shared by the CSV test modules."""

from __future__ import annotations

import codecs

import pytest

from exchanged.errors import InputRejected
from exchanged.formats.csv import CsvOptions, read_csv

BOM = codecs.BOM_UTF8


def rows_of(source) -> list[list[str | None]]:
    return [list(row.values()) for row in source.table.to_pylist()]


def ragged(source) -> list[tuple[str, int | None, int | None]]:
    return [(i.code, i.location.line, i.location.row) for i in source.issues]


def rejection(data: bytes, options: CsvOptions = CsvOptions()) -> InputRejected:
    with pytest.raises(InputRejected) as caught:
        read_csv(data, options)
    return caught.value
