"""CONTRL: acknowledge (or reject) one received interchange (UN/EDIFACT syntax version 3).

The message is the UN/EDIFACT syntax and service report message ``CONTRL:D:3:UN`` (ISO 9735 syntax
version 3, CONTRL version D release 3, 97-03-17: UNH S009 must say 0065 CONTRL, 0052 D, 0054 3,
0051 UN). EANCOM 2002 adds association code EAN004 (``CONTRL:D:3:UN:EAN004``); EANCOM 1997 used
``CONTRL:2:2:UN:EAN002``: both are ``ContrlConfig`` settings. Layout::

    UNB+<syntax>+<our id>+<their id>+...+<control ref>'   sender/recipient of the subject, swapped
    UNH+1+CONTRL:D:3:UN'
    UCI+<0020>+<S002 sender>+<S003 recipient>+<0083>[+<0085>+<0013>]'
         the subject interchange, its sender and recipient copied as they were (not swapped)
    UCM+<0062>+<S009>+<0083>[+<0085>+<0013>]'           per message (SG1); errors in UNH/UNT here
    UCS+<0096>[+<0085>]'                                 a segment with an error (SG2), UNH = 1
    UCD+<0085>+<0098>[:<0104>]'                          an element (and component) in error
    UNT+<n>+1'  UNZ+1+<control ref>'

0083 action codes (service code list 0083): ``7`` this level acknowledged and the lower levels too
unless explicitly rejected, ``4`` this level and all lower levels rejected, ``8`` interchange
received (receipt only). There is no "partly": a partly accepted interchange is UCI 7 with the
rejected messages listed as UCM 4. 0085 codes are copied as given (service code list 0085: e.g.
12 invalid value, 13 missing, 16 too many constituents, 29 control count does not match).
At most 999 UCS per message and 99 UCD per UCS are written (the CONTRL repetition limits).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from exchanged.formats.edifact.serialise import (
    Element,
    Envelope,
    Message,
    SegmentSpec,
    write_interchange,
)

__all__ = ["ContrlConfig", "InterchangeAck", "MessageAck", "SyntaxErrorReport", "write_contrl"]

ACKNOWLEDGED, REJECTED, RECEIVED = "7", "4", "8"  # 0083
_ENVELOPE_TAGS = frozenset({"UNH", "UNT"})  # errors here go into UCM 0085/0013, not UCS
MAX_UCS, MAX_UCD = 999, 99


@dataclass(frozen=True)
class SyntaxErrorReport:
    """One error found in a received message.

    ``segment_index`` is the segment's position in its message, UNH = 1 (CONTRL 0096);
    ``element_position`` and ``component_position`` (1-based, 0098/0104) when the error is in an
    element; ``error_code`` is a service code list 0085 code.
    """

    segment_index: int
    segment_tag: str
    element_position: int | None
    error_code: str
    component_position: int | None = None


@dataclass(frozen=True)
class MessageAck:
    """One received message (UNH 0062 and S009) and whether it is accepted."""

    reference: str
    type: str
    version: str
    release: str
    agency: str
    association: str | None
    accepted: bool
    errors: list[SyntaxErrorReport] = field(default_factory=list)


@dataclass(frozen=True)
class InterchangeAck:
    """What a reader found in one received interchange, as CONTRL reports it.

    ``error_code``/``error_segment_tag`` are an error in UNA, UNB or UNZ (UCI 0085, 0013).
    """

    sender: str
    sender_qualifier: str | None
    recipient: str
    recipient_qualifier: str | None
    control_ref: str
    syntax_id: str
    syntax_version: int
    accepted: bool
    messages: list[MessageAck] = field(default_factory=list)
    error_code: str | None = None
    error_segment_tag: str | None = None


class ContrlConfig(BaseModel):
    """How CONTRL messages are written; the defaults are plain UN/EDIFACT syntax 3."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sender_id: str | None = Field(None, pattern=r"^[!-~]{1,35}$", description="UNB S002 0004; unset: the subject's recipient")
    sender_qualifier: str | None = Field(None, description="UNB S002 0007 with sender_id")
    message_version: str = Field("D", description="UNH S009 0052 (EANCOM 1997: 2)")
    message_release: str = Field("3", description="UNH S009 0054 (EANCOM 1997: 2)")
    association_code: str | None = Field(None, description="UNH S009 0057: EAN004 for EANCOM 2002, EAN002 for EANCOM 1997")
    receipt_only: bool = Field(False, description="UCI 0083 = 8 (interchange received), no message list")
    list_accepted_messages: bool = Field(True, description="a UCM for every message; off: only rejected ones (UCI 7 covers the rest)")
    newline: bool = Field(True, description="a line break after every segment")


