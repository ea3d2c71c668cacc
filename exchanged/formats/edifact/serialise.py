"""Segments to EDIFACT text: the only module that imports pydifact (DESIGN §4).

A segment is given as ``(tag, elements)``; an element is a string (a simple data element) or a
list of strings (the components of a composite data element). ``serialise`` writes an explicit
service string advice (UNA) and releases every reserved character found in data:

>>> serialise([("UNH", ["1", ["ORDERS", "D", "96A", "UN", "EAN008"]]),
...            ("FTX", ["AAI", "", "", ["10+10=20: 'sure?'"]])], newline=False)
"UNA:+.? 'UNH+1+ORDERS:D:96A:UN:EAN008'FTX+AAI+++10?+10=20?: ?'sure???''"

What pydifact 0.2.3 (``pydifact.serializer.Serializer``) gets right, and what is worked around here:

* Right: it releases the release character itself (``?`` -> ``??``), the component and data element
  separators and the segment terminator, in one regular-expression pass (so ``?`` is never released
  twice), and it drops trailing empty components of a composite (``a:b::`` -> ``a:b``).
* Not released: the repetition separator (UNA position 5). In syntax version 3 that position is
  "reserved for future use" and is a space, which must *not* be released; in syntax version 4 it is
  the repetition separator (``*`` by default, ISO 9735-1:2002 clause 7) and data containing it must
  be released. pydifact's ``Characters.escaped_syntax_dic`` leaves it out, so a syntax 4
  interchange with ``*`` in a name would be split there by a syntax 4 reader. ``_Serializer`` adds
  it to pydifact's release map whenever it is not a space. (No pydifact issue found for this.)
* Trailing empty data elements are written (``NAD+DP+++`` stays as is); ISO 9735's rules for the
  compression of data (ISO 9735-1:2002 clause 10) say that omitted conditional elements at the end
  of a segment lose their separators, and strict receivers report "too many data elements". They
  are removed here before pydifact sees the segment.
* pydifact's own default decimal mark is ``,`` (``Characters()``), while ISO 9735's default UNA is
  ``:+.? '``; the separators are therefore always passed explicitly and the UNA always written.
* ``Segment`` only warns (``SyntaxWarning``) about a segment without data; here it is an error.

``write_interchange`` wraps messages in the interchange envelope (UNA, UNB, UNH ... UNT, UNZ) and
counts for the trailers, so the writers never count segments themselves.

Control characters (C0, DEL, C1) are refused in data: no UNO* character repertoire has them as
data, and a line break in data would be lost by readers that take one segment per line. Callers
(the writers) turn line breaks in free text into spaces before they get here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pydifact.control.characters import Characters
from pydifact.segments import Segment
from pydifact.serializer import Serializer

from exchanged.formats.edifact.charsets import SYNTAX_CODECS
from exchanged.formats.edifact.separators import DEFAULT, Separators

__all__ = [
    "CODECS", "DEFAULTS", "Element", "Envelope", "Message", "SegmentSpec", "Separators", "serialise",
    "service_string_advice", "write_interchange",
]

Element = str | Sequence[str]
"""A simple data element (a string) or a composite data element (its components, in order)."""

SegmentSpec = tuple[str, Sequence[Element]]
"""``(tag, elements)``: one segment before it is written."""


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

DEFAULTS = DEFAULT
"""ISO 9735's default service characters, syntax version 3: ``UNA:+.? '``."""


def check_separators(separators: Separators) -> None:
    """Refuse service characters we cannot write with: each one character, no letters, digits or
    control characters, the delimiters and the decimal mark all different, decimal mark ``.`` or
    ``,``, and a release character (``Separators`` allows a space there, meaning "none", for
    reading; a writer needs one)."""
    named = {
        "component": separators.component,
        "element": separators.element,
        "release": separators.release,
        "segment": separators.segment,
        "repetition": separators.repetition,
    }
    for name, char in [*named.items(), ("decimal", separators.decimal)]:
        if not isinstance(char, str) or len(char) != 1:
            raise ValueError(f"the {name} separator must be one character, not {char!r}")
        if char.isalnum() or _CONTROL.match(char):
            raise ValueError(f"the {name} separator cannot be a letter, digit or control character: {char!r}")
    if separators.decimal not in ".,":
        raise ValueError(f"the decimal mark is '.' or ',' (ISO 9735), not {separators.decimal!r}")
    delimiters = [c for n, c in named.items() if not (n == "repetition" and c == " ")]
    if " " in delimiters:
        raise ValueError("only the repetition separator (UNA position 5) may be a space")
    if len(set(delimiters)) != len(delimiters) or separators.decimal in delimiters:
        raise ValueError(f"the service characters and the decimal mark must all differ: {named}")


def service_string_advice(separators: Separators = DEFAULTS) -> str:
    """The UNA segment for ``separators``, e.g. ``UNA:+.? '``."""
    return "UNA" + str(_characters(separators))


def serialise(
    segments: Iterable[SegmentSpec],
    separators: Separators = DEFAULTS,
    *,
    newline: bool = True,
    una: bool = True,
) -> str:
    """EDIFACT text of ``segments``, with an explicit UNA first (``una=False`` leaves it out).

    ``newline=True`` puts a line break after every segment terminator (and after the UNA): common,
    and allowed since readers skip line breaks between segments; ``False`` writes one long line.
    Raises ``ValueError`` for a bad tag, a segment without data or a control character in data.
    """
    check_separators(separators)
    serializer = _Serializer(separators)
    built = [_segment(tag, elements) for tag, elements in segments]
    return serializer.serialize(built, with_una_header=una, break_lines=newline)


