"""Full snapshots and the rows they had to drop.

A full snapshot deletes what it omits. A row the ERP *did* send but that failed validation (a
typo in a GTIN) is not omitted: deleting the article from the shop for it would be a silent wrong
result. Its published record is kept as it is until a snapshot omits the key, or sends it valid.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from exchanged.errors import OutputUnavailable
from exchanged.publish.state import align, key_text

__all__ = ["with_retained"]


def with_retained(shop_dir: Path, entity: str, key: tuple[str, ...], schema: pa.Schema,
                  records: pa.Table, retain: pa.Table | None) -> pa.Table:
    """``records`` plus the published rows whose key is in ``retain`` and not in ``records``."""
    path = Path(shop_dir) / f"{entity}.parquet"
    if retain is None or retain.num_rows == 0 or not path.exists():
        return records
    try:
        published, _ = align(pq.read_table(path), schema)
    except (OSError, pa.ArrowException) as exc:
        raise OutputUnavailable(f"cannot read the published state {path}: {exc}") from exc
    keys = key_text(published, key)
    wanted = key_text(align(retain, pa.schema([schema.field(k) for k in key]))[0], key)
    sent = key_text(records, key)
    keep = pc.and_(pc.is_in(keys, value_set=wanted), pc.invert(pc.is_in(keys, value_set=sent)))
    kept = published.filter(keep)
    if kept.num_rows == 0:
        return records
    return pa.concat_tables([records, kept.cast(records.schema)])
