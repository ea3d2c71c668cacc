"""Envelope: UNA/UNB..UNZ, UNG..UNE, UNH..UNT, each check with its code and location."""

from __future__ import annotations

import gc
import inspect

import pytest

from exchanged.formats.edifact.envelope import read_interchanges

UNB = "UNB+UNOC:3+SENDER:14+RECIPIENT:14+200101:1200+{ref}+PASS+APP++1++1'"


def msg(ref: str = "1", *body: str, count: int | None = None, unt_ref: str | None = None) -> list[str]:
    n = len(body) + 2 if count is None else count
    return [f"UNH+{ref}+ORDERS:D:96A:UN:EAN008", *[b.rstrip("'") for b in body], f"UNT+{n}+{unt_ref or ref}"]


def ic(*messages: list[str], ref: str = "9", count: int | None = None, unz_ref: str | None = None,
       trailer: bool = True, una: str = "") -> str:
    segs = [UNB.format(ref=ref).rstrip("'")] + [s for m in messages for s in m]
    if trailer:
        segs.append(f"UNZ+{len(messages) if count is None else count}+{unz_ref or ref}")
    return una + "'\n".join(segs) + "'\n"


def read(text: str):
    f = read_interchanges(text.encode("latin-1"))
    return f, list(f.messages())


def where(issue) -> tuple:
    loc = issue.location
    return (issue.code, issue.severity, loc.segment_tag, loc.segment_index, loc.line, loc.interchange_ref,
            loc.message_ref)


def test_a_clean_interchange():
    f, (m,) = read(ic(msg("1", "BGM+220+PO1+9", "LIN+1++4000862141404:EN")))
    assert (m.ref, m.type, m.version, m.release, m.agency, m.association) == ("1", "ORDERS", "D", "96A", "UN", "EAN008")
    assert [s.tag for s in m.segments] == ["UNH", "BGM", "LIN", "UNT"]
    assert [s.index for s in m.segments] == [1, 2, 3, 4]
    h = m.interchange
    assert (h.sender, h.sender_qualifier, h.recipient, h.recipient_qualifier, h.control_ref, h.syntax_id,
            h.syntax_version, h.date, h.time, h.application_ref, h.test_indicator) == (
        "SENDER", "14", "RECIPIENT", "14", "9", "UNOC", "3", "200101", "1200", "APP", "1")
    assert f.issues == [] and m.issues == [] and m.rejected is False
    (s,) = f.interchanges
    assert (s.message_count, s.ok, [(x.ref, x.type, x.rejected) for x in s.messages]) == (1, True, [("1", "ORDERS", False)])


def test_unt_count_mismatch_rejects_that_message_only():
    f, (a, b) = read(ic(msg("1", "BGM+220+1+9", count=8), msg("2", "BGM+220+2+9")))
    assert [where(i) for i in a.issues] == [("edifact-segment-count", "error", "UNT", 3, 4, "9", "1")]
    assert (a.rejected, b.rejected) == (True, False)
    assert f.interchanges[0].ok is True
    assert [x.errors for x in f.interchanges[0].messages] == [["edifact-segment-count"], []]


def test_unt_reference_mismatch():
    _, (m,) = read(ic(msg("1", "BGM+220+1+9", unt_ref="2")))
    assert [where(i) for i in m.issues] == [("edifact-message-ref-mismatch", "error", "UNT", 3, 4, "9", "1")]


def test_missing_unt_before_next_unh_and_before_unz():
    text = ic(msg("1", "BGM+220+1+9")[:-1], msg("2", "BGM+220+2+9")[:-1], count=2)
    _, (a, b) = read(text)
    assert [where(i) for i in a.issues] == [("edifact-missing-unt", "error", "UNH", 1, 2, "9", "1")]
    assert [where(i) for i in b.issues] == [("edifact-missing-unt", "error", "UNH", 1, 4, "9", "2")]
    assert a.rejected and b.rejected


def test_unz_count_and_reference_reject_every_message():
    f, (a, b) = read(ic(msg("1"), msg("2"), count=1, unz_ref="1"))
    assert [where(i) for i in f.issues] == [
        ("edifact-interchange-count", "error", "UNZ", 6, 6, "9", None),
        ("edifact-interchange-ref-mismatch", "error", "UNZ", 6, 6, "9", None)]
    assert a.rejected and b.rejected and not a.issues
    assert f.interchanges[0].ok is False


