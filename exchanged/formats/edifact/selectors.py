"""Segment selectors: how a mapping names one value of an EDIFACT message.

A selector is written the way the segment itself looks, so an integrator reads it against the
EANCOM guide without a second notation to learn::

    LIN/3.1              LIN, data element 3, component 1        LIN+1++4000862141404:SRV
    PIA+5/2.1            the PIA whose element 1 is "5"           PIA+5+ART-1:SA
    PIA+5+:SA/2.1        ... and whose element 2 component 2 is SA
    PRI+AAA|AAB/1.2      PRI whose 5125 (1.1) is AAA or AAB       PRI+AAA:12.50
    DTM+194/1.2          DTM 2005 = 194 (start date), the 2380 value
    QTY+145/1.2          QTY 6063 = 145 (actual stock), the 6060 quantity

Before the ``/``: the tag, then conditions in element order, separated by ``+`` (an empty one
means "any"); inside one element, components are separated by ``:`` and alternatives by ``|``.
After the ``/``: element and component of the value (1-based, the component defaults to 1).
Element positions count the data elements after the tag, as the EANCOM guides number them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from exchanged.formats.edifact.tokenizer import Segment

_TAG = re.compile(r"[A-Z][A-Z0-9]{2}")
_POSITION = re.compile(r"([1-9][0-9]?)(?:\.([1-9][0-9]?))?")


class SelectorError(ValueError):
    """A selector that cannot be read (the mapping loader reports it with the key)."""


@dataclass(frozen=True)
class Selector:
    """One parsed selector: which segment (tag + conditions) and which value in it."""

    text: str
    tag: str
    conditions: tuple[tuple[int, int, frozenset[str]], ...]  # (element, component, allowed values)
    element: int
    component: int

    def matches(self, segment: Segment) -> bool:
        """Whether ``segment`` is the one this selector means (tag and every condition). The
        reference form, one segment at a time; ``extract.py`` does the same column-wise."""
        if segment.tag != self.tag:
            return False
        get = segment.get
        return all(get(element, component) in allowed for element, component, allowed in self.conditions)

    def value(self, segment: Segment) -> str:
        return segment.get(self.element, self.component)


def parse_selector(text: str) -> Selector:
    """``"PIA+5+:SA/2.1"`` -> a :class:`Selector`; :class:`SelectorError` says what is wrong."""
    head, slash, position = text.partition("/")
    if not slash:
        raise SelectorError(f"{text!r}: no value position; write it as TAG/element.component, e.g. LIN/3.1")
    found = _POSITION.fullmatch(position.strip())
    if found is None:
        raise SelectorError(f"{text!r}: {position!r} is not a position such as 3 or 3.1")
    parts = head.strip().split("+")
    tag = parts[0]
    if _TAG.fullmatch(tag) is None:
        raise SelectorError(f"{text!r}: {tag!r} is not a segment tag (three capitals, e.g. PIA)")
    conditions = []
    for element, wanted in enumerate(parts[1:], start=1):
        for component, alternatives in enumerate(wanted.split(":"), start=1):
            if alternatives:
                conditions.append((element, component, frozenset(alternatives.split("|"))))
    return Selector(text, tag, tuple(conditions), int(found.group(1)), int(found.group(2) or 1))


__all__ = ["Selector", "SelectorError", "parse_selector"]
