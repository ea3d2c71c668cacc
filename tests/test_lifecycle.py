"""One file to its final state: publish, archive, ledger — and what a full snapshot may delete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exchanged.config import load_settings
from exchanged.lifecycle import Workspace, handle
from exchanged.pipeline import Source
from exchanged.report import Status

HEADER = "sku,gtin,name\n"


@pytest.fixture
def workspace(tmp_path: Path):
    ws = Workspace.open(load_settings(environ={}, overrides={"base_dir": tmp_path}))
    yield ws
    ws.close()


def process(workspace: Workspace, name: str, text: str):
    return handle(Source.from_bytes(text.encode(), name), workspace)


def state(workspace: Workspace) -> dict[str, dict]:
    lines = (workspace.settings.shop_dir / "product.jsonl").read_text().splitlines()
    return {row["sku"]: row for row in map(json.loads, lines)}


def changes(workspace: Workspace, seq: int) -> list[tuple[str, str]]:
    path = workspace.settings.shop_dir / "changes" / "product" / f"{seq:010d}.jsonl"
    return [(row["op"], row["sku"]) for row in map(json.loads, path.read_text().splitlines())]


def test_a_row_dropped_from_a_full_snapshot_keeps_its_published_record(workspace: Workspace) -> None:
    process(workspace, "p1.csv", HEADER + "A,4006381333931,Hammer\nB,4006381333948,Zange\nC,,Säge\n")
    report = process(workspace, "p2.csv", HEADER + "A,4006381333931,Hammer XL\nB,4006381333932,Zange\nC,,Säge\n")
    assert report.status is Status.PARTIAL and [i.code for i in report.issues] == ["invalid-gtin"]
    assert state(workspace)["B"]["name"] == "Zange"          # not deleted for a typo in its GTIN
    assert changes(workspace, 2) == [("upsert", "A")]        # and no delete in the change feed
    process(workspace, "p3.csv", HEADER + "A,4006381333931,Hammer XL\nC,,Säge\n")
    assert sorted(state(workspace)) == ["A", "C"]             # omitted entirely: deleted
    assert changes(workspace, 3) == [("delete", "B")]


def test_an_empty_full_snapshot_is_refused_unless_allowed(workspace: Workspace, tmp_path: Path) -> None:
    process(workspace, "p1.csv", HEADER + "A,,Hammer\n")
    report = process(workspace, "p2.csv", HEADER)
    assert report.status is Status.REJECTED and [i.code for i in report.issues] == ["empty-snapshot"]
    assert sorted(state(workspace)) == ["A"]
    allowing = Workspace.open(load_settings(environ={}, overrides={"base_dir": tmp_path, "allow_empty_snapshot": True}))
    try:
        assert process(allowing, "p3.csv", HEADER).status is Status.ACCEPTED
        assert state(allowing) == {}
    finally:
        allowing.close()


def test_the_same_content_twice_is_a_duplicate_and_publishes_nothing(workspace: Workspace) -> None:
    first = process(workspace, "p1.csv", HEADER + "A,,Hammer\n")
    again = process(workspace, "p1-copy.csv", HEADER + "A,,Hammer\n")
    assert again.status is Status.DUPLICATE and again.outputs == [] and again.issues[0].value == first.id
    assert workspace.ledger.get(again.id).status is Status.DUPLICATE
    assert Path(workspace.settings.base_dir, again.archive).read_bytes() == (HEADER + "A,,Hammer\n").encode()


def test_a_rejected_file_can_come_back_once_fixed(workspace: Workspace) -> None:
    bad = process(workspace, "p.csv", HEADER + "A,1,\n")  # every row bad: nothing to publish
    assert bad.status is Status.REJECTED
    quarantined = Path(workspace.settings.base_dir, bad.archive)
    assert json.loads(quarantined.with_name(quarantined.name + ".report.json").read_text())["archive"] == bad.archive
    assert process(workspace, "p.csv", HEADER + "A,1,\n").status is Status.REJECTED  # not a duplicate


def _archive_files(workspace: Workspace) -> list[str]:
    root = workspace.archive.root
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")  # not the ledger (and its WAL
                  if p.is_file() and not p.name.startswith("ledger.sqlite3")  # files), nor this process's
                  and ".staging" not in p.relative_to(root).parts)              # staging area (its lock)


def test_every_outcome_leaves_its_original_archived_and_no_temp_file(workspace: Workspace) -> None:
    accepted = process(workspace, "p1.csv", HEADER + "A,,Hammer\n")
    rejected = process(workspace, "p2.csv", HEADER + "A,1,\n")
    duplicate = process(workspace, "p3.csv", HEADER + "A,,Hammer\n")
    files = _archive_files(workspace)
    archived = {Path(r.archive).relative_to("archive").as_posix() for r in (accepted, rejected, duplicate)}
    assert set(files) == archived | {Path(rejected.archive).relative_to("archive").as_posix() + ".report.json"}
    assert not [name for name in files if name.endswith(".tmp")]


def test_a_publish_fault_leaves_the_archive_untouched(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """The original is written to the archive while it is evaluated; a transient fault after that
    (the shop folder unwritable) must not leave its copy behind, staged or archived."""
    from exchanged import lifecycle
    from exchanged.errors import OutputUnavailable

    def refuse(*args: object, **kwargs: object) -> None:
        raise OutputUnavailable("outbox/shop: permission denied")

    monkeypatch.setattr(lifecycle, "publish_batch", refuse)
    with pytest.raises(OutputUnavailable):
        process(workspace, "p1.csv", HEADER + "A,,Hammer\n")
    assert _archive_files(workspace) == []
    assert workspace.ledger.query() == []


STALE_MAPPING = """name = "acme-articles"
mode = "full"
[match]
filename = "ARTIKEL_*.csv"
columns = ["sku", "name"]
priority = 10
[document_date]
filename = 'ARTIKEL_(\\d{8})'
[entity.product]
sku = "sku"
name = "name"
"""


def test_an_older_full_snapshot_arriving_late_is_stale_and_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "acme.toml").write_text(STALE_MAPPING)
    ws = Workspace.open(load_settings(environ={}, overrides={"base_dir": tmp_path}))
    try:
        today = process(ws, "ARTIKEL_20261127.csv", "sku,name\nA,Hammer XL\n")
        late = process(ws, "ARTIKEL_20261126.csv", "sku,name\nA,Hammer\nB,Zange\n")
        again = process(ws, "ARTIKEL_20261127.csv", "sku,name\nA,Hammer XXL\n")  # same day: applies
        undated = process(ws, "ARTIKEL_latest.csv", "sku,name\nA,Hammer 4\n")
    finally:
        ws.close()
    assert today.status is Status.ACCEPTED
    assert late.status is Status.STALE and [i.code for i in late.issues] == ["stale-snapshot"]
    assert late.outputs == []
    assert again.status is Status.ACCEPTED
    assert undated.status is Status.ACCEPTED and [i.code for i in undated.issues] == ["document-date-unreadable"]
    assert state(ws) == {"A": {**state(ws)["A"], "name": "Hammer 4"}} and len(state(ws)) == 1
    assert Path(tmp_path, late.archive).read_text() == "sku,name\nA,Hammer\nB,Zange\n"  # archived, not quarantined


def test_a_batch_syncs_each_archive_folder_once_before_its_ledger_rows(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    from exchanged import archive, atomic
    from exchanged.lifecycle import commit, prepare

    synced: list[Path] = []
    for module, name in ((archive, "_fsync_dir"), (atomic, "fsync_directory")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda folder, real=real: (synced.append(Path(folder)), real(folder))[1])
    pending = [prepare(Source.from_bytes(f"{HEADER}{sku},,Hammer\n".encode(), f"p{sku}.csv"), workspace) for sku in "ABC"]
    reports = commit(pending, workspace)
    day_folders = {Path(workspace.settings.base_dir, r.archive).parent for r in reports}
    assert len(day_folders) == 1 and synced.count(day_folders.pop()) == 1
    assert [r.id for r in workspace.ledger.query()] == [r.id for r in reports]


def test_a_batch_knows_its_duplicates_and_what_is_recorded_already(workspace: Workspace) -> None:
    """The batch asks the ledger once for all its inputs: an input recorded before (a claim replayed
    after a crash) keeps its report, content published before or earlier in the batch is a
    duplicate of the earliest, and every other input is recorded once, in batch order."""
    from exchanged.lifecycle import commit, prepare

    first = process(workspace, "p1.csv", HEADER + "A,,Hammer\n")
    replayed = workspace.ledger.get(first.id)
    assert replayed is not None
    again = Source.from_bytes((HEADER + "A,,Hammer\n").encode(), "p1.csv", report_id=first.id)  # the same claim
    batch = [prepare(source, workspace) for source in (
        again,
        Source.from_bytes((HEADER + "A,,Hammer\n").encode(), "p1-copy.csv"),    # published before
        Source.from_bytes((HEADER + "B,,Zange\n").encode(), "p2.csv"),
        Source.from_bytes((HEADER + "B,,Zange\n").encode(), "p2-copy.csv"),     # earlier in this batch
    )]
    reports = commit(batch, workspace)
    for pending in batch:
        pending.discard()
    assert reports[0] == replayed
    assert [r.status for r in reports[1:]] == [Status.DUPLICATE, Status.ACCEPTED, Status.DUPLICATE]
    assert reports[1].issues[0].value == first.id and reports[3].issues[0].value == reports[2].id
    assert [r.id for r in workspace.ledger.query()] == [first.id, *(r.id for r in reports[1:])]


class Crash(Exception):
    """The process dies: nothing after this point happens."""


def test_a_file_published_before_a_crash_is_not_applied_again_after_a_newer_snapshot(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """Published, then killed before its ledger row: the claim comes back after the restart, maybe
    after a newer full snapshot that replaced the manifest's sources. Applied again it would undo
    that snapshot; it is recognised as published instead."""
    old = HEADER + "A,,Hammer\n"
    with monkeypatch.context() as patch:
        patch.setattr(workspace.ledger, "record_all", lambda *args: (_ for _ in ()).throw(Crash()))
        with pytest.raises(Crash):
            handle(Source.from_bytes(old.encode(), "p1.csv", report_id="20261127T090000000-00000001"), workspace)
    assert state(workspace)["A"]["name"] == "Hammer"
    process(workspace, "p2.csv", HEADER + "A,,Hammer XL\n")

    again = handle(Source.from_bytes(old.encode(), "p1.csv", report_id="20261127T090000000-00000001"), workspace)

    assert again.status is Status.ACCEPTED and again.outputs == []
    assert state(workspace)["A"]["name"] == "Hammer XL"
    assert sorted(p.name for p in (workspace.settings.shop_dir / "changes" / "product").iterdir()) == [
        "0000000001.jsonl", "0000000002.jsonl"]  # each change once


def test_the_shop_folder_forgets_the_inputs_the_ledger_has_recorded(workspace: Workspace) -> None:
    from exchanged.publish.marker import Replay, read_marker
    from exchanged.publish.manifest import read_manifest

    reports = [process(workspace, f"p{n}.csv", HEADER + f"A,,Hammer {n}\n") for n in range(4)]

    shop = workspace.settings.shop_dir
    carried = Replay(read_marker(shop), read_manifest(shop)).carried
    assert [i.id for i in carried] == [reports[-1].id]  # the last publish's record; the others are settled
