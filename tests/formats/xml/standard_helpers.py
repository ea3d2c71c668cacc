"""What the tests of the built-in XML mappings share: run a document, read its records and issues."""

from __future__ import annotations

import datetime as dt
from typing import Any

from exchanged.config import Settings
from exchanged.mapping import load_mappings
from exchanged.pipeline import Evaluation, Source, evaluate
from exchanged.report import Issue

BUILTIN = load_mappings(None)
UTC = dt.timezone.utc

UBL_NS = ('xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
          'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"')
OT_NS = 'xmlns="http://www.opentrans.org/XMLSchema/2.1" xmlns:bmecat="http://www.bmecat.org/bmecat/2005"'


def run(text: str, name: str = "document.xml") -> Evaluation:
    return evaluate(Source.from_bytes(text.encode("utf-8"), f"inbox/{name}"), BUILTIN, Settings())


def records(evaluation: Evaluation, entity: str) -> list[dict[str, Any]]:
    update = next((u for u in evaluation.updates if u.entity == entity), None)
    if update is None:
        return []
    return [{k: v for k, v in row.items() if v not in (None, {}, [])} for row in update.records.to_pylist()]


def deletes(evaluation: Evaluation, entity: str) -> list[dict[str, Any]]:
    update = next(u for u in evaluation.updates if u.entity == entity)
    assert update.deletes is not None
    return [{k: v for k, v in row.items() if v is not None} for row in update.deletes.to_pylist()]


def errors(evaluation: Evaluation) -> list[Issue]:
    return [issue for issue in evaluation.report.issues if issue.severity == "error"]


def where(issue: Issue) -> tuple[str, str | None, int | None, str | None]:
    return issue.code, issue.location.field, issue.location.line, issue.location.xpath


def ubl(root: str, body: str, header: str = "") -> str:
    """A UBL document: XML declaration, root start tag, header (one line); the body starts on line 4."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{root}-2" {UBL_NS}>\n'
            f"<cbc:UBLVersionID>2.1</cbc:UBLVersionID><cbc:ID>DOC-1</cbc:ID><cbc:IssueDate>2024-05-02</cbc:IssueDate>"
            f"{header}\n{body}\n</{root}>\n")


def opentrans(root: str, info: str, items: str, *, extra_header: str = "") -> str:
    """An openTRANS 2.1 document; the items start on line 5."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} version="2.1" {OT_NS}>\n'
            f"<{root}_HEADER><CONTROL_INFO><GENERATION_DATE>2024-05-02T08:00:00+02:00</GENERATION_DATE></CONTROL_INFO>"
            f"<{root}_INFO>{info}</{root}_INFO>{extra_header}</{root}_HEADER>\n"
            f"<{root}_ITEM_LIST>\n{items}\n</{root}_ITEM_LIST>\n</{root}>\n")
