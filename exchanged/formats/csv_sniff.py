"""Detection for CSV input: encoding, layout (preamble, header, footer), delimiter, header names.

Everything here works on one UTF-8 buffer (the input itself when it is UTF-8, else the input
transcoded once) and on byte offsets into it, so the reader in ``csv.py`` can hand the body to
pyarrow without copying it. Only small samples (the header record, the first lines) are decoded into
Python strings and parsed with the ``csv`` module; nothing here loops over every row.

A *physical line* ends with LF (CRLF counts as one break because it ends with LF). A file without
any LF but with CR (Excel's "CSV (Macintosh)") has its CRs read as line breaks.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from exchanged.errors import InputRejected
from exchanged.report import Issue, Location

DELIMITERS = (",", ";", "\t", "|")
# When two delimiters explain the sample equally well: a tab or semicolon that splits every line the
# same way is deliberate, while commas also occur in text and decimal numbers.
_TIE_ORDER = {"\t": 0, ";": 1, "|": 2, ",": 3}
SNIFF_LINES = 50
SNIFF_BYTES = 32 * 1024   # the sample: SNIFF_LINES lines, or fewer when they pass SNIFF_BYTES ...
SNIFF_MAX_BYTES = 64 * 1024  # ... but at least one line, cut here when it is longer still
PREFIX_BYTES = 64 * 1024  # what read_header / sniff_dialect decode of a big file
MAX_COLUMNS = 10_000
_CP1252_UNDEFINED = b"\x81\x8d\x8f\x90\x9d"
_NON_BLANK = re.compile(rb"[^ \t\r\n]")
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_WIDE = frozenset({"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"})


@dataclass(frozen=True)
class CsvOptions:
    """How to read a CSV file, from a mapping's ``[csv]`` section; ``None`` means "detect"."""

    encoding: str | None = None
    delimiter: str | None = None
    quotechar: str = '"'
    header_line: int = 1
    column_names: tuple[str, ...] | None = None
    skip_footer_lines: int = 0
    max_bytes: int | None = None

    def __post_init__(self) -> None:
        if self.delimiter is not None and (len(self.delimiter) != 1 or self.delimiter in '\r\n"'):
            raise ValueError(f"delimiter must be one character other than a quote or line break, "
                             f"not {self.delimiter!r}")
        if len(self.quotechar) > 1 or self.quotechar in ("\r", "\n") or (
                self.quotechar and self.quotechar == self.delimiter):
            raise ValueError(f"quotechar must be one character (or '' for none), not {self.quotechar!r}")
        if self.header_line < 0 or self.skip_footer_lines < 0:
            raise ValueError("header_line and skip_footer_lines must not be negative")
        if self.column_names is not None:
            if self.header_line != 0:
                raise ValueError("column_names name the columns of a file without header row (header_line = 0)")
            if not self.column_names or len(set(self.column_names)) != len(self.column_names):
                raise ValueError("column_names must be distinct and not empty")
        if self.max_bytes is not None and self.max_bytes < 0:
            raise ValueError("max_bytes must not be negative")
        if self.encoding is not None:
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise ValueError(f"unknown encoding {self.encoding!r}") from None


@dataclass(frozen=True)
class CsvDialect:
    """What was used (or detected) to read a file, and what ``write_csv`` writes."""

    encoding: str = "utf-8"
    delimiter: str = ","
    quotechar: str = '"'
    header_line: int = 1
    bom: bool = False
    line_terminator: str = "\n"


@dataclass
class Decoded:
    """The input as UTF-8: ``buf[start:]`` is the content (BOM skipped); ``complete`` is False for a prefix."""

    buf: bytes
    start: int
    encoding: str
    bom: bool
    complete: bool
    line_terminator: str
    issues: list[Issue] = field(default_factory=list)


@dataclass
class Layout:
    """Where header and body sit in ``Decoded.buf`` and what the header says."""

    delimiter: str
    header_line: int        # physical line of the header record, 0 without one
    names: list[str]
    body_start: int         # byte offsets of the data records in Decoded.buf
    body_end: int
    body_line: int          # physical line where the body starts


class NeedMore(Exception):
    """A prefix ended before the header (or the delimiter sample) did: decode the whole input."""


def reject(code: str, message: str, **location: object) -> InputRejected:
    return InputRejected(Issue(code=code, message=message, location=Location(**location)))


def check_size(data: bytes, options: CsvOptions) -> None:
    if options.max_bytes is not None and len(data) > options.max_bytes:
        raise reject("file-too-large", f"the file has {len(data)} bytes, more than the limit of "
                                       f"{options.max_bytes}")


# --- encoding -------------------------------------------------------------------------------------

