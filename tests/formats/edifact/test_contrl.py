"""``write_contrl``: CONTRL:D:3:UN acknowledging or rejecting one received interchange."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError
from test_serialise import matches_golden, read_with_pydifact

from exchanged.formats.edifact.contrl import (
    ContrlConfig,
    InterchangeAck,
    MessageAck,
    SyntaxErrorReport,
    write_contrl,
)

NOW = dt.datetime(2026, 3, 1, 10, 5)
THEM, US = "5412345000013", "5412345000020"


def message(reference: str, accepted: bool = True, errors: list[SyntaxErrorReport] | None = None) -> MessageAck:
    return MessageAck(reference, "ORDERS", "D", "96A", "UN", "EAN008", accepted, errors or [])


def ack(accepted: bool = True, messages: list[MessageAck] | None = None, **changes: Any) -> InterchangeAck:
    received = InterchangeAck(THEM, "14", US, "14", "10001", "UNOC", 3, accepted,
                              messages if messages is not None else [message("1"), message("2")])
    return dataclasses.replace(received, **changes)


def lines(data: bytes) -> list[str]:
    return data.decode("latin-1").splitlines()


REJECTED = ack(False, [
    message("ME1", False, [
        SyntaxErrorReport(12, "UNT", None, "29"),   # segment count in UNT is wrong
        SyntaxErrorReport(4, "BGM", 2, "12"),       # BGM 1004 invalid
        SyntaxErrorReport(7, "LIN", None, "13"),    # a mandatory segment missing here
        SyntaxErrorReport(9, "QTY", 1, "12", 2),    # QTY C186 6060 invalid
        SyntaxErrorReport(9, "QTY", 3, "16"),       # QTY has too many elements
    ]),
    message("ME2", False),
])


def test_golden_accepted() -> None:
    data = write_contrl(ack(), ContrlConfig(), "55", NOW)
    assert matches_golden("contrl/accepted.edi", data)
    assert lines(data) == [
        "UNA:+.? '",
        f"UNB+UNOC:3+{US}:14+{THEM}:14+260301:1005+55'",        # we answer: sender and recipient swapped
        "UNH+1+CONTRL:D:3:UN'",
        f"UCI+10001+{THEM}:14+{US}:14+7'",                       # the subject as it was: not swapped
        "UCM+1+ORDERS:D:96A:UN:EAN008+7'",
        "UCM+2+ORDERS:D:96A:UN:EAN008+7'",
        "UNT+5+1'",
        "UNZ+1+55'",
    ]


def test_golden_rejected() -> None:
    data = write_contrl(REJECTED, ContrlConfig(association_code="EAN004"), "56", NOW)
    assert matches_golden("contrl/rejected.edi", data)
    assert lines(data)[2:] == [
        "UNH+1+CONTRL:D:3:UN:EAN004'",
        f"UCI+10001+{THEM}:14+{US}:14+4'",
        "UCM+ME1+ORDERS:D:96A:UN:EAN008+4+29+UNT'",  # UNH/UNT errors are the UCM's own
        "UCS+4'", "UCD+12+2'",
        "UCS+7+13'",
        "UCS+9'", "UCD+12+1:2'", "UCD+16+3'",
        "UCM+ME2+ORDERS:D:96A:UN:EAN008+4'",
        "UNT+11+1'",
        "UNZ+1+56'",
    ]


def test_pydifact_reads_it() -> None:
    segments = read_with_pydifact(write_contrl(REJECTED, ContrlConfig(), "56", NOW).decode("latin-1"))
    assert segments[1] == ("UNH", ["1", ["CONTRL", "D", "3", "UN"]])
    assert ("UCD", ["12", ["1", "2"]]) in segments
    assert segments[-2] == ("UNT", [str(len(segments) - 2), "1"])


def test_partly_accepted_is_uci_7_with_the_rejected_message_listed() -> None:
    partly = ack(True, [message("1"), message("2", False, [SyntaxErrorReport(3, "DTM", 1, "12")]), message("3")])
    assert lines(write_contrl(partly, ContrlConfig(list_accepted_messages=False), "57", NOW))[3:7] == [
        f"UCI+10001+{THEM}:14+{US}:14+7'", "UCM+2+ORDERS:D:96A:UN:EAN008+4'", "UCS+3'", "UCD+12+1'"]


def test_receipt_only() -> None:
    assert lines(write_contrl(ack(), ContrlConfig(receipt_only=True), "58", NOW))[3:5] == [
        f"UCI+10001+{THEM}:14+{US}:14+8'", "UNT+3+1'"]


def test_an_envelope_error_is_reported_in_uci() -> None:
    received = ack(False, [], error_code="7", error_segment_tag="UNB")
    assert f"UCI+10001+{THEM}:14+{US}:14+4+7+UNB'" in lines(write_contrl(received, ContrlConfig(), "59", NOW))


def test_eancom_1997_identifier_and_own_sender_id() -> None:
    config = ContrlConfig(message_version="2", message_release="2", association_code="EAN002", sender_id="ME", sender_qualifier="ZZ")
    text = lines(write_contrl(ack(), config, "60", NOW))
    assert text[1] == f"UNB+UNOC:3+ME:ZZ+{THEM}:14+260301:1005+60'" and text[2] == "UNH+1+CONTRL:2:2:UN:EAN002'"


def test_references_with_reserved_characters_are_released() -> None:
    received = ack(messages=[message("A+1")], control_ref="X'1", sender="O:K", sender_qualifier=None)
    text = lines(write_contrl(received, ContrlConfig(), "61", NOW))
    assert text[3] == f"UCI+X?'1+O?:K+{US}:14+7'" and text[4] == "UCM+A?+1+ORDERS:D:96A:UN:EAN008+7'"


def test_received_values_are_copied_as_they_came() -> None:
    # CONTRL copies the subject's references; a reference too long for 0020 is still theirs.
    assert lines(write_contrl(ack(control_ref="123456789012345"), ContrlConfig(), "65", NOW))[3].startswith("UCI+123456789012345+")


def test_the_subjects_syntax_identifier_is_kept() -> None:
    assert lines(write_contrl(ack(syntax_id="UNOA", syntax_version=2), ContrlConfig(), "62", NOW))[1].startswith("UNB+UNOA:3+")


def test_the_repetition_limits_are_kept() -> None:
    errors = [SyntaxErrorReport(n, "FTX", e, "12") for n in range(2, 1100) for e in (1,)] + \
             [SyntaxErrorReport(2, "FTX", e, "13") for e in range(2, 200)]
    text = lines(write_contrl(ack(False, [message("1", False, errors)]), ContrlConfig(), "63", NOW))
    assert sum(t.startswith("UCS") for t in text) == 999
    assert text[text.index("UCS+2'") + 1 : text.index("UCS+3'")] == [f"UCD+{c}+{e}'" for c, e in [("12", 1), *(("13", e) for e in range(2, 100))]]


@pytest.mark.parametrize(
    "received",
    [
        ack(False, [message("1", True)]),  # UCI 4 rejects every message
        ack(True, [message("1", True, [SyntaxErrorReport(2, "BGM", 1, "12")])]),
        ack(False, [message("1", False, [SyntaxErrorReport(2, "BGM", 1, "bad")])]),
        ack(False, [message("1", False, [SyntaxErrorReport(0, "BGM", 1, "12")])]),
        ack(False, [message("1", False, [SyntaxErrorReport(2, "bgm", 1, "12")])]),
        ack(False, [message("1", False, [SyntaxErrorReport(2, "BGM", 1000, "12")])]),
        ack(False, [message("1", False, [SyntaxErrorReport(2, "BGM", 1, "12", 0)])]),
        ack(False, [], error_code="12345"),
        ack(False, [], error_code="7", error_segment_tag="BGM"),
        ack(syntax_id="UNOY", syntax_version=4),
        ack(syntax_id="IATB"),
    ],
)
def test_what_contrl_cannot_say(received: InterchangeAck) -> None:
    with pytest.raises(ValueError):
        write_contrl(received, ContrlConfig(), "64", NOW)


def test_bad_config() -> None:
    with pytest.raises(ValidationError):
        ContrlConfig(sender_id="with space")
    with pytest.raises(ValidationError):
        ContrlConfig(colour="red")  # type: ignore[call-arg]


def test_our_reader_reads_it() -> None:
    envelope = pytest.importorskip("exchanged.formats.edifact.envelope")
    file = envelope.read_interchanges(write_contrl(REJECTED, ContrlConfig(), "56", NOW))
    messages = list(file.messages())
    assert not file.issues and [(m.type, m.rejected, m.issues) for m in messages] == [("CONTRL", False, [])]
    assert [s.elements for s in messages[0].segments if s.tag == "UCD"][1] == [["12"], ["1", "2"]]
