"""Selectors applied to a whole message at once, with Arrow and numpy instead of a Python loop.

A PRICAT of 100,000 line items has ~760,000 segments. Parsing each into Python lists and testing
each field's selector segment by segment costs ~10 µs a segment, as much as pydifact itself; the
reader would then be no faster than the baseline it must beat tenfold (DESIGN §6). Instead:

* the segments' raw texts (released delimiters already masked by the tokenizer, so a separator in
  the text is a real one) go into one Arrow string array;
* segment groups are numbered with cumulative sums over "this segment opens a group" flags;
* the segments of a tag are split into elements and components by Arrow kernels, once per tag
  and message (a position a segment omits reads as "");
* a record takes the first match of its own group, else of the groups around it, else of the
  header, by array lookups.

Only the few values that hold a masked delimiter or non-ASCII bytes go through Python (unmask,
charset fix), exactly as ``tokenizer.Syntax.parse`` would treat them.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from exchanged.formats.edifact.selectors import Selector
from exchanged.formats.edifact.separators import Separators
from exchanged.formats.edifact.tokenizer import _MARK as MARK
from exchanged.formats.edifact.tokenizer import Segment, Syntax
from exchanged.nulls import filled

_SPECIAL = re.compile("[\ue000-\ue005]|[^\\x00-\\x7f]")


class Groups:
    """The group structure of one message's body (UNH and the summary section left out).

    ``owner[i]``: the anchor index of the innermost group segment ``i`` belongs to (-1: header).
    ``of_level[k][i]``: the anchor index of the level-``k`` group segment ``i`` is in, or -1.
    """

    def __init__(self, tags: np.ndarray, levels: Sequence[str]) -> None:
        n = len(tags)
        index = np.arange(n)
        self.anchors: list[np.ndarray] = []
        self.of_level: list[np.ndarray] = []
        outer_last = np.full(n, -1)
        self.owner = np.full(n, -1)
        for tag in levels:
            opens = tags == tag
            last = np.maximum.accumulate(np.where(opens, index, -1)) if n else np.full(0, -1)
            inside = np.where(last > outer_last, last, -1)  # an outer group opened since: closed
            self.anchors.append(np.flatnonzero(opens))
            self.of_level.append(inside)
            self.owner = np.where(inside >= 0, inside, self.owner)
            outer_last = np.maximum(outer_last, last)


class Components:
    """The segments of one message split into elements and components, per tag, on demand and
    once: several selectors read the same segments (PIA for products and prices alike)."""

    def __init__(self, texts: pa.Array, tags: np.ndarray, separators: Separators) -> None:
        self.texts, self.tags, self.separators = texts, tags, separators
        self._depth: dict[str, int] = {}
        self._candidates: dict[str, np.ndarray] = {}
        self._elements: dict[str, pa.Array] = {}
        self._components: dict[tuple[str, int], pa.Array] = {}
        self._parts: dict[tuple[str, int, int], pa.Array] = {}
        self.hits: dict[Selector, tuple[pa.Array, FirstHits]] = {}  # selector -> (values, first hit per owner)

    def plan(self, selector: Selector) -> None:
        """Say what ``selector`` will read, so each tag is split once, deep enough for all."""
        deepest = max([selector.element] + [element for element, _, _ in selector.conditions])
        self._depth[selector.tag] = max(self._depth.get(selector.tag, 0), deepest)

    def forget(self, tag: str) -> None:
        """Drop what was split for ``tag`` (no selector reads it any more in this message)."""
        self._elements.pop(tag, None)
        self._candidates.pop(tag, None)
        for key in [k for k in self._components if k[0] == tag]:
            del self._components[key]
        for key in [k for k in self._parts if k[0] == tag]:
            del self._parts[key]
        for selector in [s for s in self.hits if s.tag == tag]:
            del self.hits[selector]

    def candidates(self, tag: str) -> np.ndarray:
        if tag not in self._candidates:
            self._candidates[tag] = np.flatnonzero(self.tags == tag)
        return self._candidates[tag]

    def component(self, tag: str, element: int, component: int) -> pa.Array:
        """Per candidate segment of ``tag``: component ``component`` of element ``element`` ("" when
        absent; the first repetition of a repeated element)."""
        key = (tag, element)
        if key not in self._components:
            if tag not in self._elements:
                # split once, as deep as the deepest element read: the rest stays in a last piece
                depth = max(self._depth.get(tag, 0), element) + 1
                texts = self.texts.take(pa.array(self.candidates(tag)))
                if isinstance(texts, pa.ChunkedArray):  # the message's texts stay in their chunks
                    texts = texts.combine_chunks()
                self._elements[tag] = pc.split_pattern(texts, self.separators.element, max_splits=depth)
            value = _nth(self._elements[tag], element)
            repetition = self.separators.repetition_char
            if repetition is not None:
                value = _nth(pc.split_pattern(value, repetition, max_splits=1), 0)
            self._components[key] = value
        part = (tag, element, component)
        if part not in self._parts:
            c = self.separators.component
            self._parts[part] = _nth(pc.split_pattern(self._components[key], c, max_splits=component), component - 1)
        return self._parts[part]


def _nth(lists: pa.Array, n: int) -> pa.Array:
    """Item ``n`` of each list, "" where a list is shorter (an omitted trailing element or
    component, ISO 9735 "suppression of trailing separators")."""
    items = pc.list_flatten(pc.list_slice(lists, n, n + 1, return_fixed_size_list=True))
    return filled(items, "")


def selector_values(selector: Selector, components: Components, groups: Groups, level: int,
                    unmask: Callable[[str], str]) -> pa.Array:
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
    return _clean(values.take(pa.array(np.where(chosen < 0, 0, chosen), mask=chosen < 0)), unmask)


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


def _clean(values: pa.Array, unmask: Callable[[str], str]) -> pa.Array:
    """Values with a masked delimiter or non-ASCII text, as ``Syntax.parse`` would give them."""
    special = pc.match_substring_regex(values, _SPECIAL.pattern)
    if not pc.any(special).as_py():
        return values
    out = values.to_pylist()
    for i in np.flatnonzero(np.asarray(special.to_numpy(zero_copy_only=False), dtype=bool)):
        out[i] = unmask(out[i])
    return pa.array(out, pa.string())


def segment_arrays(segments: Sequence[Segment], syntax: Syntax) -> tuple[pa.Array, np.ndarray]:
    """The raw texts (tag included, released delimiters masked) and the tags of ``segments``."""
    raws = list(map(_RAW, segments))  # the raw text until a segment is parsed (tokenizer.Segment)
    if set(map(type, raws)) - {str}:
        raws = [raw if raw.__class__ is str else _masked(s, syntax) for s, raw in zip(segments, raws)]
    # U3: a longer (invalid) tag is cut, but its message is rejected (edifact-invalid-segment-tag)
    return pa.array(raws, pa.string()), np.array(list(map(_TAG, segments)), dtype="U3")


_RAW, _TAG = operator.attrgetter("_elements"), operator.attrgetter("tag")
_OFFSET, _INDEX = operator.attrgetter("offset"), operator.attrgetter("index")


class CompactBody:
    """A message's body segments kept as arrays while they stream by (``EdifactFile.body_sink``):
    ~40 bytes a segment instead of a Segment object and its text (~250), so a message of 700,000
    segments does not need 170 MB of objects at once."""

    def __init__(self, syntax: Syntax) -> None:
        self.syntax = syntax
        self._texts: list[pa.Array] = []
        self._tags: list[np.ndarray] = []
        self._offsets: list[np.ndarray] = []
        self._indexes: list[np.ndarray] = []

    def add(self, segments: Sequence[Segment]) -> None:
        texts, tags = segment_arrays(segments, self.syntax)
        self._texts.append(texts)
        self._tags.append(tags)
        self._offsets.append(np.fromiter(map(_OFFSET, segments), np.int64, len(segments)))
        self._indexes.append(np.fromiter(map(_INDEX, segments), np.int64, len(segments)))

    def arrays(self) -> tuple[pa.ChunkedArray, np.ndarray, np.ndarray, np.ndarray]:
        """Texts, tags, offsets (in the file) and indexes (in the message) of all segments so far."""
        if not self._texts:
            return pa.chunked_array([], pa.string()), np.array([], "U3"), np.zeros(0, np.int64), np.zeros(0, np.int64)
        return (pa.chunked_array(self._texts, pa.string()), np.concatenate(self._tags), np.concatenate(self._offsets),
                np.concatenate(self._indexes))


def _masked(segment: Segment, syntax: Syntax) -> str:
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


__all__ = ["CompactBody", "Components", "Groups", "segment_arrays", "selector_values"]
