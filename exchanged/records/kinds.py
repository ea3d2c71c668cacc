"""Field kinds: one business rule, two ways to apply it.

A kind knows how to check one value (``scalar``, used by pydantic when a record is built one at a
time, e.g. an order) and how to check a whole Arrow column of canonical text at once (``column``,
used by ``exchanged.columns`` for files of a million rows). Both must give the same verdict on every
input; ``tests/records/test_kinds_agree.py`` holds them to it with Hypothesis.

Inputs are canonical text as produced by the mappings (docs/architecture.md): ``.`` decimals, ISO
dates. ``scalar`` also accepts already-typed Python values (Decimal, int, date, …) so that records
can be built from JSON.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from exchanged.nulls import filled
from exchanged.records.column_bytes import column_bytes, has_control, only_bytes

DECIMAL_PRECISION = 24
DECIMAL_SCALE = 6
DECIMAL_TYPE = pa.decimal128(DECIMAL_PRECISION, DECIMAL_SCALE)
TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")


class KindError(ValueError):
    """A value broke a kind's rule; ``code`` is the stable issue code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ColumnCheck:
    """The result of checking a column: typed values (null where bad) and what failed where."""

    values: pa.Array
    failures: list[tuple[pa.Array, str, str]] = field(default_factory=list)
    """(boolean mask of failing rows, issue code, message) — masks never overlap."""


def _full(pattern: str, text: str) -> bool:
    """Python twin of a pyarrow (RE2) anchored match: ASCII classes, no newline before ``$``."""
    return re.fullmatch(pattern, text, re.ASCII) is not None


def _longest(values: pa.Array) -> int:
    """The longest value in bytes (>= its length in characters)."""
    longest = pc.max(pc.binary_length(values)).as_py()
    return longest or 0


def _failing(ok: pa.Array, present: pa.Array) -> pa.Array:
    """Rows that hold a value and do not pass ``ok`` (nulls in ``ok`` count as failing)."""
    return pc.and_(present, pc.invert(filled(ok, False)))


class Kind:
    """Base: a kind of text value with an Arrow type."""

    arrow_type: ClassVar[pa.DataType] = pa.string()
    code: ClassVar[str] = "invalid-value"

    def scalar(self, value: Any) -> Any:
        raise NotImplementedError

    def column(self, values: pa.Array) -> ColumnCheck:
        raise NotImplementedError

    def _column_by_mask(self, values: pa.Array, ok: pa.Array, message: str) -> ColumnCheck:
        bad = _failing(ok, pc.is_valid(values))
        typed = pc.if_else(bad, pa.scalar(None, values.type), values)
        return ColumnCheck(typed, [(bad, self.code, message)])


@dataclass(frozen=True)
class Identifier(Kind):
    """A key or reference: 1..max_length printable characters, no blanks at the ends.

    Keys reach file names, URLs and SQL in the shop; control characters or padding in them are
    always an ERP export fault, never data.
    """

    max_length: int = 64
    code: ClassVar[str] = "invalid-id"
    _PATTERN: ClassVar[str] = r"^[^\x00-\x1f\x7f\s](?:[^\x00-\x1f\x7f]*[^\x00-\x1f\x7f\s])?$"

    def scalar(self, value: Any) -> str:
        text = value if isinstance(value, str) else str(value)
        if not _full(self._PATTERN, text) or len(text) > self.max_length:
            raise KindError(self.code, self._message())
        return text

    def _message(self) -> str:
        return f"must be 1 to {self.max_length} printable characters without blanks at the ends"

    def column(self, values: pa.Array) -> ColumnCheck:
        if has_control(values):
            shape = pc.match_substring_regex(values, self._PATTERN)
        else:  # no control characters anywhere: only blanks at the ends and emptiness remain
            shape = pc.invert(pc.or_(pc.or_(pc.starts_with(values, " "), pc.ends_with(values, " ")), pc.equal(values, "")))
        if _longest(values) > self.max_length:
            shape = pc.and_(shape, pc.less_equal(pc.utf8_length(values), self.max_length))
        return self._column_by_mask(values, shape, self._message())


