"""EDIFACT benchmark: a PRICAT of 100,000 line items, end to end, against pydifact alone.

    python benchmarks/bench_edifact.py [--items 100000] [--repeat 2] [--skip-pydifact]

The file is an EANCOM PRICAT D.96A: per line item LIN, PIA, IMD, MEA, PRI, DTM and, for every
fourth item, a second PRI group with a quantity break (RNG); some descriptions need release
characters. 100,000 items are ~15 MB and ~675,000 segments, about the size DESIGN §6 names.

* Baseline: ``pydifact.segmentcollection.Interchange.from_str`` on the same text, in a process of
  its own (its memory must not count in ours), parsing only (no envelope checks, no records,
  nothing written). Target: ``exchanged process`` end to end (a fresh command: imports, parse,
  map, validate, publish, archive, ledger) at least 10x faster.
* Memory: the peak RSS of ``exchanged process`` (target <= 300 MB), and of the same run on a file
  twice as large (streaming by message: it must not need twice the memory). Each run also reports
  its CPU time (user + system): on a shared machine wall times wander, CPU times less so.
"""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import run_exchanged  # noqa: E402


def gtin(body: int) -> str:
    digits = f"{body:012d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


def pricat(items: int, *, messages: int = 1) -> bytes:
    """A PRICAT interchange with ``items`` line items spread over ``messages`` messages."""
    out = ["UNA:+.? '", "UNB+UNOC:3+4012345000009:14+4098765000004:14+261127:0815+BENCH1'"]
    per = -(-items // messages)
    n = 0
    for m in range(1, messages + 1):
        body = ["BGM+9+CAT-1+9'", "DTM+137:20261127:102'", "NAD+SU+4012345000009::9'", "CUX+2:EUR:8'"]
        for _ in range(min(per, items - n)):
            n += 1
            name = f"Artikel {n} Größe M?+L" if n % 7 == 0 else f"Artikel {n} blau"
            body += [f"LIN+{n}++{gtin(400638100000 + n)}:EN'", f"PIA+5+SKU{n:07d}:SA'",
                     f"IMD+F++:::{name}'", f"MEA+PD+AAB+KGM:{n % 50}.5'",
                     f"PRI+AAA:{n % 900 + 1}.{n % 100:02d}'", "DTM+194:20261201:102'"]
            if n % 4 == 0:
                body += [f"PRI+AAA:{n % 900}.50'", "RNG+4+PCE:100'", "DTM+194:20261201:102'"]
        body.append("UNS+S'")
        out += [f"UNH+{m}+PRICAT:D:96A:UN:EAN008'", *body, f"UNT+{len(body) + 2}+{m}'"]
    out.append(f"UNZ+{messages}+BENCH1'")
    return ("\n".join(out) + "\n").encode("latin-1")


def pydifact_parse(text: str) -> tuple[float, float]:
    """Wall and CPU time of pydifact's parse of ``text``."""
    from pydifact.segmentcollection import Interchange

    gc.collect()
    started, cpu = time.perf_counter(), time.process_time()
    Interchange.from_str(text)
    return time.perf_counter() - started, time.process_time() - cpu


def run_pydifact(path: Path) -> tuple[float, float]:
    """pydifact's parse time, measured in a child of its own: in this process its ~500 MB would be
    counted in the next child's peak RSS (Linux keeps a process's high-water mark across fork and
    exec, and the child starts as a copy of this process)."""
    child = subprocess.run([sys.executable, __file__, "--pydifact-only", str(path)], capture_output=True, text=True,
                           check=True)
    wall, cpu = child.stdout.split()[-2:]
    return float(wall), float(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--skip-pydifact", action="store_true", help="only exchanged (pydifact takes minutes)")
    parser.add_argument("--pydifact-only", type=Path, help=argparse.SUPPRESS)  # the baseline's own process
    args = parser.parse_args()
    if args.pydifact_only:
        print(*pydifact_parse(args.pydifact_only.read_bytes().decode("latin-1")))
        return
    with tempfile.TemporaryDirectory(prefix="exchanged-bench-edi-") as tmp:
        root = Path(tmp)
        data, double = pricat(args.items), pricat(2 * args.items, messages=2)
        one, two = root / "pricat.edi", root / "pricat-2x.edi"
        one.write_bytes(data)
        two.write_bytes(double)
        segments = data.count(b"'\n")
        print(f"PRICAT: {args.items:,} line items, {segments:,} segments, {len(data) / 1e6:.1f} MB")
        del data, double  # this process stays small: its size would count in its children's peak RSS
        base, base_cpu = (None, None) if args.skip_pydifact else run_pydifact(one)
        times, cpus, peaks = [], [], []
        for attempt in range(args.repeat):
            workspace = root / f"ws{attempt}"
            workspace.mkdir()
            elapsed, cpu, peak, report = run_exchanged(workspace, one)
            assert report["status"] in ("accepted", "partial") and report["entities"]["product"] == args.items, report
            times.append(elapsed)
            cpus.append(cpu)
            peaks.append(peak)
        workspace = root / "ws-2x"
        workspace.mkdir()
        _, _, peak_2x, report = run_exchanged(workspace, two)
        assert report["entities"]["product"] == 2 * args.items, report
        best = min(times)
        if base is not None:
            print(f"baseline  pydifact Interchange.from_str, parse only   {base:7.2f} s  "
                  f"({segments / base:,.0f} segments/s; cpu {base_cpu:.2f} s)")
        print(f"exchanged process, end to end (best of {args.repeat})     {best:7.2f} s  "
              f"({segments / best:,.0f} segments/s)" + (f"  {base / best:5.1f}x faster (target >= 10x)" if base else ""))
        print("each run  " + ", ".join(f"{t:.2f} s (cpu {c:.2f} s, {p:.0f} MB)" for t, c, p in zip(times, cpus, peaks)))
        if base_cpu is not None:
            print(f"cpu time  pydifact {base_cpu:.2f} s, exchanged {min(cpus):.2f} s: {base_cpu / min(cpus):5.1f}x")
        print(f"peak RSS  1x file {max(peaks):6.0f} MB (target <= 300)   2x file {peak_2x:6.0f} MB "
              f"(growth {peak_2x / max(peaks):4.2f}x)")
        print(f"records   {report['entities']} (2x file)")


if __name__ == "__main__":
    main()
