"""CSV benchmark: a 1,000,000-row canonical product file, end to end, against pyarrow alone.

    python benchmarks/bench_csv.py [--rows 1000000] [--repeat 3]

The baseline is pyarrow alone reading the CSV and writing it as Parquet, measured in the same run on
the same file (the machines are shared and noisy, so only the ratios are meaningful), two ways:

* as a command (``python -c "import pyarrow ...; write_table(read_csv(...))"``): a fresh process,
  imports included, like ``exchanged process`` itself. The target (DESIGN §6: end to end ≤ 4x)
  is read against this one: both sides are then a command a user runs.
* in process (imports excluded): the bare read and write, for reference.

``exchanged process`` runs as a real command in a fresh workspace each time (first load: every row
is an upsert, so the change feed holds the whole file), and a second time with 1 % of the rows
changed. Both sides run with bytecode caching on (``PYTHONDONTWRITEBYTECODE`` unset), as an
installed package does. Peak RSS of each run is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

COLUMNS = ["sku", "gtin", "name", "unit", "vat_rate", "weight", "description", "brand", "active"]


def gtins(n: int, start: int = 400638100000) -> np.ndarray:
    """n valid GTIN-13 as strings (12-digit bodies from ``start`` plus the GS1 check digit)."""
    bodies = np.arange(start, start + n, dtype=np.int64)
    digits = (bodies[:, None] // (10 ** np.arange(11, -1, -1))) % 10
    weights = np.array([1, 3] * 6)
    check = (10 - (digits @ weights) % 10) % 10
    return np.char.add(bodies.astype(str), check.astype(str))


def make_products(n: int, *, changed_every: int = 0) -> pa.Table:
    index = np.arange(n)
    names = np.char.add("Product ", index.astype(str))
    if changed_every:
        names = np.where(index % changed_every == 0, np.char.add(names, " (new)"), names)
    return pa.table({
        "sku": np.char.add("SKU-", np.char.zfill(index.astype(str), 7)),
        "gtin": gtins(n),
        "name": names,
        "unit": np.where(index % 10 == 0, "KGM", "C62"),
        "vat_rate": np.where(index % 3 == 0, "7", "19"),
        "weight": np.char.add((index % 1000).astype(str), ".25"),
        "description": np.char.add('Sturdy item, "quoted" text; number ', index.astype(str)),
        "brand": np.where(index % 2 == 0, "Acme", "Müller & Söhne"),
        "active": np.where(index % 50 == 0, "false", "true"),
    })


def write_csv(table: pa.Table, path: Path) -> None:
    pcsv.write_csv(table, path, pcsv.WriteOptions(quoting_style="needed"))


_BASELINE_COMMAND = "import sys, pyarrow.csv, pyarrow.parquet; pyarrow.parquet.write_table(pyarrow.csv.read_csv(sys.argv[1]), sys.argv[2])"


def _environment() -> dict[str, str]:
    env = {**os.environ, "EXCHANGED_CONFIG": ""}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def baseline(path: Path, out: Path) -> float:
    """pyarrow alone, in this process: read the CSV, write Parquet."""
    started = time.perf_counter()
    table = pcsv.read_csv(path)
    pq.write_table(table, out)
    return time.perf_counter() - started


def baseline_command(path: Path, out: Path) -> float:
    """pyarrow alone as a command: the same work in a fresh interpreter, imports included."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", _BASELINE_COMMAND, str(path), str(out)], check=True, env=_environment())
    return time.perf_counter() - started


def run_exchanged(workspace: Path, csv_path: Path) -> tuple[float, float, dict]:
    """Wall time, peak RSS (MiB) and the report of one ``exchanged process --json`` run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "exchanged", "process", "--json", str(csv_path)],
        cwd=workspace, capture_output=True, text=True, env=_environment(),
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"exchanged failed ({done.returncode}): {done.stderr.strip()}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before) / 1024, json.loads(done.stdout)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="exchanged-bench-") as tmp:
        root = Path(tmp)
        first, second = root / "products.csv", root / "products-changed.csv"
        write_csv(make_products(args.rows), first)
        write_csv(make_products(args.rows, changed_every=100), second)
        size_mb = first.stat().st_size / 1e6
        base_times, command_times, first_times, second_times, peaks = [], [], [], [], []
        for attempt in range(args.repeat):
            base_times.append(baseline(first, root / "baseline.parquet"))
            command_times.append(baseline_command(first, root / "baseline.parquet"))
            workspace = root / f"ws{attempt}"
            workspace.mkdir()
            elapsed, peak, report = run_exchanged(workspace, first)
            assert report["status"] == "accepted" and report["records"] == args.rows, report
            first_times.append(elapsed)
            peaks.append(peak)
            elapsed, peak, report = run_exchanged(workspace, second)
            assert report["status"] == "accepted", report
            second_times.append(elapsed)
        base, command = min(base_times), min(command_times)
        first_load, changed = min(first_times), min(second_times)
        print(f"rows {args.rows:,}  csv {size_mb:.1f} MB  best of {args.repeat}")
        print(f"baseline  pyarrow read_csv + write_parquet, as a command   {command:6.2f} s")
        print(f"baseline  the same in process (imports excluded)           {base:6.2f} s")
        print(f"exchanged process (first load, all upserts)  {first_load:6.2f} s  "
              f"ratio {first_load / command:4.2f}x  (target <= 4x)  in-process ratio {first_load / base:4.2f}x")
        print(f"exchanged process (1 % changed)              {changed:6.2f} s  "
              f"ratio {changed / command:4.2f}x                 in-process ratio {changed / base:4.2f}x")
        print(f"peak RSS of exchanged                         {max(peaks):6.0f} MiB  (file {size_mb:.0f} MB)")


if __name__ == "__main__":
    main()
