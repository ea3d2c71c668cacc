"""UNA service string advice and default separators (ISO 9735-1 §4, §7)."""

from __future__ import annotations

import pytest

from exchanged.formats.edifact.envelope import read_interchanges
from exchanged.formats.edifact.separators import DEFAULT, Separators, parse_una


def test_defaults_are_iso_9735_level_a():
    assert (DEFAULT.component, DEFAULT.element, DEFAULT.decimal, DEFAULT.release, DEFAULT.segment) == (
        ":", "+", ".", "?", "'")
    assert DEFAULT.repetition_char is None
    assert DEFAULT.una() == "UNA:+.? '"


@pytest.mark.parametrize(
    ("una", "expected"),
    [
        ("UNA:+.? '", DEFAULT),
        ("UNA:+,? '", Separators(decimal=",")),
        ("UNA:|.? '", Separators(element="|")),
        ("UNA:+.?*'", Separators(repetition="*")),
        ("UNA#|,\\^~", Separators("#", "|", ",", "\\", "^", "~")),
        ("UNA:+.  '", Separators(release=" ")),
    ],
)
def test_una_declares_every_position(una, expected):
    assert parse_una(una + "UNB+UNOC:3") == expected
    assert expected.una() == una


def test_una_cut_short_or_absent_is_none():
    assert parse_una("UNA:+.") is None
    assert parse_una("UNB+UNOC:3") is None
    assert parse_una("xxUNA:+.? '", 2) == DEFAULT


def test_space_release_means_no_release_character():
    assert Separators(release=" ").release_char is None
    assert Separators(release=" ").delimiters == (":", "+", "'")


def test_syntax_version_4_defaults_to_star_repetition_without_una_only():
    assert DEFAULT.for_syntax_version("4", declared=False).repetition == "*"
    assert DEFAULT.for_syntax_version("3", declared=False).repetition_char is None
    assert DEFAULT.for_syntax_version("4", declared=True).repetition_char is None  # UNA5 said space


@pytest.mark.parametrize(
    ("separators", "problem"),
    [
        (Separators(element=":"), "component separator and the element separator"),
        (Separators(release="'"), "segment terminator and the release character"),
        (Separators(segment="\n"), "line break"),
    ],
)
def test_clashing_separators_are_a_problem(separators, problem):
    assert problem in separators.problem()
    assert DEFAULT.problem() is None


def test_una_with_decimal_comma_and_pipe_reads_values():
    data = b"UNA:|,? 'UNB|UNOC:3|S|R|200101:1200|7'UNH|1|PRICAT:D:96A:UN'PRI|AAA:12,50'UNT|3|1'UNZ|1|7'"
    f = read_interchanges(data)
    (msg,) = list(f.messages())
    assert msg.segments[1].get(1, 2) == "12,50"
    assert msg.interchange.separators.decimal == ","
    assert f.issues == []


def test_clashing_una_is_reported():
    data = b"UNA::.? 'UNB:UNOC:3:S:R:200101:1200:7'UNZ:0:7'"
    f = read_interchanges(data)
    list(f.messages())
    assert "edifact-invalid-una" in [i.code for i in f.issues]
    assert f.interchanges[0].ok is False
