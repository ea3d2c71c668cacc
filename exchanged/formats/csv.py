"""CSV reader and writer: bytes -> all-string Arrow table with a location per row, and back.

Reading (``read_csv``):

* **Every column is** ``pa.string()``; no type is ever inferred, so ``007``, GTINs and ``1,50``
  arrive exactly as written. Values keep their surrounding blanks (``"   white"`` stays so; trimming
  is a mapping transform); header names are stripped, lose a BOM, and an empty one is named by its
  position (``column_5``).
* **Empty cells are null**, quoted (``""``) or not: CSV cannot tell "no value" from "empty text",
  and the mappings treat both as missing. Only the empty string counts: ``NA``, ``NULL``, ``N/A``
  stay text (``NA`` is Namibia).
* **Detection** (see ``csv_sniff``): encoding (declared, else UTF-8 BOM, UTF-8, Windows-1252, and
  Latin-1 with an ``encoding-fallback`` warning), delimiter among ``, ; TAB |``, the line end.
* **Layout**: ``header_line`` lines before the header are preamble (blank lines before the header
  are skipped too); ``skip_footer_lines`` trailing lines with content are dropped, and so are
  trailing blank lines. Blank lines between records are not records.
* **Rows of the wrong width** are dropped and reported (``ragged-row``, line and row); the others
  keep their original record number in ``rows``, so a dropped row leaves a gap. ``lines`` is the
  physical line where each record starts, counting line breaks inside quoted values.
* **Whole-file rejections** are ``InputRejected``: ``file-too-large``, ``invalid-encoding`` (declared
  encoding, or a UTF-8 BOM, and bytes that do not decode), ``empty-file``, ``missing-header``,
  ``duplicate-column``, ``malformed-header``, ``too-many-columns``, ``malformed-csv``.

The body goes to ``pyarrow.csv`` in one call over the (UTF-8) input buffer, multi-threaded. Row
locations cost one LF count on the common path; only files with quoted line breaks, blank lines or
ragged rows take a slower but still columnar path (ragged rows need a single-threaded re-parse,
because pyarrow reports an invalid row's number only then; about 3 s per million bad rows).

Writing (``write_csv``) quotes a value only when it contains the delimiter, any other candidate
delimiter (so re-reading never guesses another one), the quote character, CR or LF, or starts or
ends with a blank; quotes are doubled, nulls and empty strings are written as nothing (``""`` in a
one-column file, where an empty line would vanish).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from exchanged.errors import InputRejected
from exchanged.formats.csv_sniff import (
    DELIMITERS,
    CsvDialect,
    CsvOptions,
    Decoded,
    Layout,
    check_size,
    decode_and_locate,
    reject,
)
from exchanged.nulls import filled
from exchanged.report import Issue, Location

__all__ = ["CsvDialect", "CsvOptions", "TabularSource", "read_csv", "read_header", "sniff_dialect",
           "write_csv", "MAX_ISSUES"]

MAX_ISSUES = 1000  # ragged-row issues built per file; the rest are counted in issues_truncated
_BLANK_LINE = re.compile(rb"\n(?=\r?\n)")


@dataclass
class TabularSource:
    """A file read into an all-string table, with where each row came from."""

    table: pa.Table
    lines: pa.Array
    rows: pa.Array
    dialect: CsvDialect
    issues: list[Issue] = field(default_factory=list)
    issues_truncated: int = 0


def _dialect(decoded: Decoded, layout: Layout, options: CsvOptions) -> CsvDialect:
    return CsvDialect(encoding=decoded.encoding, delimiter=layout.delimiter, quotechar=options.quotechar,
                      header_line=layout.header_line, bom=decoded.bom,
                      line_terminator=decoded.line_terminator)


def sniff_dialect(data: bytes, options: CsvOptions = CsvOptions()) -> CsvDialect:
    """The dialect ``read_csv`` would use; the encoding is checked over the whole input."""
    check_size(data, options)
    decoded, layout = decode_and_locate(bytes(data), options, prefix=False)
    return _dialect(decoded, layout, options)


def read_header(data: bytes, options: CsvOptions = CsvOptions()) -> list[str]:
    """The column names, as ``read_csv`` names them, from about the first 64 KiB (for routing)."""
    check_size(data, options)
    return decode_and_locate(bytes(data), options, prefix=True)[1].names


# --- reading --------------------------------------------------------------------------------------

_THREADED_BODY = 1 << 20  # bytes: smaller bodies are parsed single-threaded


class _HasInvalid(Exception):
    """The multi-threaded parse met a row of the wrong width (it cannot tell which one)."""


def _parse(body: pa.Buffer, ncols: int, layout: Layout, options: CsvOptions, *, threads: bool,
           multiline: bool) -> tuple[pa.Table, np.ndarray]:
    """One pyarrow parse of the body. Multi-threaded it stops at the first row of the wrong width
    (``_HasInvalid``): pyarrow numbers invalid rows only single-threaded, and calling back into
    Python from several threads per bad row is an order of magnitude slower than one thread.

    The invalid rows come back as an int64 array of (record number in the body, 1-based; fields
    found; line breaks inside the record).
    """
    invalid: list[tuple[int, int, int]] = []
    append = invalid.append

    def on_invalid(row: pacsv.InvalidRow) -> str:
        if threads:
            append((0, 0, 0))
            return "error"
        append((row.number or 0, row.actual_columns, row.text.count("\n") if multiline else 0))
        return "skip"

    keys = [str(i) for i in range(ncols)]
    block_size = 1 << 20
    while True:
        try:
            table = pacsv.read_csv(
                pa.BufferReader(body),
                read_options=pacsv.ReadOptions(column_names=keys, use_threads=threads, block_size=block_size),
                parse_options=pacsv.ParseOptions(
                    delimiter=layout.delimiter, quote_char=options.quotechar or False, double_quote=True,
                    escape_char=False, newlines_in_values=multiline, ignore_empty_lines=True,
                    invalid_row_handler=on_invalid),
                convert_options=pacsv.ConvertOptions(
                    column_types={k: pa.string() for k in keys}, null_values=[""], strings_can_be_null=True,
                    quoted_strings_can_be_null=True, check_utf8=False))
            return table, np.array(invalid, dtype=np.int64).reshape(-1, 3)
        except pa.ArrowInvalid as exc:
            if threads and invalid:
                raise _HasInvalid from None
            if "straddling" in str(exc) and block_size < body.size:
                block_size = min(block_size * 16, body.size + 1, 2**31 - 1)
                invalid.clear()
                continue
            raise reject("malformed-csv", f"the file cannot be parsed as CSV: {exc}") from None


def _body_line_count(buf: bytes, start: int, end: int) -> int:
    if end <= start:
        return 0
    return buf.count(b"\n", start, end) + (0 if buf[end - 1] == 0x0A else 1)


def _resolve_blank_lines(buf: bytes, start: int, end: int, cum: np.ndarray, spans: np.ndarray) -> np.ndarray:
    """Record start lines (0-based, relative to the body) given blank lines between records.

    ``cum``/``spans`` place the records as if there were no blank lines. Every empty line of the
    body is a candidate; one that falls inside a record is part of a quoted value, any other shifts
    the records after it down by one line.
    """
    candidates = []
    if buf.startswith(b"\n", start) or buf.startswith(b"\r\n", start):
        candidates.append(0)
    seen_lf, last = 0, start
    for match in _BLANK_LINE.finditer(buf, start, end):
        seen_lf += buf.count(b"\n", last, match.start() + 1)
        last = match.start() + 1
        candidates.append(seen_lf)
    blanks_before = np.zeros(len(cum) + 1, dtype=np.int64)
    shift = 0
    for line in candidates:
        # the last record starting above this line (an empty line never starts a record)
        i = int(np.searchsorted(cum, line - shift, side="left")) - 1
        if i >= 0 and line - shift < cum[i] + spans[i]:
            continue  # an empty line inside a quoted value
        shift += 1
        blanks_before[i + 1] += 1
    return cum + np.cumsum(blanks_before)[: len(cum)]


def _unterminated(buf: bytes, start: int, end: int, nlines: int, layout: Layout, options: CsvOptions) -> bool:
    """Whether the last record (its last ``nlines`` lines) ends inside a quoted value."""
    if nlines < 2 or not options.quotechar:
        return False
    pos = end - 1 if buf[end - 1] == 0x0A else end
    for _ in range(nlines):  # back over the record's inner line breaks to the one before it
        pos = buf.rfind(b"\n", start, pos)
        if pos < 0:
            break
    text = buf[max(pos + 1, start):end].decode("utf-8")
    try:
        for _ in csv.reader(io.StringIO(text, newline=""), delimiter=layout.delimiter,
                            quotechar=options.quotechar, strict=True):
            pass
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):  # a huge value: count the quotes instead
            return text.count(options.quotechar) % 2 == 1
        return "unexpected end of data" in str(exc)
    return False


def _row_breaks(table: pa.Table) -> np.ndarray:
    total = np.zeros(table.num_rows, dtype=np.int64)
    for column in table.columns:
        counts = filled(pc.count_substring(column, "\n"), 0)
        total += counts.to_numpy().astype(np.int64, copy=False)
    return total


def read_csv(data: bytes, options: CsvOptions = CsvOptions()) -> TabularSource:
    """Read a CSV file into an all-string table; see the module docstring for the rules."""
    check_size(data, options)
    decoded, layout = decode_and_locate(bytes(data), options, prefix=False)
    buf, start, end = decoded.buf, layout.body_start, layout.body_end
    dialect = _dialect(decoded, layout, options)
    names, ncols = layout.names, len(layout.names)
    issues = list(decoded.issues)
    empty64 = pa.array([], pa.int64())
    if end <= start or ncols == 0:
        table = pa.Table.from_arrays([pa.array([], pa.string())] * ncols, names=names)
        return TabularSource(table, empty64, empty64, dialect, issues)

    body = pa.py_buffer(buf).slice(start, end - start)
    quote = options.quotechar.encode("utf-8") if options.quotechar else b""
    multiline = bool(quote) and buf.find(quote, start, end) >= 0
    try:
        # A small body is parsed on this thread: handing one block to pyarrow's pool costs more
        # than parsing it (the daemon's usual file is a few lines).
        threads = body.size > _THREADED_BODY
        table, invalid = _parse(body, ncols, layout, options, threads=threads, multiline=multiline)
    except _HasInvalid:  # rows of the wrong width: their positions need a single-threaded parse
        table, invalid = _parse(body, ncols, layout, options, threads=False, multiline=multiline)

    numbers = invalid[:, 0]
    if len(numbers) > 1 and not bool(np.all(numbers[1:] >= numbers[:-1])):
        invalid = invalid[np.argsort(numbers, kind="stable")]
        numbers = invalid[:, 0]
    nvalid = table.num_rows
    nrecords = nvalid + len(invalid)
    is_invalid = np.zeros(nrecords, dtype=bool)
    numbered = (numbers >= 1) & (numbers <= nrecords)
    is_invalid[numbers[numbered] - 1] = True
    if int(is_invalid.sum()) != len(invalid):  # pyarrow did not number them: keep them at the end
        is_invalid[:] = False
        is_invalid[nvalid:] = True
    valid_pos = np.flatnonzero(~is_invalid)
    invalid_pos = np.flatnonzero(is_invalid)

    body_lines = _body_line_count(buf, start, end)
    if nrecords == body_lines or nrecords == 0:  # every record is one line and no line is blank: the common case
        starts = np.arange(nrecords, dtype=np.int64)
    else:
        spans = np.ones(nrecords, dtype=np.int64)
        if multiline:  # without quotes no value can hold a line break
            spans[valid_pos] += _row_breaks(table)
        spans[invalid_pos] += invalid[:, 2]
        cum = np.concatenate(([0], np.cumsum(spans)[:-1])).astype(np.int64)
        starts = cum
        if nrecords and int(cum[-1] + spans[-1]) != body_lines:
            starts = _resolve_blank_lines(buf, start, end, cum, spans)
    unclosed = bool(nvalid and not is_invalid[-1] and nrecords != body_lines and _unterminated(
        buf, start, end, body_lines - int(starts[-1]), layout, options))
    if unclosed:  # the last record swallowed everything after an unclosed quote: drop it
        valid_pos = valid_pos[:-1]
        table = table.slice(0, nvalid - 1)
    starts += layout.body_line

    truncated = 0
    for n, pos in enumerate(invalid_pos):
        if n >= MAX_ISSUES:
            truncated = len(invalid_pos) - MAX_ISSUES
            break
        issues.append(Issue(code="ragged-row", message=f"expected {ncols} fields, found {int(invalid[n, 1])}",
                            location=Location(line=int(starts[pos]), row=int(pos) + 1)))
    if unclosed:
        issues.append(Issue(code="unterminated-quote", location=Location(line=int(starts[-1]), row=nrecords),
                            message="a quoted value in this record is never closed: the rest of the file was "
                                    "read into it"))
    table = table.rename_columns(names)
    return TabularSource(table, pa.array(starts[valid_pos]), pa.array(valid_pos + 1), dialect, issues,
                         truncated)


# --- writing --------------------------------------------------------------------------------------

def _render(column: pa.ChunkedArray | pa.Array, quotechar: str, specials: str, empty: str) -> pa.Array:
    """Cells as CSV text: quoted where needed, nulls (and ``""`` when ``empty`` is set) as ``empty``.

    Columnar: literal searches for the characters present at all, one whitespace-trim comparison,
    and the quoting work only on the values that need it.
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if not pa.types.is_string(column.type):
        column = pc.cast(column, pa.string())
    if quotechar and len(column):
        data = column.buffers()[2]
        present = data.to_pybytes() if data is not None else b""
        needs = pc.not_equal(pc.utf8_trim_whitespace(column), column)  # leading or trailing blanks
        for char in specials + "\ufeff":
            if char.encode("utf-8") in present:
                needs = pc.or_(needs, pc.match_substring(column, char))
        needs = filled(needs, False)
        if pc.any(needs).as_py():
            chosen = pc.filter(column, needs)
            quoted = pc.binary_join_element_wise(
                quotechar, pc.replace_substring(chosen, quotechar, quotechar * 2), quotechar, "")
            column = pc.replace_with_mask(column, needs, quoted)
    if empty:
        column = pc.if_else(pc.equal(column, ""), empty, column)
    return filled(column, empty)