def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _first_utf8_error(data: bytes, start: int) -> int | None:
    """Offset of the first byte that is not UTF-8, or None; pyarrow validates in one SIMD pass."""
    size = len(data) - start
    offsets = pa.py_buffer(np.array([0, size], dtype=np.int64))
    array = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data).slice(start)])
    try:
        array.validate(full=True)
        return None
    except pa.ArrowInvalid:
        try:
            str(memoryview(data)[start:], "utf-8")
        except UnicodeDecodeError as exc:
            return start + exc.start
        return None


def _decode_or_reject(data: bytes, start: int, encoding: str, label: str) -> str:
    try:
        return str(memoryview(data)[start:], encoding)
    except UnicodeDecodeError as exc:
        bad = start + exc.start
        line = _line_at(data, bad)
        raise reject("invalid-encoding", f"the file is not valid {label}: byte 0x{data[bad]:02X} on line "
                                         f"{line} cannot be decoded", line=line) from None


def decode(data: bytes, options: CsvOptions, *, prefix: int | None = None) -> Decoded:
    """Pick the encoding (declared, BOM, UTF-8, Windows-1252, Latin-1) and return the text as UTF-8.

    With ``prefix`` only about that many bytes (cut after a line break) are examined and decoded.
    """
    declared = options.encoding
    codec = codecs.lookup(declared).name if declared else None
    wide = codec in _WIDE or (codec is None and data.startswith(_UTF16_BOMS))
    complete = True
    if prefix is not None and len(data) > prefix and not wide:
        cut = data.rfind(b"\n", 0, prefix) + 1
        if cut > 0:
            data, complete = data[:cut], False
    issues: list[Issue] = []
    utf8_bom = data.startswith(codecs.BOM_UTF8)
    if wide:
        encoding = declared or "utf-16"
        text = _decode_or_reject(data, 0, codec or "utf-16", encoding)
        bom = data.startswith(_UTF16_BOMS)
        return _finish(text.lstrip("\ufeff").encode("utf-8"), 0, encoding, bom, complete, issues)
    if codec in (None, "utf-8", "utf-8-sig") or utf8_bom:
        start = 3 if utf8_bom else 0
        bad = _first_utf8_error(data, start)
        if bad is None:
            if codec not in (None, "utf-8", "utf-8-sig"):
                issues.append(Issue(code="encoding-fallback", severity="warning", message=(
                    f"declared {declared}, but the file starts with a UTF-8 byte order mark and is "
                    "valid UTF-8; read as UTF-8")))
            encoding = "utf-8-sig" if utf8_bom else (declared or "utf-8")
            return _finish(data, start, encoding, utf8_bom, complete, issues)
        if codec in ("utf-8", "utf-8-sig") or (codec is None and utf8_bom):
            line = _line_at(data, bad)
            raise reject("invalid-encoding", f"the file is not valid UTF-8: byte 0x{data[bad]:02X} on line "
                                             f"{line} cannot be decoded", line=line)
    if codec is None:
        undefined = [pos for pos in (data.find(bytes([b])) for b in _CP1252_UNDEFINED) if pos >= 0]
        if not undefined:
            return _finish(data.decode("cp1252").encode("utf-8"), 0, "cp1252", False, complete, issues)
        line = _line_at(data, min(undefined))
        issues.append(Issue(code="encoding-fallback", severity="warning", location=Location(line=line),
                            message=f"the file is neither UTF-8 nor Windows-1252 (byte "
                                    f"0x{data[min(undefined)]:02X} on line {line}); read as Latin-1"))
        return _finish(data.decode("latin-1").encode("utf-8"), 0, "latin-1", False, complete, issues)
    assert declared is not None
    text = _decode_or_reject(data, 0, codec, declared)
    return _finish(text.encode("utf-8"), 0, declared, False, complete, issues)


def _finish(buf: bytes, start: int, encoding: str, bom: bool, complete: bool,
            issues: list[Issue]) -> Decoded:
    first_lf = buf.find(b"\n", start)
    if first_lf < 0 and buf.find(b"\r", start) >= 0:
        # No LF anywhere, but CR: classic Mac line ends. Only a complete buffer can tell.
        if not complete:
            raise NeedMore
        return Decoded(buf.replace(b"\r", b"\n"), start, encoding, bom, complete, "\r", issues)
    terminator = "\r\n" if first_lf > start and buf[first_lf - 1] == 0x0D else "\n"
    return Decoded(buf, start, encoding, bom, complete, terminator, issues)


# --- lines ----------------------------------------------------------------------------------------

def _next_line(buf: bytes, pos: int, end: int) -> int:
    lf = buf.find(b"\n", pos, end)
    return end if lf < 0 else lf + 1


def _is_blank(buf: bytes, pos: int, end: int) -> bool:
    return _NON_BLANK.search(buf, pos, _next_line(buf, pos, end)) is None


