"""Input and output formats, one module each, registered here by name (no discovery magic).

``detect_format`` looks at the bytes, not the file name: ERPs name files freely. Each format's
reader is imported only when a file of that format arrives.
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
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_EDIFACT_START = re.compile(rb"UN[ABH][+:|]|UNA.{6}")
# After junk lines (an ERP's banner before UNB), or without any envelope (a bare body, a mangled
# UNB): a service segment at a line start, or segments one after another ("'" then a tag and "+").
_EDIFACT_INSIDE = re.compile(rb"(?:^|[\r\n'])[ \t]*UN[ABH][+:|]")
_SEGMENT_AFTER_TERMINATOR = re.compile(rb"'[ \t\r\n]*[A-Z][A-Z0-9]{2}\+")


def detect_format(data: bytes, name: str = "") -> str:
    """``"xml"``, ``"json"`` (canonical orders), ``"edifact"`` or ``"csv"`` from the first bytes."""
    head = data[:4096]
    if head.startswith(_BOM):
        head = head[len(_BOM):]
    if head.startswith(_UTF16_BOMS):  # XML in UTF-16 (the XML declaration's encoding, BOM required)
        head = head.decode("utf-16", "replace").encode("utf-8", "replace")
    head = head.lstrip(b" \t\r\n")
    if head.startswith(b"<"):
        return "xml"
    if head.startswith((b"{", b"[")):
        return "json"
    if _EDIFACT_START.match(head) or _EDIFACT_INSIDE.search(head):
        return "edifact"
    if len(_SEGMENT_AFTER_TERMINATOR.findall(head)) >= 3:
        return "edifact"
    return "csv"


def _read_csv(data: bytes, mapping: Mapping, max_bytes: int) -> Any:
    from dataclasses import replace

    from exchanged.formats.csv import read_csv

    return read_csv(data, replace(mapping.csv.options(), max_bytes=max_bytes))


def _read_edifact(data: bytes, mapping: Mapping, max_bytes: int) -> Any:
    from exchanged.formats.edifact.records import read_edifact

    assert mapping.edifact is not None  # the mapping's rules require it for format = edifact
    selectors = {entity: [c for spec in fields.values() for c in spec.source_columns]
                 for entity, fields in mapping.entity.items()}
    match = mapping.match
    return read_edifact(data, mapping.edifact, selectors,
                        lambda m: match.accepts_message(m.type, f"{m.version}:{m.release}", m.association))


def _read_xml(data: bytes, mapping: Mapping, max_bytes: int) -> Any:
    from exchanged.formats.xml.records import read_xml

    assert mapping.xml is not None  # the mapping's rules require it for format = xml
    op = mapping.op.source_columns if mapping.op is not None else []
    columns = {entity: [c for spec in fields.values() for c in spec.source_columns] + op
               for entity, fields in mapping.entity.items()}
    return read_xml(data, mapping.xml, columns)


READERS: dict[str, Callable[[bytes, Mapping, int], Any]] = {"csv": _read_csv, "edifact": _read_edifact, "xml": _read_xml}


def read_for_mapping(data: bytes, mapping: Mapping, max_bytes: int) -> Any:
    """Read ``data`` the way ``mapping`` says (its format and options)."""
    reader = READERS.get(mapping.format)
    if reader is None:
        raise InputRejected(Issue(code="unsupported-format", message=f"no reader for format {mapping.format!r}"))
    return reader(data, mapping, max_bytes)