def write_contrl(ack: InterchangeAck, config: ContrlConfig, control_ref: str, now: dt.datetime) -> bytes:
    """One interchange holding the CONTRL message for ``ack``; ``now`` is the UNB preparation time."""
    _check(ack)
    if ack.syntax_version > 3:
        raise ValueError("CONTRL for a syntax version 4 interchange (CONTRL:4:1) is not supported")
    sender = [config.sender_id, config.sender_qualifier or ""] if config.sender_id else [ack.recipient, ack.recipient_qualifier or ""]
    envelope = Envelope(syntax=ack.syntax_id, version=3, sender=sender,
                        recipient=[ack.sender, ack.sender_qualifier or ""], control_ref=control_ref, prepared_at=now)
    identifier = ["CONTRL", config.message_version, config.message_release, "UN", config.association_code or ""]
    return write_interchange(envelope, [Message("1", identifier, list(_body(ack, config)))], newline=config.newline)


def _body(ack: InterchangeAck, config: ContrlConfig) -> Iterator[SegmentSpec]:
    action = RECEIVED if config.receipt_only else ACKNOWLEDGED if ack.accepted else REJECTED
    yield "UCI", [ack.control_ref, [ack.sender, ack.sender_qualifier or ""], [ack.recipient, ack.recipient_qualifier or ""],
                  action, ack.error_code or "", ack.error_segment_tag or ""]
    if config.receipt_only:
        return
    for message in ack.messages:
        if message.accepted and not config.list_accepted_messages:
            continue
        yield from _message(message)


def _message(message: MessageAck) -> Iterator[SegmentSpec]:
    envelope_errors = [e for e in message.errors if e.segment_tag in _ENVELOPE_TAGS]
    first = envelope_errors[0] if envelope_errors else None
    identifier = [message.type, message.version, message.release, message.agency, message.association or ""]
    yield "UCM", [message.reference, identifier, ACKNOWLEDGED if message.accepted else REJECTED,
                  first.error_code if first else "", first.segment_tag if first else ""]
    by_segment: dict[int, list[SyntaxErrorReport]] = {}
    for error in message.errors:
        if error is not first:
            by_segment.setdefault(error.segment_index, []).append(error)
    for index in sorted(by_segment)[:MAX_UCS]:
        errors = by_segment[index]
        on_segment = next((e for e in errors if e.element_position is None), None)
        yield "UCS", [str(index), on_segment.error_code if on_segment else ""]
        for error in [e for e in errors if e.element_position is not None][:MAX_UCD]:
            position: list[str] = [str(error.element_position)]
            if error.component_position is not None:
                position.append(str(error.component_position))
            elements: list[Element] = [error.error_code, position]
            yield "UCD", elements


_CODE = re.compile(r"[0-9]{1,3}")
_TAG = re.compile(r"[A-Z0-9]{3}")


def _check(ack: InterchangeAck) -> None:
    """Refuse an acknowledgement CONTRL cannot say (or that contradicts itself)."""
    if ack.error_code is not None and not _CODE.fullmatch(ack.error_code):
        raise ValueError(f"UCI 0085 is a syntax error code (1 to 3 digits), not {ack.error_code!r}")
    if ack.error_segment_tag is not None and ack.error_segment_tag not in ("UNA", "UNB", "UNZ"):
        raise ValueError(f"UCI 0013 names UNA, UNB or UNZ, not {ack.error_segment_tag!r}")
    for message in ack.messages:
        if message.accepted and not ack.accepted:
            raise ValueError(f"message {message.reference} is accepted in a rejected interchange (UCI 4 rejects all)")
        if message.accepted and message.errors:
            raise ValueError(f"message {message.reference} is accepted but reports errors (UCM 7 has none below it)")
        for error in message.errors:
            if not _CODE.fullmatch(error.error_code):
                raise ValueError(f"0085 is a syntax error code (1 to 3 digits), not {error.error_code!r}")
            if not _TAG.fullmatch(error.segment_tag):
                raise ValueError(f"not a segment tag: {error.segment_tag!r}")
            if not 1 <= error.segment_index <= 999_999:
                raise ValueError(f"0096 is a position in the message from 1 (UNH), not {error.segment_index}")
            for position in (error.element_position, error.component_position):
                if position is not None and not 1 <= position <= 999:
                    raise ValueError(f"0098/0104 are positions from 1 to 999, not {position}")
