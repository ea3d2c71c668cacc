"""The raw (column) reading of message bodies agrees with the Segment-object reading (bodies.py).

The tokenizer's raw path (``SegmentReader(raw=True)``, used when the envelope reader has a body
sink) must find exactly the segments, tags, indexes, offsets, service marks, findings and tails the
Segment path finds, on any text: valid or not, any separators, any chunking. And the column-wise
values (extract.Components) must be what ``Segment.get`` gives, also for separators beyond ASCII.
"""

from __future__ import annotations

from unittest import mock

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from exchanged.formats.edifact import tokenizer
from exchanged.formats.edifact.bodies import BodyRun, LazySegments, run_of, split_chunk
from exchanged.formats.edifact.envelope import read_interchanges
from exchanged.formats.edifact.extract import Components
from exchanged.formats.edifact.separators import Separators
from exchanged.formats.edifact.tokenizer import SegmentReader, Syntax

TAGS = ["LIN", "PIA", "IMD", "UNH", "UNT", "UNS", "FTX", "DTM", "li", "AB", "ABCD", "X1é", "A?B", ""]
LAYOUTS = ["", "\n", "\r\n"]


@st.composite
def separators(draw: st.DrawFn) -> Separators:
    chars = draw(st.lists(st.sampled_from(list(":+'?*|!#§¦~\x1d")), min_size=5, max_size=5, unique=True))
    release = draw(st.sampled_from([chars[2], " "]))
    repetition = draw(st.sampled_from([chars[3], " "]))
    return Separators(component=chars[0], element=chars[1], release=release, repetition=repetition, segment=chars[4])


@st.composite
def edifact_text(draw: st.DrawFn, s: Separators) -> str:
    """Segments with values that hold any delimiter (released or not), some invalid, in one layout
    (sometimes broken by a stray line break or blank), the last one sometimes unterminated."""
    specials = [c for c in (s.component, s.element, s.segment, s.release, s.repetition) if c != " "]
    value = st.text(alphabet=st.sampled_from(["a", "1", "é", "Ä", " ", *specials]), max_size=5)
    layout = draw(st.sampled_from(LAYOUTS))
    out = []
    for _ in range(draw(st.integers(1, 14))):
        tag = draw(st.sampled_from(TAGS))
        elements = draw(st.lists(st.lists(value, min_size=1, max_size=3), max_size=4))
        text = tag + "".join(s.element + s.component.join(e) for e in elements)
        if draw(st.integers(0, 9)) == 0:
            text = text[:1] + draw(st.sampled_from(["\n", " ", "\r\n"])) + text[1:]
        out.append(text + s.segment + layout)
    text = "".join(out)
    if draw(st.booleans()):
        text = text.rstrip("\r\n").removesuffix(s.segment)  # an unterminated last segment
    return text


def _read(text: str, s: Separators, raw: bool) -> list[tuple]:
    reader = SegmentReader(text, Syntax(s), raw=raw)
    out = []
    for chunk in reader.read(0, len(text)):
        segs = chunk.segments
        run = segs.run if isinstance(segs, LazySegments) else run_of(list(segs), Syntax(s))
        out.append(([(g.tag, g.index, g.offset, g.raw) for g in segs], chunk.marks, chunk.flags, chunk.tail,
                    _columns(run)))
    return out


def _columns(run: BodyRun) -> tuple:
    return run.texts.to_pylist(), run.tags.tolist(), run.offsets.tolist(), run.indexes.tolist()


@settings(max_examples=300, deadline=None)
@given(data=st.data(), chunk=st.integers(8, 120))
def test_raw_chunks_agree_with_segment_objects(data: st.DataObject, chunk: int) -> None:
    s = data.draw(separators())
    text = data.draw(edifact_text(s))
    with mock.patch.object(tokenizer, "CHUNK", chunk):  # many chunk boundaries
        assert _read(text, s, raw=True) == _read(text, s, raw=False)


def test_the_raw_path_is_taken_for_the_usual_layout() -> None:
    text = "LIN+1'\nPIA+5+A:SA'\nUNS+S'\n"
    (chunk,) = SegmentReader(text, Syntax(Separators()), raw=True).read(0, len(text))
    assert isinstance(chunk.segments, LazySegments)
    assert [(g.tag, g.index, g.offset) for g in chunk.segments] == [("LIN", 1, 0), ("PIA", 2, 7), ("UNS", 3, 19)]


