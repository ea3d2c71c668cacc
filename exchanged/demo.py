"""``exchanged demo``: sample ERP exports into the inbox, processed once, and what came out.

The samples use the canonical layouts (docs/mappings.md) in the shapes ERPs really send: a UTF-8
product export with one broken GTIN (the row is dropped, the file is ``partial``), a Windows-1252
price list with ``;`` and decimal commas, and a stock delta with an ``op`` column.
"""

from __future__ import annotations

from pathlib import Path

from exchanged.lifecycle import Workspace, handle
from exchanged.pipeline import Source
from exchanged.report import FileReport

SAMPLES: dict[str, bytes] = {
    "products_20261127.csv": (
        "sku,gtin,name,unit,vat_rate,weight,brand,attributes.colour,active\n"
        "4711,4006381333931,Schraubendreher Set,C62,19,0.35,Acme,red,true\n"
        "4712,4006381333948,Kabeltrommel 25 m,C62,19,4.2,Acme,,true\n"
        "4713,4006381333932,Werkbank,C62,19,38,Acme,,true\n"
        "4714,96385074,Gartenschere,C62,19,0.4,Gardena,green,true\n"
    ).encode("utf-8"),
    "prices_20261127.csv": (
        "sku;currency;amount;min_quantity;valid_from\n"
        "4711;EUR;19,90;1;2026-11-01\n"
        "4711;EUR;17,50;10;2026-11-01\n"
        "4712;EUR;49,00;1;2026-11-01\n"
        "4714;EUR;12,95;1;2026-11-01\n"
    ).encode("cp1252"),
    "stock_20261127_0815.csv": (
        "op,sku,warehouse,quantity,as_of\n"
        "upsert,4711,Lager Süd,120,2026-11-27T08:15:00+01:00\n"
        "upsert,4712,Lager Süd,3,2026-11-27T08:15:00+01:00\n"
        "delete,4713,Lager Süd,,\n"
    ).encode("utf-8"),
}


def write_samples(inbox: Path) -> list[Path]:
    folder = inbox / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in SAMPLES.items():
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    return paths


def run_demo(workspace: Workspace) -> list[FileReport]:
    """Drop the samples into the inbox, process each one, and take it out of the inbox."""
    reports = []
    for path in write_samples(workspace.settings.folder("inbox")):
        source = Source.from_bytes(path.read_bytes(), workspace.relative(path))
        reports.append(handle(source, workspace))
        path.unlink()  # archived by handle(); the inbox only holds what is still to do
    return reports
