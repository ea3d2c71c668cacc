"""The status board: written when something changed (at most every _EVERY seconds), never idle."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from exchanged.exchange import status as status_module
from exchanged.exchange.status import StatusBoard


def test_an_idle_daemon_does_not_rewrite_its_status_and_a_change_is_written_on_a_later_turn(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(status_module, "_EVERY", 0.05)
    writes: list[dict] = []
    real = status_module.write_atomic
    monkeypatch.setattr(status_module, "write_atomic",
                        lambda path, data, **kw: (writes.append(json.loads(data)), real(path, data, **kw))[1])
    board = StatusBoard(tmp_path / "status.json", "me")
    board.waiting(0)
    assert len(writes) == 1  # the first snapshot
    for _ in range(5):  # idle turns of the coordinator
        time.sleep(0.06)
        board.waiting(0)
    assert len(writes) == 1
    board.started("r1", "inbox/a.csv")  # right after a write: held back by the throttle ...
    time.sleep(0.06)
    board.waiting(0)  # ... and written on the next turn
    assert [w["id"] for w in writes[-1]["in_flight"]] == ["r1"]
    assert json.loads((tmp_path / "status.json").read_bytes())["in_flight"][0]["file"] == "inbox/a.csv"
