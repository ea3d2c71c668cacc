"""The operator's commands around the daemon: run --once, status, replay, audit --verify."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from exchanged.cli import main

STOCK = "sku,warehouse,quantity\nA,main,5\nB,main,7\n"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EXCHANGED_CONFIG", raising=False)
    (tmp_path / "exchanged.toml").write_text("settle_seconds = 0.2\nempty_file_wait = 0.2\n")
    return tmp_path


def _drop(workdir: Path, name: str, text: str) -> None:
    path = workdir / "inbox" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    old = time.time() - 60  # it waited there while no daemon ran
    os.utime(path, (old, old))


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, object]:
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


def test_run_once_reports_as_json_and_exits_by_outcome(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _drop(workdir, "stock.csv", STOCK)
    code, reports = _json(capsys, "run", "--once", "--json")
    assert code == 0 and [(r["file"], r["status"]) for r in reports] == [("inbox/stock.csv", "accepted")]
    _drop(workdir, "junk.csv", "what,is,this\n1,2,3\n")
    code, reports = _json(capsys, "run", "--once", "--json")
    assert code == 1 and [(r["file"], r["status"]) for r in reports] == [("inbox/junk.csv", "rejected")]
    code, again = _json(capsys, "run", "--once", "--json")
    assert code == 0 and again == []  # nothing left to do


def test_status_tells_whether_the_daemon_runs_and_what_it_did(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, status = _json(capsys, "status", "--json")
    assert code == 0 and status["running"] is False and status["state"] == "never started"
    _drop(workdir, "stock.csv", STOCK)
    main(["run", "--once"])
    capsys.readouterr()
    code, status = _json(capsys, "status", "--json")
    assert status["running"] is False and status["state"] == "stopped"
    assert status["counts"] == {"accepted": 1} and status["last"][0]["file"] == "inbox/stock.csv"
    assert main(["status"]) == 0
    assert "not running" in capsys.readouterr().out


def test_replay_puts_an_archived_file_through_again(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _drop(workdir, "stock.csv", STOCK)
    _, reports = _json(capsys, "run", "--once", "--json")
    first = reports[0]["id"]
    code, replayed = _json(capsys, "replay", first[:12], "--json")
    assert code == 0 and replayed[0]["status"] == "accepted" and replayed[0]["id"] != first
    assert replayed[0]["sha256"] == reports[0]["sha256"] and replayed[0]["file"] == "inbox/stock.csv"
    assert main(["replay", "nope"]) == 2


def test_audit_verify_names_an_altered_archive(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _drop(workdir, "stock.csv", STOCK)
    _, reports = _json(capsys, "run", "--once", "--json")
    assert main(["audit", "--verify"]) == 0
    assert "intact: 1 rows, 1 files" in capsys.readouterr().out
    archived = workdir / reports[0]["archive"]
    archived.write_text(STOCK.replace("5", "6"))
    code, result = _json(capsys, "audit", "--verify", "--json")
    assert code == 1 and [f["code"] for f in result["findings"]] == ["archive-altered"]
    assert result["findings"][0]["id"] == reports[0]["id"]


def test_run_with_a_bad_setting_is_one_line_exit_2(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "exchanged.toml").write_text("workers = 0\n")
    assert main(["run", "--once"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "workers" in err


def test_run_logs_one_json_line_per_file(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _drop(workdir, "a.csv", STOCK)
    _drop(workdir, "b.csv", "what,is,this\n1,2,3\n")
    assert main(["run", "--once", "--log-format", "json"]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    files = {line["file"]: line for line in lines if line["event"] == "file"}
    assert set(files) == {"inbox/a.csv", "inbox/b.csv"}
    assert files["inbox/a.csv"]["status"] == "accepted" and files["inbox/a.csv"]["entity"] == "stock"
    assert files["inbox/a.csv"]["records"] == 2 and isinstance(files["inbox/a.csv"]["duration_ms"], int)
    assert files["inbox/b.csv"]["status"] == "rejected" and files["inbox/b.csv"]["issues"] == 1
    assert [line["event"] for line in lines if line["event"] != "file"] == ["started", "stopped"]
