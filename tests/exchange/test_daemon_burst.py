"""A burst: several claims per worker task, one trip to a worker process for their small files;
each input still reported, committed and recorded on its own, in arrival order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from daemon_helpers import STOCK, drop, run_once, settings_for

from exchanged.audit import Ledger
from exchanged.exchange.evaluators import Evaluators
from exchanged.report import Status

pytestmark = pytest.mark.timeout(120)


def _trips(monkeypatch: pytest.MonkeyPatch, fail: str | None = None) -> list[list[str]]:
    """Record the files of each trip to a worker process (and make ``fail`` raise there)."""
    trips: list[list[str]] = []
    real = Evaluators.evaluate_all

    def recording(self, sources):
        trips.append([s.file_name for s in sources])
        results = real(self, sources)
        return [RuntimeError("a bug") if s.file_name == fail else r for s, r in zip(sources, results)]

    monkeypatch.setattr(Evaluators, "evaluate_all", recording)
    return trips


def test_a_burst_goes_several_files_a_trip_and_each_is_committed_on_its_own_in_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for(tmp_path)
    trips = _trips(monkeypatch)
    names = [f"s{n:02d}.csv" for n in range(24)]
    for n, name in enumerate(names):  # each sets A to n: the last one to arrive must win
        drop(settings, name, STOCK + f"A,main,{n},\n", age=100 - n)
    daemon = run_once(settings)
    assert any(len(trip) > 1 for trip in trips)
    assert sorted(name for trip in trips for name in trip) == names  # each evaluated once
    assert [r.file for r in daemon.reports] == [f"inbox/{name}" for name in names]
    assert all(r.status is Status.ACCEPTED for r in daemon.reports)
    folder = settings.shop_dir / "changes" / "stock"
    changes = [[json.loads(line)["quantity"] for line in path.read_text().splitlines()]
               for path in sorted(folder.glob("*.jsonl"))]
    assert changes == [[str(n)] for n in range(24)]  # one change file per input, in arrival order
    with Ledger(settings.ledger_path) as ledger:
        assert [r.file for r in ledger.query()] == [f"inbox/{name}" for name in names]
    assert list(settings.claimed_dir.iterdir()) == []


def test_a_bug_in_one_file_of_a_trip_is_that_files_internal_error_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for(tmp_path)
    trips = _trips(monkeypatch, fail="s03.csv")
    for n in range(12):
        drop(settings, f"s{n:02d}.csv", STOCK + f"K{n},main,{n},\n", age=100 - n)
    reports = {r.file: r for r in run_once(settings).reports}
    assert any("s03.csv" in trip and len(trip) > 1 for trip in trips)
    assert reports["inbox/s03.csv"].status is Status.REJECTED
    assert reports["inbox/s03.csv"].issues[0].code == "internal-error" and "a bug" in reports["inbox/s03.csv"].issues[0].message
    assert [f for f, r in reports.items() if r.status is not Status.ACCEPTED] == ["inbox/s03.csv"]
    assert len(list((settings.folder("archive") / "quarantine").rglob("*s03.csv"))) == 1  # kept, not lost
