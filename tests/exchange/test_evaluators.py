"""Worker processes give exactly the evaluation the daemon's own threads give."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchanged.config import load_settings
from exchanged.exchange.evaluators import Evaluators
from exchanged.mapping import load_mappings
from exchanged.pipeline import Source, evaluate, utc_now

pytestmark = pytest.mark.timeout(60)

FILES = {
    "stock.csv": b"sku,warehouse,quantity,op\nA,main,5,\nB,main,x,\nC,main,1,delete\n",
    "products.csv": "sku;gtin;name;weight\n1;4006381333931;Hammer;0,5\n2;4006381333932;Zange;1\n".encode("cp1252"),
    "junk.csv": b"what,is,this\n1,2,3\n",
}


def test_a_worker_process_evaluates_as_the_daemon_would(tmp_path: Path) -> None:
    settings = load_settings(environ={}, overrides={"base_dir": tmp_path})
    evaluators = Evaluators(settings, 1)
    try:
        for name, data in FILES.items():
            source = Source.from_bytes(data, f"inbox/{name}", utc_now(), f"20261127T000000000-{len(name):08x}")
            here = evaluate(source, load_mappings(settings.folder("mappings")), settings)
            there = evaluators.evaluate(source)
            assert there.report == here.report, name
            assert [(u.entity, u.mode, u.key) for u in there.updates] == [(u.entity, u.mode, u.key) for u in here.updates]
            assert all(a.records.equals(b.records) for a, b in zip(there.updates, here.updates))
            assert there.document_date == here.document_date
    finally:
        evaluators.close()
