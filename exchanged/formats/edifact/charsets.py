"""Character sets: what UNB S001 0001 (syntax identifier) declares, what the bytes really are.

Declarations (ISO 9735-1 annex A, code list 0001):

=========  ======================================  ====================================
0001       character set                           decoded with
=========  ======================================  ====================================
UNOA       ISO 646 subset, level A (upper case)    ASCII; repertoire checked
UNOB       ISO 646 subset, level B (+ lower case)  ASCII; repertoire checked
UNOC       ISO 8859-1                              latin-1
UNOD..UNOK ISO 8859-2, -5, -7, -3, -4, -6, -8, -9  that part of ISO 8859
UNOY/UNOW  ISO 10646-1 / UTF-8                     UTF-8
other      (UNOL, ANSI, IATB, ...)                 UTF-8 if valid, else latin-1, and a warning
=========  ======================================  ====================================

The reader tokenizes a latin-1 view of the bytes (one character per byte, so offsets are byte
offsets and no separator can hide inside a multi-byte sequence: every separator is ASCII). This
module decides, per interchange, how values are turned into text (:attr:`CharsetPlan.fix`, applied
to the non-ASCII values only) and finds the bytes that do not fit the declaration
(:attr:`CharsetPlan.findings`, byte offset + kind; the envelope reader attaches each to its
segment). What counts as a finding:

* UTF-8 multi-byte sequences under a non-UTF-8 declaration, when the whole interchange is valid
  UTF-8: ``edifact-charset-mismatch`` (warning). The interchange is then decoded as UTF-8: the text
  is right, the declaration is wrong, and mojibake would help nobody.
* Bytes 0x80-0x9F under ISO 8859 (C1 controls there) that are not UTF-8: the sender wrote
  Windows-1252 (``€``, ``–``); ``edifact-charset-mismatch``, decoded as Windows-1252.
* Under UNOA/UNOB, characters outside the level's repertoire (lower case under UNOA, ``@``, ``ß``):
  ``edifact-charset-repertoire`` (warning); bytes >= 0x80 stay latin-1.
* Invalid UTF-8 under UNOY/UNOW, or control characters (CR and LF excepted: they are transport
  line breaks, removed by the tokenizer): ``edifact-charset-invalid`` (error).
* U+FFFD already in the data (the text was destroyed before it reached us):
  ``edifact-replacement-character`` (warning).
* A typographic apostrophe (U+2019, U+2018, ´, `) directly followed by a segment tag and an element
  separator, when ``'`` is the segment terminator: ``edifact-lookalike-terminator`` (error): text
  pasted through a word processor; two segments were run together.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from exchanged.formats.edifact.separators import Separators

SYNTAX_CODECS: dict[str, str] = {
    "UNOA": "ascii", "UNOB": "ascii", "UNOC": "latin-1", "UNOD": "iso8859-2", "UNOE": "iso8859-5",
    "UNOF": "iso8859-7", "UNOG": "iso8859-3", "UNOH": "iso8859-4", "UNOI": "iso8859-6",
    "UNOJ": "iso8859-8", "UNOK": "iso8859-9", "UNOY": "utf-8", "UNOW": "utf-8",
}

# ISO 9735 level A: A-Z, 0-9, space and . , - ( ) / = ' + : ? ! " % & * ; < > ; level B adds a-z.
_LEVEL_A = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-()/='+:?!\"%&*;<>"
REPERTOIRE = {"UNOA": _LEVEL_A, "UNOB": _LEVEL_A + "abcdefghijklmnopqrstuvwxyz"}

# finding kind -> (issue code, severity, what the message says)
KINDS: dict[str, tuple[str, str, str]] = {
    "utf8": ("edifact-charset-mismatch", "warning",
             "UTF-8 text under a {declared} declaration; decoded as UTF-8"),
    "cp1252": ("edifact-charset-mismatch", "warning",
               "bytes 0x80-0x9F under {declared} (Windows-1252 text); decoded as Windows-1252"),
    "repertoire": ("edifact-charset-repertoire", "warning",
                   "characters outside the {declared} repertoire"),
    "invalid": ("edifact-charset-invalid", "error", "bytes that are not valid {declared}"),
    "control": ("edifact-charset-invalid", "error", "control characters in the data"),
    "fffd": ("edifact-replacement-character", "warning",
             "U+FFFD replacement characters: the text was damaged before it was sent"),
    "release": ("edifact-invalid-release", "error",
                "release character not followed by a separator or release character"),
    "trailing": ("edifact-trailing-separator", "warning", "superfluous separator before the segment terminator"),
    "tag": ("edifact-invalid-segment-tag", "error", "segment tag is not three upper-case letters or digits"),
    "lookalike": ("edifact-lookalike-terminator", "error",
                  "a typographic quote where a segment terminator (') belongs: two segments run together"),
}

Finding = tuple[int, str, str]  # (byte offset, kind, offending text)


def _utf8(value: str) -> str:
    return value.encode("latin-1").decode("utf-8", "replace")


def _cp1252(value: str) -> str:
    try:
        return value.encode("latin-1").decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D: undefined in Windows-1252
        return value


def _codec(name: str) -> Callable[[str], str]:
    def fix(value: str) -> str:
        return value.encode("latin-1").decode(name, "replace")
    return fix


@dataclass(slots=True)
class CharsetPlan:
    """How one interchange's values become text, and what in its bytes does not fit."""

    syntax_id: str
    declared: str | None  # Python codec of the declaration, None when 0001 is unknown
    decoded_as: str  # the codec really used for the values
    fix: Callable[[str], str] | None  # latin-1 view of a non-ASCII value -> text; None: as is
    findings: list[Finding] = field(default_factory=list)

    def char_count(self, raw: bytes) -> int:
        """How many characters ``raw`` (a stretch of this interchange's bytes) decodes to."""
        if self.decoded_as == "utf-8":
            return len(raw.decode("utf-8", "replace"))
        return len(raw)


