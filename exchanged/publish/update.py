"""What the pipeline hands to ``publish`` (EntityUpdate, SourceRef) and what it gets back (EntityResult)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa

__all__ = ["EntityUpdate", "SourceRef", "EntityResult", "Mode"]

Mode = Literal["full", "delta"]

# Entity names become file and folder names (DESIGN §5 promise 7: outputs cannot escape their folder).
_ENTITY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class EntityUpdate:
    """The validated records of one entity from one input, and how they apply to the published state.

    ``mode="full"``: the new state is exactly ``records`` (published records it omits are deleted;
    an empty table deletes everything). ``mode="delta"``: ``records`` are upserted and the keys in
    ``deletes`` removed; a key in both ends upserted.
    """

    entity: str
    key: tuple[str, ...]
    schema: pa.Schema
    records: pa.Table
    deletes: pa.Table | None = None
    mode: Mode = "full"
    retain: pa.Table | None = None
    """full mode: key columns of rows this snapshot sent but dropped as invalid; their published
    records are kept, not deleted (``publish/retain.py``)."""

    def __post_init__(self) -> None:
        if not _ENTITY_NAME.match(self.entity):
            raise ValueError(f"entity name {self.entity!r} is not a safe file name ([a-z][a-z0-9_]*)")
        if not self.key:
            raise ValueError(f"entity {self.entity!r} needs at least one key column")
        missing = [name for name in self.key if name not in self.schema.names]
        if missing:
            raise ValueError(f"key columns {missing} of {self.entity!r} are not in its schema")
        if self.mode not in ("full", "delta"):
            raise ValueError(f"mode must be 'full' or 'delta', not {self.mode!r}")
        if self.mode == "full" and self.deletes is not None and self.deletes.num_rows:
            raise ValueError("a full snapshot deletes by omission; 'deletes' is for delta mode")


@dataclass(frozen=True)
class SourceRef:
    """The input a publish came from, as listed in the manifest's ``sources``.

    ``document_date`` (optional, ISO 8601 date or timestamp) is the input's own date: a full snapshot
    dated before a source of the published state is stale (DESIGN §1 status ``stale``, ``dates.py``).
    ``sha256`` identifies the input: publishing it again finds its earlier work (``marker.py``).
    """

    id: str
    file: str
    sha256: str
    document_date: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "file": self.file, "sha256": self.sha256}
        if self.document_date is not None:
            out["document_date"] = self.document_date
        return out


@dataclass
class EntityResult:
    """What one publish did to one entity.

    ``upserts + unchanged`` is the number of records in the update; ``records`` the size of the
    new state; ``seq`` the change file written, ``None`` when nothing changed (and no file was
    written); ``outputs`` the files written, relative to ``display_root`` when given.

    ``stale``: a full snapshot older (by ``SourceRef.document_date``) than a source of the published
    state; nothing was applied (counts 0, no change file, ``records`` the published state's size).
    ``replayed``: this input (its ``SourceRef.sha256``) was already applied to the entity, by a
    publish that completed (or whose crash came after its manifest); nothing was written (counts 0,
    ``seq`` None, ``records`` the published state's size). A replay that finishes an interrupted
    publish is not ``replayed``: it reports what that publish did (its ``seq`` and counts).
    """

    entity: str
    upserts: int
    deletes: int
    unchanged: int
    records: int
    seq: int | None
    outputs: list[str] = field(default_factory=list)
    stale: bool = False
    replayed: bool = False
