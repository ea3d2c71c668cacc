"""release_memory hands freed memory back and changes nothing else."""

from __future__ import annotations

import pyarrow as pa

from exchanged.columns.memory import release_memory


def test_release_memory_keeps_live_data() -> None:
    values = pa.array([str(n) for n in range(10_000)])
    garbage = pa.array([str(n) * 10 for n in range(100_000)])
    del garbage
    release_memory()
    release_memory()  # idempotent
    assert values.to_pylist()[-1] == "9999"