def write_csv(table: pa.Table, dialect: CsvDialect | None = None) -> bytes:
    """Render ``table`` as CSV bytes in ``dialect`` (default: UTF-8, ``,``, ``"``, LF, a header row).

    Non-string columns are cast to string first. A character the encoding cannot represent raises
    ``InputRejected`` (``unencodable-character``) naming its line.
    """
    dialect = dialect or CsvDialect()
    d, q, eol = dialect.delimiter, dialect.quotechar, dialect.line_terminator
    # quote a value holding any candidate delimiter, not just this one: re-reading never guesses wrong
    specials = "".join(sorted(set(DELIMITERS) | {q, "\r", "\n"})) if q else ""
    parts: list[bytes] = []
    if dialect.header_line:
        names = _render(pa.array(table.column_names, pa.string()), q, specials, q * 2).to_pylist()
        parts.append((d.join(names) + eol).encode("utf-8"))
    if table.num_columns and table.num_rows:
        empty = q * 2 if table.num_columns == 1 else ""
        cells = [_render(column, q, specials, empty) for column in table.columns]
        rows = pc.binary_join_element_wise(*cells, d) if len(cells) > 1 else cells[0]
        rows = pc.binary_join_element_wise(rows, "", eol)  # row + eol + "": every row ends with eol
        rows = pc.cast(rows, pa.large_string())
        rows = rows.combine_chunks() if isinstance(rows, pa.ChunkedArray) else rows
        offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)[rows.offset: rows.offset + len(rows) + 1]
        parts.append(rows.buffers()[2].slice(int(offsets[0]), int(offsets[-1] - offsets[0])).to_pybytes())
    text_utf8 = b"".join(parts)
    codec = codecs.lookup(dialect.encoding).name
    if codec in ("utf-8", "utf-8-sig"):
        return codecs.BOM_UTF8 + text_utf8 if dialect.bom or codec == "utf-8-sig" else text_utf8
    text = text_utf8.decode("utf-8")
    try:
        return text.encode(dialect.encoding)
    except UnicodeEncodeError as exc:
        line = text.count("\n", 0, exc.start) + 1
        raise InputRejected(Issue(
            code="unencodable-character", location=Location(line=line),
            message=f"character {text[exc.start]!r} on line {line} cannot be written in {dialect.encoding}",
            value=text[exc.start])) from None
