"""Message bodies as arrays: the tokenizer's path for a reader that never looks at one segment.

A PRICAT of 100,000 line items has ~675,000 segments; a Python :class:`Segment` object for each
costs more than all the rest of the reading (DESIGN §6). The record reader (``records.py``) needs
per body segment only four things: its raw text (tag included, released delimiters masked the
tokenizer's way), its tag, its offset in the file and its index in the message (UNH = 1, as UNT
0074 counts). So when the envelope reader has a body sink, :class:`~.tokenizer.SegmentReader` hands
each chunk to :func:`split_chunk` instead: Arrow's ``split_pattern`` cuts the masked text at every
terminator, numpy computes the offsets (character lengths: the text is the file's bytes as latin-1,
one character per byte, and a masked release keeps its two characters), tags and indexes, and
:class:`LazySegments` makes a Segment only for a position the envelope reader asks for: a service
segment (UNB UNG UNH UNT UNE UNZ) or a segment with a finding.

Only the tokenizer's fast path goes here (a chunk whose line breaks all follow terminators, the
usual layout); the general path still builds Segment objects, and :func:`run_of` turns them into a
:class:`BodyRun` (what the sink receives either way).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from exchanged.formats.edifact.tokenizer import _MARK as MARK
from exchanged.formats.edifact.tokenizer import SERVICE_TAGS, Segment, Syntax

TAG = "S3"  # numpy dtype of tags: the first three bytes (UTF-8) of the raw text; ASCII for any valid tag
_SERVICE = np.array(sorted(SERVICE_TAGS), TAG)
_TAG = re.compile("[A-Z0-9]{3}")


@dataclass(slots=True)
class BodyRun:
    """Consecutive segments as columns: raw texts, tags, offsets in the file, indexes in the message."""

    texts: pa.Array  # string
    tags: np.ndarray  # TAG
    offsets: np.ndarray  # int64
    indexes: np.ndarray  # int32

    def __len__(self) -> int:
        return len(self.offsets)

    def slice(self, a: int, b: int) -> BodyRun:
        if a == 0 and b >= len(self):
            return self
        return BodyRun(self.texts.slice(a, b - a), self.tags[a:b], self.offsets[a:b], self.indexes[a:b])

    @staticmethod
    def empty() -> BodyRun:
        return BodyRun(pa.array([], pa.string()), np.zeros(0, TAG), np.zeros(0, np.int64), np.zeros(0, np.int32))


def tags_of(texts: pa.Array) -> np.ndarray:
    """The first three bytes of each text (fewer for a shorter one), straight from Arrow's buffers."""
    n = len(texts)
    if not n:
        return np.zeros(0, TAG)
    _, offsets_buffer, data_buffer = texts.buffers()
    offsets = np.frombuffer(offsets_buffer, np.int32, n + 1, texts.offset * 4).astype(np.int64)
    data = np.frombuffer(data_buffer, np.uint8) if data_buffer is not None and data_buffer.size else np.zeros(1, np.uint8)
    at = offsets[:-1, None] + np.arange(3)
    inside = at < offsets[1:, None]
    picked = np.where(inside, data[np.minimum(at, len(data) - 1)], 0).astype(np.uint8)
    return np.ascontiguousarray(picked).view(TAG).ravel()


def indexes_of(tags: np.ndarray, index: int) -> np.ndarray:
    """Index in the message of each segment: UNH is 1 (UNT 0074 counts from it); the segments
    before the first UNH continue from ``index``, the index of the segment before them."""
    n = len(tags)
    position = np.arange(n, dtype=np.int32)
    unh = np.where(tags == b"UNH", position, -1)
    last = np.maximum.accumulate(unh) if n else unh
    return np.where(last >= 0, position - last + 1, index + position + 1)


def split_chunk(chunk: str, start: int, sep: str, index: int, element: str) -> tuple[BodyRun, str, int, list[int]]:
    """The segments of ``chunk`` (masked text at file offset ``start``, every terminator followed by
    the same ``sep``: the fast layout), the text after the last ``sep``, the offset of that text,
    and the offsets of the segments whose tag is invalid (see :func:`bad_tags`). ``index`` is the
    index of the segment before the chunk (see :func:`indexes_of`)."""
    pieces = pc.split_pattern(pa.array([chunk], pa.string()), sep).flatten()
    last = pieces[len(pieces) - 1].as_py()
    pieces = pieces.slice(0, len(pieces) - 1)
    lengths = np.asarray(pc.utf8_length(pieces).to_numpy(), np.int64)  # characters = bytes of the file
    offsets = np.empty(len(lengths), np.int64)
    if len(lengths):
        offsets[0] = start
        np.cumsum(lengths[:-1] + len(sep), out=offsets[1:])
        offsets[1:] += start
    tags = tags_of(pieces)
    bad = offsets[bad_tags(pieces, tags, element)].tolist()
    if last and not (_TAG.match(last) and last[3:4] in (element, "")):
        bad.append(start + len(chunk) - len(last))
    if len(lengths) and not lengths.all():  # '\n'\n: an empty segment is no segment (nor an index)
        keep = lengths > 0
        pieces, offsets, tags = pieces.filter(pa.array(keep)), offsets[keep], tags[keep]
    run = BodyRun(pieces, tags, offsets, indexes_of(tags, index))
    return run, last, start + len(chunk) - len(last), bad


