"""The daemon's logic with a scripted watcher: claims, order, faults, shutdown (real files, real pipeline)."""

from __future__ import annotations

import errno
import json
import threading
from pathlib import Path

import pytest
from daemon_helpers import STOCK, drop, run_in_thread, run_once, settings_for, wait_for

from exchanged import lifecycle
from exchanged.audit import Ledger
from exchanged.errors import OutputUnavailable
from exchanged.exchange import daemon as daemon_module
from exchanged.exchange import intake as intake_module
from exchanged.report import Status

pytestmark = pytest.mark.timeout(60)


def _ledger_rows(settings) -> list:
    with Ledger(settings.ledger_path) as ledger:
        return ledger.query()


def _stock_state(settings) -> dict[str, str]:
    lines = (settings.shop_dir / "stock.jsonl").read_text().splitlines()
    return {row["sku"]: row["quantity"] for row in map(json.loads, lines)}


def _change_ops(settings) -> list[list[tuple[str, str, str]]]:
    folder = settings.shop_dir / "changes" / "stock"
    return [[(row["op"], row["sku"], row.get("quantity")) for row in map(json.loads, path.read_text().splitlines())]
            for path in sorted(folder.glob("*.jsonl"))]


def test_run_once_processes_what_waits_and_leaves_inbox_and_claims_empty(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    drop(settings, "a.csv", STOCK + "A,main,5,\n", age=60)
    drop(settings, "sub/b.csv", STOCK + "B,main,7,\n", age=60)
    daemon = run_once(settings)
    assert sorted(r.file for r in daemon.reports) == ["inbox/a.csv", "inbox/sub/b.csv"]
    assert all(r.status is Status.ACCEPTED for r in daemon.reports)
    assert [p for p in settings.folder("inbox").rglob("*") if p.is_file()] == []
    assert list(settings.claimed_dir.iterdir()) == []
    assert _stock_state(settings) == {"A": "5", "B": "7"}
    assert len(_ledger_rows(settings)) == 2


def test_inputs_for_one_entity_apply_in_arrival_order(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, workers=4)
    for n in range(12):  # each sets A to n: the last one to arrive must win
        drop(settings, f"s{n:02d}.csv", STOCK + f"A,main,{n},\n", age=100 - n)
    run_once(settings)
    assert _stock_state(settings) == {"A": "11"}
    quantities = [change[0][2] for change in _change_ops(settings)]
    assert quantities == [str(n) for n in range(12)]


def test_a_burst_for_one_entity_is_committed_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for(tmp_path)
    for n in range(10):
        drop(settings, f"s{n:02d}.csv", STOCK + f"K{n},main,{n},\n", age=100 - n)
    first_commit = threading.Event()
    batches: list[int] = []
    real_commit = lifecycle.commit

    def slow_first_commit(batch, workspace, progress=lifecycle.no_progress):
        batches.append(len(batch))
        if len(batches) == 1:  # hold the first commit until every other file is evaluated
            first_commit.wait(10)
        return real_commit(batch, workspace, progress)

    monkeypatch.setattr(daemon_module, "commit", slow_first_commit)
    daemon, thread = run_in_thread(settings)
    wait_for(lambda: len(daemon._jobs) == 10 and all(j.future is not None and j.future.done() for j in daemon._jobs[1:]))
    first_commit.set()
    wait_for(lambda: len(daemon.reports) == 10)
    daemon.stop()
    thread.join(10)
    # Those that waited went together (all ten in the first batch when one trip evaluated them all).
    assert sum(batches) == 10 and len(batches) <= 2
    assert [len(c) for c in _change_ops(settings)] == [1] * 10      # still one change file per input
    assert len(_ledger_rows(settings)) == 10                       # and one audit row per input


def test_a_bad_file_is_quarantined_and_the_others_go_on(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    drop(settings, "good.csv", STOCK + "A,main,5,\n", age=60)
    drop(settings, "bad.csv", "no,header,we,know\n1,2,3,4\n", age=50)
    reports = {r.file: r for r in run_once(settings).reports}
    assert reports["inbox/bad.csv"].status is Status.REJECTED
    assert reports["inbox/bad.csv"].issues[0].code == "no-mapping"
    assert (tmp_path / reports["inbox/bad.csv"].archive).read_text().startswith("no,header")
    assert reports["inbox/good.csv"].status is Status.ACCEPTED


def test_an_unexpected_error_in_one_file_is_quarantined_as_internal_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for(tmp_path)
    drop(settings, "boom.csv", STOCK + "A,main,5,\n", age=60)
    drop(settings, "fine.csv", STOCK + "B,main,6,\n", age=50)
    real_prepare = intake_module.prepare

    def exploding(source, workspace, *args, **kwargs):
        if source.file_name == "boom.csv":
            raise RuntimeError("a bug")
        return real_prepare(source, workspace, *args, **kwargs)

    monkeypatch.setattr(intake_module, "prepare", exploding)
    reports = {r.file: r for r in run_once(settings).reports}
    assert reports["inbox/boom.csv"].status is Status.REJECTED
    assert reports["inbox/boom.csv"].issues[0].code == "internal-error"
    assert "a bug" in reports["inbox/boom.csv"].issues[0].message
    assert reports["inbox/fine.csv"].status is Status.ACCEPTED


@pytest.mark.parametrize(("fault", "message"), [
    (errno.ENOSPC, "No space left on device"),      # a full filesystem
    (errno.EROFS, "Read-only file system"),         # a read-only outbox
    (errno.EACCES, "Permission denied"),            # an outbox the daemon may not write
])
def test_an_output_fault_keeps_the_file_claimed_retries_and_never_quarantines(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: int, message: str) -> None:
    """The fault at the write boundary (each write of a staged shop output) for a while, then gone.

    Injected, because this runs as root in CI, where a read-only mode bit stops nothing, and a
    mount of a tiny filesystem is not allowed."""
    from exchanged.atomic import StagedFile
    from exchanged.errors import output_context

    settings = settings_for(tmp_path)
    drop(settings, "a.csv", STOCK + "A,main,5,\n", age=60)
    full = threading.Event()
    full.set()

    def failing(real):
        def write(self: StagedFile, data) -> None:
            if full.is_set() and settings.shop_dir in self.path.parents:
                with output_context(self.path):
                    raise OSError(fault, message)
            real(self, data)
        return write

    monkeypatch.setattr(StagedFile, "write", failing(StagedFile.write))
    monkeypatch.setattr(StagedFile, "write_all", failing(StagedFile.write_all))
    daemon, thread = run_in_thread(settings)
    wait_for(lambda: daemon.status.snapshot()["retrying"])
    retrying = daemon.status.snapshot()["retrying"][0]
    assert retrying["file"] == "inbox/a.csv" and message in retrying["error"]
    assert len(list(settings.claimed_dir.glob("*.claim.json"))) == 1   # still claimed, not lost
    assert not (settings.folder("archive") / "quarantine").exists()    # and never quarantined
    full.clear()
    wait_for(lambda: len(daemon.reports) == 1)
    daemon.stop()
    thread.join(10)
    assert daemon.reports[0].status is Status.ACCEPTED
    assert _stock_state(settings) == {"A": "5"}
    assert list(settings.claimed_dir.iterdir()) == []


def test_run_once_gives_up_on_a_lasting_fault_and_leaves_the_file_claimed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for(tmp_path)
    drop(settings, "a.csv", STOCK + "A,main,5,\n", age=60)

    def refuse(*args, **kwargs):
        raise OutputUnavailable("outbox/shop: permission denied")

    monkeypatch.setattr(daemon_module, "commit", refuse)
    daemon = run_once(settings)
    assert daemon.reports == [] and len(daemon.left_claimed) == 1
    assert len(list(settings.claimed_dir.glob("*.claim.json"))) == 1
    monkeypatch.undo()
    again = run_once(settings)  # the next run adopts the claim and finishes it, same report id
    assert [r.id for r in again.reports] == [daemon.left_claimed[0].report_id]
    assert again.reports[0].status is Status.ACCEPTED


def test_a_symlink_is_reported_and_its_target_untouched(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    secret = tmp_path / "secret.csv"
    secret.write_text(STOCK + "A,main,5,\n")
    settings.folder("inbox").mkdir(parents=True)
    (settings.folder("inbox") / "link.csv").symlink_to(secret)
    reports = run_once(settings).reports
    assert [(r.status, r.issues[0].code) for r in reports] == [(Status.REJECTED, "symlink")]
    assert secret.read_text() == STOCK + "A,main,5,\n"
    assert not (settings.shop_dir / "stock.jsonl").exists()
    assert not (settings.folder("inbox") / "link.csv").exists()


def test_an_empty_file_waits_then_is_rejected(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, empty_file_wait=0.3)
    settings.folder("inbox").mkdir(parents=True)
    (settings.folder("inbox") / "empty.csv").touch()
    daemon, thread = run_in_thread(settings)
    wait_for(lambda: len(daemon.reports) == 1)
    daemon.stop()
    thread.join(10)
    assert daemon.reports[0].status is Status.REJECTED and daemon.reports[0].issues[0].code == "empty-file"


def test_claims_of_a_dead_daemon_are_adopted_and_finished_once(tmp_path: Path) -> None:
    """A claim whose owner is gone (its lock free) is processed by the next daemon; a claim whose
    report is already in the ledger (crash after the row) is only released, not processed again."""
    settings = settings_for(tmp_path)
    drop(settings, "a.csv", STOCK + "A,main,5,\n", age=60)
    first = run_once(settings)
    assert len(first.reports) == 1
    from exchanged.exchange.claim import Claims

    drop(settings, "b.csv", STOCK + "B,main,6,\n", age=60)
    ghost = Claims(settings.claimed_dir, settings.folder("inbox"), settings.base_dir)
    claim = ghost.claim(settings.folder("inbox") / "b.csv")
    ghost.close()  # the owner died with its claim in hand
    assert claim is not None and claim.path.exists()
    second = run_once(settings)
    assert [(r.id, r.file, r.status) for r in second.reports] == [(claim.report_id, "inbox/b.csv", Status.ACCEPTED)]
    assert len(_ledger_rows(settings)) == 2 and list(settings.claimed_dir.iterdir()) == []


def test_markers_are_waited_for_when_required(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, require_marker=True)
    drop(settings, "a.csv", STOCK + "A,main,5,\n", age=60)
    assert run_once(settings).reports == []                 # no marker yet: not read
    drop(settings, "a.csv.done", "", age=60)
    assert [r.file for r in run_once(settings).reports] == ["inbox/a.csv"]
    assert not (settings.folder("inbox") / "a.csv.done").exists()

