"""EDIFACT text -> located segments (ISO 9735-1 §7: syntax rules for delimiters and release).

Rules, as applied here:

* A segment is a tag (``0013``: three upper-case letters or digits, else
  ``edifact-invalid-segment-tag``) followed by data elements, each introduced by the element
  separator; components are separated by the component separator; the segment terminator ends it.
* The release character makes the next delimiter (component, element, segment, repetition, or the
  release character itself) plain data: ``??`` ``?'`` ``?+`` ``?:`` and, under syntax 4, ``?*``.
  A release character before anything else, or at the end of a segment, is
  ``edifact-invalid-release`` (error): the sender meant something we cannot know. Such a value
  keeps the ``?`` as written.
* The repetition separator (syntax 4, or as a UNA declares) splits an element into repetitions:
  :attr:`Segment.elements` holds the first, :attr:`Segment.repeats` all of them.
* CR and LF are never data (transport line breaks, also inside elements: ``DTM+137:200508<LF>19``
  is ``20050819``); blanks and tabs between a terminator and the next tag are ignored.
* A separator directly before the terminator (``RFF+VA:123:'``) is superfluous (ISO 9735-1 §7.2
  says to omit trailing empty elements and components): ``edifact-trailing-separator`` (warning).

Speed (the whole point of not using pydifact here): text is split with ``str.split`` in chunks of
about a megabyte; released delimiters are first replaced by private-use placeholders (U+E000 then
U+E001..U+E005, so lengths and offsets do not move) and only values that contain one are translated
back. A chunk whose line breaks all follow terminators (the usual ``'\\r\\n`` layout) is split on
``'\\r\\n`` directly. Elements are parsed on first access (:attr:`Segment.elements`), so reading
costs about one ``str`` and one small object per segment. Offsets are in the tokenized text (for
:func:`read_interchanges`, the file's bytes); lines are counted only when a location is asked for.
A reader that takes message bodies as columns (``SegmentReader(raw=True)``, the record reader's
body sink) gets no object per segment at all for such chunks: :mod:`.bodies` splits them with Arrow.
"""

from __future__ import annotations

import bisect
import gc
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import repeat
from typing import TYPE_CHECKING

from exchanged.formats.edifact.separators import DEFAULT, Separators

if TYPE_CHECKING:
    from exchanged.formats.edifact.bodies import LazySegments

SERVICE_TAGS = frozenset({"UNB", "UNG", "UNH", "UNT", "UNE", "UNZ"})
CHUNK = 1 << 20
_WS = " \t\r\n"
_MARK, _PLACEHOLDERS = "\ue000", "\ue001\ue002\ue003\ue004\ue005"
_TAG = re.compile("[A-Z0-9]{3}")

class Segment:
    """One segment: tag, its elements (each a list of components), where it is.

    ``index`` is the 1-based position in its message (UNH = 1, as UNT 0074 counts); for service
    segments outside a message, the position in the interchange. ``offset`` is where its first
    character is in the tokenized text. ``get(1, 1)`` is the first component of the first element.

    >>> seg = Segment("LIN", [["1"], [""], ["4000862141404", "EN"]])
    >>> seg.get(3, 2), seg.get(9, default="-")
    ('EN', '-')
    """

    # _elements holds the segment's raw text (masked releases, no line breaks) until first parsed
    __slots__ = ("_elements", "_repeats", "_syntax", "index", "offset", "tag")

    def __init__(self, tag: str, elements: list[list[str]] | None = None, index: int = 0, offset: int = 0,
                 repeats: dict[int, list[list[str]]] | None = None) -> None:
        self.tag, self.index, self.offset, self._syntax = tag, index, offset, None
        self._elements: list[list[str]] | str = [list(e) for e in elements or ()]
        self._repeats = repeats or None

    @property
    def elements(self) -> list[list[str]]:
        """The data elements after the tag; each is its list of components, releases removed."""
        elements = self._elements
        if elements.__class__ is str:
            return self._syntax.parse(self)  # type: ignore[union-attr]
        return elements  # type: ignore[return-value]

    @property
    def repeats(self) -> dict[int, list[list[str]]]:
        """Element position (1-based) -> every repetition of it, for repeated elements only."""
        if self._elements.__class__ is str:
            self._syntax.parse(self)  # type: ignore[union-attr]
        return self._repeats or {}

    @property
    def raw(self) -> str | None:
        """The segment's text as tokenized (released delimiters masked), until it is parsed; else None."""
        return self._elements if self._elements.__class__ is str else None  # type: ignore[return-value]

    def get(self, element: int, component: int = 1, default: str = "") -> str:
        """Component ``component`` of element ``element`` (both 1-based), or ``default``."""
        elements = self.elements
        if 0 < element <= len(elements):
            components = elements[element - 1]
            if 0 < component <= len(components):
                return components[component - 1]
        return default

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Segment):
            return NotImplemented
        return (self.tag, self.elements, self.repeats, self.index, self.offset) == (
            other.tag, other.elements, other.repeats, other.index, other.offset)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Segment({self.tag!r}, {self.elements!r}, index={self.index}, offset={self.offset})"


