"""Full snapshots and the rows they had to drop.

A full snapshot deletes what it omits. A row the ERP *did* send but that failed validation (a
typo in a GTIN) is not omitted: deleting the article from the shop for it would be a silent wrong
result. Its published record is kept as it is until a snapshot omits the key, or sends it valid.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from exchanged.errors import OutputUnavailable
from exchanged.publish.state import align, key_text

__all__ = ["with_retained", "published_file"]


def with_retained(published: Callable[[], pa.Table | None], key: tuple[str, ...], schema: pa.Schema,
                  records: pa.Table, retain: pa.Table | None) -> pa.Table:
    """``records`` plus the published rows whose key is in ``retain`` and not in ``records``.

    ``published`` gives the published state (None: none); it is asked only when ``retain`` has rows.
    """
    if retain is None or retain.num_rows == 0:
        return records
    table = published()
    if table is None or table.num_rows == 0:
        return records
    table, _ = align(table, schema)
    keys = key_text(table, key)
    wanted = key_text(align(retain, pa.schema([schema.field(k) for k in key]))[0], key)
    sent = key_text(records, key)
    keep = pc.and_(pc.is_in(keys, value_set=wanted), pc.invert(pc.is_in(keys, value_set=sent)))
    kept = table.filter(keep)
    if kept.num_rows == 0:
        return records
    return pa.concat_tables([records, kept.cast(records.schema)])


def published_file(shop_dir: Path, entity: str) -> Callable[[], pa.Table | None]:
    """The published state as ``<entity>.parquet`` holds it (None when there is none)."""
    path = Path(shop_dir) / f"{entity}.parquet"

    def read() -> pa.Table | None:
        if not path.exists():
            return None
        try:
            return pq.read_table(path)
        except (OSError, pa.ArrowException) as exc:
            raise OutputUnavailable(f"cannot read the published state {path}: {exc}") from exc

    return read
