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


def test_the_file_is_readable_by_others_as_the_umask_allows(tmp_path: Path) -> None:
    write_atomic(tmp_path / "f", b"x")
    mode = stat.S_IMODE((tmp_path / "f").stat().st_mode)
    assert mode == 0o666 & ~atomic._UMASK
