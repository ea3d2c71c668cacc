"""XML input, read safely and streaming (DESIGN §4: lxml is imported only under formats/xml).

Hostile-input rules (DESIGN §5 promise 7, issue 5):

* Nothing is fetched and nothing is expanded: no DTD loading, no external entities, no network,
  no entity expansion (lxml ``resolve_entities=False, load_dtd=False, no_network=True``), and no
  huge trees (``huge_tree=False``: libxml2's limits on depth and text size stay on).
* A DOCTYPE that only names an external DTD (``<!DOCTYPE BMECAT SYSTEM "bmecat_2005.dtd">``, common
  in real BMEcat files) is ignored: the file is read as usual, the DTD never fetched.
* A file that declares entities (``<!ENTITY`` in an internal subset) or refers to any entity but
  the five predefined ones is rejected with ``xml-unsafe`` before a parser sees it: entity bombs
  (billion laughs, quadratic blowup) are refused by a byte scan, in little time and memory.
* Syntax errors are ``xml-syntax`` with the line and column libxml2 reports; so is nesting deeper
  than libxml2's limit.
* The encoding comes from the BOM or the XML declaration (libxml2 honours both).

``iter_elements`` streams: each element of the wanted tag is handed over when its end tag is read,
then cleared with the siblings before it, so memory stays flat however long the file is.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

from lxml import etree

from exchanged.errors import InputRejected
from exchanged.report import Issue, Location

_PREDEFINED = {b"lt", b"gt", b"amp", b"quot", b"apos"}
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
_ENTITY_REFERENCE = re.compile(rb"&([A-Za-z_:][-A-Za-z0-9._:]*);")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_MARKUP_TEXT = re.compile(rb"<!\[CDATA\[.*?\]\]>|<!--.*?-->", re.DOTALL)  # "&x;" in them is text, not a reference


def _blank(found: re.Match[bytes]) -> bytes:
    """Keep the line breaks (for the line numbers of later findings), drop the rest."""
    return b"\n" * found.group().count(b"\n")


def check_safe(data: bytes) -> None:
    """Reject (``xml-unsafe``) a file that declares or uses entities, before any parsing."""
    text = _as_utf8(data)
    declared = _ENTITY_DECLARATION.search(text)
    if declared:
        raise InputRejected(Issue(code="xml-unsafe", location=Location(line=_line_of(text, declared.start())),
                                  message="the file declares XML entities (<!ENTITY): refused, entities are never expanded"))
    for used in _ENTITY_REFERENCE.finditer(_MARKUP_TEXT.sub(_blank, text)):
        if used.group(1) not in _PREDEFINED:
            name = used.group(1).decode("ascii", "replace")
            raise InputRejected(Issue(code="xml-unsafe", location=Location(line=_line_of(text, used.start())), value=name,
                                      message=f"the file refers to the entity &{name}; (only &lt; &gt; &amp; &quot; "
                                              "&apos; and character references are read)"))


def _as_utf8(data: bytes) -> bytes:
    """The bytes to scan: UTF-16 files are scanned as UTF-8 (the markup is ASCII either way)."""
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            return data
    return data


def _line_of(text: bytes, offset: int) -> int:
    return text.count(b"\n", 0, offset) + 1


def parser_options(*, huge_tree: bool = False) -> dict[str, Any]:
    """The iterparse options every XML read uses: nothing fetched, nothing expanded, and no huge
    trees unless a mapping asks for them (``[xml] huge_tree``)."""
    return {"resolve_entities": False, "load_dtd": False, "no_network": True, "huge_tree": huge_tree,
            "remove_comments": True, "remove_pis": True}


def iter_elements(data: bytes, tag: str | list[str]) -> Iterator[Any]:
    """Each element named ``tag`` (``{namespace}local``, or several) in document order, cleared
    after the caller is done with it. Raises ``InputRejected`` (``xml-unsafe``, ``xml-syntax``)."""
    check_safe(data)
    events = etree.iterparse(io.BytesIO(data), events=("end",), tag=tag, **parser_options())
    try:
        for _, element in events:
            yield element
            element.clear(keep_tail=False)
            while element.getprevious() is not None:  # drop the siblings already handed over
                del element.getparent()[0]
    except etree.XMLSyntaxError as exc:
        raise InputRejected(syntax_issue(exc)) from None


def root_of(data: bytes) -> tuple[str, str | None]:
    """The root element's local name and namespace URI, for routing (reads only the start)."""
    check_safe(data)
    try:
        for _, element in etree.iterparse(io.BytesIO(data), events=("start",), **parser_options()):
            name = etree.QName(element)
            return name.localname, name.namespace
    except etree.XMLSyntaxError as exc:
        raise InputRejected(syntax_issue(exc)) from None
    raise InputRejected(Issue(code="xml-syntax", message="no root element"))


def syntax_issue(exc: Any) -> Issue:
    """``xml-syntax`` with libxml2's line and column (1-based)."""
    line, column = getattr(exc, "position", (None, None)) or (None, None)
    message = str(exc.msg if hasattr(exc, "msg") else exc)
    return Issue(code="xml-syntax", message=f"not well-formed XML: {message}",
                 location=Location(line=line or None, column=column or None))


__all__ = ["check_safe", "iter_elements", "parser_options", "root_of", "syntax_issue"]
