"""Selectors applied to a whole message at once, with Arrow and numpy instead of a Python loop.

A PRICAT of 100,000 line items has ~700,000 segments. Parsing each into Python lists and testing
each field's selector segment by segment costs ~10 µs a segment, as much as pydifact itself; the
reader would then be no faster than the baseline it must beat tenfold (DESIGN §6). Instead:

* the segments' raw texts (released delimiters already masked by the tokenizer, so a separator in
  the text is a real one) come as one Arrow string array (``bodies.py``: no Segment objects);
* segment groups are numbered with cumulative sums over "this segment opens a group" flags;
* the values of a tag's segments at a position are located with numpy from where the separators
  are in the text buffer, once per position and message (a position a segment omits reads as "");
* a record takes the first match of its own group, else of the groups around it, else of the
  header, by array lookups.

Values that hold a masked delimiter are unmasked with Arrow string kernels; only non-ASCII values
under a charset that needs decoding (UNOY, UTF-8 under UNOC, cp1252: ``charsets.CharsetPlan.fix``)
go through Python, exactly as ``tokenizer.Syntax.parse`` would treat them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from exchanged.formats.edifact.selectors import Selector
from exchanged.formats.edifact.separators import Separators
from exchanged.formats.edifact.tokenizer import _MARK as MARK
from exchanged.formats.edifact.tokenizer import Syntax

_BLOCK = 1 << 20


class Groups:
    """The group structure of one message's body (UNH and the summary section left out).

    ``owner[i]``: the anchor index of the innermost group segment ``i`` belongs to (-1: header).
    ``of_level[k][i]``: the anchor index of the level-``k`` group segment ``i`` is in, or -1.
    ``tags`` are bytes (``bodies.TAG``).
    """

    def __init__(self, tags: np.ndarray, levels: Sequence[str]) -> None:
        n = len(tags)
        index = np.arange(n, dtype=np.int32)  # int32: a message's arrays are ~4 bytes a segment each
        self.anchors: list[np.ndarray] = []
        self.of_level: list[np.ndarray] = []
        outer_last = np.full(n, -1, np.int32)
        self.owner = np.full(n, -1, np.int32)
        for tag in levels:
            opens = tags == tag.encode()
            last = np.maximum.accumulate(np.where(opens, index, np.int32(-1))) if n else np.full(0, -1, np.int32)
            inside = np.where(last > outer_last, last, np.int32(-1))  # an outer group opened since: closed
            self.anchors.append(np.flatnonzero(opens))
            self.of_level.append(inside)
            self.owner = np.where(inside >= 0, inside, self.owner)
            outer_last = np.maximum(outer_last, last)


class Components:
    """Values of one message's segments by tag and position, computed on demand and kept: several
    selectors read the same positions (PIA for products and prices alike).

    A value is located, not split out: the byte positions of each separator in the message's text
    buffer are found once (numpy; the tokenizer masked released delimiters, and UTF-8 never holds
    an ASCII byte inside a multi-byte character, so each hit is a real separator). Element ``n`` of
    a segment lies between its ``n``-th and ``n+1``-th element separator (the tag is piece 0),
    found with one ``searchsorted`` per tag; a component likewise inside its element. Only the
    values asked for are copied out, with one gather. Positions are int32: Arrow's string offsets.
    """

    def __init__(self, texts: pa.Array | pa.ChunkedArray, tags: np.ndarray, separators: Separators) -> None:
        if isinstance(texts, pa.ChunkedArray):
            texts = texts.combine_chunks() if texts.num_chunks != 1 else texts.chunk(0)
        self.texts, self.tags, self.separators = texts, tags, separators
        _, bounds, data = texts.buffers() if len(texts) else (None, None, None)
        self._bounds = np.zeros(1, np.int32) if bounds is None else \
            np.frombuffer(bounds, np.int32, len(texts) + 1, texts.offset * 4)
        self._data = np.zeros(0, np.uint8) if data is None else np.frombuffer(data, np.uint8)
        self._positions: dict[str, tuple[np.ndarray, int]] = {}
        self._candidates: dict[str, np.ndarray] = {}
        self._first: dict[str, np.ndarray] = {}  # tag -> per candidate, its first element separator
        self._elements: dict[tuple[str, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._parts: dict[tuple[str, int, int], pa.Array] = {}
        self.hits: dict[Selector, tuple[pa.Array, FirstHits]] = {}  # selector -> (values, first hit per owner)

    def forget(self, tag: str) -> None:
        """Drop what was read for ``tag`` (no selector reads it any more in this message)."""
        self._candidates.pop(tag, None)
        self._first.pop(tag, None)
        for element in [k for k in self._elements if k[0] == tag]:
            del self._elements[element]
        for part in [k for k in self._parts if k[0] == tag]:
            del self._parts[part]
        for selector in [s for s in self.hits if s.tag == tag]:
            del self.hits[selector]

    def candidates(self, tag: str) -> np.ndarray:
        if tag not in self._candidates:
            self._candidates[tag] = np.flatnonzero(self.tags == tag.encode())
        return self._candidates[tag]

    def component(self, tag: str, element: int, component: int) -> pa.Array:
        """Per candidate segment of ``tag``: component ``component`` of element ``element`` ("" when
        absent, as an omitted trailing element or component is, ISO 9735 "suppression of trailing
        separators"; the first repetition of a repeated element)."""
        part = (tag, element, component)
        if part not in self._parts:
            start, end, k = self._element(tag, element)
            start, end = self._piece(start, end, k, self.separators.component, component - 1)
            self._parts[part] = self._gather(start, end)
        return self._parts[part]

    def _element(self, tag: str, element: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Bounds of element ``element`` (its first repetition) per candidate, and per candidate the
        index of the first component separator at or after its start."""
        key = (tag, element)
        if key not in self._elements:
            rows = self.candidates(tag)
            start, end = self._bounds[rows], self._bounds[rows + 1]
            s = self.separators
            if tag not in self._first:
                self._first[tag] = np.searchsorted(self._where(s.element)[0], start)
            start, end = self._piece(start, end, self._first[tag], s.element, element)
            if s.repetition_char is not None:  # syntax 4: the first repetition
                start, end = self._piece(start, end, None, s.repetition_char, 0)
            k = np.searchsorted(self._where(s.component)[0], start)
            self._elements[key] = (start, end, k)
        return self._elements[key]

    def _where(self, separator: str) -> tuple[np.ndarray, int]:
        """Byte positions of ``separator`` in the text buffer (sorted), and its width in bytes."""
        if separator not in self._positions:
            code, data = separator.encode(), self._data
            found = []
            for block in range(0, len(data), _BLOCK):  # a block at a time: no temporary the size of the text
                at = np.flatnonzero(data[block : block + _BLOCK] == code[0]).astype(np.int32)
                at += block
                for i, byte in enumerate(code[1:], 1):  # a separator beyond ASCII (UNA may declare one)
                    at = at[at + i < len(data)]
                    at = at[data[at + i] == byte]
                found.append(at)
            self._positions[separator] = (np.concatenate(found) if found else np.zeros(0, np.int32), len(code))
        return self._positions[separator]

    def _piece(self, start: np.ndarray, end: np.ndarray, k: np.ndarray | None, separator: str,
               n: int) -> tuple[np.ndarray, np.ndarray]:
        """Per stretch ``start[i]:end[i]``: the bounds of its piece ``n`` (0-based) when split at
        ``separator``, an empty stretch where it has fewer pieces. ``k``: the index of the first
        separator at or after each start (None: found here)."""
        at, width = self._where(separator)
        if not len(at):
            return (start, end) if n == 0 else (end, end)
        if k is None:
            k = np.searchsorted(at, start)
        last = len(at) - 1
        if n:
            before = at[np.minimum(k + (n - 1), last)]
            present = (k + (n - 1) <= last) & (before < end)
            start = np.where(present, before + width, end)
        after = at[np.minimum(k + n, last)]
        end = np.where((k + n <= last) & (after < end), after, end)
        return start, end

    def _gather(self, start: np.ndarray, end: np.ndarray) -> pa.Array:
        """The stretches ``start[i]:end[i]`` of the text buffer as a string array."""
        length = end - start
        offsets = np.zeros(len(length) + 1, np.int32)
        np.cumsum(length, out=offsets[1:])
        total = int(offsets[-1])
        picked = self._data[np.repeat(start - offsets[:-1], length) + np.arange(total, dtype=np.int32)]
        return pa.StringArray.from_buffers(len(length), pa.py_buffer(offsets), pa.py_buffer(picked))


def selector_values(selector: Selector, components: Components, groups: Groups, level: int,
                    syntax: Syntax) -> pa.Array:
    """Per record of ``level`` (one per anchor of that level): the selected value, or null."""
    anchors = groups.anchors[level]
    if selector not in components.hits:  # the same selector for two entities (sku): matched once
        components.hits[selector] = _hits(selector, components, groups)
    values, first = components.hits[selector]
    chosen = first.of(anchors + 1)
    for outer in range(level - 1, -1, -1):  # the groups around, innermost first
        missing = chosen < 0
        if not missing.any():
            break
        parents = groups.of_level[outer][anchors[missing]]
        chosen[missing] = np.where(parents >= 0, first.of(parents + 1), -1)
    chosen = np.where(chosen < 0, first.of(np.zeros(1, np.int64))[0], chosen)  # the header
    if not len(values):
        return pa.nulls(len(anchors), pa.string())
    return _clean(values.take(pa.array(np.where(chosen < 0, 0, chosen), mask=chosen < 0)), syntax)


class FirstHits:
    """Per owner group (anchor + 1; the header is slot 0): the position of its first match, kept as
    two sorted arrays the size of the matches, not of the message."""

    def __init__(self, slots: np.ndarray, at: np.ndarray) -> None:
        self.slots, self.at = slots, at

    def of(self, keys: np.ndarray) -> np.ndarray:
        """The first match of each owner in ``keys``, -1 where it has none."""
        if not len(self.slots):
            return np.full(len(keys), -1, np.int64)
        where = np.minimum(np.searchsorted(self.slots, keys), len(self.slots) - 1)
        return np.where(self.slots[where] == keys, self.at[where], -1)


def _hits(selector: Selector, components: Components, groups: Groups) -> tuple[pa.Array, FirstHits]:
    """The values of the segments ``selector`` matches, and where each owner group's first is."""
    candidates = components.candidates(selector.tag)
    values = pa.nulls(0, pa.string())
    first = FirstHits(np.zeros(0, np.int64), np.zeros(0, np.int64))
    if len(candidates):
        ok = np.ones(len(candidates), dtype=bool)
        for element, component, allowed in selector.conditions:
            column = components.component(selector.tag, element, component)
            ok &= np.asarray(pc.is_in(column, value_set=pa.array(sorted(allowed))).to_numpy(zero_copy_only=False),
                             dtype=bool)
        hits = np.flatnonzero(ok)
        if len(hits):
            values = components.component(selector.tag, selector.element, selector.component).take(pa.array(hits))
            owners = groups.owner[candidates[hits]] + 1
            slots, at = np.unique(owners, return_index=True)  # hits are in file order: the first wins
            first = FirstHits(slots, at)
    return values, first


def _clean(values: pa.Array, syntax: Syntax) -> pa.Array:
    """Values with a masked delimiter or non-ASCII text, as ``Syntax.parse`` would give them. A mask
    (U+E000 + U+E001..U+E005) is never ASCII; ASCII values are returned as they are."""
    special = pc.fill_null(pc.invert(pc.string_is_ascii(values)), False)
    if not pc.any(special).as_py():
        return values
    fixed = values.filter(special)
    for mark, char in syntax.unmask.items():
        if char is not None:
            fixed = pc.replace_substring(fixed, MARK + chr(mark), char)
    if syntax.fix is not None:  # the charset's decoding (charsets.py), for what is still not ASCII
        fix = syntax.fix
        fixed = pa.array([v if v.isascii() else fix(v) for v in fixed.to_pylist()], pa.string())
    return pc.replace_with_mask(values, special, fixed)


__all__ = ["Components", "Groups", "selector_values"]