@dataclass(slots=True)
class Syntax:
    """What parsing a segment's elements needs: the separators and the charset fix of its interchange."""

    separators: Separators
    fix: Callable[[str], str] | None = None
    unmask: dict[int, str | None] = field(init=False)
    element: str = field(init=False)
    component: str = field(init=False)
    repetition: str | None = field(init=False)

    def __post_init__(self) -> None:
        s = self.separators
        self.element, self.component, self.repetition = s.element, s.component, s.repetition_char
        chars = (s.release, s.component, s.element, s.segment, s.repetition)
        self.unmask = {ord(_MARK): None} | {ord(p): c for p, c in zip(_PLACEHOLDERS, chars)}

    def parse(self, segment: Segment) -> list[list[str]]:
        """Split ``segment``'s raw text into its elements (kept on the segment) and return them."""
        raw: str = segment._elements  # type: ignore[assignment]
        n, e, rep = len(segment.tag), self.element, self.repetition
        segment._repeats = None
        if raw[n : n + 1] != e:
            segment._elements = []
            return []
        body = raw[n + 1 :]
        if _MARK not in body and (rep is None or rep not in body):
            if self.fix is not None and not body.isascii():
                body = self.fix(body)  # a byte-level decode: the (ASCII) separators stay where they are
            elements = segment._elements = [*map(str.split, body.split(e), repeat(self.component))]
            return elements
        elements: list[list[str]] = []
        repeats: dict[int, list[list[str]]] = {}
        for position, element in enumerate(body.split(e), 1):
            if rep is not None and rep in element:
                repeats[position] = [self._components(r) for r in element.split(rep)]
                elements.append(repeats[position][0])
            else:
                elements.append(self._components(element))
        segment._elements, segment._repeats = elements, repeats or None
        return elements

    def _components(self, element: str) -> list[str]:
        out = element.split(self.separators.component)
        if _MARK in element:
            out = [c.translate(self.unmask) for c in out]
        if self.fix is not None:
            out = [c if c.isascii() else self.fix(c) for c in out]
        return out


def mask_releases(text: str, separators: Separators) -> tuple[str, list[int]]:
    """``text`` with each released delimiter replaced by U+E000 + its placeholder (same length).

    Also returns the offsets of release characters that release nothing (invalid releases).
    Release characters before a line break before a delimiter (``?<LF>'``) release the delimiter.
    """
    r = separators.release_char
    if r is None or r not in text:
        return text, []
    text = text.replace(r + r, _MARK + _PLACEHOLDERS[0])
    for char, placeholder in zip(separators.delimiters[:3], _PLACEHOLDERS[1:4]):
        text = text.replace(r + char, _MARK + placeholder)
    rep = separators.repetition_char
    if rep is not None:
        text = text.replace(r + rep, _MARK + _PLACEHOLDERS[4])
    if r not in text:
        return text, []
    delims = re.escape("".join(separators.delimiters[:3]) + (rep or ""))
    pattern = re.compile(re.escape(r) + "([\r\n]+)([" + delims + "])")
    order = separators.delimiters[:3] + ((rep,) if rep else ())

    def keep_length(m: re.Match[str]) -> str:
        return _MARK + m.group(1) + _PLACEHOLDERS[1 + order.index(m.group(2))]

    text = pattern.sub(keep_length, text)
    bad, at = [], text.find(r)
    while at >= 0:
        bad.append(at)
        at = text.find(r, at + 1)
    return text, bad


@dataclass(slots=True)
class Chunk:
    """The segments of one stretch of text, with what the envelope reader needs to know about them."""

    segments: list[Segment] | LazySegments  # LazySegments: a raw reader's fast chunk (bodies.py)
    marks: list[int]  # positions (in ``segments``) of service segments: UNB UNG UNH UNT UNE UNZ
    flags: dict[int, list[tuple[str, str]]]  # position -> [(finding kind, offending text)]
    tail: tuple[int, str] | None = None  # (offset, text) of the last segment when it is unterminated


