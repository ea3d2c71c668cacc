"""``.publishing``: what a publish is about to write, and which inputs were applied but not yet
settled, so that a crash at any instant neither loses nor repeats a change (DESIGN §5 promise 4).

Shape (version 3)::

    {
      "version": 3,
      "entities": ["product"],          # state files that may not match the manifest: their JSONL
                                        # is not trusted, it is rendered again from the Parquet
                                        # (but those a committed record rewrote)
      "publish": {                      # the last publish, written before anything else it writes:
        "updated_at": "2026-...Z",      #   the manifest's updated_at that publish writes
        "rewrites": ["product"],        #   entities whose state files it replaces
        "inputs": [{"sha256": "<hex>", "id": "<report id>", "entities": ["product"]}]
      },
      "applied": [                      # inputs earlier committed publishes applied, not yet
        {"sha256": "<hex>", "id": "<report id>", "entities": ["product"]}   # settled by the caller
      ]
    }

The manifest is the commit point. A publish whose manifest was not written is *interrupted*: the
next publish undoes it before anything else (``rollback.py``), so publishing its inputs again, in
any order and in any batches, writes what a publish never interrupted writes. A publish whose
manifest was written (its ``updated_at`` is the manifest's) is *committed*: each of its inputs is
applied, and publishing it again must change nothing (``replayed``). The marker is not rewritten
after the manifest: the committed record says so until the next publish, which carries its inputs
into ``applied``. The entry's ``sources`` cannot tell it alone: a later full snapshot replaces
the list, and it keeps the last ``MAX_SOURCES`` deltas only. An input stays in ``applied`` until
its caller has recorded it (``settled``: the daemon's ledger has its row, so a replay of it ends as
a duplicate before it reaches publishing), or, for callers that record nothing, while it is among
the last ``MAX_APPLIED``.

Older markers are read: version 1 (``{"entities": [...]}``) as pending entities; version 2's
``inputs`` map entities to what they did, of which the names are kept. A marker that cannot be
read makes every entity untrusted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exchanged.atomic import write_atomic
from exchanged.errors import output_context

__all__ = ["MARKER", "MAX_APPLIED", "InputRecord", "PublishRecord", "Marker", "Replay", "read_marker", "write_marker"]

MARKER = ".publishing"
VERSION = 3
MAX_APPLIED = 1000  # unsettled inputs kept when the caller records nothing (about 150 bytes each)

Settled = Callable[[list[str]], Collection[str]]


@dataclass(frozen=True)
class InputRecord:
    """One input of a publish: its sha256, its report id and the entities it applied to."""

    sha256: str
    id: str
    entities: frozenset[str] = field(default_factory=frozenset)

    def to_json(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "id": self.id, "entities": sorted(self.entities)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InputRecord:
        return cls(str(data["sha256"]), str(data.get("id", "")), frozenset(str(name) for name in data["entities"]))


@dataclass(frozen=True)
class PublishRecord:
    updated_at: str
    rewrites: frozenset[str]
    inputs: tuple[InputRecord, ...]

    def to_json(self) -> dict[str, Any]:
        return {"updated_at": self.updated_at, "rewrites": sorted(self.rewrites),
                "inputs": [i.to_json() for i in self.inputs]}


@dataclass(frozen=True)
class Marker:
    """``pending``: entities whose state files may not match the manifest (None: unknown, all)."""

    pending: frozenset[str] | None
    record: PublishRecord | None = None
    applied: tuple[InputRecord, ...] = ()

    @property
    def empty(self) -> bool:
        return self.pending is not None and not self.pending and self.record is None and not self.applied


def read_marker(shop_dir: Path) -> Marker:
    path = Path(shop_dir) / MARKER
    try:
        data = json.loads(path.read_bytes())
        pending = frozenset(str(name) for name in data["entities"])
    except FileNotFoundError:
        return Marker(frozenset())
    except (OSError, ValueError, KeyError, TypeError):
        return Marker(None)
    try:
        publish = data.get("publish")
        record = None if publish is None else PublishRecord(
            updated_at=str(publish["updated_at"]),
            rewrites=frozenset(str(name) for name in publish["rewrites"]),
            inputs=tuple(InputRecord.from_json(i) for i in publish["inputs"]))
        applied = tuple(InputRecord.from_json(i) for i in data.get("applied", ()))
    except (ValueError, KeyError, TypeError, AttributeError):
        return Marker(None)  # a record that cannot be read: nothing it names can be trusted
    return Marker(pending, record, applied)


def write_marker(shop_dir: Path, marker: Marker) -> None:
    """Write ``marker`` atomically, or remove the file when it holds nothing."""
    path = Path(shop_dir) / MARKER
    if marker.empty:
        _remove(path)
        return
    data: dict[str, Any] = {"version": VERSION, "entities": sorted(marker.pending or ())}
    if marker.record is not None:
        data["publish"] = marker.record.to_json()
    if marker.applied:
        data["applied"] = [i.to_json() for i in marker.applied]
    write_atomic(path, json.dumps(data, separators=(",", ":")).encode() + b"\n")


def _remove(path: Path) -> None:
    with output_context(path):
        path.unlink(missing_ok=True)


def committed(marker: Marker, manifest: dict[str, Any]) -> bool:
    """The marker's publish record belongs to a publish whose manifest was written."""
    return marker.record is not None and marker.record.updated_at == manifest.get("updated_at")


class Replay:
    """Which inputs (by sha256) a committed publish applied already, to which entities.

    ``marker`` is the one on disk after ``rollback.recover`` (no interrupted record left);
    ``carried`` is its ``applied`` with a committed record's inputs added, less those ``settled``.
    A batch ``add``s each input it applies, so that the same input later in it is replayed too.
    """

    def __init__(self, marker: Marker, manifest: dict[str, Any], settled: Settled | None = None) -> None:
        self.marker = marker
        record = marker.record if committed(marker, manifest) else None
        self.pending = marker.pending
        if record is not None and self.pending is not None:
            self.pending = self.pending - record.rewrites
        carried = list(marker.applied) + list(record.inputs if record is not None else ())
        self.carried = tuple(_unsettled(carried, settled))
        self._applied: dict[str, frozenset[str]] = {}
        for i in self.carried:
            self.add(i)

    def untrusted(self, entity: str) -> bool:
        """The entity's JSONL may not be row-aligned with its Parquet."""
        return self.pending is None or entity in self.pending

    def applied_before(self, sha256: str, entity: str) -> bool:
        """The input with this sha256 was applied to ``entity`` by a committed publish (or earlier in this batch)."""
        return entity in self._applied.get(sha256, ())

    def add(self, applied: InputRecord) -> None:
        self._applied[applied.sha256] = self._applied.get(applied.sha256, frozenset()) | applied.entities


def _unsettled(inputs: Iterable[InputRecord], settled: Settled | None) -> list[InputRecord]:
    """``inputs`` less those the caller has ``settled`` (recorded); without ``settled``, the last
    ``MAX_APPLIED``. Only inputs with entities count: an input that applied nothing needs no record."""
    kept = [i for i in inputs if i.entities]
    ids = [i.id for i in kept if i.id]
    if settled is not None and ids:
        done = set(settled(ids))
        kept = [i for i in kept if i.id not in done]
    return kept[-MAX_APPLIED:]