def trim_tail(buf: bytes, start: int, end: int) -> int:
    """End offset without the trailing lines that are empty (only CR/LF): just after the last LF
    that ends a line with content, or ``end`` when the last line has no LF."""
    pos = end
    while pos > start and buf[pos - 1] in (0x0A, 0x0D):
        chunk_start = max(start, pos - 65536)
        stripped = buf[chunk_start:pos].rstrip(b"\r\n")
        pos = chunk_start + len(stripped)
        if stripped:
            break
    if pos <= start:
        return start
    lf = buf.find(b"\n", pos, end)
    return end if lf < 0 else lf + 1


def drop_last_line(buf: bytes, start: int, end: int) -> int:
    """End offset without the last line (``end`` is just after an LF or at a line without one)."""
    last = end - 1 if end > start and buf[end - 1] == 0x0A else end
    lf = buf.rfind(b"\n", start, last)
    return start if lf < 0 else lf + 1


def _lines(buf: bytes, pos: int, end: int, offsets: list[int] | None = None) -> Iterator[str]:
    """Decoded physical lines with their line ends; ``offsets[0]`` follows the end of the last one."""
    while pos < end:
        nxt = _next_line(buf, pos, end)
        if offsets is not None:
            offsets[0] = nxt
        yield buf[pos:nxt].decode("utf-8", errors="replace")  # only a cut sample has a partial character
        pos = nxt


def _reader(lines: Iterator[str] | list[str], delimiter: str, quotechar: str) -> Iterator[list[str]]:
    if quotechar:
        return csv.reader(lines, delimiter=delimiter, quotechar=quotechar, doublequote=True, strict=False)
    return csv.reader(lines, delimiter=delimiter, quoting=csv.QUOTE_NONE, strict=False)


# --- delimiter ------------------------------------------------------------------------------------

def _field_counts(lines: list[str], delimiter: str, quotechar: str, truncated: bool) -> list[int]:
    try:
        counts = [len(record) for record in _reader(lines, delimiter, quotechar) if record]
    except csv.Error:
        return []
    if truncated and len(counts) > 1:
        counts.pop()  # may be cut inside a quoted value
    return counts


def _quoting_errors(text: str, delimiter: str, quotechar: str) -> int:
    """Fields that break the quoting rules when ``delimiter`` splits ``text``: a quote inside an
    unquoted field, or text after a closing quote. The right delimiter sees quotes only around
    whole fields; a wrong one cuts quoted fields in the middle."""
    d, q = re.escape(delimiter), re.escape(quotechar)
    token = re.compile(rf"{q}(?:[^{q}]|{q}{q})*{q}|[^{d}\r\n]*")
    errors, pos, size = 0, 0, len(text)
    while pos < size:
        field = token.match(text, pos).group()
        pos += len(field)
        if field[:1] != quotechar and quotechar in field:
            errors += 1
        while pos < size and text[pos] not in (delimiter, "\r", "\n"):  # text after a closing quote
            errors += 1
            pos = token.match(text, pos + 1).end()
        pos += 1
    return errors


def sniff_delimiter(buf: bytes, pos: int, end: int, quotechar: str, complete: bool) -> str:
    """The candidate that splits the sample into the most consistent field count above one.

    Each candidate parses the first lines with the ``csv`` module (so quoted delimiters do not
    count). Score, best first: the share of records having the most common field count (ties: the
    first record's count, then the larger); fewer quoting errors (a quote in the middle of a field
    or text after a closing quote, as a wrong candidate sees the quoted values of the right one);
    that field count; then tab, ``;``, ``|``, ``,``. No candidate above one field: ``,``.
    """
    limit = min(end, pos + SNIFF_MAX_BYTES)
    sample_end, count = pos, 0
    while sample_end < limit and count < SNIFF_LINES and (count == 0 or sample_end - pos < SNIFF_BYTES):
        sample_end = _next_line(buf, sample_end, limit)
        count += 1
    if sample_end == end and not complete and count < SNIFF_LINES and sample_end - pos < SNIFF_BYTES:
        raise NeedMore
    truncated = sample_end < end or not complete
    lines = list(_lines(buf, pos, sample_end))
    text = "".join(lines)
    best: tuple[tuple[float, int, int, int], str] | None = None
    for delimiter in DELIMITERS:
        counts = _field_counts(lines, delimiter, quotechar, truncated)
        if not counts:
            continue
        freq = Counter(counts)
        top = max(freq.values())
        modes = [c for c in freq if freq[c] == top]
        mode = counts[0] if counts[0] in modes else max(modes)
        if mode < 2:
            continue
        errors = _quoting_errors(text, delimiter, quotechar) if quotechar else 0
        score = (top / len(counts), -errors, mode, -_TIE_ORDER[delimiter])
        if best is None or score > best[0]:
            best = (score, delimiter)
    return best[1] if best else ","


