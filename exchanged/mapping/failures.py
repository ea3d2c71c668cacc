"""Row failures of transforms, and the issues built from them for the failing rows only.

A transform reports a boolean mask of failing rows; nothing is built for the rows that pass. Issues
are built in row order, at most the call's ``issue_limit`` (shared by all entities of one file);
the failures beyond it are only counted (``EntityBatch.issues_truncated``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from exchanged.mapping.transforms import Column
from exchanged.nulls import filled
from exchanged.report import Issue, Location


@dataclass
class Failure:
    """Rows where one transform of one field failed."""

    mask: Column
    code: str
    message: str
    field: str                       # the source column(s), as the file names them
    raw: list[Column]                # the source cells, to quote the failing value


class IssueBudget:
    """How many more issues one ``apply_mapping`` call may build."""

    def __init__(self, limit: int) -> None:
        self.room = limit


def _bools(mask: Column) -> np.ndarray:
    return np.asarray(filled(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def any_failed(masks: list[Column], length: int) -> pa.Array:
    """Per row: did any of ``masks`` fail it."""
    out = np.zeros(length, dtype=bool)
    for mask in masks:
        out |= _bools(mask)
    return pa.array(out, pa.bool_())


def build_issues(failures: list[Failure], lines: pa.Array, rows: pa.Array, budget: IssueBudget,
                 locate: Callable[[int], Location] | None = None) -> tuple[list[Issue], int]:
    """Issues for the failing rows in row order, at most the budget's room; and how many more."""
    found: list[tuple[int, int]] = []  # (row index, failure number)
    total = 0
    for number, failure in enumerate(failures):
        indices = np.flatnonzero(_bools(failure.mask))
        total += len(indices)
        found.extend((int(i), number) for i in indices[: budget.room])
    found.sort()
    kept = found[: budget.room]
    budget.room -= len(kept)
    issues = []
    if kept:
        taken = pa.array([i for i, _ in kept], pa.int64())
        for (index, number), line, row in zip(kept, lines.take(taken).to_pylist(), rows.take(taken).to_pylist()):
            failure = failures[number]
            parts = [raw[index].as_py() for raw in failure.raw]
            value = " | ".join("" if p is None else p for p in parts) if len(parts) > 1 else (parts[0] if parts else None)
            where = locate(index).with_field(failure.field) if locate else Location(line=line, row=row, field=failure.field)
            issues.append(Issue(code=failure.code, message=failure.message, value=value, location=where))
    return issues, total - len(kept)


__all__ = ["Failure", "IssueBudget", "any_failed", "build_issues"]
