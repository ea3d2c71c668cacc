"""The envelope state machine behind :meth:`EdifactFile.messages` (rules: :mod:`.envelope`).

One :class:`EnvelopeReader` walks a file: finds each interchange (UNA/UNB, junk around it), decides
its charset, pre-scans its trailer, then consumes the tokenizer's chunks event by event (service
segments and flagged segments only; plain segments go to the open message as list slices), checks
UNH..UNT, UNG..UNE and UNB..UNZ, and yields each message at its UNT.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from exchanged.formats.edifact import charsets
from exchanged.formats.edifact.charsets import (
    CharsetPlan,
    describe,
    plan_interchange,
    plan_without_declaration,
)
from exchanged.formats.edifact.envelope import (
    CAP,
    EdifactFile,
    InterchangeHeader,
    InterchangeSummary,
    Message,
    MessageSummary,
    one_segment,
    unt_count_problem,
)
from exchanged.formats.edifact.separators import (
    DEFAULT,
    Separators,
    TrailerScan,
    first_interchange,
    scan_trailer,
    segment_end,
    separators_for,
)
from exchanged.formats.edifact.tokenizer import (
    SERVICE_TAGS,
    Segment,
    SegmentReader,
    Syntax,
)
from exchanged.report import Issue

_WS = " \t\r\n"
_OUTER = frozenset({"UNB", "UNG", "UNE", "UNZ"})


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


class EnvelopeReader:
    """The envelope state machine over one file (one run of EdifactFile.messages)."""

    def __init__(self, file: EdifactFile) -> None:
        self.f, self.text = file, file.text
        self.ic: _Interchange | None = None
        self.group: _Group | None = None
        self.msg: Message | None = None
        self.syntax = Syntax(DEFAULT)
        self._pending: tuple[Message, Sequence[Segment], int, int] | None = None  # body run not yet sunk

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
                self._stray(pos, nxt, seps)
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
        unz = self._trailer(scan, seps)
        doomed = bool(problem) or not header.syntax_id or not header.control_ref or unz is None
        if unz is not None:
            counted = scan.groups or scan.messages
            doomed |= unz.get(1) != str(counted) or unz.get(2) != header.control_ref
        self.ic = _Interchange(header, summary, plan, doomed, unb.index)
        yield from self._body(unb_end, scan.end, Syntax(seps, plan.fix), plan)
        ic = self.ic
        yield from self._close_open(None, keep_group=False)
        if ic.trailer is None:
            f.add("edifact-missing-unz", "interchange without UNZ trailer: it may be cut short", b, **where)
            self._fail_all()
        return scan.end

    def _trailer(self, scan: TrailerScan, seps: Separators) -> Segment | None:
        """The UNZ/UNE a pre-scan found, parsed."""
        return None if scan.trailer is None else one_segment(self.text, *scan.trailer, seps)

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
        self.syntax = syntax
        reader = SegmentReader(self.text, syntax, plan.findings, raw=self.f.body_sink is not None)
        for chunk in reader.read(start, end):
            segs, flags = chunk.segments, chunk.flags
            if chunk.tail is not None:
                self.f.add("edifact-missing-terminator", "the last segment has no segment terminator",
                           chunk.tail[0], severity="warning", segment_tag=chunk.tail[1][:3])
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
            self._sink()
            assert self.ic is not None
            self.ic.base += len(segs)

    def _plain(self, segs: Sequence[Segment], a: int, b: int) -> None:
        if self.msg is not None:
            if self.f.body_sink is not None:  # the consumer takes the body as it streams
                pending = self._pending
                if pending is not None and pending[1] is segs and pending[3] == a:
                    self._pending = (self.msg, segs, pending[2], b)  # a flagged segment: one run all the same
                else:
                    self._sink()
                    self._pending = (self.msg, segs, a, b)
                return
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
            self._fail_all()

    def _sink(self) -> None:
        """Hand the body segments gathered since the last service segment to the body sink, as one run."""
        if self._pending is None:
            return
        msg, segs, a, b = self._pending
        self._pending = None
        assert self.f.body_sink is not None
        from exchanged.formats.edifact.bodies import LazySegments, run_of  # pyarrow: only for a sink's reader

        self.f.body_sink(msg, segs.run.slice(a, b) if isinstance(segs, LazySegments) else run_of(segs[a:b], self.syntax))

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
            value = " ".join(dict.fromkeys(whats))[:80] or None
            if self.msg is not None and seg.tag not in _OUTER:
                self.msg.add(Issue(code=code, severity=severity, message=message, value=value,  # type: ignore[arg-type]
                                   location=self.msg.location(seg)))
            else:
                self.f.add(code, message, seg.offset, severity=severity, value=value, plan=ic.plan,
                           **self._where(seg))
                if severity == "error" and ic.summary is not None:
                    self._fail_all()
    def _service(self, seg: Segment, k: int) -> Iterator[Message]:
        self._sink()  # the open message's body is complete up to here
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
            une = self._trailer(scan, ic.header.separators)
            doomed = une is None or une.get(1) != str(scan.messages) or une.get(2) != ref
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
        self._fail_all()

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
            self._fail_all()

    def _fail_all(self) -> None:
        """The interchange failed: every message of it, read or still to come, is rejected."""
        ic = self.ic
        assert ic is not None and ic.summary is not None
        ic.doomed = True
        self._fail(ic.summary.messages)

    def _fail(self, summaries: list[MessageSummary]) -> None:
        """Reject messages already read (their summaries, and the objects if still alive)."""
        if self.ic is not None and self.ic.summary is not None:
            self.ic.summary.ok = False
        for summary in summaries:
            summary.rejected = True
            msg = summary._message() if summary._message else None
            if msg is not None:
                msg.rejected = True