def _bad_positions(raw: bytes, codec: str) -> list[int]:
    """Offsets in ``raw`` of the bytes that do not decode with ``codec``."""
    bad: list[int] = []

    def record(error: UnicodeError) -> tuple[str, int]:
        assert isinstance(error, UnicodeDecodeError)
        bad.append(error.start)
        return "\ufffd", error.end

    name = "exchanged-edifact-record"
    codecs.register_error(name, record)  # re-registering replaces the closure
    raw.decode(codec, name)
    return bad


_BLOCK = 1 << 20


def _blocks(data: bytes, start: int, end: int) -> Iterator[bytes]:
    """``data[start:end]`` a megabyte at a time: checking a 19 MB interchange needs no 19 MB copy."""
    for at in range(start, end, _BLOCK):
        yield data[at : min(at + _BLOCK, end)]


def _decodes(data: bytes, start: int, end: int, codec: str) -> bool:
    """Whether ``data[start:end]`` is valid ``codec``: decoded a block at a time, so text that is
    not stops at its first bad byte (no handler call per bad byte) and no full copy is made."""
    decoder = codecs.getincrementaldecoder(codec)()
    try:
        for block in _blocks(data, start, end):
            decoder.decode(block)
        decoder.decode(b"", True)
    except UnicodeDecodeError:
        return False
    return True


def _bad_positions_in(data: bytes, start: int, end: int, codec: str) -> list[int]:
    """Offsets (in ``data``) of the bytes of ``data[start:end]`` that do not decode with ``codec``."""
    return [] if _decodes(data, start, end, codec) else [start + i for i in _bad_positions(data[start:end], codec)]


_HIGH_RUNS = re.compile("[\x80-\xff]+")
_C1_RUNS = re.compile("[\x80-\x9f]+")
_C1_BYTES = bytes(range(0x80, 0xA0))
_FFFD = re.compile("\xef\xbf\xbd")
_CONTROL_BYTES = bytes([*range(0x20), 0x7F])
_LOOKALIKE_SINGLE = "\x91\x92\xb4`"  # CP1252 quotes, acute accent, backtick (UTF-8 quotes are two bytes)
_LOOKALIKE = "(?:%s)(?=[A-Z][A-Z0-9]{2}%s)"  # a quote, then what looks like the next segment's tag