@dataclass(frozen=True)
class CodeList(Kind):
    """A value from a closed code list (ISO 4217, UN/ECE Rec. 20, ISO 3166, an enumeration)."""

    codes: frozenset[str]
    list_name: str
    issue_code: str

    @property
    def code(self) -> str:  # type: ignore[override]
        return self.issue_code

    def scalar(self, value: Any) -> str:
        if not isinstance(value, str) or value not in self.codes:
            raise KindError(self.issue_code, f"not a {self.list_name} code")
        return value

    def column(self, values: pa.Array) -> ColumnCheck:
        ok = pc.is_in(values, value_set=pa.array(sorted(self.codes), pa.string()))
        return self._column_by_mask(values, ok, f"not a {self.list_name} code")


@dataclass(frozen=True)
class Gtin(Kind):
    """GS1 GTIN-8, -12, -13 or -14: digits only, valid check digit (GS1 General Specifications 7.9)."""

    code: ClassVar[str] = "invalid-gtin"
    LENGTHS: ClassVar[tuple[int, ...]] = (8, 12, 13, 14)

    @staticmethod
    def check_digit(body: str) -> int:
        """The GS1 mod-10 check digit for ``body`` (all digits but the last)."""
        total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
        return (10 - total % 10) % 10

    def scalar(self, value: Any) -> str:
        if not isinstance(value, str) or not value.isascii() or not value.isdigit():
            raise KindError(self.code, "a GTIN has only digits")
        if len(value) not in self.LENGTHS:
            raise KindError(self.code, f"a GTIN has 8, 12, 13 or 14 digits, not {len(value)}")
        expected = self.check_digit(value[:-1])
        if int(value[-1]) != expected:
            raise KindError(self.code, f"GS1 check digit should be {expected}")
        return value

    @staticmethod
    def _weights(length: int) -> np.ndarray:
        """GS1 weights from the left for a code of ``length`` digits: ...3,1,3,1 ending on the check digit."""
        return np.array([1 if (length - 1 - i) % 2 == 0 else 3 for i in range(length)], dtype=np.int32)

    def _column_fast(self, values: pa.Array) -> ColumnCheck | None:
        """All values the same length and all digits (the usual export): the check digits in one
        matrix product over the column's bytes; None when the column is not that regular."""
        parts = column_bytes(values)
        if len(parts) != 1 or not only_bytes(values, b"0123456789"):
            return None
        offsets, data = parts[0]
        lengths = np.diff(offsets)
        valid = np.asarray(pc.is_valid(values).to_numpy(zero_copy_only=False), dtype=bool)
        width = int(lengths[valid][0]) if valid.any() else 0
        if width not in self.LENGTHS or not (lengths[valid] == width).all():
            return None
        # In float32 the product runs in BLAS, 2x faster than in integers, and stays exact: no sum
        # of at most 14 digits times 3 comes near float32's 24-bit mantissa.
        weights = self._weights(width)
        sums = (data.reshape(-1, width).astype(np.float32) @ weights.astype(np.float32)).astype(np.int64) \
            - 48 * int(weights.sum())
        bad = np.zeros(len(values), dtype=bool)
        bad[np.flatnonzero(valid)] = sums % 10 != 0
        bad_digit = pa.array(bad)
        typed = pc.if_else(bad_digit, pa.scalar(None, pa.string()), values) if bad.any() else values
        return ColumnCheck(typed, [(bad_digit, self.code, "GS1 check digit is wrong")])

    def column(self, values: pa.Array) -> ColumnCheck:
        fast = self._column_fast(values)
        if fast is not None:
            return fast
        present = pc.is_valid(values)
        shape_ok = filled(pc.match_substring_regex(values, r"^(?:\d{8}|\d{12,14})$"), False)
        padded = pc.utf8_lpad(pc.if_else(shape_ok, values, "00000000000000"), 14, "0")
        padded = padded.combine_chunks() if isinstance(padded, pa.ChunkedArray) else padded
        # Fixed-width digits: the data buffer is n rows x 14 ASCII bytes, so the GS1 weighted sum
        # (weights 3,1,3,… from the left for a 14-digit body incl. check digit) is one product.
        offsets = np.frombuffer(padded.buffers()[1], dtype=np.int32)[padded.offset]
        digits = np.frombuffer(padded.buffers()[2], dtype=np.uint8)[offsets : offsets + 14 * len(padded)]
        weights = np.array([3, 1] * 6 + [3, 1], dtype=np.int32)
        sums = (digits.reshape(-1, 14).astype(np.int32) - 48) @ weights
        digit_ok = pa.array(sums % 10 == 0)
        bad_shape = _failing(shape_ok, present)
        bad_digit = pc.and_(pc.and_(present, shape_ok), pc.invert(digit_ok))
        bad = pc.or_(bad_shape, bad_digit)
        typed = pc.if_else(bad, pa.scalar(None, pa.string()), values)
        return ColumnCheck(
            typed,
            [
                (bad_shape, self.code, "a GTIN has 8, 12, 13 or 14 digits and nothing else"),
                (bad_digit, self.code, "GS1 check digit is wrong"),
            ],
        )


