"""Daemon benchmark: latency of one small file, and a burst of many, through a real ``exchanged run``.

    python benchmarks/bench_daemon.py [--latency 100] [--burst 1000] [--orders 50] [--workers 2]

Latency: a small stock delta is written beside the inbox and renamed into it (as a careful ERP
does); the clock runs from the rename to the moment its change file exists in
``outbox/shop/changes/stock/``. One file at a time, so each measures the whole path: inotify event,
readiness, claim, evaluate, publish, archive, ledger. Targets (issue 3): p50 <= 100 ms, p95 <= 300 ms.

Orders (DESIGN §6): with a small catalogue published, one shop order (canonical JSON) at a time
is renamed into the inbox; the clock runs from the rename until its EANCOM ORDERS file exists in
``outbox/erp/`` (checked against the published articles and prices, written once). Targets:
p50 <= 100 ms, p95 <= 300 ms.

Burst: ``--burst`` small stock deltas renamed into the inbox as fast as possible; the clock runs
from the first rename until every file has its ledger row. Target: 1,000 files final in <= 10 s.
On Linux it also reports the CPU time per file of the daemon and of its worker processes (from
``/proc``): on a shared machine the wall time follows the load, the CPU time much less.

For scale, the same run measures pyarrow alone reading one such file and writing it as Parquet
(the per-file floor of any pipeline) and reports the latency as a ratio to it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow.csv as pcsv
import pyarrow.parquet as pq

STOCK = "sku,warehouse,quantity,op\n"


ORDERS_CONFIG = '[orders.edifact]\nsender_id = "4012345000009"\nrecipient_id = "4098765000004"\n'


def _start(base: Path, workers: int) -> subprocess.Popen[bytes]:
    (base / "exchanged.toml").write_text(f"workers = {workers}\n{ORDERS_CONFIG}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGED_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    daemon = subprocess.Popen([sys.executable, "-m", "exchanged", "--config", str(base / "exchanged.toml"), "run"],
                              cwd=base, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    status = base / "work" / "status.json"
    deadline = time.monotonic() + 30
    while not status.exists():  # written once the daemon watches
        if time.monotonic() > deadline or daemon.poll() is not None:
            raise SystemExit("the daemon did not start")
        time.sleep(0.01)
    time.sleep(0.3)
    return daemon


def _rename_in(base: Path, name: str, text: str) -> float:
    staging = base / "staging" / name
    staging.write_text(text)
    started = time.perf_counter()
    os.rename(staging, base / "inbox" / name)
    return started


def _recorded(base: Path) -> int:
    path = base / "archive" / "ledger.sqlite3"
    if not path.exists():
        return 0
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
        return int(db.execute("SELECT COUNT(*) FROM reports").fetchone()[0])


@contextlib.contextmanager
def _running(workers: int) -> Iterator[Path]:
    """A real ``exchanged run`` in a fresh folder, its workers up; stopped with SIGTERM after."""
    with tempfile.TemporaryDirectory(prefix="exchanged-latency-") as tmp:
        base = Path(tmp)
        (base / "inbox").mkdir()
        (base / "staging").mkdir()
        daemon = _start(base, workers)
        _warm(daemon, workers)
        try:
            yield base
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=60)


def _one_at_a_time(base: Path, count: int, name: Callable[[int], str], text: Callable[[int], str],
                   arrived: Callable[[int], bool]) -> list[float]:
    """Seconds from each file's rename into the inbox until ``arrived(i)``, one file at a time."""
    times = []
    for i in range(1, count + 1):
        started = _rename_in(base, name(i), text(i))
        deadline = started + 10
        while not arrived(i):
            if time.perf_counter() > deadline:
                raise SystemExit(f"{name(i)}: no output after 10 s")
            time.sleep(0.0005)
        times.append(time.perf_counter() - started)
        time.sleep(0.02)
    return times


def latency(count: int, workers: int) -> list[float]:
    with _running(workers) as base:
        changes = base / "outbox" / "shop" / "changes" / "stock"
        return _one_at_a_time(base, count, lambda i: f"s{i:05d}.csv", lambda i: STOCK + f"K{i},main,{i},\n",
                              lambda i: (changes / f"{i:010d}.jsonl").exists())


def _order(number: int) -> str:
    return ('{"order_id": "B-%d", "customer_id": "K-1", "ordered_at": "2026-11-27T10:00:00+01:00", "currency": "EUR",'
            ' "lines": [{"sku": "A-1", "quantity": "2", "unit_price": "9.95"}],'
            ' "totals": {"net": "19.90", "gross": "19.90"}}' % number)