class SegmentReader:
    """Splits ``text[start:end]`` into segments chunk by chunk; ``index`` counts from each UNH.

    ``raw``: fast chunks come as :class:`~.bodies.LazySegments` (columns; a Segment object only for
    a position asked for), for a reader that takes message bodies as columns (``body_sink``).
    """

    def __init__(self, text: str, syntax: Syntax, findings: list[tuple[int, str, str]] | None = None, *,
                 raw: bool = False) -> None:
        self.text, self.syntax, self.findings = text, syntax, findings or []
        self.index = 0
        self._tags: dict[str, bool] = {}
        self.raw = raw

    def read(self, start: int, end: int) -> Iterator[Chunk]:
        text = self.text
        while start < end and text[start] in _WS:
            start += 1
        while start < end:
            stop = self._chunk_end(start, end)
            enabled = gc.isenabled()
            gc.disable()  # building many small objects: the cyclic GC would rescan them all
            try:
                chunk = self._chunk(start, stop, final=stop >= end)
            finally:
                if enabled:
                    gc.enable()
            yield chunk
            start = stop
            while start < end and text[start] in _WS:
                start += 1

    def _chunk_end(self, start: int, end: int) -> int:
        if end - start <= CHUNK:
            return end
        text, term, r = self.text, self.syntax.separators.segment, self.syntax.separators.release_char
        cut = text.rfind(term, start, start + CHUNK)
        while cut > start:
            j = cut
            while r is not None and j > start and text[j - 1] == r:
                j -= 1
            if (cut - j) % 2 == 0:
                cut += 1
                while cut < end and text[cut] in _WS:
                    cut += 1
                return cut
            cut = text.rfind(term, start, j)
        return end

    def _chunk(self, start: int, stop: int, *, final: bool) -> Chunk:
        s = self.syntax.separators
        term, elem = s.segment, s.element
        chunk, bad_releases = mask_releases(self.text[start:stop], s)
        first = chunk.find(term)
        gap = first + len(term)
        while gap < len(chunk) and chunk[gap] in _WS:
            gap += 1
        sep = chunk[first:gap] if first >= 0 else term
        if len(sep) > len(term) and chunk.endswith(term) and not chunk.endswith(sep):
            chunk += sep[len(term) :]  # the range ends right after its last terminator (UNZ)
        fast = (chunk.count(sep) == chunk.count(term)
                and chunk.count("\n") + chunk.count("\r") == chunk.count(sep) * (len(sep) - len(term))
                and not chunk.count(sep + " ") + chunk.count(sep + "\t") and chunk[:1] not in _WS)
        found = [(start + at, "release", s.release) for at in bad_releases]
        segments: list[Segment] | LazySegments
        if fast and self.raw:
            segments, marks, tail = self._split_raw(chunk, start, sep, found)
        elif fast:
            segments, marks, tail = self._split_fast(chunk, start, sep)
        else:
            segments, marks, tail = self._split_general(chunk, start, found)
        if tail is not None:  # an unterminated last segment: kept, the envelope reader warns
            segments.append(self._segment(*tail))
            if segments[-1].tag in SERVICE_TAGS:
                marks.append(len(segments) - 1)
        flags: dict[int, list[tuple[str, str]]] = {}
        for pair in (s.component + term, elem + term):
            at = chunk.find(pair)
            while at >= 0:
                found.append((start + at, "trailing", pair[0]))
                at = chunk.find(pair, at + 1)
        if fast and not self.raw:  # (raw: _split_raw found them)
            found += [(start + m.end(), "tag", "") for m in _bad_tag(sep, elem).finditer(chunk)]
            if chunk and (not _TAG.match(chunk) or chunk[3:4] not in (elem, term, "")):
                found.append((start, "tag", ""))
        lo = bisect.bisect_left(self.findings, (start,))
        hi = bisect.bisect_left(self.findings, (stop,))
        found += self.findings[lo:hi]
        if found and segments:
            offsets = [seg.offset for seg in segments] if isinstance(segments, list) else segments.run.offsets.tolist()
            for offset, kind, what in sorted(found):
                k = bisect.bisect_right(offsets, offset) - 1
                if k >= 0 and (kind != "control" or what.strip(" \t") or offset < start + chunk.find(term, offsets[k] - start)):
                    flags.setdefault(k, []).append((kind, what))
                    if kind == "tag":  # the tag is what stands before the first element separator
                        seg = segments[k]
                        seg.tag = (seg.raw or "").partition(elem)[0].translate(self.syntax.unmask)
        if not final and tail is not None:  # cannot happen: chunks end after a terminator
            raise AssertionError("chunk cut inside a segment")
        return Chunk(segments, marks, flags, tail)

    def _split_raw(self, chunk: str, start: int, sep: str, found: list[tuple[int, str, str]]
                   ) -> tuple[LazySegments, list[int], tuple[int, str] | None]:
        from exchanged.formats.edifact.bodies import LazySegments, service_marks, split_chunk

        run, last, off, bad = split_chunk(chunk, start, sep, self.index, self.syntax.separators.element)
        found += [(at, "tag", "") for at in bad]
        if len(run):
            self.index = int(run.indexes[-1])
        return LazySegments(run, self.syntax), service_marks(run), self._tail(last, off)

    def _split_fast(self, chunk: str, start: int, sep: str) -> tuple[list[Segment], list[int], tuple[int, str] | None]:
        out: list[Segment] = []
        marks: list[int] = []
        append, new, syntax, service = out.append, object.__new__, self.syntax, SERVICE_TAGS
        pieces = chunk.split(sep)
        last = pieces.pop()
        i, k, off, step = self.index, 0, start, len(sep)
        for p in pieces:
            if p:
                tag = p[:3]
                if tag in service:
                    marks.append(k)
                    if tag == "UNH":
                        i = 0
                i += 1
                k += 1
                seg = new(Segment)
                seg.tag = tag
                seg.index = i
                seg.offset = off
                seg._elements = p
                seg._syntax = syntax
                append(seg)
            off += len(p) + step
        self.index = i
        return out, marks, self._tail(last, off)

    def _split_general(self, chunk: str, start: int, found: list[tuple[int, str, str]]
                       ) -> tuple[list[Segment], list[int], tuple[int, str] | None]:
        out: list[Segment] = []
        marks: list[int] = []
        s = self.syntax.separators
        term, elem, tags = s.segment, s.element, self._tags
        pieces = chunk.split(term)
        last = pieces.pop()
        i, off = self.index, start
        for p in pieces:
            q = p.lstrip(_WS)
            if q:
                at = off + len(p) - len(q)
                if "\n" in q or "\r" in q:
                    q = q.replace("\r", "").replace("\n", "")
                tag = q[:3]
                if tag in SERVICE_TAGS:
                    marks.append(len(out))
                    if tag == "UNH":
                        i = 0
                i += 1
                seg = Segment.__new__(Segment)
                seg.tag, seg.index, seg.offset, seg._elements, seg._syntax = tag, i, at, q, self.syntax
                out.append(seg)
                if tags.get(tag) is None:
                    tags[tag] = bool(_TAG.fullmatch(tag))
                if not tags[tag] or q[3:4] not in (elem, ""):
                    found.append((at, "tag", ""))
            off += len(p) + len(term)
        self.index = i
        return out, marks, self._tail(last, off)

    def _segment(self, offset: int, raw: str) -> Segment:
        seg = Segment.__new__(Segment)
        seg.tag, seg.offset, seg._elements, seg._syntax = raw[:3], offset, raw, self.syntax
        seg.index = self.index = 1 if seg.tag == "UNH" else self.index + 1
        return seg

    def _tail(self, last: str, off: int) -> tuple[int, str] | None:
        stripped = last.lstrip(_WS)
        if not stripped.strip(_WS):
            return None
        return off + len(last) - len(stripped), stripped.rstrip(_WS).replace("\r", "").replace("\n", "")


_BAD_TAGS: dict[tuple[str, str], re.Pattern[str]] = {}


def _bad_tag(sep: str, elem: str) -> re.Pattern[str]:
    key = (sep, elem)
    if key not in _BAD_TAGS:
        _BAD_TAGS[key] = re.compile(re.escape(sep) + "(?![A-Z0-9]{3}(?:" + re.escape(elem) + "|" + re.escape(sep)
                                    + r"|\Z))(?=.)", re.DOTALL)
    return _BAD_TAGS[key]


def tokenize(text: str, separators: Separators = DEFAULT) -> list[Segment]:
    """The segments of ``text`` (no envelope checks, no charset): for tests and small tools.

    >>> [s.elements for s in tokenize("QTY+21:3?:4'FTX+++a??b?'c'")]
    [[['21', '3:4']], [[''], [''], ['a?b', "c"]]]
    """
    if any(p in text for p in _MARK + _PLACEHOLDERS):
        raise ValueError("text contains U+E000..U+E005, which the tokenizer uses as placeholders")
    reader = SegmentReader(text, Syntax(separators))
    out: list[Segment] = []  # an unterminated last segment is included
    for chunk in reader.read(0, len(text)):
        out += chunk.segments
    return out
