"""The first message's type, read cheaply, so routing can pick a mapping before the full read.

Routing only needs the UNH S009 of the first message (0065 type, 0052 version, 0054 release, 0057
association code); reading a 19 MB PRICAT twice for that would double its cost. Only the text up
to the first UNH segment is looked at, with the file's own separators (its UNA, else the defaults).
"""

from __future__ import annotations

from dataclasses import dataclass

from exchanged.formats.edifact.separators import (
    DEFAULT,
    first_interchange,
    released,
    segment_end,
    separators_for,
)
from exchanged.formats.edifact.tokenizer import tokenize

_HEAD = 1 << 16  # bytes looked at first; the whole file only when no UNH is in them
_BLANKS = " \t\r\n"


@dataclass(frozen=True)
class MessageType:
    """UNH S009 as routing compares it: ``version`` is 0052:0054 (``D:96A``)."""

    type: str
    version: str
    association: str

    def __str__(self) -> str:
        return f"{self.type} {self.version}" + (f" ({self.association})" if self.association else "")


def first_message_type(data: bytes) -> MessageType | None:
    """The S009 of the first UNH in ``data``, or None when there is none."""
    found = _first(data[:_HEAD].decode("latin-1"))  # one character per byte; separators are ASCII
    if found is None and len(data) > _HEAD:
        found = _first(data.decode("latin-1"))
    return found


def _first(text: str) -> MessageType | None:
    start = 3 if text.startswith("\xef\xbb\xbf") else 0
    interchange, _junk = first_interchange(text, start)
    separators = DEFAULT
    if interchange is not None:
        separators = separators_for(text, interchange, None)[0] or DEFAULT
    at = text.find("UNH" + separators.element, start)
    while at >= 0 and not _segment_starts_at(text, at, start, separators.segment, separators.release_char):
        at = text.find("UNH" + separators.element, at + 3)
    if at < 0:
        return None
    end = segment_end(text, at, separators) or len(text)
    segments = tokenize(text[at:end].replace("\r", "").replace("\n", ""), separators)
    if not segments:
        return None
    unh = segments[0]
    return MessageType(unh.get(2, 1), f"{unh.get(2, 2)}:{unh.get(2, 3)}", unh.get(2, 5))


def _segment_starts_at(text: str, at: int, start: int, terminator: str, release: str | None) -> bool:
    j = at
    while j > start and text[j - 1] in _BLANKS:
        j -= 1
    return j == start or (text[j - 1] == terminator and not released(text, j - 1, release))


__all__ = ["MessageType", "first_message_type"]