def plan_interchange(data: bytes, shadow: str, start: int, end: int, syntax_id: str,
                     separators: Separators) -> CharsetPlan:
    """Decide the decoding of ``data[start:end]`` (one interchange) and find what does not fit.

    ``shadow`` is ``data`` decoded as latin-1 (the tokenizer's view, same offsets).
    """
    declared = SYNTAX_CODECS.get(syntax_id)
    plan = CharsetPlan(syntax_id, declared, declared or "latin-1", None)
    found = plan.findings
    if not all(block.isascii() for block in _blocks(data, start, end)):
        if declared == "utf-8":
            plan.fix = _utf8
            found += [(i, "invalid", shadow[i]) for i in _bad_positions_in(data, start, end, "utf-8")]
        elif _decodes(data, start, end, "utf-8"):  # valid UTF-8 with at least one multi-byte sequence
            plan.fix, plan.decoded_as = _utf8, "utf-8"
            if declared is not None:
                found += [(m.start(), "utf8", _utf8(m.group())) for m in _HIGH_RUNS.finditer(shadow, start, end)]
        elif declared == "ascii":
            found += [(m.start(), "repertoire", m.group()) for m in _HIGH_RUNS.finditer(shadow, start, end)]
        elif declared == "latin-1" and any(len(b.translate(None, _C1_BYTES)) != len(b)  # bytes: ~50x faster than re
                                           for b in _blocks(data, start, end)):
            plan.fix, plan.decoded_as = _cp1252, "cp1252"
            found += [(m.start(), "cp1252", m.group()) for m in _C1_RUNS.finditer(shadow, start, end)]
        elif declared is not None and declared != "latin-1":
            plan.fix = _codec(declared)
            found += [(i, "invalid", shadow[i]) for i in _bad_positions_in(data, start, end, declared)]
        if plan.decoded_as == "utf-8":
            found += [(m.start(), "fffd", "\ufffd") for m in _FFFD.finditer(shadow, start, end)]
    separator_bytes = "".join(separators.delimiters).encode("latin-1", "replace")
    controls = bytes(b for b in _CONTROL_BYTES if b not in b"\r\n" and b not in separator_bytes)
    others = bytes(b for b in range(256) if b not in controls)
    if any(block.translate(None, others) for block in _blocks(data, start, end)):
        pattern = "[" + re.escape(controls.decode("latin-1")) + "]+"
        found += [(m.start(), "control", m.group()) for m in re.compile(pattern).finditer(shadow, start, end)]
    allowed = REPERTOIRE.get(syntax_id)
    if allowed is not None:
        allowed_bytes = (allowed + "".join(separators.delimiters)).encode("latin-1", "replace")
        leftover = b"".join(block.translate(None, allowed_bytes + _CONTROL_BYTES + bytes(range(0x80, 0x100)))
                            for block in _blocks(data, start, end))
        if leftover:
            keep = "".join(sorted(set(leftover.decode("ascii"))))
            pattern = "[" + re.escape(keep) + "]+"
            found += [(m.start(), "repertoire", m.group()) for m in re.compile(pattern).finditer(shadow, start, end)]
    # A lookalike that is one of this interchange's own separators (UNA may make ` the element
    # separator) is syntax, never a pasted-over terminator.
    lookalikes = "".join(c for c in _LOOKALIKE_SINGLE if c not in separators.delimiters)
    if separators.segment == "'" and any(shadow.find(c, start, end) >= 0 for c in "\x80" + lookalikes):
        quotes = "\xe2\x80[\x98\x99]" + (f"|[{re.escape(lookalikes)}]" if lookalikes else "")
        pattern = _LOOKALIKE % (quotes, re.escape(separators.element))
        found += [(m.start(), "lookalike", m.group()) for m in re.compile(pattern).finditer(shadow, start, end)]
    found.sort()
    return plan


def plan_without_declaration(data: bytes, start: int) -> CharsetPlan:
    """The decoding of text outside any interchange: UTF-8 if valid, else latin-1, no findings."""
    if not all(block.isascii() for block in _blocks(data, start, len(data))) and _decodes(data, start, len(data), "utf-8"):
        return CharsetPlan("", None, "utf-8", _utf8)
    return CharsetPlan("", None, "latin-1", None)


def describe(kind: str, what: str, plan: CharsetPlan | None) -> tuple[str, str, str]:
    """(code, severity, message) of a finding kind, with the declared charset filled in."""
    code, severity, message = KINDS[kind]
    return code, severity, message.format(declared=(plan.syntax_id if plan else "") or "the declared")


