"""Streaming an entity's JSONL (and a first load's change file) to disk while it renders.

Rendering, writing and hashing overlap on two cores: the lines are rendered part by part on the
caller's thread while threads append them to staged files and hash them (hashlib and file writes
release the GIL). Nothing is renamed into place here; ``publisher`` does that last, in order.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
import pyarrow as pa
from exchanged.atomic import StagedFile
from exchanged.errors import output_context
from exchanged.formats.jsonl import jsonl_parts, lines_buffer
from exchanged.publish.changes import change_file_name, upsert_lines

_SYNC_EVERY = 64 << 20  # bytes written to a staged file between two background fsyncs
# Lines rendered at a time while streaming (≈7 MB of products). Each part's rendering holds several
# times its text in polars' intermediate columns: 65,536 lines raised the peak RSS of publishing a
# 100,000-item PRICAT by ≈15 MB against this, for 5 % less CPU in rendering.
_PART_ROWS = 1 << 15


_Part = pa.LargeStringArray | list[pa.Buffer]  # lines, or slices of the JSONL's text


class EntityStream:
    """An entity's JSONL (and on a first load its change file), written and hashed while it renders.

    The main thread renders the lines part by part (``jsonl_parts``); one thread appends each part
    to the staged JSONL (and the same lines with ``{"op":"upsert",`` first to the staged change
    file), another feeds it to sha256. polars, ``os.write``, pyarrow and hashlib all release the
    GIL, so the three overlap. Nothing is visible before ``write_atomic`` renames the staged files.
    """

    def __init__(self, jsonl: Path, change: Path | None) -> None:
        self.jsonl = StagedFile(jsonl)
        try:
            self.change = StagedFile(change) if change is not None else None
        except BaseException:
            self.jsonl.discard()
            raise
        self._sha = hashlib.sha256()
        self._errors: list[BaseException] = []
        self._queues: list[queue.SimpleQueue[_Part | None]] = [queue.SimpleQueue(), queue.SimpleQueue()]
        self._open = True
        self._syncer = ThreadPoolExecutor(max_workers=2, thread_name_prefix="publish-sync")
        self._syncs: dict[Path, Future[None]] = {}
        self._synced: dict[Path, int] = {}
        self._threads = [threading.Thread(target=self._run, args=(work, q), name=f"publish-{work.__name__}",
                                          daemon=True)
                         for work, q in zip((self._write, self._hash), self._queues)]
        for thread in self._threads:
            thread.start()

    def render(self, records: pa.Table, *, keep: bool) -> pa.ChunkedArray | None:
        """Render the lines of ``records`` (``jsonl_parts``), handing them to the threads as they
        come; returns them (the ``jsonl_lines``, in parts) with ``keep``, else lets each part go
        once written and hashed (its memory is reused for the next)."""
        return self.feed(jsonl_parts(records, _PART_ROWS), keep=keep)

    def feed(self, lines: Iterable[_Part], *, keep: bool) -> pa.ChunkedArray | None:
        """Hand ``lines`` (the JSONL's, in order, in parts: line arrays, or lists of buffers of its
        raw text when no change file is streamed) to the threads; see ``render``."""
        parts = []
        try:
            for part in lines:
                if self._errors:
                    break
                for q in self._queues:
                    q.put(part)
                if keep:
                    parts.append(part)
        finally:
            self._close()
        if self._errors:
            self.wait()  # raises the thread's error
        return pa.chunked_array(parts, pa.large_string()) if keep else None

    def wait(self) -> str:
        """The JSONL's sha256 once both files are written and synced; raises what a thread raised."""
        self._close()
        for thread in self._threads:
            thread.join()
        if self._errors:
            raise self._errors[0]
        return self._sha.hexdigest()

    def discard(self) -> None:
        """Stop and remove the staged files (those not renamed into place yet)."""
        self._close()
        for thread in self._threads:
            thread.join()
        self._syncer.shutdown()
        for staged in (self.jsonl, self.change):
            if staged is not None:
                staged.discard()

    def _close(self) -> None:
        if self._open:
            self._open = False
            for q in self._queues:
                q.put(None)

    def _run(self, work: Callable[[_Part], None], parts: queue.SimpleQueue[_Part | None]) -> None:
        try:
            while (part := parts.get()) is not None:
                if not self._errors:
                    work(part)
            if work == self._write and not self._errors:
                self._sync(final=True)
        except BaseException as exc:  # reported by wait()
            self._errors.append(exc)
            while parts.get() is not None:
                pass

    def _write(self, part: _Part) -> None:
        if isinstance(part, list):  # raw text of the JSONL (no change file is streamed then)
            self.jsonl.write_all(part)
        else:
            self.jsonl.write(lines_buffer(part))
            if self.change is not None:
                self.change.write(lines_buffer(upsert_lines(part)))
        self._sync()

    def _sync(self, *, final: bool = False) -> None:
        """fsync the staged files as they grow, beside the writing (one sync per file at a time),
        and all of them at the end: the data is on disk before the commit, whose own fsync then
        finds nothing left to write (≈0.25 s per first load here otherwise spent waiting then)."""
        for staged in (self.jsonl, self.change):
            if staged is None:
                continue
            running = self._syncs.get(staged.path)
            if running is not None:
                if not final and not running.done():
                    continue
                running.result()  # waits at the end; raises what a sync raised
            if final or staged.size - self._synced.get(staged.path, 0) >= _SYNC_EVERY:
                self._synced[staged.path] = staged.size
                self._syncs[staged.path] = self._syncer.submit(staged.sync)
        if final:
            for running in self._syncs.values():
                running.result()
            self._syncer.shutdown()

    def _hash(self, part: _Part) -> None:
        for data in part if isinstance(part, list) else [lines_buffer(part)]:
            self._sha.update(memoryview(data))


def open_stream(shop_dir: Path, entity: str, *, first_load: bool, seq: int) -> EntityStream:
    """The stream of a full snapshot's JSONL, with the change file ``seq`` on a first load."""
    change = None
    if first_load:
        folder = shop_dir / "changes" / entity
        with output_context(folder):
            folder.mkdir(parents=True, exist_ok=True)
        change = folder / change_file_name(seq)
    return EntityStream(shop_dir / f"{entity}.jsonl", change)


def hold_file(path: Path) -> list[int]:
    """A descriptor open on the file ``path`` names now (none when there is none, or off POSIX).

    Held across the rename that replaces the file, it keeps the old file's blocks allocated until
    ``release_files`` closes it beside the rest of the work: freeing a large file is not free (≈0.3 s
    for a 228 MB JSONL on this machine's ext4, which discards freed blocks), and the rename would
    otherwise wait for it.
    """
    if os.name != "posix":  # pragma: no cover - a file open elsewhere cannot be replaced there
        return []
    try:
        return [os.open(path, os.O_RDONLY)]
    except OSError:
        return []


def release_files(descriptors: list[int]) -> None:
    """Close ``descriptors`` (from ``hold_file``) on a thread of their own: whoever closes the last one
    frees the replaced file."""
    if descriptors:
        threading.Thread(target=_close_all, args=(descriptors,), name="publish-release", daemon=True).start()


def _close_all(descriptors: list[int]) -> None:
    for fd in descriptors:
        with contextlib.suppress(OSError):
            os.close(fd)
