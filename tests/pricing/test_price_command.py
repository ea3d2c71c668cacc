"""``exchanged price``: exit 0 with a price, 1 without (reason on one line), 2 for usage errors."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pricing_helpers import customer, customers, price, prices

from exchanged.cli import main

ROWS = [
    price(amount="10"),
    price(amount="9.5", min_quantity=10),
    price(amount="8.25", customer_id="C1", valid_from=dt.date(2026, 2, 1), valid_to=dt.date(2026, 2, 28)),
]


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with the default config whose outbox/shop holds published prices."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EXCHANGED_CONFIG", raising=False)
    shop_dir = tmp_path / "outbox" / "shop"
    shop_dir.mkdir(parents=True)
    pq.write_table(prices(*ROWS), shop_dir / "price.parquet")
    pq.write_table(customers(customer("C1", currency="EUR")), shop_dir / "customer.parquet")
    return shop_dir


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["price", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_price_found_exits_0_and_says_why(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--customer", "C1", "--sku", "A", "--qty", "2", "--at", "2026-02-28T23:59:59Z")
    assert code == 0
    assert out.startswith("8.25 EUR  sku A, customer C1, quantity 2, on 2026-02-28")
    assert "customer-specific price of C1, quantity break from 1, valid 2026-02-01 to 2026-02-28" in out


def test_json_output(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--customer", "NEW", "--sku", "A", "--qty", "12", "--at", "2026-02-10", "--json")
    assert code == 0
    answer = json.loads(out)
    assert answer["found"] is True and answer["known_customer"] is False
    assert (answer["amount"], answer["level"], answer["min_quantity"], answer["currency"]) == ("9.5", "list", "10", "EUR")


def test_no_price_exits_1_with_the_reason_on_one_line(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--customer", "C1", "--sku", "NOPE", "--qty", "1")
    assert (code, out) == (1, "no-price: no net price for sku NOPE\n")
    code, out, _ = run(capsys, "--customer", "C1", "--sku", "A", "--qty", "1", "--currency", "USD", "--json")
    assert code == 1 and json.loads(out)["reason"] == "currency-mismatch"


def test_the_zone_decides_the_day(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    late = ["--customer", "C1", "--sku", "A", "--qty", "1", "--at", "2026-02-28T23:30:00+00:00", "--json"]
    assert json.loads(run(capsys, *late)[1])["amount"] == "8.25"
    assert json.loads(run(capsys, *late, "--zone", "Europe/Berlin")[1])["amount"] == "10"  # 1 March in Berlin


def test_without_published_state_there_is_no_price(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EXCHANGED_CONFIG", raising=False)
    code, out, _ = run(capsys, "--customer", "C1", "--sku", "A", "--qty", "1")
    assert (code, out) == (1, "no-price: no net price for sku A\n")


@pytest.mark.parametrize("argv, message", [
    (["--customer", "C1", "--sku", "A", "--qty", "three"], "--qty 'three': expected a number"),
    (["--customer", "C1", "--sku", "A", "--qty", "0"], "--qty '0': expected a number greater than 0"),
    (["--customer", "C1", "--sku", "A", "--qty", "NaN"], "--qty 'NaN'"),
    (["--customer", "C1", "--sku", "A", "--qty", "1.0000001"], "at most 6 decimal places"),
    (["--customer", "C1", "--sku", "A", "--qty", "1", "--at", "tomorrow"], "--at 'tomorrow'"),
    (["--customer", "C1", "--sku", "A", "--qty", "1", "--currency", "EURO"], "--currency 'EURO'"),
    (["--customer", "C1", "--sku", "A", "--qty", "1", "--zone", "Mars/Base"], "--zone 'Mars/Base'"),
    (["--customer", "C1", "--qty", "1"], "the following arguments are required: --sku"),
])
def test_usage_errors_exit_2_with_one_line(shop: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_as_a_command_a_usage_error_has_no_traceback(shop: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "EXCHANGED_CONFIG"}
    done = subprocess.run([sys.executable, "-m", "exchanged", "price", "--customer", "C1", "--sku", "A", "--qty", "x"],
                          cwd=shop.parent.parent, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == ["exchanged: error: --qty 'x': expected a number such as 3 or 2.5"]


def test_an_unreadable_state_exits_1_with_one_line(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (shop / "price.parquet").write_bytes(b"not parquet")
    code, out, err = run(capsys, "--customer", "C1", "--sku", "A", "--qty", "1")
    assert code == 1 and out == "" and err.count("\n") == 1 and "cannot read the published state" in err
