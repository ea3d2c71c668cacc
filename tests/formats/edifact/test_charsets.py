"""Character sets per UNB S001 0001, and the bytes that do not fit them, each located."""

from __future__ import annotations

import pytest

from exchanged.formats.edifact.envelope import read_interchanges


def interchange(syntax: str, *segments: bytes, ref: bytes = b"9") -> bytes:
    """An interchange with one message holding ``segments`` (bytes, as the sender wrote them)."""
    body = [b"UNH+1+ORDERS:D:96A:UN:EAN008'", *segments, b"UNT+%d+1'" % (len(segments) + 2)]
    return b"UNB+" + syntax.encode() + b":3+S+R+200101:1200+" + ref + b"'\n" + b"\n".join(body) + b"\nUNZ+1+" + ref + b"'\n"


def read(data: bytes):
    f = read_interchanges(data)
    messages = list(f.messages())
    return f, messages


def issues(msg) -> list[tuple[str, str, str | None, int | None, int | None]]:
    return [(i.code, i.severity, i.location.segment_tag, i.location.segment_index, i.location.line)
            for i in msg.issues]


def test_utf8_under_unoc_is_decoded_as_utf8_with_a_located_warning():
    _, (msg,) = read(interchange("UNOC", "NAD+BY+++Caf\u00e9 M\u00fcller'".encode(), b"LIN+1'"))
    assert msg.segments[1].get(4) == "Caf\u00e9 M\u00fcller"
    assert issues(msg) == [("edifact-charset-mismatch", "warning", "NAD", 2, 3)]
    assert msg.rejected is False


def test_latin1_under_unoc_is_latin1_without_issue():
    f, (msg,) = read(interchange("UNOC", "NAD+BY+++Caf\u00e9'".encode("latin-1")))
    assert msg.segments[1].get(4) == "Caf\u00e9"
    assert msg.issues == [] and f.issues == []


def test_windows_1252_under_unoc_is_decoded_as_windows_1252():
    _, (msg,) = read(interchange("UNOC", "FTX+AAA+++5 \u20ac \u2013 ok'".encode("cp1252")))
    assert msg.segments[1].get(4) == "5 \u20ac \u2013 ok"
    assert issues(msg) == [("edifact-charset-mismatch", "warning", "FTX", 2, 3)]


def test_lower_case_under_unoa_is_a_repertoire_warning():
    _, (msg,) = read(interchange("UNOA", b"FTX+AAA+++Free text'", b"FTX+AAA+++UPPER'"))
    assert issues(msg) == [("edifact-charset-repertoire", "warning", "FTX", 2, 3)]
    assert msg.issues[0].value == "ree text"


def test_latin1_sharp_s_under_unob_stays_latin1_with_a_warning():
    _, (msg,) = read(interchange("UNOB", "LOC+11+KC21:::GateHauptstra\u00dfe'".encode("latin-1")))
    assert msg.segments[1].get(2, 4) == "GateHauptstra\u00dfe"
    assert issues(msg) == [("edifact-charset-repertoire", "warning", "LOC", 2, 3)]


def test_utf8_under_unoa_is_a_mismatch_and_decoded():
    _, (msg,) = read(interchange("UNOA", "NAD+DP+++\u5929\u6d25'".encode()))
    assert msg.segments[1].get(4) == "\u5929\u6d25"
    assert [i[0] for i in issues(msg)] == ["edifact-charset-mismatch"]


@pytest.mark.parametrize("syntax", ["UNOY", "UNOW"])
def test_invalid_utf8_under_unoy_unow_rejects_the_message(syntax):
    _, (msg,) = read(interchange(syntax, b"FTX+AAA+++bad \xe9 byte'"))
    assert issues(msg) == [("edifact-charset-invalid", "error", "FTX", 2, 3)]
    assert msg.rejected is True


def test_valid_utf8_under_unow_is_text():
    _, (msg,) = read(interchange("UNOW", "FTX+AAA+++\u00c4\u00df\u20ac'".encode()))
    assert msg.segments[1].get(4) == "\u00c4\u00df\u20ac"
    assert msg.issues == []


def test_control_character_is_an_error_at_its_segment():
    _, (msg,) = read(interchange("UNOC", b"BGM+220+1\x01+9'", b"LIN+1'"))
    assert issues(msg) == [("edifact-charset-invalid", "error", "BGM", 2, 3)]
    assert msg.rejected is True


