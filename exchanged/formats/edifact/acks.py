"""What the reader found, as CONTRL acknowledgements: one ``InterchangeAck`` per interchange.

CONTRL reports the *syntax* verdict (ISO 9735 / UN CONTRL:D:3): a message is rejected when the
syntax layer rejected it (UNT count, character set, a missing trailer…), never for a business
rule (a bad GTIN is the business of the report, or of an APERAK). Our issue codes become service
code list 0085 codes; one with no better match is 18 (unspecified error).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from exchanged.formats.edifact.contrl import (
    InterchangeAck,
    MessageAck,
    SyntaxErrorReport,
)
from exchanged.formats.edifact.envelope import (
    InterchangeSummary,
    Message,
    MessageSummary,
)
from exchanged.report import Issue

# edifact-* issue code -> 0085 syntax error code (UN service code list 0085)
SYNTAX_ERROR_CODES = {
    "edifact-segment-count": "29",              # control count does not match number of instances received
    "edifact-interchange-count": "29",
    "edifact-group-count": "29",
    "edifact-message-ref-mismatch": "28",       # references do not match
    "edifact-interchange-ref-mismatch": "28",
    "edifact-group-ref-mismatch": "28",
    "edifact-missing-unt": "13",                # missing
    "edifact-missing-unz": "13",
    "edifact-missing-une": "13",
    "edifact-invalid-unh": "12",                # invalid value
    "edifact-invalid-unb": "12",
    "edifact-segment-outside-message": "33",    # invalid occurrence outside message, package or group
    "edifact-invalid-segment-tag": "12",
    "edifact-invalid-release": "22",            # invalid service character(s)
    "edifact-lookalike-terminator": "22",
    "edifact-charset-invalid": "21",            # invalid character(s)
}
_TRAILERS = {"edifact-missing-unz": "UNZ", "edifact-interchange-count": "UNZ", "edifact-interchange-ref-mismatch": "UNZ",
             "edifact-invalid-unb": "UNB", "edifact-invalid-una": "UNA"}


def syntax_error_code(issue_code: str) -> str:
    return SYNTAX_ERROR_CODES.get(issue_code, "18")  # 18: unspecified error


@dataclass
class AckCollector:
    """Collects each message's S009 and errors while the messages stream by."""

    seen: list[tuple[MessageSummary | None, MessageAck]] = field(default_factory=list)

    def add(self, message: Message, summary: MessageSummary | None) -> None:
        errors = [SyntaxErrorReport(issue.location.segment_index or 1, issue.location.segment_tag or "UNH", None,
                                    syntax_error_code(issue.code))
                  for issue in message.issues if issue.severity == "error" and issue.code.startswith("edifact-")]
        self.seen.append((summary, MessageAck(message.ref, message.type, message.version, message.release,
                                                    message.agency, message.association or None,
                                                    accepted=not message.rejected, errors=errors)))

    def acks(self, interchanges: list[InterchangeSummary], file_issues: list[Issue]) -> list[InterchangeAck]:
        """After the last message: one acknowledgement per interchange, final verdicts included."""
        by_summary = {id(summary): ack for summary, ack in self.seen if summary is not None}
        out = []
        for interchange in interchanges:
            header = interchange.header
            trailer = next(((syntax_error_code(i.code), _TRAILERS[i.code]) for i in file_issues
                            if i.code in _TRAILERS and i.location.interchange_ref in (header.control_ref, None)), None)
            messages = []
            for summary in interchange.messages:
                ack = by_summary.get(id(summary))
                if ack is None:
                    continue
                accepted = interchange.ok and not summary.rejected
                errors = [] if accepted else ack.errors  # CONTRL lists errors of rejected messages only
                messages.append(MessageAck(ack.reference, ack.type, ack.version, ack.release, ack.agency,
                                           ack.association, accepted, errors))
            version = int(header.syntax_version) if header.syntax_version.isdigit() else 3
            out.append(InterchangeAck(
                header.sender, header.sender_qualifier or None, header.recipient, header.recipient_qualifier or None,
                header.control_ref, header.syntax_id or "UNOA", version, accepted=interchange.ok, messages=messages,
                error_code=trailer[0] if trailer and not interchange.ok else None,
                error_segment_tag=trailer[1] if trailer and not interchange.ok else None))
        return out


__all__ = ["AckCollector", "SYNTAX_ERROR_CODES", "syntax_error_code"]