_DECIMAL_PATTERN = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$"


@dataclass(frozen=True)
class DecimalKind(Kind):
    """A decimal number with at most 18 integer and 6 fraction digits, optionally bounded."""

    minimum: Decimal | None = None
    maximum: Decimal | None = None
    code: ClassVar[str] = "invalid-decimal"
    arrow_type: ClassVar[pa.DataType] = DECIMAL_TYPE

    def _range_message(self) -> str:
        if self.minimum is not None and self.maximum is not None:
            return f"must be between {self.minimum} and {self.maximum}"
        if self.minimum is not None:
            return f"must be at least {self.minimum}"
        return f"must be at most {self.maximum}"

    def scalar(self, value: Any) -> Decimal:
        if isinstance(value, bool):
            raise KindError(self.code, "not a decimal number")
        if isinstance(value, str):
            if not _full(_DECIMAL_PATTERN, value):
                raise KindError(self.code, "not a decimal number (use '.' as decimal separator)")
            number = Decimal(value)
        elif isinstance(value, (int, Decimal)):
            number = Decimal(value)
        elif isinstance(value, float):
            number = Decimal(repr(value))
        else:
            raise KindError(self.code, "not a decimal number")
        try:
            exact = number.quantize(Decimal(1).scaleb(-DECIMAL_SCALE))
        except InvalidOperation:
            raise KindError(self.code, "too many digits") from None
        if exact != number or not number.is_finite():
            raise KindError(self.code, f"more than {DECIMAL_SCALE} decimal places")
        if abs(exact) >= Decimal(10) ** (DECIMAL_PRECISION - DECIMAL_SCALE):
            raise KindError(self.code, "too many digits")
        if (self.minimum is not None and exact < self.minimum) or (
            self.maximum is not None and exact > self.maximum
        ):
            raise KindError("out-of-range", self._range_message())
        return exact

    def column(self, values: pa.Array) -> ColumnCheck:
        present = pc.is_valid(values)
        typed = None
        if only_bytes(values, b"0123456789.-"):
            # Fast path: within this alphabet Arrow's cast accepts exactly the forms the scalar rule
            # does (1, -1.5, .5, 1.) and fails on the rest (-, 1-2, 1.2.3, too many digits), which
            # then take the lenient path row by row (held to the scalar rule by test_kinds_agree).
            try:
                typed = pc.cast(values, DECIMAL_TYPE)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                typed = None
        if typed is not None:
            bad_parse = pa.array(np.zeros(len(values), dtype=bool))
        else:
            bad_parse, typed = self._parse_lenient(values, present)
        failures = [(bad_parse, self.code, f"not a decimal number with at most {DECIMAL_SCALE} decimal places")]
        if self.minimum is None and self.maximum is None:
            return ColumnCheck(typed, failures)
        too_low = pc.less(typed, pa.scalar(self.minimum, DECIMAL_TYPE)) if self.minimum is not None else None
        too_high = pc.greater(typed, pa.scalar(self.maximum, DECIMAL_TYPE)) if self.maximum is not None else None
        outside = too_low if too_high is None else too_high if too_low is None else pc.or_(too_low, too_high)
        bad_range = filled(outside, False)
        failures.append((bad_range, "out-of-range", self._range_message()))
        return ColumnCheck(pc.if_else(bad_range, pa.scalar(None, DECIMAL_TYPE), typed), failures)

    @staticmethod
    def _parse_lenient(values: pa.Array, present: pa.Array) -> tuple[pa.Array, pa.Array]:
        """Every form the scalar rule accepts (+1, .5, 1., 1.5000000) brought to Arrow's form."""
        stripped = pc.utf8_ltrim(values, "+")
        stripped = pc.if_else(pc.starts_with(stripped, "."), pc.binary_join_element_wise("0", stripped, ""), stripped)
        stripped = pc.if_else(pc.starts_with(stripped, "-."), pc.replace_substring(stripped, "-.", "-0.", max_replacements=1), stripped)
        stripped = pc.if_else(pc.ends_with(stripped, "."), pc.utf8_slice_codeunits(stripped, 0, -1), stripped)
        shape = filled(pc.match_substring_regex(values, _DECIMAL_PATTERN), False)
        integer_digits = DECIMAL_PRECISION - DECIMAL_SCALE
        # Trailing zeros beyond the scale are exact (1.5000000 == 1.5); other extra digits are not.
        trimmed = pc.replace_substring_regex(stripped, r"(\.\d*?)0+$", r"\1")
        fits = filled(
            pc.match_substring_regex(trimmed, rf"^-?0*\d{{1,{integer_digits}}}(?:\.\d{{0,{DECIMAL_SCALE}}})?$"),
            False,
        )
        trimmed = pc.if_else(pc.ends_with(trimmed, "."), pc.utf8_slice_codeunits(trimmed, 0, -1), trimmed)
        parse_ok = pc.and_(shape, fits)
        safe_text = pc.if_else(parse_ok, trimmed, pa.scalar(None, pa.string()))
        return _failing(parse_ok, present), pc.cast(safe_text, DECIMAL_TYPE)


