"""Dates and timestamps in an ERP's format -> canonical text, parsed on the bytes with numpy.

Arrow's ``strptime`` silently rolls ``31.02.2026`` over to 3 March and its ``strftime`` takes about
five seconds per million values, so numeric formats (``%d %m %Y %y %H %M %S`` between literal text,
e.g. ``%d.%m.%Y %H:%M``) are parsed here instead: the digit groups of every value are read from the
column's data buffer, checked against the format (number of groups, digits per group, the literal
text in between) and against the calendar, and turned into days and seconds with integer
arithmetic. Other formats (month names, ``%j``, ``%z``, fields without a separator such as
``%Y%m%d``) go to Arrow's ``strptime`` and are checked for roll-over by formatting back, which is
correct but slow (:func:`strptime_exact`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from exchanged.nulls import filled

# directive -> (fewest, most digits)
_NUMERIC = {"d": (1, 2), "m": (1, 2), "Y": (4, 4), "y": (2, 2), "H": (1, 2), "M": (1, 2), "S": (1, 2)}
_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


@dataclass(frozen=True)
class NumericFormat:
    """A strptime format made of numeric directives, each followed by literal text (or the end)."""

    fields: tuple[str, ...]
    literals: str                 # the format's text without its directives: ".." for %d.%m.%Y


def compile_format(fmt: str) -> NumericFormat | None:
    """The format as digit groups and literal text, or None when it needs the general parser."""
    fields: list[str] = []
    literals: list[str] = []
    index, after_field = 0, False
    while index < len(fmt):
        char = fmt[index]
        if char == "%" and index + 1 < len(fmt) and fmt[index + 1] != "%":
            directive = fmt[index + 1]
            if directive not in _NUMERIC or after_field or directive in fields:
                return None
            fields.append(directive)
            index, after_field = index + 2, True
            continue
        if char.isdigit():
            return None
        literals.append(char)
        index += 2 if fmt.startswith("%%", index) else 1
        after_field = False
    return NumericFormat(tuple(fields), "".join(literals)) if fields else None


@dataclass
class Local:
    """Per value: days since 1970-01-01, seconds since midnight, and whether it fit the format."""

    days: np.ndarray
    seconds: np.ndarray
    ok: np.ndarray
    date: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None   # (year, month, day) when parsed


_POWERS = 10 ** np.arange(10, dtype=np.int64)


def _buffers(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    buffers = chunk.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int32, count=len(chunk) + 1, offset=chunk.offset * 4).astype(np.int64)
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
    return offsets - offsets[0], data[offsets[0] : offsets[-1]]


def _groups(chunk: pa.Array, fmt: NumericFormat) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(group values n x k, digits per group n x k, fits: k groups and the literal text)."""
    offsets, data = _buffers(chunk)
    lengths = offsets[1:] - offsets[:-1]
    filled = lengths > 0  # empty and null cells hold no bytes: the others are the data, in order
    count = int(filled.sum())
    width = int(lengths[filled][0]) if count else 0
    if count and len(data) == width * count and (lengths[filled] == width).all():
        found = _fixed_width(data.reshape(count, width), fmt)
        if found is not None:
            values = np.zeros((len(chunk), len(fmt.fields)), dtype=np.int64)
            digits = np.zeros_like(values)
            values[filled], digits[filled] = found[0], found[1]
            return values, digits, filled
    return _any_width(offsets, data, fmt, len(chunk))


def _fixed_width(matrix: np.ndarray, fmt: NumericFormat) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The common case of padded values (``01.12.2026`` in every row): read digits by column."""
    layout = (matrix[0] - np.uint8(48)) < 10
    edges = np.flatnonzero(np.diff(np.concatenate([[0], layout.astype(np.int8), [0]])))
    spans = list(zip(edges[::2].tolist(), edges[1::2].tolist()))
    if len(spans) != len(fmt.fields) or matrix[0][~layout].tobytes() != fmt.literals.encode():
        return None
    if not ((matrix[:, layout] - np.uint8(48)) < 10).all() or not (matrix[:, ~layout] == matrix[0, ~layout]).all():
        return None  # some row has another layout: read them all the general way
    count = len(matrix)
    values = np.empty((count, len(spans)), dtype=np.int64)
    for i, (start, end) in enumerate(spans):
        number = np.zeros(count, dtype=np.int32)
        for column in range(start, end):
            number = number * 10 + matrix[:, column]
        values[:, i] = number - 48 * int("1" * (end - start))  # every byte was a digit's ASCII code
    digits = np.broadcast_to(np.array([end - start for start, end in spans]), (count, len(spans)))
    return values, digits, np.ones(count, dtype=bool)


def _any_width(offsets: np.ndarray, data: np.ndarray, fmt: NumericFormat, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Digit groups of values of any length: per byte its group, per group its value (bincount)."""
    count = len(fmt.fields)
    starts, ends = offsets[:-1], offsets[1:]
    digit = (data - np.uint8(48)) < 10
    begins = digit.copy()
    begins[1:] &= ~digit[:-1]
    filled = starts[ends > starts]
    begins[filled] = digit[filled]  # a value's first byte starts a group when it is a digit
    running = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum(begins, out=running[1:])
    group_of_digit = running[1:][digit] - 1
    lengths = np.bincount(group_of_digit, minlength=int(running[-1]))
    if not len(lengths):
        return np.zeros((n, count), np.int64), np.zeros((n, count), np.int64), np.zeros(n, bool)
    position = np.flatnonzero(digit) - np.flatnonzero(begins)[group_of_digit]
    exponent = np.minimum(lengths, 9)[group_of_digit] - 1 - position  # groups over 9 digits are wrong anyway
    weight = np.where(exponent >= 0, _POWERS[np.clip(exponent, 0, 9)], 0)
    group_values = np.bincount(group_of_digit, weights=(data[digit] - 48) * weight, minlength=len(lengths)).astype(np.int64)
    fits = running[ends] - running[starts] == count
    index = np.minimum(np.where(fits, running[starts], 0)[:, None] + np.arange(count)[None, :], len(lengths) - 1)
    removed = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum(digit, out=removed[1:])
    text = pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer((offsets - removed[offsets]).astype(np.int32)),
                                                  pa.py_buffer(data[~digit])])
    fits &= np.asarray(pc.equal(text, fmt.literals).to_numpy(zero_copy_only=False), dtype=bool)
    return group_values[index], lengths[index], fits


