"""Input and output formats, one module each, registered here by name (no discovery magic).

``detect_format`` looks at the bytes, not the file name: ERPs name files freely. Only CSV has
readers in this release; EDIFACT and XML are recognised so that such a file is rejected with a clear
``no-mapping`` naming its format instead of being misread as CSV.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from exchanged.errors import InputRejected
from exchanged.report import Issue

if TYPE_CHECKING:
    from exchanged.mapping import Mapping

_BOM = b"\xef\xbb\xbf"
_EDIFACT_START = re.compile(rb"UN[ABH][+:|]|UNA.{6}")


def detect_format(data: bytes, name: str = "") -> str:
    """``"xml"``, ``"edifact"`` or ``"csv"`` from the first bytes of the file."""
    head = data[:4096]
    if head.startswith(_BOM):
        head = head[len(_BOM):]
    head = head.lstrip(b" \t\r\n")
    if head.startswith(b"<"):
        return "xml"
    if _EDIFACT_START.match(head):
        return "edifact"
    return "csv"


def _read_csv(data: bytes, mapping: Mapping, max_bytes: int) -> Any:
    from dataclasses import replace

    from exchanged.formats.csv import read_csv

    return read_csv(data, replace(mapping.csv.options(), max_bytes=max_bytes))


READERS: dict[str, Callable[[bytes, Mapping, int], Any]] = {"csv": _read_csv}


def read_for_mapping(data: bytes, mapping: Mapping, max_bytes: int) -> Any:
    """Read ``data`` the way ``mapping`` says (its format and options)."""
    reader = READERS.get(mapping.format)
    if reader is None:
        raise InputRejected(Issue(code="unsupported-format", message=f"no reader for format {mapping.format!r}"))
    return reader(data, mapping, max_bytes)
