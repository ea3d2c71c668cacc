"""Interchange structure and its checks: bytes in, messages (UNH..UNT) out, one at a time.

ISO 9735 service segments and the data elements read here:

* UNA (optional) + UNB interchange header: S001 syntax identifier 0001 and version 0002, S002
  sender 0004/0007, S003 recipient 0010/0007, S004 date 0017 / time 0019, 0020 interchange control
  reference, 0026 application reference, 0035 test indicator. UNZ trailer: 0036 control count
  (messages, or groups when the interchange uses UNG), 0020 the same reference as UNB.
* UNG group header (0048 group reference, element 5) .. UNE trailer (0060 message count, 0048).
* UNH message header: 0062 message reference, S009 0065 type, 0052 version, 0054 release, 0051
  agency, 0057 association code. UNT trailer: 0074 segment count (UNH and UNT included), 0062.

Checks, each an :class:`~exchanged.report.Issue` with a stable code and a location (line, column,
segment index and tag, interchange and message reference):

=================================== ======== ================================================
code                                severity what
=================================== ======== ================================================
edifact-segment-count               error    UNT 0074 differs from the segments counted
edifact-message-ref-mismatch        error    UNT 0062 differs from UNH 0062
edifact-missing-unt                 error    UNH, then UNH/UNE/UNZ or the end, without UNT
edifact-invalid-unh                 error    UNH without 0062 or message type
edifact-duplicate-message-ref       warning  a UNH 0062 already used in the interchange
edifact-group-count / -ref-mismatch error    UNE 0060 / 0048 do not match the group
edifact-missing-une                 error    UNG without UNE
edifact-interchange-count           error    UNZ 0036 differs from the messages (groups)
edifact-interchange-ref-mismatch    error    UNZ 0020 differs from UNB 0020
edifact-missing-unz                 error    UNB without UNZ: the transmission may be cut short
edifact-invalid-unb / -invalid-una  error    header unusable: no 0001/0020; clashing separators
edifact-segment-outside-message     error    a segment inside an interchange but not in UNH..UNT
edifact-no-interchange              error    no UNB at all (UNA then UNH; a bare body; FNB)
edifact-junk-before-interchange     warning  text before the first UNA/UNB
edifact-junk-after-interchange      error    text after the last UNZ
edifact-missing-terminator          warning  the last segment of the file has no terminator
edifact-unknown-charset             warning  UNB 0001 not one of charsets.SYNTAX_CODECS
edifact-more-issues                 warning  more than 20 issues of one code in one message
=================================== ======== ================================================

plus the segment-level codes of :mod:`.tokenizer` and :mod:`.charsets`.

Rejection: a message-level error rejects that message (:attr:`Message.rejected`); an error of its
group or interchange (trailer counts and references, missing trailers, stray segments) rejects
every message of it. Warnings never reject. Files without UNB still yield their messages, all
rejected, so a report can say what was in them.

Streaming: :meth:`EdifactFile.messages` yields each message when its UNT is read. Trailer verdicts
are known before the first message of an interchange or group is yielded: a pre-scan finds the
UNZ/UNE (or its absence), its reference and the number of UNH/UNG segments. A problem only the full
read can find (a stray segment between messages) marks already-yielded messages rejected afterwards,
on the objects and in :attr:`EdifactFile.interchanges`: decide on publishing after exhaustion.

Locations: :attr:`Segment.offset` is a byte offset in the file (a file may mix interchanges in
different character sets, so bytes are the one coordinate they share); lines and columns (1-based,
columns in characters of the interchange's decoding, a BOM not counted) are computed on request.
The state machine itself is :mod:`.envelope_reader`.
"""

from __future__ import annotations

import bisect
import re
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from exchanged.formats.edifact.charsets import CharsetPlan
from exchanged.formats.edifact.separators import DEFAULT, Separators
from exchanged.formats.edifact.tokenizer import Segment, SegmentReader, Syntax
from exchanged.report import Issue, Location

if TYPE_CHECKING:
    from exchanged.formats.edifact.bodies import BodyRun

CAP = 20  # issues of one code per message (or stray segments per interchange) before counting only
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class InterchangeHeader:
    """UNB, as read (all strings, empty when absent)."""

    sender: str = ""
    sender_qualifier: str = ""
    recipient: str = ""
    recipient_qualifier: str = ""
    control_ref: str = ""
    syntax_id: str = ""
    syntax_version: str = ""
    date: str = ""
    time: str = ""
    application_ref: str = ""
    test_indicator: str = ""
    separators: Separators = DEFAULT

    @classmethod
    def from_unb(cls, unb: Segment, separators: Separators) -> InterchangeHeader:
        g = unb.get
        return cls(g(2, 1), g(2, 2), g(3, 1), g(3, 2), g(5), g(1, 1), g(1, 2), g(4, 1), g(4, 2), g(7), g(11),
                   separators)


@dataclass
class MessageSummary:
    """What a CONTRL needs about one message: reference, type, verdict and error codes."""

    ref: str
    type: str
    rejected: bool
    errors: list[str]
    _message: weakref.ref[Message] | None = field(default=None, repr=False, compare=False)


@dataclass
class InterchangeSummary:
    """One interchange as read so far; ``ok`` is False after any interchange- or group-level error."""

    header: InterchangeHeader
    message_count: int = 0
    group_count: int = 0
    ok: bool = True
    messages: list[MessageSummary] = field(default_factory=list)


