"""Decimal notation (``1.234,50``) -> canonical text (``1234.50``), on the bytes of a whole column.

pyarrow's regex kernels take 0.1-0.4 s per million values, so checking and converting a decimal
column of an ERP export with them costs about a second. Here the check and the conversion work on
the column's UTF-8 data buffer with numpy (per byte: which value it belongs to, digit or separator;
per value: counts; per thousands separator: the distance to the next one), which takes some tens of
milliseconds. Chunks holding non-ASCII bytes (a no-break space as thousands separator) take the
regex path (:func:`notation_regex`); a property test holds both paths to the same result.

A value is in notation ``(decimal, thousands)`` when it is: an optional sign, digits, optionally the
decimal separator and digits (``12,5``, ``12,``, ``,5``); with a thousands separator, the integer
part is either plain digits or 1-3 digits followed by groups of exactly three (``1.234.567``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from exchanged.nulls import filled

BLANKS = " \u00a0\u202f"  # a blank as thousands separator: space, no-break space, narrow no-break space


def notation_regex(decimal: str, thousands: str | None) -> str:
    """The RE2 pattern of a number in this notation (the reference the numpy path is held to)."""
    dec = re.escape(decimal)
    if thousands:
        group = f"[{BLANKS}]" if thousands == " " else re.escape(thousands)
        integer = rf"(?:\d{{1,3}}(?:{group}\d{{3}})+|\d+)"
    else:
        integer = r"\d+"
    return rf"^[+-]?(?:{integer}(?:{dec}\d*)?|{dec}\d+)$"


@dataclass
class Notation:
    """Per value of one chunk: fits the notation, holds the decimal / thousands separator."""

    ok: np.ndarray
    has_decimal: np.ndarray
    has_thousands: np.ndarray


def _as_numpy(mask: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(filled(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


_MAX_LENGTH = 255  # per-value counts are packed into 8-bit fields of one uint32 cumulative sum


def _buffers(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """(offsets from 0, data) of a short-valued ASCII ``string`` chunk, else None (regex path)."""
    if chunk.type != pa.string() or len(chunk) == 0:
        return None
    buffers = chunk.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int32, count=len(chunk) + 1, offset=chunk.offset * 4).astype(np.int64)
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
    data = data[offsets[0] : offsets[-1]]
    offsets = offsets - offsets[0]
    if (data >= 0x80).any() or (np.diff(offsets) > _MAX_LENGTH).any():
        return None
    return offsets, data


@functools.cache
def _table(decimal: str, thousands: str | None) -> np.ndarray:
    """Per byte value: 1 (not allowed), 1<<8 decimal, 1<<16 thousands, 1<<24 digit, 0 sign."""
    table = np.ones(256, dtype=np.uint32)
    table[ord("0") : ord("9") + 1] = 1 << 24
    table[[ord("+"), ord("-")]] = 0
    table[ord(decimal)] = 1 << 8
    if thousands:
        table[ord(thousands)] = 1 << 16
    return table


def _regex_notation(chunk: pa.Array, decimal: str, thousands: str | None) -> Notation:
    ok = _as_numpy(pc.match_substring_regex(chunk, notation_regex(decimal, thousands)))
    has_dec = _as_numpy(pc.match_substring(chunk, decimal))
    if thousands:
        has_th = _as_numpy(pc.match_substring_regex(chunk, f"[{BLANKS}]" if thousands == " " else re.escape(thousands)))
    else:
        has_th = np.zeros(len(chunk), dtype=bool)
    return Notation(ok, has_dec, has_th)


def notation(chunk: pa.Array, decimal: str, thousands: str | None) -> Notation:
    """Check every value of ``chunk`` against the notation (nulls come out not ok)."""
    return _scan(chunk, decimal, thousands)[0]


def _scan(chunk: pa.Array, decimal: str, thousands: str | None) -> tuple[Notation, tuple[np.ndarray, np.ndarray] | None]:
    parts = _buffers(chunk)
    if parts is None:
        return _regex_notation(chunk, decimal, thousands), None
    offsets, data = parts
    starts, ends = offsets[:-1], offsets[1:]
    # One cumulative sum gives four counts per value: each lives in its own 8 bits (values are at
    # most 255 bytes), and uint32 wrap-around cancels out in the difference. Signs are what is left.
    running = np.zeros(len(data) + 1, dtype=np.uint32)
    np.cumsum(_table(decimal, thousands)[data], dtype=np.uint32, out=running[1:])
    counts = running[ends] - running[starts]
    bad_count, dec_count = counts & 0xFF, (counts >> 8) & 0xFF
    th_count, digit_count = (counts >> 16) & 0xFF, counts >> 24
    sign_count = (ends - starts) - bad_count - dec_count - th_count - digit_count
    bad = (bad_count > 0) | (dec_count > 1) | (digit_count == 0) | (sign_count > 1)
    signed = np.flatnonzero(sign_count == 1)
    if len(signed):
        first = data[starts[signed]]
        bad[signed[(first != ord("+")) & (first != ord("-"))]] = True  # a sign anywhere but first
    if thousands and th_count.any():
        _bad_groups(offsets, data, decimal, thousands, bad)
    ok = ~bad if chunk.null_count == 0 else ~bad & _as_numpy(chunk.is_valid())
    return Notation(ok, dec_count > 0, th_count > 0), parts


def _bad_groups(offsets: np.ndarray, data: np.ndarray, decimal: str, thousands: str, bad: np.ndarray) -> None:
    """Mark values whose thousands separators are not 1-3 digits, then groups of exactly three."""
    th = np.flatnonzero(data == ord(thousands))
    value = np.searchsorted(offsets, th, side="right") - 1
    start, end = offsets[value], offsets[value + 1]
    decs = np.flatnonzero(data == ord(decimal))
    nearest = np.searchsorted(decs, start)  # the first decimal separator at or after the value start
    found = decs[np.minimum(nearest, max(len(decs) - 1, 0))] if len(decs) else end
    integer_end = np.where((nearest < len(decs)) & (found < end), found, end)
    integer_start = start + ((data[start] == ord("+")) | (data[start] == ord("-")))
    same_next = np.append(value[1:] == value[:-1], False)
    following = np.where(same_next, np.append(th[1:], 0), integer_end)
    first = np.append(True, value[1:] != value[:-1])
    lead = th - integer_start
    wrong = (th > integer_end) | (following - th != 4) | (first & ((lead < 1) | (lead > 3)))
    bad[value[wrong]] = True


def convert(chunk: pa.Array, decimal: str, thousands: str | None) -> tuple[pa.Array, np.ndarray]:
    """(canonical text, ok mask) for one chunk; values not in the notation come out null."""
    check, parts = _scan(chunk, decimal, thousands)
    if parts is None:
        text = pc.if_else(pa.array(check.ok), chunk, pa.scalar(None, pa.string())) if len(chunk) else chunk
        for blank in (BLANKS if thousands == " " else thousands or ""):
            text = pc.replace_substring(text, blank, "")
        if decimal != ".":
            text = pc.replace_substring(text, decimal, ".")
        return _tidy(text), check.ok
    offsets, data = parts
    out, new_offsets = data, offsets
    if thousands and check.has_thousands.any():
        is_th = data == ord(thousands)
        out = data[~is_th]
        removed = np.zeros(len(data) + 1, dtype=np.int64)
        np.cumsum(is_th, out=removed[1:])
        new_offsets = offsets - removed[offsets]
    if decimal != ".":
        out = np.where(out == ord(decimal), np.uint8(ord(".")), out)
    plain = pa.Array.from_buffers(
        pa.string(), len(chunk), [None, pa.py_buffer(new_offsets.astype(np.int32)), pa.py_buffer(out)]
    )
    text = pc.if_else(pa.array(check.ok), plain, pa.scalar(None, pa.string()))
    return (_tidy(text) if _untidy(out, new_offsets) else text), check.ok


def _untidy(data: np.ndarray, offsets: np.ndarray) -> bool:
    """Whether some value starts with ``+``, ``.``, ``-.`` or ends with ``.`` (checked on the bytes)."""
    if not len(data):
        return False
    last_index = len(data) - 1
    filled = offsets[1:] > offsets[:-1]
    first = data[np.minimum(offsets[:-1], last_index)]
    second = data[np.minimum(offsets[:-1] + 1, last_index)]
    last = data[np.maximum(offsets[1:] - 1, 0)]
    dot, plus, minus = ord("."), ord("+"), ord("-")
    odd = (first == plus) | (first == dot) | ((first == minus) & (second == dot)) | (last == dot)
    return bool((odd & filled).any())


def _tidy(text: pa.Array) -> pa.Array:
    """``+5`` -> ``5``, ``.5`` -> ``0.5``, ``5.`` -> ``5`` (rare: these passes run only when needed)."""
    if pc.any(pc.starts_with(text, "+")).as_py():
        text = pc.utf8_ltrim(text, "+")
    if pc.any(pc.or_(pc.starts_with(text, "."), pc.starts_with(text, "-."))).as_py():
        text = pc.replace_substring_regex(text, r"^(-?)\.", r"\10.")  # RE2: group 1, then "0."
    if pc.any(pc.ends_with(text, ".")).as_py():
        text = pc.replace_substring_regex(text, r"\.$", "")
    return text


__all__ = ["BLANKS", "Notation", "convert", "notation", "notation_regex"]