def test_tab_after_a_terminator_is_not_data_but_a_tab_inside_is():
    _, (msg,) = read(interchange("UNOC", b"BGM+220+1+9'\t", b"FTX+AAA+++a\tb'"))
    assert issues(msg) == [("edifact-charset-invalid", "error", "FTX", 3, 4)]


def test_replacement_character_in_the_data_is_a_warning():
    _, (msg,) = read(interchange("UNOW", "NAD+BY+++K\ufffdlte GmbH'".encode()))
    assert issues(msg) == [("edifact-replacement-character", "warning", "NAD", 2, 3)]
    assert msg.rejected is False


@pytest.mark.parametrize(("syntax", "codec", "text"), [
    ("UNOD", "iso8859-2", "\u0141\u00f3d\u017a"), ("UNOE", "iso8859-5", "\u041c\u043e\u0441\u043a\u0432\u0430"),
    ("UNOF", "iso8859-7", "\u0391\u03b8\u03ae\u03bd\u03b1")])
def test_iso_8859_parts(syntax, codec, text):
    _, (msg,) = read(interchange(syntax, f"LOC+1+{text}'".encode(codec)))
    assert msg.segments[1].get(2) == text
    assert msg.issues == []


def test_unknown_charset_warns_and_reads_utf8_when_valid():
    f, (msg,) = read(interchange("UNOL", "FTX+AAA+++\u00e9t\u00e9'".encode()))
    assert msg.segments[1].get(4) == "\u00e9t\u00e9"
    assert [(i.code, i.severity, i.location.segment_tag, i.location.line) for i in f.issues] == [
        ("edifact-unknown-charset", "warning", "UNB", 1)]


def test_unknown_charset_falls_back_to_latin1():
    _, (msg,) = read(interchange("ANSI", "FTX+AAA+++\u00e9t\u00e9'".encode("latin-1")))
    assert msg.segments[1].get(4) == "\u00e9t\u00e9"
    assert msg.issues == []


def test_each_interchange_is_decoded_by_its_own_declaration():
    first = interchange("UNOC", "FTX+AAA+++\u00fc'".encode("latin-1"))
    second = interchange("UNOW", "FTX+AAA+++\u00fc'".encode(), ref=b"10")
    f, (a, b) = read(first + second)
    assert a.segments[1].get(4) == b.segments[1].get(4) == "\u00fc"
    assert a.issues == b.issues == [] and f.issues == []


def test_utf8_bom_is_skipped_and_columns_do_not_count_it():
    f, (msg,) = read(b"\xef\xbb\xbf" + interchange("UNOW", b"LIN+1'"))
    assert f.issues == [] and msg.interchange.control_ref == "9"
    assert msg.location(msg.segments[0]).column == 1


def test_curly_quote_instead_of_terminator_is_an_error():
    _, (msg,) = read(interchange("UNOC", "QTY+21:3\u2019GIR+001+5346:LCO'".encode(), b"LIN+1'"))
    codes = [i[0] for i in issues(msg)]
    assert "edifact-lookalike-terminator" in codes
    assert ("edifact-lookalike-terminator", "error", "QTY", 2, 3) in issues(msg)
    assert msg.rejected is True


def test_a_lookalike_that_is_one_of_the_interchanges_separators_is_syntax():
    # UNA makes ` the element separator: "FTX`A00`" is a segment, not a pasted-over terminator
    # before a tag (found by Hypothesis in test_tokenizer's round trip under any UNA).
    data = (b"UNA!`.\"#'UNB`UNOW!4`S`R`200101!1200`7'UNH`1`ORDERS!D!96A!UN'FTX`A00`'UNT`3`1'UNZ`1`7'")
    f, (msg,) = read(data)
    assert [i.code for i in msg.issues if i.severity == "error"] == [] and not msg.rejected
    assert msg.segments[1].elements == [["A00"], [""]]
    assert f.issues == []


def test_column_counts_characters_not_bytes():
    _, (msg,) = read(interchange("UNOW", "FTX+AAA+++\u00e9\u00e9'NAD+BY'".encode()))
    nad = msg.segments[2]
    assert msg.location(nad).column == len("FTX+AAA+++\u00e9\u00e9'") + 1
