"""Columnar transforms: whole Arrow string columns in, canonical text out, never a loop per row.

Each function takes a string column (``pa.Array`` or ``pa.ChunkedArray``) and returns the new
column; the ones that can fail also return a boolean mask of the rows that failed (``None`` when
none can), and leave those rows null. The engine turns masks into issues for the failing rows only.

Canonical text is the one of docs/architecture.md: ``.`` decimals without thousands separators,
``YYYY-MM-DD`` dates, ISO 8601 timestamps in UTC (``Z``).

>>> parse_decimals(pa.array(["1.234,5", "-0,25", "12x"]), ",", ".")[0].to_pylist()
['1234.5', '-0.25', None]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from exchanged.mapping import datetimes, decimals
from exchanged.nulls import filled

Column = pa.Array | pa.ChunkedArray
Failed = Column | None
NULL = pa.scalar(None, pa.string())

# First / last UTF-8 byte of a value that may need trimming: ASCII blanks, or the lead byte of a
# multi-byte Unicode space (U+0085/U+00A0 C2, U+1680 E1, U+2000-U+205F E2, U+3000 E3). Some
# letters share those bytes (ß ends in 9F): a false alarm only costs one real trim.
_LEAD = np.zeros(256, dtype=bool)
_LEAD[[0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0xC2, 0xE1, 0xE2, 0xE3]] = True
_TRAIL = np.zeros(256, dtype=bool)
_TRAIL[[0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0x9F, 0xA0, 0xA8, 0xA9, 0xAF]] = True
_TRAIL[0x80:0x8B] = True  # last bytes of U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028/9, U+202F, U+205F, U+3000


def _chunks(values: Column) -> list[pa.Array]:
    return list(values.chunks) if isinstance(values, pa.ChunkedArray) else [values]


def _string_parts(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """(offsets, data bytes) of a ``string`` chunk, or None for other layouts."""
    if chunk.type != pa.string() or len(chunk) == 0:
        return None
    buffers = chunk.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int32, count=len(chunk) + 1, offset=chunk.offset * 4)
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
    return offsets, data


def may_need_strip(values: Column) -> bool:
    """False when no value can start or end with a blank, checked on the bytes: one linear scan when
    no byte is a blank at all, else the first and last byte of each value (~10 ms per million)."""
    for chunk in _chunks(values):
        parts = _string_parts(chunk)
        if parts is None:
            if len(chunk):
                return True
            continue
        offsets, data = parts
        data = data[offsets[0] : offsets[-1]]
        offsets = offsets - offsets[0]
        if not len(data) or not ((data <= 0x20).any() or (data >= 0xC2).any()):
            continue  # no blank anywhere (one linear scan): codes, numbers, ids
        # An empty value reads its neighbour's byte: at worst a false alarm.
        if _LEAD.take(data.take(np.minimum(offsets[:-1], len(data) - 1))).any():
            return True
        if _TRAIL.take(data.take(np.maximum(offsets[1:] - 1, 0))).any():
            return True
    return False


def contains_byte(values: Column, byte: bytes) -> bool:
    """Whether any value holds ``byte`` (an ASCII character), scanning the data buffers."""
    code = byte[0]
    for chunk in _chunks(values):
        parts = _string_parts(chunk)
        if parts is None:
            if len(chunk) and pc.any(pc.match_substring(chunk, byte.decode())).as_py():
                return True
            continue
        offsets, data = parts
        if (data[offsets[0] : offsets[-1]] == code).any():
            return True
    return False


def strip_blanks(values: Column) -> Column:
    """Trim Unicode whitespace at both ends (a no-op pass when no value has any)."""
    return pc.utf8_trim_whitespace(values) if may_need_strip(values) else values


def has_empty(values: Column) -> bool:
    """Whether some non-null value is ``""`` (read from the offsets: a few ms per million)."""
    for chunk in _chunks(values):
        parts = _string_parts(chunk)
        if parts is None:
            if len(chunk) and pc.any(pc.equal(chunk, "")).as_py():
                return True
            continue
        offsets, _ = parts
        empty = offsets[1:] == offsets[:-1]
        if chunk.null_count:
            empty &= np.asarray(chunk.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        if empty.any():
            return True
    return False


def empty_to_null(values: Column) -> Column:
    """Empty strings become null."""
    return pc.if_else(pc.equal(values, ""), NULL, values) if has_empty(values) else values


def keep_empty(values: Column) -> Column:
    """Null (an empty cell, as the CSV reader gives it) becomes ``""``."""
    return filled(values, "") if values.null_count else values


def constant(text: str | None, length: int) -> pa.Array:
    """A column holding ``text`` in every row."""
    if text is None:
        return pa.nulls(length, pa.string())
    return pa.repeat(pa.scalar(text, pa.string()), length)


def join_columns(parts: Sequence[Column], separator: str) -> Column:
    """Concatenate columns row by row with ``separator``; null (empty) parts are skipped."""
    # Pairwise instead of null_handling="skip": pyarrow 26 drops rows whose parts are all null
    # with "skip" (the result comes out shorter than the input).
    joined = parts[0]
    for part in parts[1:]:
        both = pc.binary_join_element_wise(joined, part, separator)
        joined = pc.coalesce(both, joined, part)
    return joined


def change_case(values: Column, case: str | None) -> Column:
    if case == "upper":
        return pc.utf8_upper(values)
    if case == "lower":
        return pc.utf8_lower(values)
    return values


def map_codes(values: Column, table: dict[str, str], strict: bool) -> tuple[Column, Failed]:
    """Replace codes by ``table``; unmapped values pass through, or fail when ``strict``.

    A code mapped to ``""`` becomes null (the field is empty).
    """
    keys = pa.array(list(table), pa.string())
    targets = pa.array([v if v != "" else None for v in table.values()], pa.string())
    index = pc.index_in(values, value_set=keys)
    mapped = pc.take(targets, index)
    if not strict:
        return pc.if_else(pc.is_valid(index), mapped, values), None
    failed = pc.and_(pc.is_valid(values), pc.is_null(index))
    return mapped, failed


def _failed(before: Column, after: Column) -> Column:
    """Rows that held a value and lost it."""
    return pc.and_(pc.is_valid(before), pc.is_null(after))


def parse_dates(values: Column, fmt: str) -> tuple[Column, Failed]:
    """Dates in strptime format ``fmt`` -> ``YYYY-MM-DD``; impossible dates (31.02.) fail."""
    numeric = datetimes.compile_format(fmt)
    adjacent = _adjacent_fields(fmt) if numeric is None else None
    if adjacent is not None:
        numeric, widths = adjacent
        out: Column = pa.chunked_array([datetimes.format_dates(datetimes.parse_local(_cut(c, widths), numeric))
                                        for c in _chunks(values)], pa.string())
    elif numeric is None:
        parsed = datetimes.strptime_exact(values, fmt)
        out = pc.cast(pc.cast(parsed, pa.date32()), pa.string())
    else:
        out = pa.chunked_array([datetimes.format_dates(datetimes.parse_local(c, numeric)) for c in _chunks(values)], pa.string())
    return out, _failed(values, out)


_WIDTHS = {"Y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2}
_ADJACENT = re.compile("(?:%[YmdHMS])+")


def _adjacent_fields(fmt: str) -> tuple[datetimes.NumericFormat, list[int]] | None:
    """For fixed-width numeric fields with nothing between them, the year first (``%Y%m%d``,
    EDIFACT 2379 = 102; ``%Y%m%d%H%M``, 203): the same fields with ``-`` between them, for the
    numeric parser, and their widths. strptime reads such a value only when it has exactly those
    digits (the round trip in ``strptime_exact`` refuses anything else; a year is >= 1000, so no
    leading zero can be left out), so cutting it up first gives the same dates, much faster."""
    if not fmt.startswith("%Y") or _ADJACENT.fullmatch(fmt) is None or len(set(fmt[1::2])) != len(fmt) // 2:
        return None
    numeric = datetimes.compile_format("-".join("%" + name for name in fmt[1::2]))
    return None if numeric is None else (numeric, [_WIDTHS[name] for name in fmt[1::2]])


def _cut(chunk: pa.Array, widths: list[int]) -> pa.Array:
    """Values of exactly ``sum(widths)`` ASCII digits cut into their fields, joined by ``-``; others null."""
    fits = pc.and_(pc.equal(pc.binary_length(chunk), sum(widths)), pc.match_substring_regex(chunk, "^[0-9]*$"))
    parts, at = [], 0
    for width in widths:
        parts.append(pc.utf8_slice_codeunits(chunk, at, at + width))
        at += width
    return pc.if_else(fits, pc.binary_join_element_wise(*parts, "-"), NULL)


_ISO_LOCAL = (datetimes.NumericFormat(("Y", "m", "d", "H", "M", "S"), "--T::"), datetimes.NumericFormat(("Y", "m", "d", "H", "M"), "--T:"))
_HAS_OFFSET = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})$"


def parse_timestamps(values: Column, fmt: str | None, zone: str | None) -> tuple[Column, Failed]:
    """Timestamps -> ISO 8601 in UTC (``2026-11-27T07:00:00Z``).

    With ``fmt``: a format with ``%z`` carries its offset, else the local time is in ``zone``.
    Without ``fmt``: ISO 8601 values; those with an offset pass unchanged, the others
    (``YYYY-MM-DD[T ]HH:MM[:SS]``) are local times in ``zone``. Local times that do not exist (the
    hour skipped when DST starts) fail; ambiguous ones (the hour repeated when it ends) take the
    earlier instant, i.e. the summer-time offset.
    """
    out = pa.chunked_array([_timestamps(chunk, fmt, zone) for chunk in _chunks(values)], pa.string())
    return out, _failed(values, out)


def _timestamps(chunk: pa.Array, fmt: str | None, zone: str | None) -> pa.Array:
    if fmt is None:
        assert zone is not None
        text = pc.replace_substring(chunk, " ", "T", max_replacements=1)
        with_seconds, without_seconds = _ISO_LOCAL
        local = datetimes.parse_local(text, with_seconds)
        if not local.ok.all():
            short = datetimes.parse_local(text, without_seconds)
            local = datetimes.Local(np.where(local.ok, local.days, short.days),
                                    np.where(local.ok, local.seconds, short.seconds), local.ok | short.ok)
        epoch, ok = datetimes.to_utc(local, zone)
        converted = datetimes.format_utc(epoch, ok)
        rest = pc.and_(pc.is_valid(chunk), pa.array(~local.ok))
        if not pc.any(rest).as_py():
            return converted
        keep = pc.and_(rest, filled(pc.match_substring_regex(chunk, _HAS_OFFSET), False))
        return pc.if_else(keep, chunk, converted)
    numeric = datetimes.compile_format(fmt)
    if numeric is not None:
        assert zone is not None
        epoch, ok = datetimes.to_utc(datetimes.parse_local(chunk, numeric), zone)
        return datetimes.format_utc(epoch, ok)
    return datetimes.strptime_timestamps(chunk, fmt, zone)


def parse_decimals(values: Column, decimal: str, thousands: str | None) -> tuple[Column, Failed]:
    """Decimal text in the file's notation -> ``.`` decimal without thousands separators.

    With ``.`` and no thousands separator the text is already canonical and passes untouched (the
    record validator judges it); otherwise a value that does not fit the notation fails
    (``decimals.notation``: ``1.5`` with thousands ``.`` is not 15, it is an error).
    """
    if decimal == "." and not thousands:
        return values, None
    out = [decimals.convert(chunk, decimal, thousands)[0] for chunk in _chunks(values)]
    text = pa.chunked_array(out, pa.string())
    return text, _failed(values, text)


def detect_decimal(columns: Iterable[Column]) -> str:
    """``","`` or ``"."``: the decimal separator of one file's decimal fields (``decimal = "auto"``).

    Comma when some value is a comma decimal (``12,5``, ``1.234,5``) and no value holds a ``.`` that
    cannot be a thousands separator (``1.5``); otherwise dot. ``1.234`` alone is a dot decimal.
    """
    chunks = [chunk for column in columns for chunk in _chunks(column) if len(chunk)]
    if not any(contains_byte(chunk, b",") for chunk in chunks):
        return "."
    comma = False
    for chunk in chunks:
        check = decimals.notation(chunk, ",", ".")
        if (check.has_thousands & ~check.ok).any():
            return "."  # a '.' that cannot be a thousands separator: 1.5, 3.14159
        comma = comma or bool((check.ok & check.has_decimal).any())
    return "," if comma else "."


_WORK_SCALE = 20
_MAX_SCALED_LENGTH = 20  # digits, sign and point: fits decimal256(50, 20) with room for the factor


def scale_decimals(values: Column, factor: Decimal) -> tuple[Column, Failed]:
    """Multiply canonical decimals by ``factor`` exactly (``0.19`` * 100 -> ``19``); no rounding."""
    out = pa.chunked_array([_scale(chunk, factor) for chunk in _chunks(values)], pa.string())
    return out, _failed(values, out)


def _scale(chunk: pa.Array, factor: Decimal) -> pa.Array:
    if not len(chunk):
        return pa.array([], pa.string())
    ok = decimals.notation(chunk, ".", None).ok
    ok &= np.asarray(filled(pc.less_equal(pc.utf8_length(chunk), _MAX_SCALED_LENGTH), False).to_numpy(zero_copy_only=False), dtype=bool)
    numbers = pc.cast(pc.if_else(pa.array(ok), chunk, NULL), pa.decimal256(30 + _WORK_SCALE, _WORK_SCALE))
    digits = factor.as_tuple()
    scale = max(0, -digits.exponent) if isinstance(digits.exponent, int) else 0
    product = pc.multiply(numbers, pa.scalar(factor, pa.decimal256(max(len(digits.digits), scale + 1), scale)))
    # The text always has a point (scale > 0): trailing zeros, then a trailing point go. Zero is
    # written "0E-20" by Arrow, so it is set directly.
    text = pc.utf8_rtrim(pc.utf8_rtrim(pc.cast(product, pa.string()), "0"), ".")
    zero = pc.equal(product, pa.scalar(Decimal(0), pa.decimal256(1, 0)))
    return _plain(pc.if_else(zero, pa.scalar("0"), text))


def _plain(text: Column) -> Column:
    """Arrow writes non-zero decimals below 1e-6 as ``1.5E-7``: those few values (too precise for a
    record anyway) are rewritten in plain notation, in a loop over those rows only."""
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    scientific = filled(pc.match_substring(text, "E"), False)
    if not pc.any(scientific).as_py():
        return text
    rows = np.flatnonzero(np.asarray(scientific.to_numpy(zero_copy_only=False), dtype=bool))
    plain = [format(Decimal(text[int(i)].as_py()), "f") for i in rows]
    return pc.replace_with_mask(text, scientific, pa.array(plain, pa.string()))


__all__ = [
    "change_case", "constant", "contains_byte", "detect_decimal", "empty_to_null", "has_empty",
    "join_columns", "keep_empty", "map_codes", "may_need_strip", "parse_dates", "parse_decimals", "parse_timestamps",
    "scale_decimals", "strip_blanks",
]
