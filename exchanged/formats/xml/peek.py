"""What routing needs from an XML file: its root element, the namespaces the root declares, and the
names of the root's first children (BMEcat says T_NEW_CATALOG or T_UPDATE_PRODUCTS there).

Only the start of the file is parsed: the scan stops at the first child that repeats (the body
has begun: a UBL CatalogueLine, a BMEcat PRODUCT's parent) or after ``max_events`` parser events.
The file is checked for entities first (``safe.check_safe``), so routing never parses a bomb.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from lxml import etree

from exchanged.errors import InputRejected
from exchanged.formats.xml.safe import check_safe, parser_options, syntax_issue
from exchanged.report import Issue, Location


@dataclass(frozen=True)
class XmlRoot:
    namespace: str | None
    local: str
    declared: frozenset[str]                          # namespace URIs declared on the root element
    children: frozenset[tuple[str | None, str]]       # (namespace, local name) of the root's first children

    def __str__(self) -> str:
        return f"<{self.local}>" + (f" in namespace {self.namespace}" if self.namespace else " without namespace")


def peek_root(data: bytes, *, max_events: int = 20_000) -> XmlRoot:
    """The root element and its first children; ``xml-unsafe`` / ``xml-syntax`` when unreadable."""
    check_safe(data)
    root: XmlRoot | None = None
    children: set[tuple[str | None, str]] = set()
    depth = 0
    events = etree.iterparse(io.BytesIO(data), events=("start", "end"), **parser_options())
    try:
        for count, (event, element) in enumerate(events):
            if event == "end":
                depth -= 1
                continue
            depth += 1
            if depth == 1:
                name = etree.QName(element)
                root = XmlRoot(name.namespace, name.localname, frozenset(element.nsmap.values()), frozenset())
            elif depth == 2 and isinstance(element.tag, str):
                name = etree.QName(element)
                if (name.namespace, name.localname) in children:
                    break
                children.add((name.namespace, name.localname))
            if count >= max_events:
                break
    except etree.XMLSyntaxError as exc:
        if root is None or not children:
            raise InputRejected(syntax_issue(exc)) from None
        # Routing has what it needs; the reader reports the fault with its location.
    if root is None:
        raise InputRejected(Issue(code="xml-syntax", location=Location(line=1), message="no root element"))
    return XmlRoot(root.namespace, root.local, root.declared, frozenset(children))


__all__ = ["XmlRoot", "peek_root"]