def test_missing_unz_rejects_every_message_before_it_is_yielded():
    f = read_interchanges(ic(msg("1"), msg("2"), trailer=False).encode())
    seen = [m.rejected for m in f.messages()]
    assert seen == [True, True]
    assert [where(i) for i in f.issues] == [("edifact-missing-unz", "error", "UNB", 1, 1, "9", None)]


def test_groups_count_and_reference():
    group = ["UNG+ORDERS+S+R+200101:1200+77+UN+D:96A", *msg("1"), *msg("2"), "UNE+2+77"]
    f, (a, b) = read(ic(group, count=1).replace("UNZ+1", "UNZ+1"))
    assert f.issues == [] and a.group_ref == "77" and not a.rejected
    assert f.interchanges[0].group_count == 1
    bad = ["UNG+ORDERS+S+R+200101:1200+77+UN+D:96A", *msg("1"), *msg("2"), "UNE+3+78"]
    f, (a, b) = read(ic(bad, count=1))
    assert [where(i) for i in f.issues] == [
        ("edifact-group-count", "error", "UNE", 7, 7, "9", None),
        ("edifact-group-ref-mismatch", "error", "UNE", 7, 7, "9", None)]
    assert a.rejected and b.rejected


def test_missing_une():
    f, (a,) = read(ic(["UNG+ORDERS+S+R+200101:1200+77+UN+D:96A", *msg("1")], count=1))
    assert [where(i) for i in f.issues] == [("edifact-missing-une", "error", "UNG", 2, 2, "9", None)]
    assert a.rejected


def test_segment_outside_message_inside_an_interchange():
    text = ic(msg("1"), ["FTX+AAI+++stray"], msg("2"), count=2)
    f, (_, b) = read(text)
    assert [where(i) for i in f.issues] == [("edifact-segment-outside-message", "error", "FTX", 4, 4, "9", None)]
    assert f.interchanges[0].ok is False
    assert b.rejected  # yielded after the stray segment
    assert [x.rejected for x in f.interchanges[0].messages] == [True, True]


def test_a_late_interchange_error_marks_messages_already_yielded():
    text = ic(msg("1"), ["FTX+AAI+++stray"], count=1)
    f = read_interchanges(text.encode())
    it = f.messages()
    first = next(it)
    assert first.rejected is False  # nothing known against it yet
    list(it)
    assert first.rejected is True and f.interchanges[0].messages[0].rejected is True


def test_messages_is_a_generator_and_keeps_memory_per_message():
    f = read_interchanges(ic(*[msg(str(i), "LIN+1") for i in range(50)], count=50).encode())
    gen = f.messages()
    assert inspect.isgenerator(gen)
    first = next(gen)
    assert len(f.interchanges) == 1 and f.interchanges[0].message_count == 1
    del first
    next(gen)
    gc.collect()
    assert f.interchanges[0].messages[0]._message() is None  # the reader keeps no message alive
    assert sum(1 for _ in gen) == 48


def test_several_interchanges_and_a_una_mid_file():
    second = ic(msg("5"), ref="10", una="UNA:|.? '").replace("+", "|")
    f, (_, b) = read(ic(msg("1")) + second)
    assert [x.header.control_ref for x in f.interchanges] == ["9", "10"]
    assert b.interchange.separators.element == "|" and b.ref == "5"
    assert f.issues == []


def test_missing_unz_then_a_una_starts_the_next_interchange():
    second = ic(msg("5"), ref="10", una="UNA:|.? '").replace("+", "|")
    f, (a, b) = read(ic(msg("1"), trailer=False) + second)
    assert [i.code for i in f.issues] == ["edifact-missing-unz"]
    assert (a.rejected, b.rejected) == (True, False)


def test_junk_before_is_a_warning_at_line_1():
    f, (m,) = read("#####@@@@\r\n#####\r\n" + ic(msg("1")))
    assert [where(i) for i in f.issues] == [("edifact-junk-before-interchange", "warning", None, None, 1, None, None)]
    assert not m.rejected


def test_junk_after_the_last_unz_is_an_error():
    f, (_m,) = read(ic(msg("1")) + "1r")
    assert [(i.code, i.severity, i.location.line, i.location.column) for i in f.issues] == [
        ("edifact-junk-after-interchange", "error", 5, 1)]


