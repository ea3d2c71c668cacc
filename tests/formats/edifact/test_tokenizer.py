"""Tokenizer: segments, release characters, repetitions, line breaks, offsets (ISO 9735-1 §7)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchanged.formats.edifact import tokenizer
from exchanged.formats.edifact.envelope import read_interchanges
from exchanged.formats.edifact.separators import DEFAULT, Separators
from exchanged.formats.edifact.tokenizer import Segment, tokenize


def escape(value: str, s: Separators) -> str:
    """Release every delimiter in ``value`` (what a correct writer does)."""
    return "".join(s.release + c if c in s.delimiters else c for c in value)


def serialise(tag: str, elements: list[list[str]], s: Separators) -> str:
    return tag + "".join(s.element + s.component.join(escape(c, s) for c in e) for e in elements) + s.segment


def values(text: str, s: Separators = DEFAULT) -> list[tuple[str, list[list[str]]]]:
    return [(seg.tag, seg.elements) for seg in tokenize(text, s)]


# --- release character in every position -------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FTX+a??b'", [["a?b"]]),
        ("FTX+D?'Or'", [["D'Or"]]),
        ("FTX+1?+1'", [["1+1"]]),
        ("FTX+1?:10'", [["1:10"]]),
        ("FTX+end??'", [["end?"]]),  # released release, then the real terminator
        ("FTX+x?''", [["x'"]]),  # released apostrophe right before the terminator
        ("FTX+???''", [["?'"]]),
        ("FTX+???:b'", [["?:b"]]),
        ("FTX+??:b'", [["?", "b"]]),
        ("FTX+a?\n'b'", [["a'b"]]),  # a line break between release and delimiter is transport
    ],
)
def test_release_character_everywhere(text, expected):
    assert values(text) == [("FTX", expected)]


def test_released_repetition_separator_under_syntax_4():
    s = Separators(repetition="*")
    (seg,) = tokenize("COM+a?*b*c:d'", s)
    assert seg.elements == [["a*b"]]
    assert seg.repeats == {1: [["a*b"], ["c", "d"]]}


def test_repetition_separator_splits_repetitions():
    (seg,) = tokenize("COM+s11:AA*s21:AA*s31:AA+x'", Separators(repetition="*"))
    assert seg.elements == [["s11", "AA"], ["x"]]
    assert seg.repeats[1] == [["s11", "AA"], ["s21", "AA"], ["s31", "AA"]]
    assert seg.get(1, 2) == "AA"


def test_star_is_data_without_repetition_separator():
    (seg,) = tokenize("COM+1:2*3:4'")
    assert seg.elements == [["1", "2*3", "4"]]
    assert seg.repeats == {}


# --- invalid release ----------------------------------------------------------------------------

def _codes(data: bytes) -> list[tuple[str, str | None, int | None, int | None]]:
    f = read_interchanges(data)
    out = []
    for msg in f.messages():
        out += [(i.code, i.location.segment_tag, i.location.segment_index, i.location.line) for i in msg.issues]
    return out + [(i.code, i.location.segment_tag, i.location.segment_index, i.location.line) for i in f.issues]


def envelope(*segments: str, una: str = "") -> bytes:
    body = ["UNH+1+ORDERS:D:96A:UN:EAN008'", *segments, f"UNT+{len(segments) + 2}+1'"]
    return (una + "UNB+UNOC:3+S+R+200101:1200+9'\n" + "\n".join(body) + "\nUNZ+1+9'\n").encode()


@pytest.mark.parametrize("segment", ["IMD+F++:::?*?*Marke?*?*'", "FTX+AAA+++a?Xb'", "FTX+AAA+++abc?'", "FTX+x?"])
def test_release_before_a_non_separator_is_an_error_at_its_segment(segment):
    if segment.endswith("?"):  # release at the very end of the file's last segment
        data = envelope().replace(b"UNZ+1+9'\n", b"UNZ+1+9'\nFTX+x?")
        assert ("edifact-junk-after-interchange", None, None, 5) in _codes(data)
        return
    data = envelope(segment) if not segment.endswith("?'") else envelope(segment[:-2] + "?''")
    codes = _codes(data)
    if segment.endswith("?'"):
        assert codes == []  # "abc?''": a released apostrophe, then the terminator: valid
        return
    assert ("edifact-invalid-release", segment[:3], 2, 3) in codes
    f = read_interchanges(data)
    assert [m.rejected for m in f.messages()] == [True]


def test_release_at_the_end_of_the_text_is_invalid():
    (seg,) = tokenize("FTX+abc?")
    assert seg.elements == [["abc?"]]  # an unterminated last segment: kept as written
    data = b"UNB+UNOC:3+S+R+200101:1200+9'UNH+1+ORDERS:D:96A:UN'FTX+abc?"
    codes = _codes(data)
    assert ("edifact-invalid-release", "FTX", 2, 1) in codes
    assert ("edifact-missing-terminator", "FTX", None, 1) in codes


# --- line breaks, blanks, offsets ---------------------------------------------------------------

def test_line_breaks_inside_elements_are_not_data():
    text = "DTM+137:200508\n19:102'NAD+SU+PART\r\nNER2::9'\r\n"
    assert values(text) == [("DTM", [["137", "20050819", "102"]]), ("NAD", [["SU"], ["PARTNER2", "", "9"]])]


def test_blanks_and_tabs_after_terminators_are_ignored():
    text = "UNS+S'   \t\nCNT+2:1'  \n  UNT+3+1'   "
    segs = tokenize(text)
    assert [s.tag for s in segs] == ["UNS", "CNT", "UNT"]
    assert [text[s.offset : s.offset + 3] for s in segs] == ["UNS", "CNT", "UNT"]


@pytest.mark.parametrize("layout", ["'", "'\n", "'\r\n", "' \r\n"])
def test_offsets_point_at_each_tag(layout):
    text = layout.join(["UNH+1+X:D:96A:UN", "BGM+220+1+9", "ODI", "UNT+4+1"]) + layout
    segs = tokenize(text)
    assert [text[s.offset : s.offset + 3] for s in segs] == ["UNH", "BGM", "ODI", "UNT"]
    assert [s.index for s in segs] == [1, 2, 3, 4]
    assert segs[2].elements == []


def test_chunks_give_the_same_segments(monkeypatch):
    text = "".join(f"LIN+{i}++40{i:011d}:EN'\r\nIMD+F++:::a?'b ?+{i}'\r\n" for i in range(500))
    whole = [(s.tag, s.elements, s.offset) for s in tokenize(text)]
    monkeypatch.setattr(tokenizer, "CHUNK", 97)
    assert [(s.tag, s.elements, s.offset) for s in tokenize(text)] == whole


def test_index_restarts_at_each_unh():
    segs = tokenize("UNH+1+X'BGM+1'UNT+3+1'UNH+2+X'UNT+2+2'")
    assert [s.index for s in segs] == [1, 2, 3, 1, 2]


def test_segment_get_is_one_based_with_default():
    seg = Segment("LIN", [["1"], [""], ["4000862141404", "EN"]])
    assert (seg.get(1), seg.get(3, 1), seg.get(3, 2), seg.get(3, 3), seg.get(0), seg.get(4, default="-")) == (
        "1", "4000862141404", "EN", "", "", "-")
    assert seg == Segment("LIN", [["1"], [""], ["4000862141404", "EN"]])


def test_placeholder_characters_in_text_are_refused():
    with pytest.raises(ValueError, match="placeholder"):
        tokenize("FTX+\ue001'")


# --- round trip (Hypothesis) --------------------------------------------------------------------

VALUE_CHARS = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Co"))  # CR/LF are transport
VALUE = st.text(VALUE_CHARS | st.sampled_from(list(":+'?*|.,# äßé€")), max_size=12)
ELEMENTS = st.lists(st.lists(VALUE, min_size=1, max_size=4), min_size=1, max_size=5)
PUNCT = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'"


@st.composite
def separators(draw):
    chars = draw(st.lists(st.sampled_from(PUNCT), min_size=5, max_size=5, unique=True))
    decimal = draw(st.sampled_from(".,"))
    return Separators(component=chars[0], element=chars[1], decimal=decimal, release=chars[2],
                      repetition=chars[3], segment=chars[4])


@settings(max_examples=150, deadline=None)
@given(ELEMENTS)
def test_escaped_values_round_trip_under_default_separators(elements):
    text = serialise("FTX", elements, DEFAULT) + "\r\n" + serialise("NAD", elements, DEFAULT)
    segs = tokenize(text)
    assert [(s.tag, s.elements) for s in segs] == [("FTX", elements), ("NAD", elements)]


@settings(max_examples=150, deadline=None)
@given(ELEMENTS, separators())
def test_escaped_values_round_trip_through_read_interchanges_under_any_una(elements, s):
    first = elements[:]  # repetitions: the first is elements[i]
    body = [serialise("UNH", [["1"], ["ORDERS", "D", "96A", "UN"]], s), serialise("FTX", first, s)]
    body.append(serialise("UNT", [["3"], ["1"]], s))
    text = s.una() + serialise("UNB", [["UNOW", "4"], ["S"], ["R"], ["200101", "1200"], ["7"]], s)
    text += "\n".join(body) + serialise("UNZ", [["1"], ["7"]], s)
    f = read_interchanges(text.encode("utf-8"))
    (msg,) = list(f.messages())
    assert msg.segments[1].elements == elements
    assert not msg.rejected, msg.issues
