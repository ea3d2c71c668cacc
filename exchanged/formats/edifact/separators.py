"""The service characters of an interchange: the UNA service string advice and the defaults.

ISO 9735 (syntax versions 1-3: ISO 9735:1988 §4 and annex; version 4: ISO 9735-1:2002 §4.1, §7):

* **Defaults** (level A/B without UNA): component data element separator ``:``, data element
  separator ``+``, decimal mark ``.``, release character ``?``, segment terminator ``'``. The
  repetition separator exists only in syntax version 4, where its default is ``*``; in versions 1-3
  the fifth UNA position is *reserved* and written as a space, which here means "no repetition".
* **UNA** is ``UNA`` followed by exactly six characters, in this order: UNA1 component separator,
  UNA2 element separator, UNA3 decimal mark, UNA4 release character, UNA5 repetition separator
  (version 4) or reserved (versions 1-3, a space), UNA6 segment terminator. Any character may be
  declared (``UNA:|.? '`` makes ``|`` the element separator, ``UNA:+,? '`` declares a decimal
  comma). A space in UNA4 means the interchange has no release character.
* A UNA applies to the interchange that follows it; a UNA before a later UNB in the same file
  changes the separators from there on (the envelope reader calls :func:`parse_una` per
  interchange).

>>> parse_una("UNA:|.? '")
Separators(component=':', element='|', decimal='.', release='?', repetition=' ', segment="'")
>>> DEFAULT.for_syntax_version("4", declared=False).repetition
'*'
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

UNA_LENGTH = 9  # "UNA" + six service characters
_WS = " \t\r\n"
_START = re.compile(r"(?<![^\s'])(?:UNA|UNB(?=[^A-Za-z0-9]))")


@dataclass(frozen=True, slots=True)
class Separators:
    """The six service characters; ``release``/``repetition`` set to a space mean "none"."""

    component: str = ":"
    element: str = "+"
    decimal: str = "."
    release: str = "?"
    repetition: str = " "
    segment: str = "'"

    @property
    def release_char(self) -> str | None:
        """The release character, or None when the interchange declares none (UNA4 = space)."""
        return None if self.release == " " else self.release

    @property
    def repetition_char(self) -> str | None:
        """The repetition separator, or None (versions 1-3, or UNA5 = space)."""
        return None if self.repetition == " " else self.repetition

    @property
    def delimiters(self) -> tuple[str, ...]:
        """The characters that must be released inside data (ISO 9735-1 §7.1)."""
        chars = [self.component, self.element, self.segment]
        for char in (self.release_char, self.repetition_char):
            if char is not None:
                chars.append(char)
        return tuple(chars)

    def una(self) -> str:
        """The UNA service string advice that declares these separators."""
        return "UNA" + self.component + self.element + self.decimal + self.release + self.repetition + self.segment

    def for_syntax_version(self, version: str, *, declared: bool) -> Separators:
        """These separators once UNB S001 0002 (syntax version) is known.

        Without a UNA, syntax version 4 brings the default repetition separator ``*``; with a UNA,
        UNA5 is what the sender declared.
        """
        if not declared and version.strip() == "4" and self.repetition == " ":
            return replace(self, repetition="*")
        return self

    def problem(self) -> str | None:
        """Why these separators cannot delimit anything (two roles share a character), or None."""
        roles = {"component separator": self.component, "element separator": self.element,
                 "segment terminator": self.segment}
        if self.release_char is not None:
            roles["release character"] = self.release_char
        if self.repetition_char is not None:
            roles["repetition separator"] = self.repetition_char
        seen: dict[str, str] = {}
        for role, char in roles.items():
            if char in seen:
                return f"the {seen[char]} and the {role} are both {char!r}"
            if char in "\r\n":
                return f"the {role} is a line break"
            seen[char] = role
        return None


DEFAULT = Separators()


def parse_una(text: str, pos: int = 0) -> Separators | None:
    """The separators declared by a UNA that starts at ``text[pos]``, or None if none starts there.

    A UNA cut short by the end of the text is not a UNA (None): the caller reports it.
    """
    if not text.startswith("UNA", pos) or len(text) < pos + UNA_LENGTH:
        return None
    c, e, d, r, rep, s = text[pos + 3 : pos + UNA_LENGTH]
    return Separators(component=c, element=e, decimal=d, release=r, repetition=rep, segment=s)


IS_SEPARATORS = Separators(component="\x1f", element="\x1d", release=" ", segment="\x1c")  # level B, no UNA


def released(text: str, at: int, release: str | None) -> bool:
    """Whether the character at ``at`` is released (an odd run of release characters before it)."""
    if release is None:
        return False
    j = at
    while j > 0 and text[j - 1] == release:
        j -= 1
    return (at - j) % 2 == 1


def segment_end(text: str, start: int, separators: Separators) -> int | None:
    """The offset just after the first unreleased terminator at or after ``start``."""
    at = text.find(separators.segment, start)
    while at >= 0 and released(text, at, separators.release_char):
        at = text.find(separators.segment, at + 1)
    return None if at < 0 else at + 1


@dataclass
class TrailerScan:
    """What a pre-scan found between a header (UNB, UNG) and its trailer (UNZ, UNE)."""

    end: int  # after the trailer's terminator, or where the next interchange/group starts
    trailer: tuple[int, int] | None  # where the trailer segment is: (start, end after its terminator)
    messages: int  # UNH segments seen
    groups: int  # UNG segments seen


def segment_starts(text: str, tag: str, start: int, end: int, separators: Separators) -> Iterator[int]:
    """Offsets of the segments tagged ``tag`` in ``text[start:end]`` (found with ``str.find``: fast).

    A segment starts after an unreleased terminator and blanks or line breaks; ``tag`` must be
    followed by an element separator or a terminator (UNA by anything).
    """
    term, r = separators.segment, separators.release_char
    follow = None if tag == "UNA" else (separators.element, term)
    at = text.find(tag, start, end)
    while at >= 0:
        j = at
        while j > start and text[j - 1] in _WS:
            j -= 1
        if (j > start and text.startswith(term, j - len(term)) and not released(text, j - len(term), r)
                and (follow is None or text[at + 3 : at + 4] in follow)):
            yield at
        at = text.find(tag, at + 3, end)


def scan_trailer(text: str, start: int, separators: Separators, trailer: str) -> TrailerScan:
    """Find ``trailer`` (UNZ or UNE) after ``start`` before the next header, and count UNH/UNG."""
    stops = ("UNZ", "UNB", "UNA") if trailer == "UNZ" else ("UNE", "UNG", "UNZ", "UNB", "UNA")
    first = {tag: next(segment_starts(text, tag, start, len(text), separators), len(text)) for tag in stops}
    tag = min(first, key=first.__getitem__)
    end, found = first[tag], None
    if tag == trailer and end < len(text):
        stop = segment_end(text, end, separators) or len(text)
        end, found = stop, (end, stop)
    counts = [sum(1 for _ in segment_starts(text, t, start, end, separators)) for t in ("UNH", "UNG")]
    return TrailerScan(end, found, counts[0], counts[1])


def first_interchange(text: str, pos: int) -> tuple[int | None, bool]:
    """Where the first UNA/UNB starts at or after ``pos``, and whether text precedes it."""
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    if text.startswith(("UNA", "UNB"), pos):
        return pos, False
    m = _START.search(text, pos)
    return (m.start(), True) if m else (None, False)


def separators_for(text: str, pos: int, previous: Separators | None) -> tuple[Separators | None, int, bool]:
    """The separators of the interchange at ``pos``: (separators or None for a cut UNA, UNB pos, declared)."""
    if text.startswith("UNA", pos):
        una = parse_una(text, pos)
        pos += UNA_LENGTH
        while pos < len(text) and text[pos] in _WS:
            pos += 1
        return una, pos, True
    after = text[pos + 3 : pos + 4]
    if after == "\x1d":
        return IS_SEPARATORS, pos, False
    if previous is not None and after == previous.element and after != DEFAULT.element:
        return previous, pos, False  # no UNA, but the separators of the interchange before
    return DEFAULT, pos, False