def bad_tags(texts: pa.Array, tags: np.ndarray, element: str) -> np.ndarray:
    """Which ``texts`` do not start with a valid tag (``0013``: three upper-case letters or digits)
    followed by the element separator or nothing: the tokenizer's ``edifact-invalid-segment-tag``
    rule, as a mask."""
    letters = tags.view(np.uint8).reshape(-1, 3)
    letter_or_digit = ((letters >= ord("A")) & (letters <= ord("Z"))) | ((letters >= ord("0")) & (letters <= ord("9")))
    ok = np.all(letter_or_digit, axis=1)
    if not len(texts):
        return np.asarray(~ok, dtype=bool)
    _, offsets_buffer, data_buffer = texts.buffers()
    bounds = np.frombuffer(offsets_buffer, np.int32, len(texts) + 1, texts.offset * 4)
    data = np.frombuffer(data_buffer, np.uint8) if data_buffer is not None and data_buffer.size else np.zeros(1, np.uint8)
    length = bounds[1:] - bounds[:-1]
    code = element.encode()
    follows = length == 3
    if len(code):
        longer = length >= 3 + len(code)
        same = longer.copy()
        for i, byte in enumerate(code):  # the element separator may be beyond ASCII (UNA)
            same &= data[np.minimum(bounds[:-1] + 3 + i, len(data) - 1)] == byte
        follows |= same
    return np.asarray(~(ok & follows), dtype=bool)


def service_marks(run: BodyRun) -> list[int]:
    """Positions of the service segments (UNB UNG UNH UNT UNE UNZ) in ``run``."""
    return np.flatnonzero(np.isin(run.tags, _SERVICE)).tolist()


_RAW, _OFFSET, _INDEX = (operator.attrgetter(name) for name in ("_elements", "offset", "index"))


def run_of(segments: Sequence[Segment], syntax: Syntax) -> BodyRun:
    """The :class:`BodyRun` of Segment objects (the tokenizer's general path)."""
    raws = list(map(_RAW, segments))  # the raw text until a segment is parsed (tokenizer.Segment)
    if any(raw.__class__ is not str for raw in raws):
        raws = [raw if raw.__class__ is str else masked(s, syntax) for s, raw in zip(segments, raws)]
    texts = pa.array(raws, pa.string())
    return BodyRun(texts, tags_of(texts), np.fromiter(map(_OFFSET, segments), np.int64, len(segments)),
                   np.fromiter(map(_INDEX, segments), np.int32, len(segments)))


def masked(segment: Segment, syntax: Syntax) -> str:
    """The raw text of a segment parsed already (rare: the envelope layer parses service segments),
    with its delimiters masked again the tokenizer's way."""
    s = syntax.separators
    masks = {char: mark for mark, char in syntax.unmask.items() if char is not None and char in s.delimiters}
    table = {ord(char): MARK + chr(mark) for char, mark in masks.items()}
    elements = []
    for position, element in enumerate(segment.elements, 1):
        repeats = segment.repeats.get(position, [element])
        elements.append((s.repetition_char or "").join(
            s.component.join(value.translate(table) for value in rep) for rep in repeats))
    return s.element.join([segment.tag, *elements])


class LazySegments(Sequence[Segment]):
    """The segments of a :class:`BodyRun` as a sequence; each Segment is made when first asked for."""

    def __init__(self, run: BodyRun, syntax: Syntax) -> None:
        self.run, self.syntax = run, syntax
        self._made: dict[int, Segment] = {}

    def __len__(self) -> int:
        return len(self.run)

    @overload
    def __getitem__(self, k: int) -> Segment: ...

    @overload
    def __getitem__(self, k: slice) -> list[Segment]: ...

    def __getitem__(self, k: int | slice) -> Segment | list[Segment]:
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        if k < 0:
            k += len(self)
        seg = self._made.get(k)
        if seg is None:
            if not 0 <= k < len(self):
                raise IndexError(k)
            run = self.run
            seg = self._made[k] = Segment.__new__(Segment)
            raw = run.texts[k].as_py()
            seg.tag, seg.index, seg.offset, seg._elements = raw[:3], int(run.indexes[k]), int(run.offsets[k]), raw
            seg._syntax = self.syntax  # type: ignore[assignment]
            seg._repeats = None
        return seg

    def append(self, segment: Segment) -> None:
        """Add a Segment made elsewhere (an unterminated last segment) at the end."""
        tail = run_of([segment], self.syntax)
        run = self.run
        self.run = BodyRun(pa.concat_arrays([run.texts, tail.texts]), np.concatenate([run.tags, tail.tags]),
                           np.concatenate([run.offsets, tail.offsets]), np.concatenate([run.indexes, tail.indexes]))
        self._made[len(self.run) - 1] = segment


class CompactBody:
    """A message's body segments kept as arrays while they stream by (``EdifactFile.body_sink``):
    ~35 bytes a segment besides its text, instead of a Segment object (~250), so a message of
    700,000 segments does not need 170 MB of objects at once."""

    def __init__(self) -> None:
        self._runs: list[BodyRun] = []

    def add(self, run: BodyRun) -> None:
        if len(run):
            self._runs.append(run)

    def arrays(self) -> tuple[pa.Array, np.ndarray, np.ndarray, np.ndarray]:
        """Texts, tags, offsets (in the file) and indexes (in the message) of all the segments, once:
        the runs are let go as they are joined (their chunks' buffers with them)."""
        runs, self._runs = self._runs or [BodyRun.empty()], []
        texts = pa.chunked_array([r.texts for r in runs], pa.string()).combine_chunks()
        columns = [np.concatenate([getattr(r, name) for r in runs]) for name in ("tags", "offsets", "indexes")]
        runs.clear()
        return texts, *columns  # type: ignore[return-value]


__all__ = ["BodyRun", "CompactBody", "LazySegments", "run_of", "split_chunk", "tags_of"]
