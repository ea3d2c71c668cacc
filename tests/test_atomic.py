"""write_atomic: the target is the old content or the new one, never a mix, never a leftover temp file."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

import pytest

from exchanged import atomic
from exchanged.atomic import write_atomic
from exchanged.errors import OutputUnavailable, TransientError


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_writes_bytes_and_replaces_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "product.jsonl"
    write_atomic(target, b"old\n")
    write_atomic(target, b"new\n")
    assert target.read_bytes() == b"new\n"
    assert leftovers(tmp_path) == []


def test_accepts_a_writer_function_and_buffers(tmp_path: Path) -> None:
    def write(stream: BinaryIO) -> None:
        stream.write(b"a")
        stream.write(memoryview(b"bc"))

    write_atomic(tmp_path / "f", write)
    write_atomic(tmp_path / "g", memoryview(b"xyz")[1:])
    assert ((tmp_path / "f").read_bytes(), (tmp_path / "g").read_bytes()) == (b"abc", b"yz")


def test_temp_file_is_a_dot_file_in_the_same_folder_fsynced_before_the_rename(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[tuple[str, str]] = []
    real_replace, real_fsync, real_dir = os.replace, os.fsync, atomic.fsync_directory

    def replace(src: str, dst: str) -> None:
        events.append(("replace", Path(src).name))
        assert Path(src).parent == Path(dst).parent == tmp_path
        assert Path(src).name.startswith(".") and Path(dst).read_bytes() == b"old"
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append(("fsync", "")), real_fsync(fd))[1])
    monkeypatch.setattr(atomic, "fsync_directory",
                        lambda d: (events.append(("fsync-dir", Path(d).name)), real_dir(d))[1])
    (tmp_path / "state.json").write_bytes(b"old")

    write_atomic(tmp_path / "state.json", b"new")

    # the file's data, then the rename, then the folder entry (fsync_directory's own fsync)
    assert [e[0] for e in events] == ["fsync", "replace", "fsync-dir", "fsync"]
    assert events[2][1] == tmp_path.name


def test_a_failing_rename_raises_output_unavailable_and_removes_the_temp_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "manifest.json"
    target.write_bytes(b"old")

    def refuse(src: str, dst: str) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", dst)

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OutputUnavailable, match="manifest.json") as caught:
        write_atomic(target, b"new")

    assert isinstance(caught.value, TransientError)
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_disk_full_while_writing_raises_output_unavailable_and_removes_the_temp_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputUnavailable, match="No space left"):
        write_atomic(tmp_path / "product.parquet", b"x" * 100_000)
    assert list(tmp_path.iterdir()) == []


def test_an_error_in_the_writer_function_propagates_and_removes_the_temp_file(tmp_path: Path) -> None:
    def broken(stream: BinaryIO) -> None:
        stream.write(b"half")
        raise ValueError("encoder failed")

    with pytest.raises(ValueError, match="encoder failed"):
        write_atomic(tmp_path / "product.jsonl", broken)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_output_unavailable(tmp_path: Path) -> None:
    with pytest.raises(OutputUnavailable):
        write_atomic(tmp_path / "missing" / "f", b"x")


def _umask() -> int:
    current = os.umask(0o022)  # the umask can only be read by setting it
    os.umask(current)
    return current


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_the_file_is_readable_by_others_as_the_umask_allows(tmp_path: Path, umask: int) -> None:
    before = os.umask(umask)
    try:
        write_atomic(tmp_path / "f", b"x")
    finally:
        os.umask(before)
    mode = stat.S_IMODE((tmp_path / "f").stat().st_mode)
    assert mode == 0o666 & ~umask  # not mkstemp's 0600: the shop's importer may run as another user


# --- StagedFile: a temporary file filled first, put in place later by write_atomic -------------------------------

def test_a_staged_file_is_invisible_until_write_atomic_renames_it(tmp_path: Path) -> None:
    target = tmp_path / "product.jsonl"
    target.write_bytes(b"old\n")
    staged = atomic.StagedFile(target)
    staged.write(b"new ")
    staged.write(memoryview(b"content\n"))
    staged.sync()

    assert target.read_bytes() == b"old\n"
    assert [name.startswith(".product.jsonl.") for name in leftovers(tmp_path)] == [True]
    assert staged.size == len(b"new content\n")

    write_atomic(target, staged)

    assert target.read_bytes() == b"new content\n"
    assert leftovers(tmp_path) == []
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()
    staged.discard()  # harmless once renamed
    assert target.read_bytes() == b"new content\n"
    with pytest.raises(ValueError, match="already committed"):
        staged.write(b"more")


def test_a_staged_file_commits_with_the_same_fsyncs_as_write_atomic(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    staged = atomic.StagedFile(tmp_path / "state.json")
    staged.write(b"new")
    events: list[str] = []
    real_replace, real_fsync, real_dir = os.replace, os.fsync, atomic.fsync_directory
    monkeypatch.setattr(os, "replace", lambda src, dst: (events.append("replace"), real_replace(src, dst))[1])
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(atomic, "fsync_directory", lambda d: (events.append("fsync-dir"), real_dir(d))[1])

    write_atomic(tmp_path / "state.json", staged)

    assert events == ["fsync", "replace", "fsync-dir", "fsync"]


def test_discarding_a_staged_file_removes_it_and_leaves_the_target(tmp_path: Path) -> None:
    target = tmp_path / "product.parquet"
    target.write_bytes(b"old")
    staged = atomic.StagedFile(target)
    staged.write(b"half")
    staged.discard()
    staged.discard()
    assert list(tmp_path.iterdir()) == [target] and target.read_bytes() == b"old"
    with pytest.raises(ValueError):
        write_atomic(target, staged)


def test_a_staged_file_only_replaces_its_own_target(tmp_path: Path) -> None:
    staged = atomic.StagedFile(tmp_path / "a.jsonl")
    with pytest.raises(ValueError, match="a.jsonl"):
        write_atomic(tmp_path / "b.jsonl", staged)
    staged.discard()
    assert list(tmp_path.iterdir()) == []


def test_a_failing_commit_of_a_staged_file_removes_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    staged = atomic.StagedFile(tmp_path / "product.jsonl")
    staged.write(b"x" * 1000)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputUnavailable, match="No space left"):
        write_atomic(tmp_path / "product.jsonl", staged)
    assert list(tmp_path.iterdir()) == []


def test_a_staged_file_in_a_missing_folder_is_output_unavailable(tmp_path: Path) -> None:
    with pytest.raises(OutputUnavailable):
        atomic.StagedFile(tmp_path / "missing" / "f")


def test_writing_large_buffers_to_a_staged_file(tmp_path: Path) -> None:
    import pyarrow as pa

    data = pa.py_buffer(bytes(range(256)) * 40_000)
    staged = atomic.StagedFile(tmp_path / "big")
    staged.write(data)
    staged.write(data.slice(7, 1000))
    with staged.stream() as stream:
        stream.write(b"tail")
    write_atomic(tmp_path / "big", staged)
    assert (tmp_path / "big").read_bytes() == data.to_pybytes() + data.slice(7, 1000).to_pybytes() + b"tail"


def test_write_all_resumes_after_partial_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def short_writev(fd: int, views: list[memoryview]) -> int:  # at most 5 bytes per call, as a full pipe would
        return os.write(fd, b"".join(bytes(v) for v in views)[:5])

    monkeypatch.setattr(os, "writev", short_writev)
    staged = atomic.StagedFile(tmp_path / "f")
    staged.write_all([b"abcdefgh", b"", memoryview(b"ijk"), bytearray(b"lmnopqrstu")])
    write_atomic(tmp_path / "f", staged)
    assert (tmp_path / "f").read_bytes() == b"abcdefghijklmnopqrstu"


def _fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    events: list[str] = []
    real_fsync, real_dir = os.fsync, atomic.fsync_directory
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(atomic, "fsync_directory", lambda d: (events.append("fsync-dir"), real_dir(d))[1])
    return events


def test_a_file_synced_early_is_not_synced_again_at_commit_unless_written_since(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events = _fsyncs(monkeypatch)
    staged = atomic.StagedFile(tmp_path / "original.csv")
    staged.write(b"data")
    staged.sync()
    staged.commit(tmp_path / "original.csv", sync_folder=False)
    assert events == ["fsync"]
    again = atomic.StagedFile(tmp_path / "other.csv")
    again.write(b"a")
    again.sync()
    again.write(b"b")  # written after the early sync: the commit must sync it
    again.commit(tmp_path / "other.csv", sync_folder=False)
    assert events == ["fsync", "fsync", "fsync"]
    assert (tmp_path / "other.csv").read_bytes() == b"ab"


def test_write_atomic_leaves_the_folder_sync_to_the_caller_or_skips_syncs_for_a_status(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events = _fsyncs(monkeypatch)
    write_atomic(tmp_path / "a.jsonl", b"1", sync_folder=False)
    assert events == ["fsync"]
    write_atomic(tmp_path / "status.json", b"{}", durable=False)
    assert events == ["fsync"]
    assert (tmp_path / "status.json").read_bytes() == b"{}" and leftovers(tmp_path) == []
