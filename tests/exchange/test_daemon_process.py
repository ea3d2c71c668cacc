"""Real daemons as separate processes: SIGTERM, two daemons on one folder, kill -9 at random moments.

Every input is a stock delta for a key of its own, so the outcome is checkable exactly: each file
has one ledger row, each key appears once in the change feed and once in the state, nothing is
left in the inbox or among the claims.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from exchanged.audit import Ledger

STOCK = "sku,warehouse,quantity,op\n"
CONFIG = """settle_seconds = 0.3
empty_file_wait = 1
retry_initial = 0.1
retry_max = 0.5
rescan_interval = 2
workers = 2
"""


def _start(base: Path, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "exchanged", "--config", str(base / "exchanged.toml"), "run", *extra],
        cwd=base, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if not k.startswith("EXCHANGED_")},
    )


def _workspace(tmp_path: Path) -> Path:
    (tmp_path / "exchanged.toml").write_text(CONFIG)
    (tmp_path / "inbox").mkdir()
    return tmp_path


def _drop(base: Path, index: int) -> None:
    """One stock delta, written under a temporary name and renamed into the inbox."""
    temp = base / "inbox" / f".s{index:04d}.csv.part"
    temp.write_text(STOCK + f"K{index:04d},main,{index},\n")
    temp.rename(base / "inbox" / f"s{index:04d}.csv")


def _rows(base: Path) -> list:
    path = base / "archive" / "ledger.sqlite3"
    if not path.exists():
        return []
    with Ledger(path) as ledger:
        return ledger.query()


def _wait_rows(base: Path, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while len(_rows(base)) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(_rows(base))} of {count} files recorded in time")
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    finally:
        if process.stderr is not None:
            process.stderr.close()


def _assert_each_input_once(base: Path, count: int) -> None:
    rows = _rows(base)
    assert sorted(r.file for r in rows) == [f"inbox/s{i:04d}.csv" for i in range(count)]
    assert {r.status.value for r in rows} == {"accepted"}
    changes = base / "outbox" / "shop" / "changes" / "stock"
    keys = [json.loads(line)["sku"] for path in sorted(changes.glob("*.jsonl")) for line in path.read_text().splitlines()]
    assert sorted(keys) == [f"K{i:04d}" for i in range(count)]  # each change exactly once
    manifest = json.loads((base / "outbox" / "shop" / "manifest.json").read_text())
    assert manifest["entities"]["stock"]["last_seq"] == len(list(changes.glob("*.jsonl")))
    state = [json.loads(line)["sku"] for line in (base / "outbox" / "shop" / "stock.jsonl").read_text().splitlines()]
    assert state == [f"K{i:04d}" for i in range(count)]
    assert [p for p in (base / "inbox").iterdir()] == []
    assert [p.name for p in (base / "work" / "claimed").iterdir()] == []
    archived = list((base / "archive").rglob("*__s*.csv"))
    assert len(archived) == count


@pytest.mark.timeout(120)
def test_sigterm_finishes_the_work_in_hand_and_exits_0(tmp_path: Path) -> None:
    base = _workspace(tmp_path)
    daemon = _start(base)
    for i in range(20):
        _drop(base, i)
    _wait_rows(base, 20)
    assert _stop(daemon) == 0
    _assert_each_input_once(base, 20)
    status = json.loads((base / "work" / "status.json").read_text())
    assert status["state"] == "stopped" and status["counts"] == {"accepted": 20}


@pytest.mark.timeout(120)
def test_a_writer_that_pauses_mid_file_never_has_its_half_file_read(tmp_path: Path) -> None:
    """The ERP writes half its export straight into the inbox, stops for longer than a second
    (less than settle_seconds), writes the rest and closes: only the whole file is processed."""
    base = _workspace(tmp_path)
    (base / "exchanged.toml").write_text(CONFIG.replace("settle_seconds = 0.3", "settle_seconds = 2.5"))
    daemon = _start(base)
    try:
        time.sleep(1.0)  # watching
        rows = [f"K{i:04d},main,{i},\n" for i in range(400)]
        with open(base / "inbox" / "slow.csv", "w") as out:
            out.write(STOCK + "".join(rows[:200]))
            out.flush()
            os.fsync(out.fileno())
            time.sleep(1.8)  # the pause: no close event, size and mtime unchanged meanwhile
            out.write("".join(rows[200:]))
        _wait_rows(base, 1)
    finally:
        assert _stop(daemon) == 0
    [report] = _rows(base)
    assert report.status.value == "accepted" and report.records == 400
    assert report.size == len(STOCK) + sum(len(r) for r in rows)


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found |= {int(child) for child in (task / "children").read_text().split()}
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.timeout(120)
def test_the_worker_processes_of_a_burst_end_with_a_killed_daemon(tmp_path: Path) -> None:
    base = _workspace(tmp_path)
    daemon = _start(base)
    for i in range(300):
        _drop(base, i)
    deadline = time.monotonic() + 60
    while len(_children(daemon.pid)) < 2:  # the burst started the worker processes
        assert time.monotonic() < deadline, "no worker processes started"
        time.sleep(0.05)
    workers = _children(daemon.pid)
    daemon.kill()
    daemon.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers):
        assert time.monotonic() < deadline, "worker processes outlived the daemon"
        time.sleep(0.1)
    if daemon.stderr is not None:
        daemon.stderr.close()


@pytest.mark.timeout(180)
def test_two_daemons_on_one_inbox_never_process_a_file_twice(tmp_path: Path) -> None:
    base = _workspace(tmp_path)
    daemons = [_start(base), _start(base)]
    for i in range(150):
        _drop(base, i)
    _wait_rows(base, 150, timeout=120)
    assert [_stop(d) for d in daemons] == [0, 0]
    _assert_each_input_once(base, 150)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_kill_9_at_random_moments_loses_nothing_and_repeats_nothing(tmp_path: Path) -> None:
    """Hundreds of files, the daemon killed with SIGKILL again and again at random instants while
    it claims, evaluates, publishes, archives and records; then a last run finishes the rest."""
    base = _workspace(tmp_path)
    rng = random.Random(20261127)
    total, dropped = 300, 0
    for _ in range(25):
        for _ in range(rng.randrange(0, 25)):
            if dropped < total:
                _drop(base, dropped)
                dropped += 1
        daemon = _start(base)
        time.sleep(rng.uniform(0.2, 1.2))
        daemon.kill()
        daemon.wait(timeout=30)
        if daemon.stderr is not None:
            daemon.stderr.close()
    while dropped < total:
        _drop(base, dropped)
        dropped += 1
    finisher = subprocess.run(
        [sys.executable, "-m", "exchanged", "--config", str(base / "exchanged.toml"), "run", "--once"],
        cwd=base, capture_output=True, text=True, timeout=300,
        env={k: v for k, v in os.environ.items() if not k.startswith("EXCHANGED_")},
    )
    assert finisher.returncode == 0, finisher.stderr
    _assert_each_input_once(base, total)


# Every step that changes something on disk, in the order a file meets them.
_STEPS = [
    "os:rename",                                        # the claim (out of the inbox)
    "exchanged.archive:StagedOriginal.commit_to",       # the original into the archive
    "exchanged.atomic:StagedFile.commit",               # tickets, change files, state, manifest, marker
    "exchanged.audit:Ledger.record_all",                # the audit rows of a batch
    "exchanged.exchange.claim:Claim.release",           # the claim dropped
]


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("when", ["before", "after"])
def test_kill_9_at_every_step_loses_nothing_and_repeats_nothing(tmp_path: Path, when: str) -> None:
    """The daemon kills itself at the N-th call of each step in turn (before or after it), N at
    random, over and over while files keep arriving; a last run finishes what is left."""
    base = _workspace(tmp_path)
    rng = random.Random(f"crash-{when}")
    script = Path(__file__).with_name("crashpoint.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGED_")}
    total, dropped = 120, 0
    for round_ in range(3):
        for step in _STEPS:
            for _ in range(rng.randrange(3, 10)):
                if dropped < total:
                    _drop(base, dropped)
                    dropped += 1
            crash = {"CRASH_AT": step, "CRASH_AFTER": str(rng.randrange(1, 12)), "CRASH_WHEN": when}
            daemon = subprocess.Popen([sys.executable, str(script), "--config", str(base / "exchanged.toml"), "run"],
                                      cwd=base, env={**env, **crash}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                daemon.wait(timeout=8)  # killed itself at the step (or still running: killed here)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait(timeout=30)
    while dropped < total:
        _drop(base, dropped)
        dropped += 1
    finisher = subprocess.run(
        [sys.executable, "-m", "exchanged", "--config", str(base / "exchanged.toml"), "run", "--once"],
        cwd=base, capture_output=True, text=True, timeout=300, env=env,
    )
    assert finisher.returncode == 0, finisher.stderr
    _assert_each_input_once(base, total)