# --- header ---------------------------------------------------------------------------------------

def parse_record(buf: bytes, pos: int, end: int, delimiter: str, quotechar: str) -> tuple[list[str], int]:
    """The first record at ``pos`` (quoted values may span lines) and the offset after it."""
    if buf.count(delimiter.encode("utf-8"), pos, _next_line(buf, pos, end)) >= MAX_COLUMNS:
        raise reject("too-many-columns", f"the first record has more than {MAX_COLUMNS} fields",
                     line=_line_at(buf, pos))
    consumed = [pos]
    try:
        record = next(_reader(_lines(buf, pos, end, consumed), delimiter, quotechar), [])
    except csv.Error as exc:
        raise reject("malformed-header", f"the header record cannot be parsed: {exc}",
                     line=_line_at(buf, pos)) from None
    return record, consumed[0]


def clean_names(fields: list[str], line: int) -> list[str]:
    """Header names: blanks (and a stray BOM) stripped, empty names ``column_<n>``, no duplicates."""
    names = [f.strip().lstrip("\ufeff").strip() for f in fields]
    seen: dict[str, int] = {}
    for index, name in enumerate(names, start=1):
        if name in seen:
            raise reject("duplicate-column", f"column {name!r} appears twice in the header "
                                             f"(columns {seen[name]} and {index})",
                         line=line, column=index, field=name)
        if name:
            seen[name] = index
    taken = set(seen)
    for index, name in enumerate(names):
        if not name:
            new, suffix = f"column_{index + 1}", 1
            while new in taken:
                suffix += 1
                new = f"column_{index + 1}_{suffix}"
            names[index] = new
            taken.add(new)
    return names


def locate(decoded: Decoded, options: CsvOptions) -> Layout:
    """Find header, body and footer and detect the delimiter; raises InputRejected for a file
    without content, a header line past its end, duplicate header names or too many columns."""
    buf, pos, end = decoded.buf, decoded.start, len(decoded.buf)
    if _NON_BLANK.search(buf, pos) is None:
        if not decoded.complete:
            raise NeedMore
        raise reject("empty-file", "the file holds no data (it is empty or has only blank lines)")
    line = 1
    if options.header_line > 0:
        for _ in range(options.header_line - 1):
            if pos >= end:
                break
            pos, line = _next_line(buf, pos, end), line + 1
        while pos < end and _is_blank(buf, pos, end):  # blank lines before the header are skipped
            pos, line = _next_line(buf, pos, end), line + 1
        if pos >= end:
            if not decoded.complete:
                raise NeedMore
            raise reject("missing-header", f"no header row on line {options.header_line} or after it: "
                                           f"the file has {line - 1} lines")
    if decoded.complete:
        end = trim_tail(buf, pos, end)
        for _ in range(options.skip_footer_lines):
            if end <= pos:
                break
            end = trim_tail(buf, pos, drop_last_line(buf, pos, end))
        if options.header_line > 0 and end <= pos:
            raise reject("missing-header", f"skipping {options.skip_footer_lines} footer lines leaves "
                                           "no header row")
    delimiter = options.delimiter or sniff_delimiter(buf, pos, end, options.quotechar, decoded.complete)
    if options.header_line > 0:
        fields, body_start = parse_record(buf, pos, end, delimiter, options.quotechar)
        if body_start >= end and not decoded.complete:
            raise NeedMore
        names = clean_names(fields, line)
        body_line = line + buf.count(b"\n", pos, body_start)
        header_line = line
    else:
        if options.column_names is not None:
            names = list(options.column_names)
        else:
            first = pos
            while first < end and _is_blank(buf, first, end):
                first = _next_line(buf, first, end)
            fields, after = parse_record(buf, first, end, delimiter, options.quotechar)
            if after >= end and not decoded.complete:
                raise NeedMore
            names = [str(i) for i in range(1, len(fields) + 1)]
        body_start, body_line, header_line = pos, line, 0
    if len(names) > MAX_COLUMNS:
        raise reject("too-many-columns", f"the header has {len(names)} columns, more than "
                                         f"{MAX_COLUMNS}", line=header_line or None)
    return Layout(delimiter, header_line, names, body_start, max(end, body_start), body_line)


def decode_and_locate(data: bytes, options: CsvOptions, *, prefix: bool) -> tuple[Decoded, Layout]:
    """Decode and locate, from a prefix of the input when ``prefix`` (falling back to all of it)."""
    if prefix and len(data) > PREFIX_BYTES:
        try:
            decoded = decode(data, options, prefix=PREFIX_BYTES)
            return decoded, locate(decoded, options)
        except NeedMore:
            pass
    decoded = decode(data, options)
    return decoded, locate(decoded, options)