def test_split_chunk_drops_empty_segments_and_flags_them() -> None:
    run, last, at, bad = split_chunk("LIN+1''PIA+x'ab+1'", 10, "'", 4, "+")
    assert run.texts.to_pylist() == ["LIN+1", "PIA+x", "ab+1"] and run.offsets.tolist() == [10, 17, 23]
    assert run.indexes.tolist() == [5, 6, 7] and run.tags.tolist() == [b"LIN", b"PIA", b"ab+"]
    assert (last, at) == ("", 28) and bad == [16, 23]  # the empty segment, then "ab"


@st.composite
def interchange(draw: st.DrawFn) -> bytes:
    s = draw(separators())
    messages = []
    for ref in range(1, draw(st.integers(1, 3)) + 1):
        body = draw(edifact_text(s)).rstrip("\r\n")
        if not body.endswith(s.segment):
            body += s.segment
        count = body.count(s.segment) + 2
        messages.append(f"UNH{s.element}{ref}{s.element}PRICAT{s.component}D{s.component}96A{s.segment}\n{body}\n"
                        f"UNT{s.element}{count}{s.element}{ref}{s.segment}\n")
    head = s.una() + f"UNB{s.element}UNOC{s.component}3{s.element}S{s.element}R{s.element}200101{s.component}1200" \
        f"{s.element}7{s.segment}\n"
    return (head + "".join(messages) + f"UNZ{s.element}{len(messages)}{s.element}7{s.segment}").encode("latin-1")


@settings(max_examples=150, deadline=None)
@given(data=interchange(), chunk=st.integers(16, 200))
def test_a_body_sink_gets_what_message_segments_hold(data: bytes, chunk: int) -> None:
    with mock.patch.object(tokenizer, "CHUNK", chunk):
        plain = read_interchanges(data)
        messages = [(m.ref, m.rejected, m.issues, m.segments) for m in plain.messages()]
        sunk = read_interchanges(data)
        runs: dict[int, list[BodyRun]] = {}
        sunk.body_sink = lambda message, run: runs.setdefault(id(message), []).append(run)
        got = []
        for m in sunk.messages():
            got.append((m.ref, m.rejected, m.issues, [g.tag for g in m.segments], runs.pop(id(m), [])))
    assert plain.issues == sunk.issues
    assert len(got) == len(messages)
    for (ref, rejected, issues, segments), (ref2, rejected2, issues2, ends, parts) in zip(messages, got):
        assert (ref, rejected, issues) == (ref2, rejected2, issues2)
        assert ends == [segments[0].tag] + ([segments[-1].tag] if segments[-1].tag == "UNT" else [])
        body = segments[1:-1] if segments[-1].tag == "UNT" else segments[1:]
        joined = [value for part in parts for value in zip(*_columns(part))]
        assert joined == list(zip(*_columns(run_of(body, Syntax(sunk.interchanges[0].header.separators)))))


@settings(max_examples=150, deadline=None)
@given(data=st.data(), element=st.integers(1, 4), component=st.integers(1, 3))
def test_components_read_column_wise_equal_segment_get_under_any_separators(data: st.DataObject, element: int,
                                                                           component: int) -> None:
    s = data.draw(separators())
    text = data.draw(edifact_text(s))
    segments = [g for g in tokenizer.tokenize(text, s) if g.tag == "FTX" or g.tag == "PIA"]
    run = run_of(segments, Syntax(s))
    got = {}
    for tag in ("FTX", "PIA"):
        values = Components(pa.chunked_array([run.texts], pa.string()), run.tags, s).component(tag, element, component)
        got[tag] = iter(value.translate(Syntax(s).unmask) for value in values.to_pylist())
    assert [next(got[g.tag]) for g in segments] == [g.get(element, component) for g in segments]


def test_components_of_an_empty_message() -> None:
    empty = BodyRun.empty()
    values = Components(pa.chunked_array([], pa.string()), empty.tags, Separators()).component("LIN", 3, 1)
    assert values.to_pylist() == [] and np.array_equal(empty.tags, np.zeros(0, "S3"))


def test_locations_need_no_text_once_the_messages_are_read() -> None:
    data = "UNA:+.? 'UNB+UNOC:3+S+R+200101:1200+7'\r\nUNH+1+PRICAT:D:96A'\r\nLIN+1'\r\nFÜß+x'\r\nUNT+4+1'\r\nUNZ+1+7'"
    offsets = [0, data.index("UNH"), data.index("FÜß"), data.index("x'")]
    file = read_interchanges(data.encode("latin-1"))
    (message,) = file.messages()
    before = [file.locate(offset, message._plan) for offset in offsets]
    file.release_text()
    assert [file.locate(offset, message._plan) for offset in offsets] == before
    assert [(where.line, where.column) for where in before] == [(1, 1), (2, 1), (4, 1), (4, 5)]
    assert file.text.startswith("UNA")  # made again when asked for