def days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    year = year - (month <= 2)
    era = np.floor_divide(year, 400)
    year_of_era = year - era * 400
    day_of_year = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def parse_local(chunk: pa.Array, fmt: NumericFormat) -> Local:
    """Read every value of ``chunk`` as a local date/time in ``fmt`` (not ok: null or no fit)."""
    n = len(chunk)
    if not n or chunk.type != pa.string():
        return Local(np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, bool))
    values, digits, ok = _groups(chunk, fmt)
    ok = ok.copy()
    field = {name: values[:, i] for i, name in enumerate(fmt.fields)}
    for i, name in enumerate(fmt.fields):
        fewest, most = _NUMERIC[name]
        ok &= (digits[:, i] >= fewest) & (digits[:, i] <= most)
    if "y" in field:  # Python's rule: 69-99 -> 1969-1999, 00-68 -> 2000-2068
        field["Y"] = np.where(field["y"] >= 69, 1900, 2000) + field["y"]
    year, month, day = field.get("Y", np.full(n, 1900)), field.get("m", np.ones(n, np.int64)), field.get("d", np.ones(n, np.int64))
    hour, minute, second = (field.get(k, np.zeros(n, np.int64)) for k in ("H", "M", "S"))
    ok &= (month >= 1) & (month <= 12) & (year >= 1000) & (year <= 9999) & (day >= 1)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    ok &= day <= _DAYS[np.clip(month, 1, 12) - 1] + ((month == 2) & leap)
    ok &= (hour <= 23) & (minute <= 59) & (second <= 59)
    if chunk.null_count:
        ok &= np.asarray(chunk.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    days = np.where(ok, days_from_civil(year, month, day), 0)
    return Local(days, np.where(ok, hour * 3600 + minute * 60 + second, 0), ok, (year, month, day))


def civil_from_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) of days since 1970-01-01 (H. Hinnant's algorithm)."""
    days = days + 719468
    era = np.floor_divide(days, 146097)
    day_of_era = days - era * 146097
    year_of_era = (day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted_month = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * shifted_month + 2) // 5 + 1
    month = shifted_month + np.where(shifted_month < 10, 3, -9)
    return year_of_era + era * 400 + (month <= 2), month, day


def _text(columns: list[np.ndarray | bytes], ok: np.ndarray) -> pa.Array:
    """Fixed-width ASCII text per row from byte columns (n x k arrays) and literal bytes."""
    count = len(ok)
    widths = [c.shape[1] if isinstance(c, np.ndarray) else len(c) for c in columns]
    matrix = np.empty((count, sum(widths)), dtype=np.uint8)
    position = 0
    for column, width in zip(columns, widths):
        matrix[:, position : position + width] = column if isinstance(column, np.ndarray) else np.frombuffer(column, np.uint8)
        position += width
    offsets = (np.arange(count + 1, dtype=np.int64) * sum(widths)).astype(np.int32)
    validity = pa.py_buffer(np.packbits(ok, bitorder="little"))
    return pa.Array.from_buffers(pa.string(), count, [validity, pa.py_buffer(offsets), pa.py_buffer(matrix)],
                                 null_count=int(count - ok.sum()))


# "00".."99" and "0000".."9999" as one uint16 / uint32 each: a take gives the ASCII digits.
_TWO = np.frombuffer("".join(f"{i:02d}" for i in range(100)).encode(), dtype=np.uint16)
_FOUR = np.frombuffer("".join(f"{i:04d}" for i in range(10000)).encode(), dtype=np.uint32)


def _ascii(table: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Zero-padded decimal digits of ``values`` as an n x width byte matrix."""
    return table.take(np.clip(values, 0, len(table) - 1)).view(np.uint8).reshape(len(values), table.itemsize)


def _date_columns(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> list[np.ndarray | bytes]:
    return [_ascii(_FOUR, year), b"-", _ascii(_TWO, month), b"-", _ascii(_TWO, day)]


def format_dates(local: Local) -> pa.Array:
    """``YYYY-MM-DD`` (null where not ok)."""
    year, month, day = local.date if local.date is not None else civil_from_days(np.where(local.ok, local.days, 0))
    return _text(_date_columns(year, month, day), local.ok)


def to_utc(local: Local, zone: str) -> tuple[np.ndarray, np.ndarray]:
    """(epoch seconds, ok) of local times in ``zone``. A time skipped when DST starts is not ok;
    one repeated when it ends takes the earlier instant."""
    naive = pa.array(local.days * 86400 + local.seconds, pa.int64(), mask=~local.ok).cast(pa.timestamp("s"))
    earliest = pc.assume_timezone(naive, timezone=zone, ambiguous="earliest", nonexistent="earliest")
    latest = pc.assume_timezone(naive, timezone=zone, ambiguous="earliest", nonexistent="latest")
    first = np.asarray(earliest.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False))
    second = np.asarray(latest.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False))
    return first, local.ok & (first == second)


def format_utc(epoch: np.ndarray, ok: np.ndarray) -> pa.Array:
    """``YYYY-MM-DDTHH:MM:SSZ`` (null where not ok)."""
    days, seconds = np.divmod(np.where(ok, epoch, 0), 86400)
    year, month, day = civil_from_days(days)
    clock = [_ascii(_TWO, seconds // 3600), b":", _ascii(_TWO, seconds // 60 % 60), b":", _ascii(_TWO, seconds % 60)]
    return _text([*_date_columns(year, month, day), b"T", *clock, b"Z"], ok)


def _round_trip_key(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Text compared after formatting a parsed value back: leading zeros, case, blank runs ignored."""
    values = pc.utf8_lower(values)
    values = pc.replace_substring_regex(values, r"\s+", " ")
    return pc.replace_substring_regex(values, r"(^|[^0-9])0+([0-9])", r"\1\2")


def strptime_exact(values: pa.Array | pa.ChunkedArray, fmt: str) -> pa.Array | pa.ChunkedArray:
    """strptime that refuses what it would silently roll over (31.02. -> 03.03.) and years < 1000.

    Arrow's strptime normalises out-of-range days; formatting the result back with the same format
    and comparing (leading zeros, case and blank runs aside) catches that.
    """
    parsed = pc.strptime(values, format=fmt, unit="s", error_is_null=True)
    back = pc.strftime(parsed, format=fmt)
    same = pc.equal(back, values)
    if not pc.all(filled(same, True)).as_py():
        same = pc.or_(same, pc.equal(_round_trip_key(back), _round_trip_key(values)))
    year = pc.year(parsed)
    ok = pc.and_(filled(same, False), pc.and_(pc.greater_equal(year, 1000), pc.less_equal(year, 9999)))
    return pc.if_else(ok, parsed, pa.scalar(None, parsed.type))


def strptime_timestamps(chunk: pa.Array, fmt: str, zone: str | None) -> pa.Array:
    """The general (slow) path for timestamp formats :func:`compile_format` does not take."""
    if "%z" in fmt:
        instant = pc.strptime(chunk, format=fmt, unit="s", error_is_null=True)
        if fmt.rstrip().endswith("%z"):  # the usual place: check the local part for roll-over too
            local_text = pc.replace_substring_regex(chunk, r"\s*(?:Z|[+-]\d{2}:?\d{2})$", "")
            exact = strptime_exact(local_text, fmt.rstrip()[:-2].rstrip())
            instant = pc.if_else(pc.is_valid(exact), instant, pa.scalar(None, instant.type))
    else:
        assert zone is not None
        naive = strptime_exact(chunk, fmt)
        instant = pc.assume_timezone(naive, timezone=zone, ambiguous="earliest", nonexistent="earliest")
        later = pc.assume_timezone(naive, timezone=zone, ambiguous="earliest", nonexistent="latest")
        instant = pc.if_else(filled(pc.equal(instant, later), False), instant, pa.scalar(None, instant.type))
    epoch = instant.cast(pa.int64())
    ok = np.asarray(pc.is_valid(epoch).to_numpy(zero_copy_only=False), dtype=bool)
    return format_utc(np.asarray(epoch.fill_null(0).to_numpy(zero_copy_only=False)), ok)


__all__ = [
    "Local", "NumericFormat", "civil_from_days", "compile_format", "days_from_civil", "format_dates", "format_utc",
    "parse_local", "strptime_exact", "strptime_timestamps", "to_utc",
]
