"""Golden outputs: the demo's inputs, then a second product snapshot, give exactly these files.

The shop's importer reads these files; any change to their bytes is a change of contract and
must show up here. Regenerate after a deliberate change with ``UPDATE_GOLDEN=1 pytest``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from exchanged.cli import main

GOLDEN = Path(__file__).with_name("golden") / "demo"
SECOND_SNAPSHOT = (
    "sku,gtin,name,unit,vat_rate,weight,brand,attributes.colour,active\n"
    "4711,4006381333931,Schraubendreher Set 6-teilig,C62,19,0.35,Acme,red,true\n"   # changed name
    "4713,4006381333962,Werkbank,C62,19,38,Acme,,true\n"                             # gtin fixed -> new
    "4714,96385074,Gartenschere,C62,19,0.4,Gardena,green,true\n"                     # unchanged
)                                                                                     # 4712 gone -> delete


def produced(root: Path) -> dict[str, str]:
    shop = root / "outbox" / "shop"
    files = {str(p.relative_to(shop)): p.read_text(encoding="utf-8") for p in sorted(shop.rglob("*.jsonl"))}
    return files


def issue_lists(reports: list[dict]) -> str:
    rows = [{"file": Path(r["file"]).name, "status": r["status"], "issues": r["issues"]} for r in reports]
    return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"


def test_demo_then_second_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EXCHANGED_CONFIG", raising=False)
    assert main(["demo", "--json"]) == 0
    reports = json.loads(capsys.readouterr().out)
    (tmp_path / "products_20261128.csv").write_text(SECOND_SNAPSHOT)
    assert main(["process", "--json", "products_20261128.csv"]) == 0
    reports += json.loads(capsys.readouterr().out)
    actual = {**produced(tmp_path), "issues.json": issue_lists(reports)}
    if os.environ.get("UPDATE_GOLDEN"):
        for name, text in actual.items():
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_text(text, encoding="utf-8")
    expected = {str(p.relative_to(GOLDEN)): p.read_text(encoding="utf-8") for p in sorted(GOLDEN.rglob("*")) if p.is_file()}
    assert actual == expected
