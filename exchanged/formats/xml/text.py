"""Text the XML writers put into elements and attributes: only what XML 1.0 can carry."""

from __future__ import annotations

import re

from exchanged.errors import InputRejected
from exchanged.report import Issue, Location

# XML 1.0 §2.2, production [2] Char: no control characters but tab, LF and CR; no surrogates,
# no U+FFFE/U+FFFF. lxml would refuse them with a ValueError; the order gets a located issue instead.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str, field: str) -> str:
    """``value`` when XML 1.0 can carry every character of it; else an ``xml-unencodable`` rejection."""
    bad = _NOT_XML_CHAR.search(value)
    if bad:
        char = bad.group()
        raise InputRejected(Issue(code="xml-unencodable", location=Location(field=field), value=value,
                                  message=f"{char!r} (U+{ord(char):04X}) cannot be written in XML 1.0"))
    return value


__all__ = ["xml_text"]
