"""Names in the inbox: what is never read (DESIGN §1 "Folders") and which files are markers."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchanged.exchange.names import (
    is_ignored,
    is_ignored_path,
    is_marker,
    marker_target,
    markers_for,
)


@pytest.mark.parametrize("name", [
    ".hidden.csv", ".x.csv.swp", ".", "..",               # dot names
    "~$Preise.xlsx", "~ARTIKEL.csv",                        # tilde names (Office lock files)
    "x.tmp", "x.part", "x.partial", "x.filepart", "x.crdownload",
    "x.csv.tmp", "ARTIKEL.CSV.TMP", "x.Part", "x.PARTIAL", "x.FilePart", "x.CRDOWNLOAD",
])
def test_ignored_names(name: str) -> None:
    assert is_ignored(name)


@pytest.mark.parametrize("name", [
    "ARTIKEL.CSV", "prices.xml", "orders.edi",
    "x.tmp.csv", "part", "tmp", "x.parts", "x_part", "report~.csv", "a.b.c",  # suffix must end the name
    "x.csv.done", "x.ok",                                   # markers are not ignored (the gate reads them)
])
def test_names_that_are_read(name: str) -> None:
    assert not is_ignored(name)


@pytest.mark.parametrize(("relative", "ignored"), [
    ("a/b/x.csv", False),
    (".staging/x.csv", True),
    ("a/.staging/b/x.csv", True),
    ("~old/x.csv", True),
    ("upload.partial/x.csv", True),
    ("a/b/x.csv.part", True),
])
def test_a_path_is_ignored_when_any_component_is(relative: str, ignored: bool) -> None:
    assert is_ignored(relative) is ignored
    inbox = Path("/srv/exchange/inbox")
    assert is_ignored_path(inbox / relative, inbox) is ignored


def test_only_components_below_the_inbox_count() -> None:
    inbox = Path("/home/.erp/~exchange/inbox")
    assert not is_ignored_path(inbox / "sub" / "x.csv", inbox)
    assert is_ignored_path(inbox / "sub" / ".x.csv", inbox)


def test_a_path_outside_the_inbox_is_judged_by_its_name() -> None:
    inbox = Path("/srv/inbox")
    assert is_ignored_path(Path("/elsewhere/x.tmp"), inbox)
    assert not is_ignored_path(Path("/.elsewhere/x.csv"), inbox)


@pytest.mark.parametrize(("marker", "target"), [
    ("ARTIKEL.CSV.done", "ARTIKEL.CSV"),
    ("ARTIKEL.CSV.ok", "ARTIKEL.CSV"),
    ("ARTIKEL.CSV.DONE", "ARTIKEL.CSV"),  # a Windows ERP's spelling: still a marker, never data
    ("prices.Ok", "prices"),
    ("x.done.ok", "x.done"),
])
def test_marker_names_their_data_file(marker: str, target: str) -> None:
    assert marker_target(marker) == target
    assert is_marker(marker)


@pytest.mark.parametrize("name", ["ARTIKEL.CSV", "done", "ok", ".done", ".ok", "x.done.csv", "xdone", "x.okay"])
def test_non_markers(name: str) -> None:
    assert marker_target(name) is None
    assert not is_marker(name)


def test_markers_for_a_file_sit_beside_it() -> None:
    data = Path("/srv/inbox/erp/ARTIKEL.CSV")
    assert markers_for(data) == [Path("/srv/inbox/erp/ARTIKEL.CSV.done"), Path("/srv/inbox/erp/ARTIKEL.CSV.ok")]
    assert all(marker_target(m.name) == data.name for m in markers_for(data))