@dataclass(eq=False)
class Message:
    """One UNH..UNT message with its own issues; ``rejected``: its data must not be used."""

    ref: str
    type: str
    version: str
    release: str
    agency: str
    association: str
    segments: list[Segment]
    interchange: InterchangeHeader
    group_ref: str | None = None
    issues: list[Issue] = field(default_factory=list)
    rejected: bool = False
    _file: EdifactFile | None = field(default=None, repr=False)
    _plan: CharsetPlan | None = field(default=None, repr=False)
    _counts: dict[str, int] = field(default_factory=dict, repr=False)

    def location(self, segment: Segment) -> Location:
        """Where ``segment`` (one of this message's) is: line, column, index, tag and references."""
        assert self._file is not None
        return self._file.locate(segment.offset, self._plan, segment_index=segment.index,
                                 segment_tag=segment.tag, interchange_ref=self.interchange.control_ref or None,
                                 message_ref=self.ref or None)

    def add(self, issue: Issue) -> None:
        """Keep ``issue`` (the first :data:`CAP` of each code; the rest are counted)."""
        n = self._counts[issue.code] = self._counts.get(issue.code, 0) + 1
        if n <= CAP:
            self.issues.append(issue)
        if issue.severity == "error":
            self.rejected = True


class LineIndex:
    """Line (1-based) and line start of an offset, counted only when first asked for (in the file's
    bytes: the tokenized text has one character per byte, so the offsets are the same)."""

    def __init__(self, text: bytes) -> None:
        self.text = text
        self._starts: list[int] | None = None
        self._asked = 0

    def line_start(self, offset: int) -> tuple[int, int]:
        """(line number, offset where that line starts)."""
        self._asked += 1
        if self._starts is None and self._asked > 16:
            self._starts = [0] + [m.end() for m in re.finditer(b"\n", self.text)]
        if self._starts is not None:
            line = bisect.bisect_right(self._starts, offset)
            return line, self._starts[line - 1]
        return self.text.count(b"\n", 0, offset) + 1, self.text.rfind(b"\n", 0, offset) + 1


def read_interchanges(data: bytes) -> EdifactFile:
    """The EDIFACT file in ``data``; iterate :meth:`EdifactFile.messages` to read it."""
    return EdifactFile(data)


class EdifactFile:
    """An EDIFACT file being read: messages one at a time, file-level issues, interchange summaries."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._text: str | None = None
        self.bom = len(_BOM) if data.startswith(_BOM) else 0
        self.issues: list[Issue] = []
        self.interchanges: list[InterchangeSummary] = []
        self._lines = LineIndex(data)
        # body_sink(message, run): when set, a message's body segments (between UNH and UNT) go to
        # it as columns (bodies.BodyRun), a run per stretch between service segments in each chunk
        # of text, instead of into Message.segments (which then holds UNH and UNT only): a reader
        # that keeps them as columns never needs a Segment object per body segment (bodies.py).
        self.body_sink: Callable[[Message, BodyRun], None] | None = None

    @property
    def text(self) -> str:
        """The file as the tokenizer reads it: one character per byte (latin-1), so offsets are byte
        offsets; made when first needed, dropped by :meth:`release_text`."""
        if self._text is None:
            self._text = self.data.decode("latin-1")
        return self._text

    def release_text(self) -> None:
        """Let the text go (a copy of the file) once the messages are read; locations need only bytes."""
        self._text = None

    def messages(self) -> Iterator[Message]:
        """Each message in file order (a generator over the text; issues complete at its end)."""
        from exchanged.formats.edifact.envelope_reader import EnvelopeReader

        self.issues.clear()
        self.interchanges.clear()
        return EnvelopeReader(self).run()

    def locate(self, offset: int, plan: CharsetPlan | None = None, **where: object) -> Location:
        """A Location for ``offset``: 1-based line and column (characters, BOM not counted)."""
        line, start = self._lines.line_start(offset)
        start = max(start, self.bom)
        column = (plan.char_count(self.data[start:offset]) if plan else offset - start) + 1
        return Location(line=line, column=column, **where)  # type: ignore[arg-type]

    def add(self, code: str, message: str, offset: int, *, severity: str = "error", value: object = None,
            plan: CharsetPlan | None = None, **where: object) -> None:
        self.issues.append(Issue(code=code, severity=severity, message=message, value=value,  # type: ignore[arg-type]
                                 location=self.locate(offset, plan, **where)))


def one_segment(text: str, start: int, end: int, separators: Separators) -> Segment | None:
    """The segment in ``text[start:end]`` (e.g. a UNB), parsed with ``separators``."""
    for chunk in SegmentReader(text, Syntax(separators)).read(start, end):
        if chunk.segments:
            return chunk.segments[0]
    return None


def unt_count_problem(unt: Segment) -> str | None:
    """Why UNT 0074 does not match the segments counted (UNT's own index), or None."""
    declared = unt.get(1)
    if declared.isdigit() and int(declared) == unt.index:
        return None
    return f"UNT 0074 says {declared!r} segments, the message has {unt.index}"


__all__ = [
    "EdifactFile",
    "InterchangeHeader",
    "InterchangeSummary",
    "Message",
    "MessageSummary",
    "read_interchanges",
]
