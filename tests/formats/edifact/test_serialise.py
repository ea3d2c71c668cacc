"""``serialise``: segments to EDIFACT text, every reserved character released (ISO 9735).

``read_with_pydifact`` is the reference reader the writer tests share (test_orders_writer.py,
test_contrl.py import it): what pydifact's parser makes of our text is what a partner's
reader would see. ``matches_golden`` compares a writer's bytes with a file under ``golden/``;
``EXCHANGED_REGEN_GOLDEN=1 pytest tests/formats/edifact`` rewrites the files (review the diff).
"""

from __future__ import annotations

import datetime as dt
import warnings
from functools import partial
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydifact.exceptions import MissingImplementationWarning
from pydifact.parser import Parser
from pydifact.segmentcollection import Interchange

from exchanged.formats.edifact.serialise import (
    DEFAULTS,
    Envelope,
    Message,
    Separators,
    serialise,
    service_string_advice,
    write_interchange,
)
from tests.golden_files import matches_golden_in

Normal = list[tuple[str, tuple[tuple[str, ...], ...]]]


def read_with_pydifact(text: str) -> list[tuple[str, list[str | list[str]]]]:
    """Segments as pydifact 0.2.3 parses them (UNA taken out), for comparison in tests.

    pydifact warns (MissingImplementationWarning) on every parse because its wheel lacks the
    segment directories it tries to validate against; that warning says nothing about our text.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingImplementationWarning)
        return [(s.tag, list(s.elements)) for s in Parser().parse(text) if s.tag != "UNA"]


GOLDEN = Path(__file__).with_name("golden")


matches_golden = partial(matches_golden_in, GOLDEN)


def read_interchange_with_pydifact(text: str) -> Interchange:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingImplementationWarning)
        return Interchange.from_str(text)


def normal(segments: list[tuple[str, list]]) -> Normal:
    """Each element as a tuple of components, trailing empties dropped (what the text can say)."""
    out: Normal = []
    for tag, elements in segments:
        shaped = []
        for element in elements:
            parts = [element] if isinstance(element, str) else list(element)
            while parts and parts[-1] == "":
                parts.pop()
            shaped.append(tuple(parts))
        while shaped and shaped[-1] == ():
            shaped.pop()
        out.append((tag, tuple(shaped)))
    return out


# --- the text, exactly ----------------------------------------------------------------------------


def test_the_una_is_explicit_and_iso_default() -> None:
    assert service_string_advice() == "UNA:+.? '"
    assert serialise([("UNS", ["S"])]) == "UNA:+.? '\nUNS+S'\n"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("plain", "plain"),
        ("a+b", "a?+b"),
        ("a:b", "a?:b"),
        ("it's", "it?'s"),
        ("why?", "why??"),
        ("?+", "???+"),
        ("??", "????"),
        ("a b", "a b"),  # syntax 3: UNA position 5 is a reserved space, never released
        ("a*b", "a*b"),
        ("Müller & Söhne", "Müller & Söhne"),
        ("1.5,2", "1.5,2"),  # the decimal mark is not a delimiter
    ],
)
def test_reserved_characters_are_released(value: str, written: str) -> None:
    assert serialise([("FTX", ["AAI", "", "", [value]])], newline=False) == f"UNA:+.? 'FTX+AAI+++{written}'"


def test_trailing_empty_elements_and_components_are_left_out() -> None:
    segments = [("NAD", ["DP", ["", "", ""], "", ["Name", "", ""], "", "", "", ""])]
    assert serialise(segments, newline=False, una=False) == "NAD+DP+++Name'"
    assert serialise([("IMD", ["F", "", ["", "", "", "Tea"]])], newline=False, una=False) == "IMD+F++:::Tea'"


def test_syntax_4_releases_the_repetition_separator() -> None:
    # pydifact does not release it (Characters.escaped_syntax_dic has no repetition character).
    v4 = Separators(repetition="*")
    assert serialise([("FTX", ["AAI", "", "", ["2*3 a b"]])], v4, newline=False) == "UNA:+.?*'FTX+AAI+++2?*3 a b'"


def test_other_separators_are_declared_and_used() -> None:
    seps = Separators(component="^", element="|", decimal=",", release="\\", segment="~")
    text = serialise([("QTY", [["21", "1,5"]]), ("FTX", ["AAI", "", "", ["a|b^c~d\\e:+'?"]])], seps, newline=False)
    assert text == "UNA^|,\\ ~QTY|21^1,5~FTX|AAI|||a\\|b\\^c\\~d\\\\e:+'?~"


def test_newline_after_every_terminator() -> None:
    text = serialise([("UNH", ["1", ["ORDERS", "D", "96A", "UN"]]), ("UNT", ["2", "1"])])
    assert text.splitlines() == ["UNA:+.? '", "UNH+1+ORDERS:D:96A:UN'", "UNT+2+1'"]
    assert serialise([("UNT", ["2", "1"])], newline=False, una=False) == "UNT+2+1'"


@pytest.mark.parametrize(
    ("segments", "message"),
    [
        ([("unh", ["1"])], "segment tag"),
        ([("UNHX", ["1"])], "segment tag"),
        ([("UNS", [])], "without data"),
        ([("UNS", ["", ["", ""]])], "without data"),
        ([("FTX", ["AAI", "", "", ["line\nbreak"]])], "control character"),
        ([("FTX", ["a\x85b"])], "control character"),
    ],
)
def test_what_cannot_be_written(segments: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        serialise(segments)


def test_elements_are_strings() -> None:
    with pytest.raises(TypeError):
        serialise([("QTY", [["21", 5]])])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        serialise([("UNS", "S")])  # type: ignore[list-item]


@pytest.mark.parametrize(
    "changes",
    [
        {"component": "+"},  # same as the element separator
        {"segment": "a"},
        {"release": "1"},
        {"element": ""},
        {"component": "::"},
        {"decimal": ";"},
        {"element": " "},
        {"segment": "\n"},
        {"component": "."},  # the decimal mark
        {"release": " "},  # fine for reading ("no release character"), not for writing
    ],
)
def test_bad_separators(changes: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        serialise([("UNS", ["S"])], Separators(**changes))


def test_defaults() -> None:
    assert DEFAULTS == Separators(":", "+", ".", "?", " ", "'")


# --- any text survives: serialise, then pydifact's parser gives it back -----------------------------

_SERVICE_POOL = list(":+?'*!#|~^@;/\\<>=&%$\"")


@st.composite
def separator_sets(draw: st.DrawFn) -> Separators:
    component, element, release, segment = draw(st.permutations(_SERVICE_POOL).map(lambda p: p[:4]))
    repetition = draw(st.sampled_from([" ", *[c for c in "*`" if c not in (component, element, release, segment)]]))
    return Separators(component, element, draw(st.sampled_from(".,")), release, repetition, segment)


_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list(":+?'* .,\\|~^!#")),
        st.characters(blacklist_categories=("Cc", "Cs")),
    ),
    max_size=12,
)
_ELEMENT = st.one_of(_TEXT, st.lists(_TEXT, min_size=1, max_size=5))
_SEGMENT = st.tuples(st.sampled_from(["BGM", "NAD", "IMD", "FTX", "QTY", "PI1"]), st.lists(_ELEMENT, min_size=1, max_size=6))


@settings(max_examples=200, deadline=None)
@given(segments=st.lists(_SEGMENT, min_size=1, max_size=6), separators=separator_sets(), newline=st.booleans())
def test_any_text_round_trips_through_pydifact(segments: list, separators: Separators, newline: bool) -> None:
    kept = [s for s, n in zip(segments, normal(segments)) if n[1] and s[0] != "UNA"]
    if not kept:
        return
    text = serialise(kept, separators, newline=newline)
    assert text.startswith(service_string_advice(separators))
    assert normal(read_with_pydifact(text)) == normal(kept)


# --- the interchange envelope ------------------------------------------------------------------------

_AT = dt.datetime(2026, 3, 1, 9, 5)


def test_write_interchange_counts_for_the_trailers() -> None:
    envelope = Envelope("UNOC", 3, ["SENDER", "14"], ["RECIPIENT", ""], "42", _AT, trailer=["", "ORDERS"])
    messages = [Message("1", ["ORDERS", "D", "96A", "UN"], [("BGM", ["220", "X"]), ("UNS", ["S"])]),
                Message("2", ["ORDERS", "D", "96A", "UN"], [("BGM", ["220", "Y"])])]
    assert write_interchange(envelope, messages).decode().splitlines() == [
        "UNA:+.? '",
        "UNB+UNOC:3+SENDER:14+RECIPIENT+260301:0905+42++ORDERS'",
        "UNH+1+ORDERS:D:96A:UN'", "BGM+220+X'", "UNS+S'", "UNT+4+1'",
        "UNH+2+ORDERS:D:96A:UN'", "BGM+220+Y'", "UNT+3+2'",
        "UNZ+2+42'",
    ]


def test_syntax_4_has_a_four_digit_year_and_a_repetition_separator() -> None:
    data = write_interchange(Envelope("UNOY", 4, ["S"], ["R"], "1", _AT), [Message("1", ["X", "D", "1", "UN"], [("FTX", ["東京*"])])], newline=False)
    assert data.decode("utf-8") == "UNA:+.?*'UNB+UNOY:4+S+R+20260301:0905+1'UNH+1+X:D:1:UN'FTX+東京?*'UNT+3+1'UNZ+1+1'"


@pytest.mark.parametrize(
    ("envelope", "message"),
    [
        (Envelope("UNOY", 3, ["S"], ["R"], "1", _AT), "version 4"),
        (Envelope("UNOZ", 3, ["S"], ["R"], "1", _AT), "syntax identifier"),
        (Envelope("UNOC", 3, ["S"], ["R"], "123456789012345", _AT), "control reference"),
        (Envelope("UNOC", 3, ["S"], ["R"], "", _AT), "control reference"),
        (Envelope("UNOA", 3, ["S"], ["R"], "1", _AT), "cannot be written in UNOA"),
    ],
)
def test_write_interchange_refuses(envelope: Envelope, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        write_interchange(envelope, [Message("1", ["X", "D", "1", "UN"], [("FTX", ["Müller"])])])