class _Serializer(Serializer):
    """pydifact's serializer, with the repetition separator released when there is one (see above)."""

    def __init__(self, separators: Separators) -> None:
        super().__init__(_characters(separators))
        if separators.repetition != " ":
            self.replace_map = {**self.replace_map, separators.repetition: separators.release + separators.repetition}
            longest_first = sorted(self.replace_map, key=len, reverse=True)
            self.regexp = re.compile("|".join(map(re.escape, longest_first)))


def _characters(separators: Separators) -> Characters:
    return Characters(
        component_separator=separators.component,
        data_separator=separators.element,
        decimal_point=separators.decimal,
        escape_character=separators.release,
        reserved=separators.repetition,
        segment_terminator=separators.segment,
    )


def _segment(tag: str, elements: Sequence[Element]) -> Segment:
    if not isinstance(tag, str) or not re.fullmatch(r"[A-Z][A-Z0-9]{2}", tag):
        raise ValueError(f"a segment tag is three upper-case letters or digits, not {tag!r}")
    if isinstance(elements, str):
        raise TypeError(f"{tag}: elements must be a list, not a string")
    cleaned: list[str | list[str]] = [_element(tag, position, e) for position, e in enumerate(elements, start=1)]
    # ISO 9735 compression of data: trailing empty elements are omitted with their separators.
    while cleaned and cleaned[-1] in ("", []):
        cleaned.pop()
    if not cleaned:
        raise ValueError(f"{tag}: a segment without data is omitted, not written")
    return Segment(tag, *cleaned)


def _element(tag: str, position: int, element: Element) -> str | list[str]:
    if isinstance(element, str):
        _check_text(tag, position, element)
        return element
    components = list(element)
    for component in components:
        if not isinstance(component, str):
            raise TypeError(f"{tag} element {position}: components must be strings, not {component!r}")
        _check_text(tag, position, component)
    while components and components[-1] == "":
        components.pop()
    return components


def _check_text(tag: str, position: int, text: str) -> None:
    bad = _CONTROL.search(text)
    if bad:
        raise ValueError(f"{tag} element {position}: control character {bad.group()!r} in data")


# --- an interchange: UNA, UNB, messages (UNH ... UNT), UNZ (ISO 9735 syntax versions 3 and 4) ------

CODECS = SYNTAX_CODECS
"""Python codec of each syntax identifier (UNB S001 0001, ISO 9735 code list 0001), shared with the
reader: UNOA/UNOB ASCII, UNOC..UNOK parts of ISO 8859, UNOY/UNOW UTF-8 (syntax version 4 only)."""


@dataclass(frozen=True)
class Message:
    """One message: UNH 0062 ``reference``, UNH S009 ``identifier`` (0065 type, 0052 version,
    0054 release, 0051 agency, 0057 association code) and the segments between UNH and UNT."""

    reference: str
    identifier: Sequence[str]
    body: Sequence[SegmentSpec]


@dataclass(frozen=True)
class Envelope:
    """The UNB of an interchange: S001 syntax (0001, 0002), S002 sender and S003 recipient (id,
    qualifier), S004 preparation time (written as given), 0020 control reference, then ``trailer``:
    the conditional UNB elements after 0020 (S005, 0026, 0029, 0031, 0032, 0035), in order."""

    syntax: str
    version: int
    sender: Sequence[str]
    recipient: Sequence[str]
    control_ref: str
    prepared_at: dt.datetime
    trailer: Sequence[Element] = field(default=())


def write_interchange(envelope: Envelope, messages: Sequence[Message], *, decimal: str = ".", newline: bool = True) -> bytes:
    """The bytes of one interchange holding ``messages``, in the codec of its syntax identifier.

    UNT 0074 counts the message's segments including UNH and UNT; UNZ 0036 counts the messages.
    Syntax version 4 writes CCYYMMDD in S004 and ``*`` as repetition separator (UNA position 5);
    versions 1 to 3 write YYMMDD and the reserved space.
    """
    if envelope.syntax not in CODECS:
        raise ValueError(f"syntax identifier {envelope.syntax!r} is not one of {sorted(CODECS)}")
    if envelope.syntax in ("UNOY", "UNOW") and envelope.version < 4:
        raise ValueError(f"{envelope.syntax} (ISO 10646) needs syntax version 4")
    if not re.fullmatch(r"[!-~]{1,14}", envelope.control_ref):
        raise ValueError(f"an interchange control reference (0020) is 1 to 14 characters, not {envelope.control_ref!r}")
    v4 = envelope.version >= 4
    separators = Separators(decimal=decimal, repetition="*" if v4 else " ")
    at = envelope.prepared_at
    segments: list[SegmentSpec] = [
        ("UNB", [[envelope.syntax, str(envelope.version)], list(envelope.sender), list(envelope.recipient),
                 [at.strftime("%Y%m%d" if v4 else "%y%m%d"), at.strftime("%H%M")], envelope.control_ref,
                 *envelope.trailer]),
    ]
    for message in messages:
        segments.append(("UNH", [message.reference, list(message.identifier)]))
        segments.extend(message.body)
        segments.append(("UNT", [str(len(message.body) + 2), message.reference]))
    segments.append(("UNZ", [str(len(messages)), envelope.control_ref]))
    text = serialise(segments, separators, newline=newline)
    try:
        return text.encode(CODECS[envelope.syntax])
    except UnicodeEncodeError as exc:
        raise ValueError(f"{exc.object[exc.start:exc.end]!r} cannot be written in {envelope.syntax}") from None
