"""XML benchmark: a BMEcat catalogue of 100,000 products, end to end, at 1x and 2x size.

    python benchmarks/bench_xml.py [--products 100000] [--repeat 2]

The file is a BMEcat 2005 T_NEW_CATALOG: per PRODUCT a SUPPLIER_PID, PRODUCT_DETAILS (short and
long description with markup characters, a GTIN, the manufacturer), ORDER_UNIT and two
PRODUCT_PRICEs (a quantity break; every third price in its own currency), read by the built-in
``bmecat-new-catalog`` mapping: 100,000 products and 200,000 prices.

* Baseline, in the same run: lxml's ``iterparse`` over the same bytes, clearing each PRODUCT and
  reading nothing (what streaming costs at the least), and ``pyarrow.parquet`` writing the same
  number of rows, so the ratio says what mapping, validation and publishing add.
* Target (DESIGN §6): streaming, so the peak RSS of ``exchanged process`` grows < 1.5x when the
  file doubles.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import run_exchanged  # noqa: E402

BME = "http://www.bmecat.org/bmecat/2005"


def gtin(body: int) -> str:
    digits = f"{body:012d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


def bmecat(products: int) -> bytes:
    out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE BMECAT SYSTEM "bmecat_2005.dtd">\n'
           f'<BMECAT version="2005" xmlns="{BME}">\n<HEADER><CATALOG><LANGUAGE>deu</LANGUAGE><CATALOG_ID>BENCH</CATALOG_ID>'
           "<CATALOG_VERSION>1.0</CATALOG_VERSION><CURRENCY>EUR</CURRENCY></CATALOG></HEADER>\n<T_NEW_CATALOG>"]
    for n in range(1, products + 1):
        currency = "<PRICE_CURRENCY>CHF</PRICE_CURRENCY>" if n % 3 == 0 else ""
        out.append(
            f'<PRODUCT mode="new">\n <SUPPLIER_PID type="supplier_specific">SKU{n:07d}</SUPPLIER_PID>\n'
            f" <PRODUCT_DETAILS>\n  <DESCRIPTION_SHORT>Schraube {n} &amp; Mutter Größe M</DESCRIPTION_SHORT>\n"
            f"  <DESCRIPTION_LONG>Verzinkt, &lt;DIN 933&gt;, Länge {n % 90 + 10} mm</DESCRIPTION_LONG>\n"
            f'  <INTERNATIONAL_PID type="gtin">{gtin(400638100000 + n)}</INTERNATIONAL_PID>\n'
            f"  <MANUFACTURER_NAME>ACME Befestigung</MANUFACTURER_NAME>\n </PRODUCT_DETAILS>\n"
            f" <PRODUCT_ORDER_DETAILS><ORDER_UNIT>C62</ORDER_UNIT><CONTENT_UNIT>C62</CONTENT_UNIT></PRODUCT_ORDER_DETAILS>\n"
            f" <PRODUCT_PRICE_DETAILS>\n"
            f'  <PRODUCT_PRICE price_type="net_list"><PRICE_AMOUNT>{n % 900 + 1}.{n % 100:02d}</PRICE_AMOUNT>{currency}'
            f"<TAX>0.19</TAX><LOWER_BOUND>1</LOWER_BOUND></PRODUCT_PRICE>\n"
            f'  <PRODUCT_PRICE price_type="net_list"><PRICE_AMOUNT>{n % 900}.50</PRICE_AMOUNT>{currency}'
            f"<TAX>0.19</TAX><LOWER_BOUND>100</LOWER_BOUND></PRODUCT_PRICE>\n"
            f" </PRODUCT_PRICE_DETAILS>\n</PRODUCT>")
    out.append("</T_NEW_CATALOG>\n</BMECAT>\n")
    return "\n".join(out).encode("utf-8")


def lxml_baseline(data: bytes) -> float:
    """iterparse the file, clearing every PRODUCT: the least any streaming reader does."""
    from lxml import etree

    started = time.perf_counter()
    for _, element in etree.iterparse(io.BytesIO(data), events=("end",), tag=f"{{{BME}}}PRODUCT", load_dtd=False,
                                      no_network=True, resolve_entities=False):
        element.clear()
        while element.getprevious() is not None:
            del element.getparent()[0]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="exchanged-bench-xml-") as tmp:
        root = Path(tmp)
        data, double = bmecat(args.products), bmecat(2 * args.products)
        one, two = root / "catalog.xml", root / "catalog-2x.xml"
        one.write_bytes(data)
        two.write_bytes(double)
        print(f"BMEcat: {args.products:,} products, {2 * args.products:,} prices, {len(data) / 1e6:.1f} MB")
        base = min(lxml_baseline(data) for _ in range(args.repeat))
        times, peaks = [], []
        for attempt in range(args.repeat):
            workspace = root / f"ws{attempt}"
            workspace.mkdir()
            elapsed, _, peak, report = run_exchanged(workspace, one)
            assert report["status"] == "accepted" and report["entities"] == {
                "product": args.products, "price": 2 * args.products}, report
            times.append(elapsed)
            peaks.append(peak)
        workspace = root / "ws-2x"
        workspace.mkdir()
        time_2x, _, peak_2x, report = run_exchanged(workspace, two)
        assert report["entities"]["product"] == 2 * args.products, report
        best = min(times)
        print(f"baseline  lxml iterparse, clear per PRODUCT, nothing read  {base:7.2f} s")
        print(f"exchanged process, end to end (best of {args.repeat})         {best:7.2f} s  "
              f"({args.products / best:,.0f} products/s, {len(data) / 1e6 / best:.1f} MB/s, {best / base:4.1f}x the baseline)")
        print(f"2x file   {time_2x:7.2f} s ({time_2x / best:4.2f}x the time)")
        print(f"peak RSS  1x file {max(peaks):6.0f} MB   2x file {peak_2x:6.0f} MB "
              f"(growth {peak_2x / max(peaks):4.2f}x, target < 1.5x)")


if __name__ == "__main__":
    main()
