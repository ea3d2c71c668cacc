"""``outbox/shop/manifest.json``: the commit point of the shop outputs (DESIGN §1, §5 promise 3).

Shape (``version`` 1; JSON Schema-ish, every key always present unless marked optional)::

    {
      "version": 1,                              # integer; bumped on an incompatible change
      "updated_at": "2026-11-27T15:45:00.123456Z",   # UTC, when this manifest was written
      "entities": {                              # one entry per entity ever published
        "<entity>": {
          "parquet": "product.parquet",          # file names, relative to the manifest's folder
          "jsonl": "product.jsonl",
          "changes": "changes/product",          # folder of the change feed
          "key": ["sku"],                        # key columns (change lines carry them)
          "records": 1000,                       # rows in the state files
          "bytes": {"parquet": 9123, "jsonl": 250123},
          "sha256": {"parquet": "<hex>", "jsonl": "<hex>"},
          "last_seq": 12,                        # highest change file number written; 0 = none yet
          "sources": [                           # inputs that built this state, oldest first:
            {"id": "...", "file": "inbox/...", "sha256": "<hex>",
             "document_date": "2026-11-27"}      # (optional) the input's own date
          ],                                     # full: just the last one; delta: the last 50
          "updated_at": "2026-11-27T15:45:00.123456Z"
        }
      }
    }

How a reader never sees a half-published state: every file is replaced atomically (complete old
or complete new, never torn), and this manifest is written last. A reader reads the manifest,
then the files it names, and checks each file's sha256 against the manifest; a mismatch means a
publish replaced the file in between, so it reads the manifest again and retries. Change files
``changes/<entity>/<seq>.jsonl`` with ``seq <= last_seq`` are complete and never rewritten.
A change file above ``last_seq`` is not part of the feed: a crash can leave one, and the next
publish removes it (``rollback.py``) and may reuse its number.

Entities a publish does not touch keep their entry unchanged, and so do entities for which an input
is stale (``dates.py``: a stale snapshot is not listed in ``sources``) or replayed (its sha256 is
listed already, or the marker says it was applied: ``marker.py``).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from exchanged.atomic import write_atomic
from exchanged.errors import OutputUnavailable
from exchanged.publish.update import Mode, SourceRef

__all__ = ["MANIFEST", "MAX_SOURCES", "VERSION", "read_manifest", "write_manifest", "entity_entry", "sources_after",
           "lists_source", "utc_now"]

MANIFEST = "manifest.json"
VERSION = 1
MAX_SOURCES = 50


def read_manifest(shop_dir: Path) -> dict[str, Any]:
    """The manifest in ``shop_dir``, or an empty one when none was written yet.

    An unreadable or invalid manifest is OutputUnavailable (transient): publishing over it would
    drop the other entities' entries, so a person has to look at it first.
    """
    path = Path(shop_dir) / MANIFEST
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return {"version": VERSION, "updated_at": None, "entities": {}}
    except (OSError, ValueError) as exc:
        raise OutputUnavailable(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("entities"), dict):
        raise OutputUnavailable(f"cannot read {path}: no 'entities' object")
    if data.get("version") != VERSION:
        raise OutputUnavailable(f"cannot read {path}: version {data.get('version')!r}, expected {VERSION}")
    return data


def write_manifest(shop_dir: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest atomically (the last write of a publish)."""
    # One line: without indent json uses its C encoder, and a burst writes the manifest per batch.
    text = json.dumps(manifest, ensure_ascii=False) + "\n"
    write_atomic(Path(shop_dir) / MANIFEST, text.encode())


def entity_entry(
    *,
    entity: str,
    key: tuple[str, ...],
    records: int,
    sizes: dict[str, int],
    sha256: dict[str, str],
    last_seq: int,
    source: SourceRef,
    mode: Mode,
    previous: dict[str, Any] | None,
    now: str,
) -> dict[str, Any]:
    """The manifest entry of ``entity`` after a publish (see the module docstring)."""
    return {
        "parquet": f"{entity}.parquet",
        "jsonl": f"{entity}.jsonl",
        "changes": f"changes/{entity}",
        "key": list(key),
        "records": records,
        "bytes": dict(sizes),
        "sha256": dict(sha256),
        "last_seq": last_seq,
        "sources": sources_after(previous, source, mode),
        "updated_at": now,
    }


def sources_after(previous: dict[str, Any] | None, source: SourceRef, mode: Mode) -> list[dict[str, Any]]:
    """The ``sources`` of an entry after ``source`` applied: a full snapshot lists just itself, a
    delta is added to the earlier ones (one per ``id``), keeping the last ``MAX_SOURCES``."""
    sources = [source.to_json()]
    if mode == "delta" and previous:
        earlier = [s for s in previous.get("sources", []) if s.get("id") != source.id]
        sources = (earlier + sources)[-MAX_SOURCES:]
    return sources


def lists_source(entry: dict[str, Any] | None, sha256: str) -> bool:
    """True when ``entry``'s ``sources`` name an input with this sha256 (it was applied already)."""
    return bool(entry) and any(isinstance(s, dict) and s.get("sha256") == sha256
                               for s in entry.get("sources", []))  # type: ignore[union-attr]


def utc_now() -> str:
    """Now in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (the canonical timestamp form)."""
    now = dt.datetime.now(dt.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if now.microsecond else "%Y-%m-%dT%H:%M:%SZ")
