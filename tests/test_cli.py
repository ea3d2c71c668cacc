"""The command line: exit codes, --json output, and the no-traceback promise (DESIGN §1)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from exchanged.cli import main

PRODUCTS = "sku,gtin,name,unit\n1,4006381333931,Hammer,C62\n2,4006381333948,Zange,C62\n"
PRODUCTS_ONE_BAD = "sku,gtin,name,unit\n1,4006381333931,Hammer,C62\n2,4006381333932,Zange,C62\n"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EXCHANGED_CONFIG", raising=False)
    return tmp_path


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict]]:
    code = main([*argv])
    return code, json.loads(capsys.readouterr().out)


def cli(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "EXCHANGED_CONFIG"}
    return subprocess.run([sys.executable, "-m", "exchanged", *argv], cwd=cwd, capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["frobnicate"], "invalid choice"),
        (["process"], "the following arguments are required"),
        (["process", "missing.csv"], "missing.csv: no such file"),
        (["--config", "nope.toml", "audit"], "config file not found: nope.toml"),
        (["schema", "nothing"], "invalid choice"),
        (["audit", "--status", "great"], "--status 'great'"),
        (["audit", "--since", "yesterday"], "--since 'yesterday'"),
    ],
)
def test_user_errors_exit_2_with_one_line_and_no_traceback(workdir: Path, argv: list[str], message: str) -> None:
    done = cli(*argv, cwd=workdir)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert message in done.stderr


def test_invalid_config_file_is_a_usage_error(workdir: Path) -> None:
    (workdir / "exchanged.toml").write_text("issue_limit = 'many'\n")
    done = cli("audit", cwd=workdir)
    assert done.returncode == 2 and "exchanged.toml: issue_limit" in done.stderr and "Traceback" not in done.stderr


def test_process_accepted_partial_rejected_duplicate(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "products.csv").write_text(PRODUCTS)
    (workdir / "products_bad.csv").write_text(PRODUCTS_ONE_BAD)
    (workdir / "nothing.csv").write_text("foo,bar\n1,2\n")
    code, reports = run_json(capsys, "process", "--json", "products.csv")
    assert code == 0
    assert [(r["status"], r["entity"], r["records"], r["mapping"]) for r in reports] == [("accepted", "product", 2, "canonical-product")]
    assert (workdir / "outbox/shop/product.parquet").exists() and (workdir / "outbox/shop/manifest.json").exists()
    assert Path(reports[0]["archive"]).read_bytes() == PRODUCTS.encode()

    code, reports = run_json(capsys, "process", "--json", "products_bad.csv", "nothing.csv", "products.csv")
    assert code == 1
    assert [r["status"] for r in reports] == ["partial", "rejected", "duplicate"]
    assert [(i["code"], i["location"]) for i in reports[0]["issues"]] == [("invalid-gtin", {"line": 3, "row": 2, "field": "gtin"})]
    assert reports[1]["issues"][0]["code"] == "no-mapping"
    quarantined = Path(reports[1]["archive"])
    assert quarantined.read_bytes() == b"foo,bar\n1,2\n"
    assert json.loads(quarantined.with_name(quarantined.name + ".report.json").read_text())["status"] == "rejected"


def test_check_writes_nothing_and_exits_1_unless_all_valid(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "products.csv").write_text(PRODUCTS)
    (workdir / "products_bad.csv").write_text(PRODUCTS_ONE_BAD)
    code, reports = run_json(capsys, "check", "--json", "products.csv")
    assert code == 0 and reports[0]["status"] == "accepted"
    code, reports = run_json(capsys, "check", "--json", "products_bad.csv")
    assert code == 1 and reports[0]["status"] == "partial"
    assert sorted(p.name for p in workdir.iterdir()) == ["products.csv", "products_bad.csv"]


def test_audit_lists_and_filters(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "products.csv").write_text(PRODUCTS)
    (workdir / "nothing.csv").write_text("foo,bar\n1,2\n")
    main(["process", "products.csv", "nothing.csv"])
    capsys.readouterr()
    code, rows = run_json(capsys, "audit", "--json")
    assert code == 0 and [(r["file"], r["status"]) for r in rows] == [("products.csv", "accepted"), ("nothing.csv", "rejected")]
    _, rows = run_json(capsys, "audit", "--json", "--status", "rejected")
    assert [r["file"] for r in rows] == ["nothing.csv"]
    _, rows = run_json(capsys, "audit", "--json", "--file", "prod*")
    assert [r["file"] for r in rows] == ["products.csv"]
    _, rows = run_json(capsys, "audit", "--json", "--since", "2999-01-01")
    assert rows == []


@pytest.mark.parametrize("name", ["product", "price", "stock", "customer", "config", "mapping", "report"])
def test_schema_prints_a_json_schema(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", name]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["type"] == "object" and schema["properties"]


def test_product_schema_documents_the_rules(capsys: pytest.CaptureFixture[str]) -> None:
    main(["schema", "product"])
    schema = json.loads(capsys.readouterr().out)
    assert schema["required"] == ["sku", "name"] and schema["x-key"] == ["sku"]
    assert "check digit" in json.dumps(schema["properties"]["gtin"])


def test_demo_runs_and_publishes(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, reports = run_json(capsys, "demo", "--json")
    assert code == 0
    assert [(r["status"], r["entity"], r["format"]) for r in reports] == [
        ("partial", "product", "csv"), ("accepted", "price", "csv"), ("accepted", "stock", "csv"),
        ("accepted", "stock", "edifact"), ("accepted", "product", "xml"), ("accepted", "order", "json")]
    [order] = list((workdir / "outbox/erp").glob("ORDER_SO-1001_*.edi"))  # priced at the break: 12 x 17.50
    assert b"PRI+AAA:17.5'" in order.read_bytes() and b"BGM+220+SO-1001+9'" in order.read_bytes()
    assert reports[-1]["outputs"] == [f"outbox/erp/{order.name}"]
    assert not [p for p in (workdir / "inbox").rglob("*") if p.is_file()]  # processed files leave the inbox
    manifest = json.loads((workdir / "outbox/shop/manifest.json").read_text())
    assert set(manifest["entities"]) == {"product", "price", "stock"}


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_phases_on_a_terminal_only() -> None:
    from exchanged.output import Progress

    terminal, pipe = _Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        progress = Progress(2, stream=stream)
        progress.start("big.csv")
        progress.phase("validating")
        progress.close()
    assert "[1/2] big.csv: validating" in terminal.getvalue()
    assert pipe.getvalue() == ""
    quiet = _Terminal()
    Progress(1, enabled=False, stream=quiet).start("x")  # --json: nothing even on a terminal
    assert quiet.getvalue() == ""


def test_demo_lists_the_shop_files_without_internal_ones(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "product.parquet" in out and "manifest.json" in out and ".publish.lock" not in out


def test_a_closed_pipe_is_not_an_error(workdir: Path) -> None:
    """`exchanged audit --json | head`: the reader leaves early; no traceback, exit 0."""
    script = (
        "import sys, exchanged.cli as cli\n"
        "cli.cmd_schema = lambda args: print('x' * 4_000_000) or 0  # more than a pipe holds\n"
        "raise SystemExit(cli.main(['schema', 'product']))\n"
    )
    with subprocess.Popen([sys.executable, "-c", script], cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as reader:
        assert reader.stdout is not None and reader.stderr is not None
        reader.stdout.read(10)
        reader.stdout.close()  # like `| head -c 10`
        stderr = reader.stderr.read().decode()
        assert reader.wait(timeout=60) == 0
    assert "Traceback" not in stderr and "error" not in stderr


def test_roi_counts_what_the_ledger_recorded(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import datetime as dt

    code, _ = run_json(capsys, "demo", "--json")
    assert code == 0
    tomorrow = dt.datetime.now(dt.timezone.utc).date() + dt.timedelta(days=1)
    # The period ends before today (an incomplete day); with "today" as tomorrow the demo counts.
    from exchanged.config import load_settings
    from exchanged.roi import compute_roi

    settings = load_settings(None)
    report = compute_roi(settings.ledger_path, settings.roi, today=tomorrow, since=tomorrow - dt.timedelta(days=1))
    counted = {kind.kind: kind.occurrences for kind in report.kinds}
    assert counted["product_changes"] == 3 + 4 + 3 + 1 + 1 + 1  # products, prices, stock, INVRPT, BMEcat product + price
    assert main(["roi", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["currency"] == "EUR" and {k["kind"] for k in shown["kinds"]} == set(counted)
    assert main(["roi", "--since", "someday"]) == 2
