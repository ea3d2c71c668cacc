"""``LineNumberKind``: the one integer field kind (an order line number, ``order_status.line_no``),
in both forms like the kinds of ``kinds.py``: one value (pydantic) and one column (Arrow)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc

from exchanged.nulls import filled
from exchanged.records.kinds import ColumnCheck, Kind, KindError


@dataclass(frozen=True)
class LineNumberKind(Kind):
    """A line number: digits only, 0 to 999999 (EANCOM LIN 1082 is n..6), leading zeros allowed.

    ``001`` and ``1`` are the same line, so a DESADV that pads (``LIN+001``) and an ORDRSP that does
    not (``LIN+1``) update one record.
    """

    maximum: int = 999_999
    code: ClassVar[str] = "invalid-line-no"
    arrow_type: ClassVar[pa.DataType] = pa.int64()
    _PATTERN: ClassVar[str] = r"^[0-9]{1,18}$"  # 18 digits always fit int64; the range check follows

    def _message(self) -> str:
        return f"not a line number (digits only, 0 to {self.maximum})"

    def scalar(self, value: Any) -> int:
        if isinstance(value, bool):
            raise KindError(self.code, self._message())
        if isinstance(value, int):
            number = value
        elif isinstance(value, str) and re.fullmatch(self._PATTERN, value, re.ASCII):
            number = int(value)
        else:
            raise KindError(self.code, self._message())
        if not 0 <= number <= self.maximum:
            raise KindError("out-of-range", f"must be between 0 and {self.maximum}")
        return number

    def column(self, values: pa.Array) -> ColumnCheck:
        present = pc.is_valid(values)
        shape = filled(pc.match_substring_regex(values, self._PATTERN), False)
        bad_shape = pc.and_(present, pc.invert(shape))
        numbers = pc.cast(pc.if_else(shape, values, pa.scalar(None, pa.string())), pa.int64())
        too_big = filled(pc.greater(numbers, self.maximum), False)
        typed = pc.if_else(too_big, pa.scalar(None, pa.int64()), numbers)
        return ColumnCheck(typed, [(bad_shape, self.code, self._message()),
                                   (too_big, "out-of-range", f"must be between 0 and {self.maximum}")])


__all__ = ["LineNumberKind"]
