"""The interchange control reference counter (UNB 0020): monotonic, durable, never handed out twice."""

from __future__ import annotations

import multiprocessing
import os
import threading
from pathlib import Path

import pytest

from exchanged.errors import OutputUnavailable, TransientError
from exchanged.formats.edifact import control_ref
from exchanged.formats.edifact.control_ref import (
    MAX_CONTROL_REF,
    ControlRefUnavailable,
    counter_path,
    last_control_ref,
    next_control_ref,
)

SENDER, RECIPIENT = "4012345000009", "4098765000008"


def take(folder: str, count: int) -> list[int]:
    """Worker for the multiprocessing test (module level: spawned processes import it)."""
    return [int(next_control_ref(Path(folder), SENDER, RECIPIENT)) for _ in range(count)]


def test_numbers_increase_from_one(tmp_path: Path) -> None:
    assert [next_control_ref(tmp_path, SENDER, RECIPIENT) for _ in range(3)] == ["1", "2", "3"]
    assert last_control_ref(tmp_path, SENDER, RECIPIENT) == 3
    assert counter_path(tmp_path, SENDER, RECIPIENT).read_text() == "3\n"


def test_each_pair_counts_on_its_own(tmp_path: Path) -> None:
    assert next_control_ref(tmp_path, SENDER, RECIPIENT) == "1"
    assert next_control_ref(tmp_path, SENDER, "other") == "1"
    assert next_control_ref(tmp_path, RECIPIENT, SENDER) == "1"
    assert next_control_ref(tmp_path, SENDER, RECIPIENT) == "2"


def test_the_counter_survives_a_restart(tmp_path: Path) -> None:
    next_control_ref(tmp_path, SENDER, RECIPIENT)
    # A new process sees only the folder: nothing is cached in memory.
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        assert pool.apply(take, (str(tmp_path), 1)) == [2]
    assert next_control_ref(tmp_path, SENDER, RECIPIENT) == "3"


def test_start_is_the_least_number_and_never_goes_back(tmp_path: Path) -> None:
    assert next_control_ref(tmp_path, SENDER, RECIPIENT, start=5000) == "5000"
    assert next_control_ref(tmp_path, SENDER, RECIPIENT, start=5000) == "5001"
    assert next_control_ref(tmp_path, SENDER, RECIPIENT, start=1) == "5002"  # lowering changes nothing
    assert next_control_ref(tmp_path, SENDER, RECIPIENT, start=9000) == "9000"  # raising jumps ahead


@pytest.mark.parametrize("start", [0, -1, MAX_CONTROL_REF + 1])
def test_start_must_fit_an14(tmp_path: Path, start: int) -> None:
    with pytest.raises(ValueError):
        next_control_ref(tmp_path, SENDER, RECIPIENT, start=start)


def test_the_last_number_is_14_digits(tmp_path: Path) -> None:
    assert next_control_ref(tmp_path, SENDER, RECIPIENT, start=MAX_CONTROL_REF) == "99999999999999"
    with pytest.raises(ControlRefUnavailable, match="used up"):
        next_control_ref(tmp_path, SENDER, RECIPIENT)


def test_two_processes_never_get_the_same_number(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        batches = pool.starmap(take, [(str(tmp_path), 25)] * 4)
    numbers = [n for batch in batches for n in batch]
    assert sorted(numbers) == list(range(1, 101))
    assert all(batch == sorted(batch) for batch in batches)  # increasing within each process


def test_threads_never_get_the_same_number(tmp_path: Path) -> None:
    numbers: list[int] = []
    guard = threading.Lock()

    def work() -> None:
        got = take(str(tmp_path), 20)
        with guard:
            numbers.extend(got)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(numbers) == list(range(1, 81))


def test_a_number_is_durable_before_it_is_returned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    next_control_ref(tmp_path, SENDER, RECIPIENT)

    def failing_write(path: Path, data: bytes) -> None:
        raise OutputUnavailable(f"cannot write {path}: disk full")

    monkeypatch.setattr(control_ref, "write_atomic", failing_write)
    with pytest.raises(OutputUnavailable):
        next_control_ref(tmp_path, SENDER, RECIPIENT)
    monkeypatch.undo()
    # The failed call handed nothing out and stored nothing: the next number is 2, not 3 (no gap
    # needed) and certainly not 1 again.
    assert next_control_ref(tmp_path, SENDER, RECIPIENT) == "2"


def test_a_process_killed_after_taking_a_number_never_gets_it_reused(tmp_path: Path) -> None:
    process = multiprocessing.get_context("spawn").Process(target=_take_and_die, args=(str(tmp_path),))
    process.start()
    process.join(timeout=60)
    assert process.exitcode == 9
    assert last_control_ref(tmp_path, SENDER, RECIPIENT) == 1
    assert next_control_ref(tmp_path, SENDER, RECIPIENT) == "2"


def _take_and_die(folder: str) -> None:
    next_control_ref(Path(folder), SENDER, RECIPIENT)
    os._exit(9)  # no cleanup, as after kill -9: the number was never used


@pytest.mark.parametrize("content", [b"", b"abc\n", b"12 \n", b"-3\n", b"123456789012345\n"])
def test_an_unreadable_counter_is_never_reset(tmp_path: Path, content: bytes) -> None:
    path = counter_path(tmp_path, SENDER, RECIPIENT)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    with pytest.raises(ControlRefUnavailable, match="never reset") as caught:
        next_control_ref(tmp_path, SENDER, RECIPIENT)
    assert isinstance(caught.value, TransientError)
    assert path.read_bytes() == content


def test_ids_cannot_escape_the_folder(tmp_path: Path) -> None:
    paths = {counter_path(tmp_path, s, r) for s, r in [("../x", "y"), ("a+b", "c"), ("a", "b+c"), ("..", ".."), ("a/b", "c")]}
    assert len(paths) == 5
    assert all(p.parent == tmp_path / "edifact-control-ref" for p in paths)
    for sender, recipient in [("../x", "y"), ("..", "..")]:
        assert next_control_ref(tmp_path, sender, recipient) == "1"
    assert sorted(p.name for p in (tmp_path / "edifact-control-ref").glob("*.ref")) == ["..%2Fx+y.ref", "..+...ref"]


@pytest.mark.parametrize(("sender", "recipient"), [("", "x"), ("x", ""), (" ", "x")])
def test_ids_are_required(tmp_path: Path, sender: str, recipient: str) -> None:
    with pytest.raises(ValueError):
        next_control_ref(tmp_path, sender, recipient)


def test_a_read_only_folder_is_a_transient_fault(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores folder permissions")
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(TransientError):
            next_control_ref(tmp_path, SENDER, RECIPIENT)
    finally:
        tmp_path.chmod(0o700)