_TRUE = ("true", "1", "yes", "y", "j", "ja")
_FALSE = ("false", "0", "no", "n", "nein")


@dataclass(frozen=True)
class BooleanKind(Kind):
    """true/false, 1/0, yes/no (y/n, ja/nein), any letter case."""

    code: ClassVar[str] = "invalid-boolean"
    arrow_type: ClassVar[pa.DataType] = pa.bool_()

    def scalar(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            lowered = value.lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
        raise KindError(self.code, "not a boolean (true/false, 1/0, yes/no)")

    def column(self, values: pa.Array) -> ColumnCheck:
        lowered = pc.utf8_lower(values)
        is_true = pc.is_in(lowered, value_set=pa.array(_TRUE))
        is_false = pc.is_in(lowered, value_set=pa.array(_FALSE))
        bad = _failing(pc.or_(is_true, is_false), pc.is_valid(values))
        typed = pc.if_else(bad, pa.scalar(None, pa.bool_()), pc.if_else(pc.is_valid(values), is_true, pa.scalar(None, pa.bool_())))
        return ColumnCheck(typed, [(bad, self.code, "not a boolean (true/false, 1/0, yes/no)")])


# Years 1900-9999: older dates are data errors in trade, and 9999-12-31 is the usual "open end".
_YEAR = r"(?:19|[2-9]\d)\d{2}"
_DATE_PATTERN = rf"^{_YEAR}-\d{{2}}-\d{{2}}$"


def _calendar_dates(text: pa.Array) -> pa.Array:
    """Parse YYYY-MM-DD strictly: Arrow's strptime rolls 2023-02-30 over to 03-02, so keep only
    the dates that format back to the same text.

    Formatting costs ≈5 µs a value (1.2 s for the 250,000 prices of a PRICAT, the longest check of
    its validation): each distinct text is parsed and formatted once, and rows take their result.
    A file's dates repeat (a price list has a handful of validity dates).
    """
    if len(text) < _DISTINCT_FIRST:
        return _calendar_dates_each(text)
    encoded = pc.dictionary_encode(text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text)
    return _calendar_dates_each(encoded.dictionary).take(encoded.indices)  # a null text stays null


_DISTINCT_FIRST = 1 << 10  # values: below this, finding the distinct ones costs more than it saves


def _calendar_dates_each(text: pa.Array) -> pa.Array:
    parsed = pc.strptime(text, "%Y-%m-%d", "s", error_is_null=True)
    same = pc.equal(pc.strftime(parsed, "%Y-%m-%d"), text)
    return pc.if_else(filled(same, False), parsed, pa.scalar(None, parsed.type))


@dataclass(frozen=True)
class DateKind(Kind):
    """A calendar date, ISO 8601 ``YYYY-MM-DD``."""

    code: ClassVar[str] = "invalid-date"
    arrow_type: ClassVar[pa.DataType] = pa.date32()

    def scalar(self, value: Any) -> dt.date:
        if isinstance(value, dt.datetime):
            raise KindError(self.code, "a date, not a timestamp")
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str) and _full(_DATE_PATTERN, value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise KindError(self.code, "not a valid date YYYY-MM-DD")

    def column(self, values: pa.Array) -> ColumnCheck:
        shape = filled(pc.match_substring_regex(values, _DATE_PATTERN), False)
        parsed = _calendar_dates(pc.if_else(shape, values, pa.scalar(None, pa.string())))
        ok = pc.is_valid(parsed)
        bad = _failing(ok, pc.is_valid(values))
        typed = pc.cast(parsed, pa.date32())
        return ColumnCheck(typed, [(bad, self.code, "not a valid date YYYY-MM-DD")])


# UTC offsets in use run from -12:00 to +14:00.
_TIMESTAMP_PATTERN = (
    rf"^{_YEAR}-\d{{2}}-\d{{2}}[T ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{{1,6}})?)?(?:Z|[+-](?:0\d|1[0-4]):[0-5]\d)$"
)


@dataclass(frozen=True)
class TimestampKind(Kind):
    """An instant, ISO 8601 with a time zone (``Z`` or ``±HH:MM``); stored in UTC.

    A time without a zone is ambiguous across ERP and shop servers, so it is an error; mappings
    that know the ERP's zone add it (``timezone`` transform).
    """

    code: ClassVar[str] = "invalid-timestamp"
    arrow_type: ClassVar[pa.DataType] = TIMESTAMP_TYPE

    def scalar(self, value: Any) -> dt.datetime:
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                raise KindError(self.code, "timestamp without a time zone")
            return value.astimezone(dt.timezone.utc)
        if isinstance(value, str) and _full(_TIMESTAMP_PATTERN, value):
            try:
                return dt.datetime.fromisoformat(value).astimezone(dt.timezone.utc)
            except (ValueError, OverflowError):
                pass
        raise KindError(self.code, "not an ISO 8601 timestamp with time zone")

    def column(self, values: pa.Array) -> ColumnCheck:
        shape = filled(pc.match_substring_regex(values, _TIMESTAMP_PATTERN), False)
        # Arrow's cast parses this ISO 8601 shape but rolls impossible days over and fails the whole
        # array on one bad value: check the calendar date first, cast only what passed.
        date_ok = pc.is_valid(_calendar_dates(pc.utf8_slice_codeunits(values, 0, 10)))
        text = pc.if_else(pc.and_(shape, date_ok), values, pa.scalar(None, pa.string()))
        parsed = pc.cast(text, TIMESTAMP_TYPE)
        in_range = filled(pc.less_equal(pc.year(parsed), 9999), False)
        parsed = pc.if_else(in_range, parsed, pa.scalar(None, TIMESTAMP_TYPE))
        bad = _failing(pc.is_valid(parsed), pc.is_valid(values))
        return ColumnCheck(parsed, [(bad, self.code, "not an ISO 8601 timestamp with time zone")])


@dataclass(frozen=True)
class TextKind(Kind):
    """Free text up to ``max_length`` characters; control characters other than TAB/LF/CR refused."""

    max_length: int = 4000
    code: ClassVar[str] = "invalid-text"
    _BAD: ClassVar[str] = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"

    def scalar(self, value: Any) -> str:
        if not isinstance(value, str):
            raise KindError(self.code, "not text")
        if re.search(self._BAD, value, re.ASCII) or len(value) > self.max_length:
            raise KindError(self.code, self._message())
        return value

    def _message(self) -> str:
        return f"text must be at most {self.max_length} characters without control characters"

    def column(self, values: pa.Array) -> ColumnCheck:
        ok: pa.Array | None = None
        if has_control(values, allow_line_breaks=True):
            ok = pc.invert(pc.match_substring_regex(values, self._BAD))
        if _longest(values) > self.max_length:
            short = pc.less_equal(pc.utf8_length(values), self.max_length)
            ok = short if ok is None else pc.and_(ok, short)
        if ok is None:
            return ColumnCheck(values, [])
        return self._column_by_mask(values, ok, self._message())


@dataclass(frozen=True)
class PatternKind(Kind):
    """Text that must match a regular expression (e-mail addresses, VAT ids)."""

    pattern: str
    issue_code: str
    description: str

    @property
    def code(self) -> str:  # type: ignore[override]
        return self.issue_code

    def scalar(self, value: Any) -> str:
        if not isinstance(value, str) or not _full(self.pattern, value):
            raise KindError(self.issue_code, f"not {self.description}")
        return value

    def column(self, values: pa.Array) -> ColumnCheck:
        ok = pc.match_substring_regex(values, self.pattern)
        return self._column_by_mask(values, ok, f"not {self.description}")