def order_latency(count: int, workers: int) -> list[float]:
    """Seconds from an order's rename into the inbox to its ERP file, one order at a time."""
    with _running(workers) as base:
        _rename_in(base, "products.csv", "sku,name,unit\nA-1,Hammer,C62\n")
        _rename_in(base, "prices.csv", "sku,currency,amount\nA-1,EUR,9.95\n")
        deadline = time.perf_counter() + 30
        while _recorded(base) < 2:
            if time.perf_counter() > deadline:
                raise SystemExit("the catalogue was not published after 30 s")
            time.sleep(0.01)
        erp = base / "outbox" / "erp"
        return _one_at_a_time(base, count, lambda i: f"order-{i:05d}.json", _order,
                              lambda i: any(erp.glob(f"ORDER_B-{i}_*.edi")))


def _cpu(pid: int) -> float:
    """utime + stime of a process in seconds (0 when it is gone or there is no /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            found += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    except OSError:
        pass
    return found


def _warm(daemon: subprocess.Popen[bytes], workers: int) -> None:
    """Wait until the daemon's worker processes (started ahead) are up: measure a running daemon,
    not its start."""
    settled = time.monotonic() + 10
    while len(_children(daemon.pid)) < workers and time.monotonic() < settled:
        time.sleep(0.05)
    time.sleep(1.0)  # and done importing


def burst(count: int, workers: int) -> tuple[float, float, float]:
    """Seconds until all final, and CPU seconds per file of the daemon and of its workers."""
    with tempfile.TemporaryDirectory(prefix="exchanged-burst-") as tmp:
        base = Path(tmp)
        (base / "inbox").mkdir()
        (base / "staging").mkdir()
        for i in range(count):
            (base / "staging" / f"b{i:05d}.csv").write_text(STOCK + f"K{i},main,{i},\n")
        daemon = _start(base, workers)
        _warm(daemon, workers)
        try:
            before = {pid: _cpu(pid) for pid in [daemon.pid, *_children(daemon.pid)]}
            started = time.perf_counter()
            for i in range(count):
                os.rename(base / "staging" / f"b{i:05d}.csv", base / "inbox" / f"b{i:05d}.csv")
            deadline = started + 120
            while _recorded(base) < count:
                if time.perf_counter() > deadline:
                    raise SystemExit(f"only {_recorded(base)} of {count} files final after 120 s")
                time.sleep(0.02)
            seconds = time.perf_counter() - started
            own = _cpu(daemon.pid) - before[daemon.pid]
            kids = sum(_cpu(pid) - before.get(pid, 0.0) for pid in _children(daemon.pid))
            return seconds, own / count, kids / count
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=60)


def floor_per_file() -> float:
    """pyarrow alone: read one small stock CSV and write it as Parquet (best of 50)."""
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "s.csv"
        csv.write_text(STOCK + "K1,main,1,\n")
        best = float("inf")
        for _ in range(50):
            started = time.perf_counter()
            pq.write_table(pcsv.read_csv(csv), Path(tmp) / "s.parquet")
            best = min(best, time.perf_counter() - started)
        return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=int, default=100, help="files measured one at a time (0: none)")
    parser.add_argument("--burst", type=int, default=1000, help="files dropped at once (0: none)")
    parser.add_argument("--orders", type=int, default=50, help="orders measured one at a time (0: none)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    floor = floor_per_file()
    print(f"baseline  pyarrow read_csv + write_parquet of one small file   {floor * 1000:7.1f} ms")
    if args.latency:
        times = sorted(latency(args.latency, args.workers))
        p50, p95 = statistics.median(times), times[min(len(times) - 1, int(0.95 * len(times)))]
        print(f"latency   rename into inbox -> change file ({len(times)} files)  p50 {p50 * 1000:6.1f} ms "
              f"(target <= 100, {p50 / floor:.0f}x baseline)  p95 {p95 * 1000:6.1f} ms (target <= 300)  "
              f"max {times[-1] * 1000:6.1f} ms")
    if args.orders:
        times = sorted(order_latency(args.orders, args.workers))
        p50, p95 = statistics.median(times), times[min(len(times) - 1, int(0.95 * len(times)))]
        print(f"orders    rename into inbox -> ERP file ({len(times)} orders)  p50 {p50 * 1000:6.1f} ms "
              f"(target <= 100)  p95 {p95 * 1000:6.1f} ms (target <= 300)  max {times[-1] * 1000:6.1f} ms")
    if not args.burst:
        return
    seconds, own, kids = burst(args.burst, args.workers)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"burst     {args.burst} files renamed in -> all final          {seconds:6.2f} s (target <= 10 s)  "
          f"CPU per file: daemon {own * 1000:.1f} ms, workers {kids * 1000:.1f} ms  (load {load:.1f})")


if __name__ == "__main__":
    main()