def test_segments_between_interchanges_are_outside_any_message():
    f, _ = read(ic(msg("1")) + "FTX+AAI+++lost'\n" + ic(msg("2"), ref="10"))
    assert [(i.code, i.location.segment_tag, i.location.line) for i in f.issues] == [
        ("edifact-segment-outside-message", "FTX", 5)]


@pytest.mark.parametrize(("text", "first"), [
    ("UNA:+,? '\nUNH+1+ORDERS:D:96A:UN:EAN008'\nBGM+220+1+9'\nUNT+3+1'\n", "UNH"),
    ("FNB+UNOB:1+S+R+200101:1200+9'\nUNH+1+INVOIC:D:00A:UN'\nUNT+2+1'\nUNZ+1+9'\n", "FNB"),
    ("BGM+380+1+9'\nQTY+47:16,94:MIN'\n", "BGM"),
])
def test_no_interchange_yields_messages_rejected(text, first):
    f, messages = read(text)
    assert [(i.code, i.location.segment_tag) for i in f.issues] == [("edifact-no-interchange", first)]
    assert all(m.rejected for m in messages)
    assert len(messages) == (0 if first == "BGM" else 1)
    assert f.interchanges == []


def test_invalid_segment_tag():
    _f, (m,) = read(ic(msg("1", "BG+220", "bgm+220", "BGMX+1")))
    assert [(i.code, i.location.segment_tag, i.location.segment_index) for i in m.issues] == [
        ("edifact-invalid-segment-tag", "BG", 2), ("edifact-invalid-segment-tag", "bgm", 3),
        ("edifact-invalid-segment-tag", "BGMX", 4)]
    assert m.rejected


def test_invalid_unh_and_duplicate_reference():
    _f, (_a, b, c) = read(ic(msg("1"), msg("1"), ["UNH+3", "UNT+2+3"], count=3))
    assert [i.code for i in b.issues] == ["edifact-duplicate-message-ref"] and not b.rejected
    assert [i.code for i in c.issues] == ["edifact-invalid-unh"] and c.rejected


def test_invalid_unb():
    f, _ = read("UNB+UNOC:3+S+R+200101:1200'UNZ+0+'")
    assert "edifact-invalid-unb" in [i.code for i in f.issues]


def test_location_in_a_crlf_file_with_line_breaks_inside_segments():
    lines = ["UNB+UNOC:3+S+R+200101:1200+9'", "UNH+1+ORDERS:D:96A:UN:EAN008'", "DTM+137:200508",
             "19:102'NAD+SU+PART", "NER::9'", "FTX+AAI+++a", "b'", "LIN+1++400:EN'BAD+x?y'", "UNT+7+1'", "UNZ+1+9'"]
    _f, (m,) = read("\r\n".join(lines) + "\r\n")
    lin = next(s for s in m.segments if s.tag == "LIN")
    loc = m.location(lin)
    assert (loc.line, loc.column, loc.segment_index, loc.segment_tag) == (8, 1, 5, "LIN")
    assert m.segments[1].get(1, 2) == "20050819" and m.segments[3].get(4) == "ab"
    assert [(i.code, i.location.line, i.location.column) for i in m.issues] == [("edifact-invalid-release", 8, 15)]


def test_syntax_4_defaults_split_repetitions():
    text = ic(msg("1", "COM+a:TE*b:EM")).replace("UNOC:3", "UNOA:4")
    _f, (m,) = read(text)
    assert m.segments[1].repeats == {1: [["a", "TE"], ["b", "EM"]]}
    assert m.interchange.separators.repetition == "*"


def test_cap_on_issues_of_one_code_per_message():
    body = [f"FTX+AAA+++x{i}:'" for i in range(25)]
    _f, (m,) = read(ic(msg("1", *body)))
    codes = [i.code for i in m.issues]
    assert codes.count("edifact-trailing-separator") == 20
    assert [i.value for i in m.issues if i.code == "edifact-more-issues"] == [5]


def test_missing_terminator_on_the_last_segment():
    f, (m,) = read(ic(msg("1")).rstrip("'\n"))
    assert [(i.code, i.severity, i.location.segment_tag) for i in f.issues] == [
        ("edifact-missing-terminator", "warning", "UNZ")]
    assert not m.rejected
