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
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field

from exchanged.formats.edifact import charsets, tokenizer
from exchanged.formats.edifact.charsets import CharsetPlan, plan_interchange, plan_without_declaration
from exchanged.formats.edifact.separators import DEFAULT, UNA_LENGTH, Separators, parse_una
from exchanged.formats.edifact.tokenizer import SERVICE_TAGS, LineIndex, Segment, SegmentReader, Syntax
from exchanged.report import Issue, Location

CAP = 20  # issues of one code per message (or stray segments per interchange) before counting only
_BOM = b"\xef\xbb\xbf"
_WS = " \t\r\n"
_START = re.compile(r"(?<![^\s'])(?:UNA|UNB(?=[^A-Za-z0-9]))")
_IS_SEPARATORS = Separators(component="\x1f", element="\x1d", release=" ", segment="\x1c")  # level B
KINDS = charsets.KINDS | tokenizer.KINDS
_OUTER = frozenset({"UNB", "UNG", "UNE", "UNZ"})


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


def read_interchanges(data: bytes) -> EdifactFile:
    """The EDIFACT file in ``data``; iterate :meth:`EdifactFile.messages` to read it."""
    return EdifactFile(data)


class EdifactFile:
    """An EDIFACT file being read: messages one at a time, file-level issues, interchange summaries."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.text = data.decode("latin-1")  # one character per byte: offsets are byte offsets
        self.bom = len(_BOM) if data.startswith(_BOM) else 0
        self.issues: list[Issue] = []
        self.interchanges: list[InterchangeSummary] = []
        self._lines = LineIndex(self.text)

    def messages(self) -> Iterator[Message]:
        """Each message in file order (a generator over the text; issues complete at its end)."""
        self.issues.clear()
        self.interchanges.clear()
        return _Reader(self).run()

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


def released(text: str, at: int, release: str | None) -> bool:
    """Whether the character at ``at`` is released (an odd run of release characters before it)."""
    if release is None:
        return False
    j = at
    while j > 0 and text[j - 1] == release:
        j -= 1
    return (at - j) % 2 == 1


def segment_end(text: str, start: int, separators: Separators) -> int | None:
    """The offset just after the first unreleased terminator at or after ``start``."""
    at = text.find(separators.segment, start)
    while at >= 0 and released(text, at, separators.release_char):
        at = text.find(separators.segment, at + 1)
    return None if at < 0 else at + 1


def one_segment(text: str, start: int, end: int, separators: Separators) -> Segment | None:
    """The segment in ``text[start:end]`` (e.g. a UNB), parsed with ``separators``."""
    for chunk in SegmentReader(text, Syntax(separators)).read(start, end):
        if chunk.segments:
            return chunk.segments[0]
        if chunk.tail:
            seg = Segment.__new__(Segment)
            seg.tag, seg.index, seg.offset = chunk.tail[1][:3], 1, chunk.tail[0]
            seg._elements, seg._syntax = chunk.tail[1], Syntax(separators)
            return seg
    return None


@dataclass
class TrailerScan:
    """What a pre-scan found between a header (UNB, UNG) and its trailer (UNZ, UNE)."""

    end: int  # after the trailer's terminator, or where the next interchange/group starts
    trailer: Segment | None
    messages: int  # UNH segments seen
    groups: int  # UNG segments seen


def segment_starts(text: str, tag: str, start: int, end: int, separators: Separators) -> Iterator[int]:
    """Offsets of the segments tagged ``tag`` in ``text[start:end]`` (found with ``str.find``: fast).

    A segment starts after an unreleased terminator and blanks or line breaks; ``tag`` must be
    followed by an element separator or a terminator (UNA by anything).
    """
    term, r = separators.segment, separators.release_char
    follow = None if tag == "UNA" else (separators.element, term)
    at = text.find(tag, start, end)
    while at >= 0:
        j = at
        while j > start and text[j - 1] in _WS:
            j -= 1
        if (j > start and text.startswith(term, j - len(term)) and not released(text, j - len(term), r)
                and (follow is None or text[at + 3 : at + 4] in follow)):
            yield at
        at = text.find(tag, at + 3, end)


def scan_trailer(text: str, start: int, separators: Separators, trailer: str) -> TrailerScan:
    """Find ``trailer`` (UNZ or UNE) after ``start`` before the next header, and count UNH/UNG."""
    stops = ("UNZ", "UNB", "UNA") if trailer == "UNZ" else ("UNE", "UNG", "UNZ", "UNB", "UNA")
    first = {tag: next(segment_starts(text, tag, start, len(text), separators), len(text)) for tag in stops}
    tag = min(first, key=first.__getitem__)
    end, found = first[tag], None
    if tag == trailer and end < len(text):
        stop = segment_end(text, end, separators) or len(text)
        end, found = stop, one_segment(text, end, stop, separators)
    counts = [sum(1 for _ in segment_starts(text, t, start, end, separators)) for t in ("UNH", "UNG")]
    return TrailerScan(end, found, counts[0], counts[1])


def first_interchange(text: str, pos: int) -> tuple[int | None, bool]:
    """Where the first UNA/UNB starts at or after ``pos``, and whether text precedes it."""
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    if text.startswith(("UNA", "UNB"), pos):
        return pos, False
    m = _START.search(text, pos)
    return (m.start(), True) if m else (None, False)


def separators_for(text: str, pos: int, previous: Separators | None) -> tuple[Separators | None, int, bool]:
    """The separators of the interchange at ``pos``: (separators or None for a cut UNA, UNB pos, declared)."""
    if text.startswith("UNA", pos):
        una = parse_una(text, pos)
        pos += UNA_LENGTH
        while pos < len(text) and text[pos] in _WS:
            pos += 1
        return una, pos, True
    after = text[pos + 3 : pos + 4]
    if after == "\x1d":
        return _IS_SEPARATORS, pos, False
    if previous is not None and after == previous.element and after != DEFAULT.element:
        return previous, pos, False  # no UNA, but the separators of the interchange before
    return DEFAULT, pos, False


def describe(kind: str, what: str, plan: CharsetPlan | None) -> tuple[str, str, str]:
    """(code, severity, message) of a finding kind, with the declared charset filled in."""
    code, severity, message = KINDS[kind]
    return code, severity, message.format(declared=(plan.syntax_id if plan else "") or "the declared")


def unt_count_problem(unt: Segment) -> str | None:
    """Why UNT 0074 does not match the segments counted (UNT's own index), or None."""
    declared = unt.get(1)
    if declared.isdigit() and int(declared) == unt.index:
        return None
    return f"UNT 0074 says {declared!r} segments, the message has {unt.index}"


@dataclass
class _Group:
    ref: str
    ung: Segment
    scan: TrailerScan
    doomed: bool  # the pre-scan already knows the group fails
    messages: list[MessageSummary] = field(default_factory=list)


@dataclass
class _Interchange:
    header: InterchangeHeader
    summary: InterchangeSummary | None  # None: no UNB (the file's bare messages)
    plan: CharsetPlan
    doomed: bool
    base: int  # segments of the interchange before the current chunk
    refs: set[str] = field(default_factory=set)
    stray: int = 0
    trailer: Segment | None = None


class _Reader:
    """The envelope state machine over one file (one run of EdifactFile.messages)."""

    def __init__(self, file: EdifactFile) -> None:
        self.f, self.text = file, file.text
        self.ic: _Interchange | None = None
        self.group: _Group | None = None
        self.msg: Message | None = None

    def run(self) -> Iterator[Message]:
        f, text = self.f, self.text
        pos, junk = first_interchange(text, f.bom)
        if pos is None:
            yield from self._bare(f.bom, DEFAULT)
            return
        if junk:
            f.add("edifact-junk-before-interchange", "text before the first UNA/UNB", f.bom,
                  severity="warning")
        seps: Separators | None = None
        while True:
            start = pos
            seps, pos, declared = separators_for(text, pos, seps)
            if seps is None:
                f.add("edifact-invalid-una", "UNA is cut short", start)
                return
            if not text.startswith("UNB", pos):
                if not self.f.interchanges:  # UNA, then no UNB: a bare message
                    yield from self._bare(pos, seps)
                    return
                pos = start
            else:
                pos = yield from self._interchange(pos, seps, declared, una=start if declared else None)
            nxt, junk = first_interchange(text, pos)
            if nxt is None:
                rest = pos + len(text[pos:]) - len(text[pos:].lstrip(_WS))
                if rest < len(text):
                    f.add("edifact-junk-after-interchange", "text after the last interchange (UNZ)", rest)
                return
            if junk:  # segments between two interchanges
                yield from self._stray(pos, nxt, seps)
            pos = nxt

    def _interchange(self, b: int, seps: Separators, declared: bool, una: int | None):  # type: ignore[no-untyped-def]
        f, text = self.f, self.text
        unb_end = segment_end(text, b, seps) or len(text)
        unb = one_segment(text, b, unb_end, seps)
        assert unb is not None
        seps = seps.for_syntax_version(unb.get(1, 2), declared=declared)
        header = InterchangeHeader.from_unb(unb, seps)
        unb.index = 2 if una is not None else 1
        where = {"segment_index": unb.index, "segment_tag": "UNB", "interchange_ref": header.control_ref or None}
        problem = seps.problem()
        if problem:
            f.add("edifact-invalid-una", f"UNA separators clash: {problem}", una if una is not None else b, **where)
        if not header.syntax_id or not header.control_ref:
            f.add("edifact-invalid-unb", "UNB lacks S001 0001 (syntax identifier) or 0020 (control reference)",
                  b, **where)
        scan = scan_trailer(text, unb_end - len(seps.segment), seps, "UNZ")
        plan = plan_interchange(f.data, text, b, scan.end, header.syntax_id, seps)
        if header.syntax_id not in charsets.SYNTAX_CODECS:
            f.add("edifact-unknown-charset", f"UNB 0001 {header.syntax_id!r} is not a known character set;"
                  f" read as {plan.decoded_as}", b, severity="warning", value=header.syntax_id, **where)
        summary = InterchangeSummary(header)
        f.interchanges.append(summary)
        doomed = bool(problem) or not header.syntax_id or not header.control_ref or scan.trailer is None
        if scan.trailer is not None:
            counted = scan.groups or scan.messages
            doomed |= scan.trailer.get(1) != str(counted) or scan.trailer.get(2) != header.control_ref
        self.ic = _Interchange(header, summary, plan, doomed, unb.index)
        yield from self._body(unb_end, scan.end, Syntax(seps, plan.fix), plan)
        ic = self.ic
        yield from self._close_open(None, keep_group=False)
        if ic.trailer is None:
            f.add("edifact-missing-unz", "interchange without UNZ trailer: it may be cut short", b, **where)
            self._fail(summary.messages)
        return scan.end

    def _bare(self, pos: int, seps: Separators) -> Iterator[Message]:
        """Messages of a file without UNB: all rejected, reported once."""
        while pos < len(self.text) and self.text[pos] in _WS:
            pos += 1
        tag = self.text[pos : pos + 3]
        self.f.add("edifact-no-interchange", f"no UNB interchange header (the file starts with {tag!r}):"
                   " its messages cannot be identified or trusted", pos, segment_tag=tag or None)
        plan = plan_without_declaration(self.f.data, pos)
        self.ic = _Interchange(InterchangeHeader(separators=seps), None, plan, True, 0)
        yield from self._body(pos, len(self.text), Syntax(seps, plan.fix), plan)
        yield from self._close_open(None, keep_group=False)

    def _stray(self, start: int, end: int, seps: Separators) -> None:
        self.ic = _Interchange(InterchangeHeader(separators=seps), None, plan_without_declaration(b"", 0), False, 0)
        for chunk in SegmentReader(self.text, Syntax(seps)).read(start, end):
            for seg in chunk.segments[:CAP]:
                self.f.add("edifact-segment-outside-message", f"segment {seg.tag} between two interchanges",
                           seg.offset, segment_tag=seg.tag)

    def _body(self, start: int, end: int, syntax: Syntax, plan: CharsetPlan) -> Iterator[Message]:
        reader = SegmentReader(self.text, syntax, plan.findings)
        for chunk in reader.read(start, end):
            segs, flags = chunk.segments, chunk.flags
            if chunk.tail is not None:
                offset, raw = chunk.tail
                self.f.add("edifact-missing-terminator", "the last segment has no segment terminator", offset,
                           severity="warning", segment_tag=raw[:3])
                seg = Segment.__new__(Segment)
                seg.tag, seg.offset, seg._elements, seg._syntax = raw[:3], offset, raw, syntax
                seg.index = reader.index = 1 if raw[:3] == "UNH" else reader.index + 1
                if seg.tag in SERVICE_TAGS:
                    chunk.marks.append(len(segs))
                segs.append(seg)
            events = sorted(set(chunk.marks).union(flags)) if flags else chunk.marks
            done = 0
            for k in events:
                if k > done:
                    self._plain(segs, done, k)
                seg, done = segs[k], k + 1
                if seg.tag not in SERVICE_TAGS:
                    self._plain(segs, k, done)
                    self._flag(seg, flags.get(k))
                elif seg.tag == "UNH":
                    yield from self._service(seg, k)
                    self._flag(seg, flags.get(k))
                else:
                    if seg.tag in _OUTER:
                        seg.index = self.ic.base + k + 1  # type: ignore[union-attr]
                    self._flag(seg, flags.get(k))
                    yield from self._service(seg, k)
            if done < len(segs):
                self._plain(segs, done, len(segs))
            assert self.ic is not None
            self.ic.base += len(segs)

    def _plain(self, segs: list[Segment], a: int, b: int) -> None:
        if self.msg is not None:
            self.msg.segments += segs[a:b]
            return
        ic = self.ic
        assert ic is not None
        for k in range(a, b):
            seg = segs[k]
            seg.index = ic.base + k + 1
            if ic.summary is None:
                continue
            ic.stray += 1
            if ic.stray <= CAP:
                self.f.add("edifact-segment-outside-message", f"segment {seg.tag} outside UNH..UNT",
                           seg.offset, plan=ic.plan, **self._where(seg))
            if ic.summary.ok:
                ic.summary.ok = False
                self._fail(ic.summary.messages)

    def _where(self, seg: Segment) -> dict[str, object]:
        ref = self.ic.header.control_ref if self.ic else ""
        return {"segment_index": seg.index, "segment_tag": seg.tag, "interchange_ref": ref or None}

    def _flag(self, seg: Segment, found: list[tuple[str, str]] | None) -> None:
        if not found:
            return
        ic = self.ic
        assert ic is not None
        seen: dict[str, list[str]] = {}
        for kind, what in found:
            seen.setdefault(kind, []).append(what)
        codes: set[str] = set()
        for kind, whats in seen.items():
            code, severity, message = describe(kind, whats[0], ic.plan)
            if code in codes:
                continue
            codes.add(code)
            value = "".join(dict.fromkeys(whats))[:80] or None
            if self.msg is not None and seg.tag not in _OUTER:
                self.msg.add(Issue(code=code, severity=severity, message=message, value=value,  # type: ignore[arg-type]
                                   location=self.msg.location(seg)))
            else:
                self.f.add(code, message, seg.offset, severity=severity, value=value, plan=ic.plan,
                           **self._where(seg))
                if severity == "error" and ic.summary is not None and ic.summary.ok:
                    ic.summary.ok = False
                    self._fail(ic.summary.messages)
    def _service(self, seg: Segment, k: int) -> Iterator[Message]:
        tag, ic = seg.tag, self.ic
        assert ic is not None
        if tag == "UNT":
            if self.msg is None:
                self._plain([seg], 0, 1)
                return
            self.msg.segments.append(seg)
            yield from self._close_open(seg)
            return
        yield from self._close_open(None, keep_group=tag in ("UNH", "UNE"))
        if tag == "UNH":
            self._open(seg)
        elif tag == "UNG":
            scan = scan_trailer(self.text, seg.offset - 1, ic.header.separators, "UNE")
            ref = seg.get(5)
            doomed = scan.trailer is None or scan.trailer.get(1) != str(scan.messages) or scan.trailer.get(2) != ref
            self.group = _Group(ref, seg, scan, doomed)
            if ic.summary is not None:
                ic.summary.group_count += 1
        elif tag == "UNE":
            if self.group is None:
                self._stray_service(seg)
            else:
                self._close_group(seg)
        elif tag == "UNZ" and ic.summary is not None:
            ic.trailer = seg
            self._check_unz(seg)
        elif tag == "UNB" or ic.summary is not None:
            self._stray_service(seg)

    def _stray_service(self, seg: Segment) -> None:
        ic = self.ic
        assert ic is not None and ic.summary is not None
        self.f.add("edifact-segment-outside-message", f"{seg.tag} without its header", seg.offset,
                   plan=ic.plan, **self._where(seg))
        if ic.summary.ok:
            ic.summary.ok = False
            self._fail(ic.summary.messages)

    def _open(self, unh: Segment) -> None:
        ic = self.ic
        assert ic is not None
        g = unh.get
        msg = Message(g(1), g(2, 1), g(2, 2), g(2, 3), g(2, 4), g(2, 5), [unh], ic.header,
                      self.group.ref if self.group else None, _file=self.f, _plan=ic.plan)
        if not msg.ref or not msg.type:
            msg.add(Issue(code="edifact-invalid-unh", message="UNH lacks 0062 (reference) or S009 0065 (type)",
                          location=msg.location(unh)))
        elif msg.ref in ic.refs:
            msg.add(Issue(code="edifact-duplicate-message-ref", severity="warning", value=msg.ref,
                          message=f"message reference {msg.ref!r} is used twice in this interchange",
                          location=msg.location(unh)))
        ic.refs.add(msg.ref)
        self.msg = msg

    def _close_open(self, unt: Segment | None, *, keep_group: bool = True) -> Iterator[Message]:
        """Close the open message (at its UNT, or without one), and the open group unless told."""
        msg, ic = self.msg, self.ic
        assert ic is not None
        if msg is not None:
            self.msg = None
            if unt is None:
                msg.add(Issue(code="edifact-missing-unt", message="message without UNT trailer",
                              location=msg.location(msg.segments[0])))
            else:
                problem = unt_count_problem(unt)
                if problem:
                    msg.add(Issue(code="edifact-segment-count", message=problem, value=unt.get(1),
                                  location=msg.location(unt)))
                if unt.get(2) != msg.ref:
                    msg.add(Issue(code="edifact-message-ref-mismatch", value=unt.get(2), location=msg.location(unt),
                                  message=f"UNT 0062 {unt.get(2)!r} differs from UNH 0062 {msg.ref!r}"))
            extra = {code: n - CAP for code, n in msg._counts.items() if n > CAP}
            for code, n in extra.items():
                msg.issues.append(Issue(code="edifact-more-issues", severity="warning", value=n,
                                        message=f"{n} more {code} issues in this message, not listed",
                                        location=msg.location(msg.segments[0])))
            if ic.doomed or (self.group is not None and self.group.doomed):
                msg.rejected = True
            summary = MessageSummary(msg.ref, msg.type, msg.rejected,
                                     sorted({i.code for i in msg.issues if i.severity == "error"}), weakref.ref(msg))
            if ic.summary is not None:
                ic.summary.message_count += 1
                ic.summary.messages.append(summary)
            if self.group is not None:
                self.group.messages.append(summary)
            yield msg
        if not keep_group and self.group is not None:
            self._close_group(None)

    def _close_group(self, une: Segment | None) -> None:
        group, ic = self.group, self.ic
        assert group is not None and ic is not None
        self.group = None
        where = dict(self._where(group.ung), interchange_ref=ic.header.control_ref or None)
        problems = []
        if une is None:
            problems.append(("edifact-missing-une", "group (UNG) without UNE trailer", group.ung))
        else:
            if une.get(1) != str(len(group.messages)):
                problems.append(("edifact-group-count",
                                 f"UNE 0060 says {une.get(1)!r} messages, the group has {len(group.messages)}", une))
            if une.get(2) != group.ref:
                problems.append(("edifact-group-ref-mismatch",
                                 f"UNE 0048 {une.get(2)!r} differs from UNG 0048 {group.ref!r}", une))
        for code, message, seg in problems:
            where.update(segment_index=seg.index, segment_tag=seg.tag)
            self.f.add(code, message, seg.offset, plan=ic.plan, **where)
        if problems:
            self._fail(group.messages)
            if ic.summary is not None:
                ic.summary.ok = False

    def _check_unz(self, unz: Segment) -> None:
        ic = self.ic
        assert ic is not None and ic.summary is not None
        summary = ic.summary
        counted = summary.group_count or summary.message_count
        what = "groups" if summary.group_count else "messages"
        problems = []
        if unz.get(1) != str(counted):
            problems.append(("edifact-interchange-count", f"UNZ 0036 says {unz.get(1)!r} {what}, counted {counted}"))
        if unz.get(2) != ic.header.control_ref:
            problems.append(("edifact-interchange-ref-mismatch",
                             f"UNZ 0020 {unz.get(2)!r} differs from UNB 0020 {ic.header.control_ref!r}"))
        for code, message in problems:
            self.f.add(code, message, unz.offset, plan=ic.plan, **self._where(unz))
        if problems:
            summary.ok = False
            self._fail(summary.messages)

    def _fail(self, summaries: list[MessageSummary]) -> None:
        """Reject messages already read (their summaries, and the objects if still alive)."""
        if self.ic is not None and self.ic.summary is not None:
            self.ic.summary.ok = False
        for summary in summaries:
            summary.rejected = True
            msg = summary._message() if summary._message else None
            if msg is not None:
                msg.rejected = True


__all__ = ["EdifactFile", "InterchangeHeader", "InterchangeSummary", "Message", "MessageSummary",
           "read_interchanges", "SERVICE_TAGS"]
