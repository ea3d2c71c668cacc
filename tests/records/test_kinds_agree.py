"""Each Kind's column check and scalar check give the same verdict and value on every input.

This is what lets exchanged validate a million rows column by column without weakening a rule:
the column path is held to the scalar path (the one pydantic uses) on arbitrary text.
"""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchanged.records.kinds import (
    BooleanKind,
    CodeList,
    DateKind,
    DecimalKind,
    Gtin,
    Identifier,
    KindError,
    PatternKind,
    TextKind,
    TimestampKind,
)

KINDS = {
    "identifier": Identifier(),
    "gtin": Gtin(),
    "decimal": DecimalKind(),
    "money": DecimalKind(minimum=Decimal(0)),
    "percent": DecimalKind(minimum=Decimal(0), maximum=Decimal(100)),
    "boolean": BooleanKind(),
    "date": DateKind(),
    "timestamp": TimestampKind(),
    "text": TextKind(max_length=20),
    "codes": CodeList(codes=frozenset({"C62", "KGM", "EUR"}), list_name="test", issue_code="invalid-code"),
    "email": PatternKind(pattern=r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[A-Za-z]{2,}$", issue_code="invalid-email", description="e-mail"),
}

# Text that is likely to sit on the edge of each rule, mixed with arbitrary text.
EDGY = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"\A[+-]?\d{0,20}(\.\d{0,8})?\Z"),
    st.from_regex(r"\A\d{7,15}\Z"),
    st.from_regex(r"\A\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})?)?\Z"),
    st.sampled_from(["true", "FALSE", "Ja", "1", "0", "yes", "nope", "C62", "c62", "EUR ", " x", "a@b.de", "2024-02-30",
                     "2024-02-29", "2023-02-29", "2026-04-31", "1899-12-31", "9999-12-31", "2026-11-27T24:00:00Z", "2026-11-27T10:00:00+14:00", "9999-12-31T23:59:59-12:00", "2000-01-01 00:00Z", "1.", ".5", "-.5", "+1", "1e5", "0.0000001", "1.1000000", "١٢", "4006381333931",
                     "4006381333932", "00000000", "9999999999999999999", "2026-11-27T15:41:00+01:00", "x\n"]),
)


def verdicts(kind, text: str):
    try:
        scalar = ("ok", kind.scalar(text))
    except KindError as exc:
        scalar = ("bad", exc.code)
    check = kind.column(pa.array([text], pa.string()))
    failed = [code for mask, code, _ in check.failures if mask[0].as_py()]
    column = ("bad", failed[0]) if failed else ("ok", check.values[0].as_py())
    return scalar, column


@pytest.mark.parametrize("name", sorted(KINDS))
@settings(max_examples=400, deadline=None)
@given(text=EDGY)
def test_column_and_scalar_agree(name: str, text: str) -> None:
    scalar, column = verdicts(KINDS[name], text)
    assert scalar == column


@pytest.mark.parametrize("name", sorted(KINDS))
def test_null_is_neither_valid_nor_a_failure(name: str) -> None:
    check = KINDS[name].column(pa.array([None], pa.string()))
    assert check.values[0].as_py() is None
    assert not any(mask[0].as_py() for mask, _, _ in check.failures)
