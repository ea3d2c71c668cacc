from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
import pytest


@dataclass
class Batch:
    """A mapping's output for one entity, built by hand (see mapping.engine.EntityBatch)."""

    fields: pa.Table
    lines: pa.Array
    rows: pa.Array
    ops: pa.Array | None
    invalid: pa.Array
    failed: dict[str, pa.Array] = field(default_factory=dict)


def make_batch(rows: list[dict[str, str | None]], ops: list[str] | None = None) -> Batch:
    names: list[str] = []
    for row in rows:
        names.extend(name for name in row if name not in names)
    table = pa.table({name: pa.array([row.get(name) for row in rows], pa.string()) for name in names})
    n = len(rows)
    return Batch(table, pa.array(range(2, n + 2), pa.int64()), pa.array(range(1, n + 1), pa.int64()),
                 pa.array(ops, pa.string()) if ops is not None else None, pa.array([False] * n))


@pytest.fixture
def batch():
    return make_batch
