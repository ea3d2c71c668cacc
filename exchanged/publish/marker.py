"""``.publishing``: what a publish is about to write, so that replaying its inputs after a crash
finds its work done instead of publishing it twice (DESIGN §5 promise 4).

A publish writes the marker atomically before its first change file, and once its manifest is
written puts it back to what remains pending (usually: removes it). Shape (version 2)::

    {
      "version": 2,
      "entities": ["product"],          # state files that may not match the manifest: their JSONL
                                        # is not trusted, it is rendered again from the Parquet
      "publish": {                      # the publish that wrote the marker
        "updated_at": "2026-...Z",      # the manifest's updated_at that publish writes
        "rewrites": ["product"],        # entities whose state files it replaces
        "inputs": [                     # its inputs, in order, each with what it did per entity
          {"sha256": "<hex>", "entities": {"product": {"seq": 7, "upserts": 2, "deletes": 1,
                                                       "unchanged": 40, "records": 42, "rewrote": true}}}
        ]
      }
    }

The first shape (``{"entities": [...]}``, version 1) is read as pending entities without a
``publish``; a marker that cannot be read makes every entity untrusted. A v1 reader of a v2 marker
still finds ``entities`` with the same meaning.

How a later publish (under the same lock) reads ``publish`` (``Replay``):

* *committed*: its ``updated_at`` is the manifest's, so its manifest was written (the crash, if any,
  came after it). Its ``rewrites`` are no longer pending, and an input it applied to an entity is
  ``replayed`` there: nothing is written. After a publish completes, the marker keeps this record
  only when some input it applied is not named in the entity's ``sources`` any more (a batch in
  which a later full snapshot replaced the list); otherwise ``sources`` alone tell (``lists_source``).
* *interrupted*: the crash came before its manifest. A publish whose inputs repeat its inputs from
  the first one on (same sha256, same order: the *matched* prefix) reuses the recorded ``seq`` of
  each matched input: the change file is written again under the same number, with the same
  content (the state before it is the same, so is the diff), never as a new one. When an entity's
  Parquet was already replaced (``state_replaced``: it is no longer the manifest's), its recorded
  results stand as they are (``done``), provided every recorded input is matched; with only some
  matched, the state on disk includes inputs not repeated, so nothing recorded is reused for that
  entity and new numbers are taken, as for any other input (``changes.next_seq``).

Anything else (no record, another input first) keeps the rule of ``next_seq``: a change file
left by a crash may have been read, so its number is never reused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exchanged.atomic import write_atomic
from exchanged.errors import output_context

__all__ = ["MARKER", "Applied", "InputRecord", "PublishRecord", "Marker", "Replay", "Resume", "read_marker",
           "write_marker", "state_replaced"]

MARKER = ".publishing"
VERSION = 2


@dataclass(frozen=True)
class Applied:
    """What one input did to one entity: its change file (None: none) and counts."""

    seq: int | None
    upserts: int
    deletes: int
    unchanged: int
    records: int
    rewrote: bool

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "upserts": self.upserts, "deletes": self.deletes, "unchanged": self.unchanged,
                "records": self.records, "rewrote": self.rewrote}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Applied:
        seq = data["seq"]
        return cls(seq=None if seq is None else int(seq), upserts=int(data["upserts"]), deletes=int(data["deletes"]),
                   unchanged=int(data["unchanged"]), records=int(data["records"]), rewrote=bool(data["rewrote"]))


@dataclass(frozen=True)
class InputRecord:
    """One input of a publish: its sha256 and what it did per entity it applied to."""

    sha256: str
    entities: dict[str, Applied] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "entities": {name: a.to_json() for name, a in sorted(self.entities.items())}}


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

    @property
    def empty(self) -> bool:
        return self.pending is not None and not self.pending and self.record is None


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
            inputs=tuple(InputRecord(str(i["sha256"]), {str(name): Applied.from_json(a)
                                                         for name, a in i["entities"].items()})
                         for i in publish["inputs"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        record = None  # an unreadable record is no record: new numbers, as without one
    return Marker(pending, record)


def write_marker(shop_dir: Path, marker: Marker) -> None:
    """Write ``marker`` atomically, or remove the file when it holds nothing."""
    path = Path(shop_dir) / MARKER
    if marker.empty:
        _remove(path)
        return
    data: dict[str, Any] = {"version": VERSION, "entities": sorted(marker.pending or ())}
    if marker.record is not None:
        data["publish"] = marker.record.to_json()
    write_atomic(path, json.dumps(data, separators=(",", ":")).encode() + b"\n")


def _remove(path: Path) -> None:
    with output_context(path):
        path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Resume:
    """For one entity: whether recorded seqs may be reused, and whether its recorded results stand
    as they are (its state files already hold them)."""

    reuse: bool
    done: bool


class Replay:
    """How the inputs of a publish (their sha256, in order) relate to the publish in the marker."""

    def __init__(self, marker: Marker, manifest: dict[str, Any], shas: list[str]) -> None:
        self.marker = marker
        record = marker.record
        self.committed = record is not None and record.updated_at == manifest.get("updated_at")
        self.pending = marker.pending
        if self.committed and self.pending is not None:
            assert record is not None
            self.pending = self.pending - record.rewrites
        self._matched: list[InputRecord | None] = [None] * len(shas)
        self.full = False
        if record is None:
            return
        if self.committed:  # any order: each of its inputs was applied
            left = list(record.inputs)
            for i, sha in enumerate(shas):
                j = next((j for j, r in enumerate(left) if r.sha256 == sha), None)
                if j is not None:
                    self._matched[i] = left.pop(j)
            return
        matched = 0
        while matched < min(len(shas), len(record.inputs)) and shas[matched] == record.inputs[matched].sha256:
            self._matched[matched] = record.inputs[matched]
            matched += 1
        self.full = matched == len(record.inputs) and matched > 0

    def untrusted(self, entity: str) -> bool:
        """The entity's JSONL may not be row-aligned with its Parquet."""
        return self.pending is None or entity in self.pending

    def applied_before(self, index: int, entity: str) -> bool:
        """Input ``index`` was applied to ``entity`` by a publish whose manifest was written."""
        found = self._matched[index]
        return self.committed and found is not None and entity in found.entities

    def recorded(self, index: int, entity: str) -> Applied | None:
        """What input ``index`` did to ``entity`` in the interrupted publish it repeats, if it does."""
        found = self._matched[index]
        return None if self.committed or found is None else found.entities.get(entity)

    def resume(self, shop_dir: Path, entity: str, entry: dict[str, Any] | None) -> Resume:
        record = self.marker.record
        if self.committed or record is None or entity not in record.rewrites:
            return Resume(reuse=True, done=False)  # nothing recorded could be reused wrongly
        replaced = state_replaced(shop_dir, entity, entry)
        return Resume(reuse=self.full or not replaced, done=self.full and replaced)


def state_replaced(shop_dir: Path, entity: str, entry: dict[str, Any] | None) -> bool:
    """True when ``<entity>.parquet`` is not the file the manifest entry names (by size, then sha256).

    The Parquet is the last state file a publish replaces, so it tells whether that publish's state
    is on disk; its JSONL, written first, is untrusted until the manifest (see ``Marker.pending``).
    """
    path = Path(shop_dir) / f"{entity}.parquet"
    with output_context(path):
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return False
        if not entry:
            return True
        bytes_, sha = entry.get("bytes", {}), entry.get("sha256", {})
        if size != bytes_.get("parquet"):
            return True
        return hashlib.sha256(path.read_bytes()).hexdigest() != sha.get("parquet")
