"""Dates and timestamps in an ERP's format -> canonical text, parsed on the bytes with numpy.

Arrow's ``strptime`` silently rolls ``31.02.2026`` over to 3 March and its ``strftime`` takes about
five seconds per million values, so numeric formats (``%d %m %Y %y %H %M %S`` between literal text,
e.g. ``%d.%m.%Y %H:%M``) are parsed here instead: the digit groups of every value are read from the
column's data buffer, checked against the format (number of groups, digits per group, the literal
text in between) and against the calendar, and turned into days and seconds with integer
arithmetic. Other formats (month names, ``%j``, ``%z``, fields without a separator such as
``%Y%m%d``) go to Arrow's ``strptime`` and are checked for roll-over by formatting back, which is
correct but slow (:func:`parse_other`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# directive -> (fewest, most digits)
_NUMERIC = {"d": (1, 2), "m": (1, 2), "Y": (4, 4), "y": (2, 2), "H": (1, 2), "M": (1, 2), "S": (1, 2)}
_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
_CLOCK = pa.array([f"T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}Z" for s in range(86400)], pa.string())


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


def _groups(chunk: pa.Array, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, pa.Array] | None:
    """(values n x count, digits n x count, fits the group count, literal text) of a string chunk."""
    if chunk.type != pa.string():
        return None
    buffers = chunk.buffers()
    n = len(chunk)
    offsets = np.frombuffer(buffers[1], dtype=np.int32, count=n + 1, offset=chunk.offset * 4).astype(np.int64)
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
    data = data[offsets[0] : offsets[-1]]
    offsets = offsets - offsets[0]
    starts, ends = offsets[:-1], offsets[1:]
    digit = (data - np.uint8(48)) < 10
    begins = digit.copy()
    begins[1:] &= ~digit[:-1]
    filled = starts[ends > starts]
    begins[filled] = digit[filled]  # a value's first byte starts a group when it is a digit
    running = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum(begins, out=running[1:])
    groups_per_value = running[ends] - running[starts]
    group_of_digit = running[1:][digit] - 1
    lengths = np.bincount(group_of_digit, minlength=int(running[-1]))
    position = np.flatnonzero(digit) - np.flatnonzero(begins)[group_of_digit]
    short = np.minimum(lengths, 9)[group_of_digit]  # longer groups are wrong anyway: no overflow
    weight = np.where(position < short, 10 ** np.maximum(short - 1 - position, 0), 0)
    group_values = np.bincount(group_of_digit, weights=(data[digit] - 48) * weight, minlength=len(lengths))
    fits = groups_per_value == count
    index = np.where(fits, running[starts], 0)[:, None] + np.arange(count)[None, :]
    index = np.minimum(index, max(len(lengths) - 1, 0))
    values = group_values.astype(np.int64)[index] if len(lengths) else np.zeros((n, count), np.int64)
    digits = lengths[index] if len(lengths) else np.zeros((n, count), np.int64)
    removed = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum(digit, out=removed[1:])
    text = pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer((offsets - removed[offsets]).astype(np.int32)),
                                                  pa.py_buffer(data[~digit])])
    return values, digits, fits, text


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
    n, count = len(chunk), len(fmt.fields)
    found = _groups(chunk, count) if n else None
    if found is None:
        return Local(np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, bool))
    values, digits, ok, text = found
    ok &= np.asarray(pc.fill_null(pc.equal(text, fmt.literals), False).to_numpy(zero_copy_only=False), dtype=bool)
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
    return Local(days, np.where(ok, hour * 3600 + minute * 60 + second, 0), ok)


def format_dates(local: Local) -> pa.Array:
    """``YYYY-MM-DD`` (null where not ok)."""
    return pa.array(local.days.astype(np.int32), pa.date32(), mask=~local.ok).cast(pa.string())


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
    date = pa.array(days.astype(np.int32), pa.date32(), mask=~ok).cast(pa.string())
    return pc.binary_join_element_wise(date, _CLOCK.take(pa.array(seconds)), "")


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
    if not pc.all(pc.fill_null(same, True)).as_py():
        same = pc.or_(same, pc.equal(_round_trip_key(back), _round_trip_key(values)))
    year = pc.year(parsed)
    ok = pc.and_(pc.fill_null(same, False), pc.and_(pc.greater_equal(year, 1000), pc.less_equal(year, 9999)))
    return pc.if_else(ok, parsed, pa.scalar(None, parsed.type))


__all__ = ["Local", "NumericFormat", "compile_format", "days_from_civil", "format_dates", "format_utc", "parse_local", "strptime_exact", "to_utc"]
