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


def _stock(n: int) -> Source:
    return Source.from_bytes(f"sku,warehouse,quantity,op\nK{n},main,{n},\n".encode(), f"inbox/s{n:04d}.csv", utc_now(),
                             f"20261127T000000000-{n:08x}")


def test_several_files_in_one_trip_come_back_each_its_own_in_order(tmp_path: Path) -> None:
    settings = load_settings(environ={}, overrides={"base_dir": tmp_path})
    evaluators = Evaluators(settings, 1)
    try:
        sources = [_stock(n) for n in range(5)] + [Source.from_bytes(FILES["junk.csv"], "inbox/junk.csv", utc_now(), "r-junk")]
        results = evaluators.evaluate_all(sources)
        assert [r.report.id for r in results] == [s.id for s in sources]  # type: ignore[union-attr]
        assert [r.updates[0].records.column("sku").to_pylist() for r in results[:5]] == [[f"K{n}"] for n in range(5)]  # type: ignore[union-attr]
        assert results[5].report.status.value == "rejected"  # type: ignore[union-attr]
    finally:
        evaluators.close()


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_a_worker_process_killed_mid_task_loses_nothing(tmp_path: Path) -> None:
    """The process evaluating a trip dies (kill -9, out of memory): the pool is replaced and every
    file of the trip still gets its evaluation, from a new process."""
    import os
    import signal
    import threading
    import time

    settings = load_settings(environ={}, overrides={"base_dir": tmp_path})
    evaluators = Evaluators(settings, 1)
    try:
        evaluators.evaluate(_stock(0))  # the process is up
        pool = evaluators._pool
        assert pool is not None
        (victim,) = pool._processes  # type: ignore[attr-defined]
        sources = [_stock(n) for n in range(400)]  # long enough to be killed in the middle
        killer = threading.Timer(0.3, os.kill, (victim, signal.SIGKILL))
        killer.start()
        started = time.monotonic()
        results = evaluators.evaluate_all(sources)
        killer.join()
        assert time.monotonic() - started > 0.3  # it was killed while it worked
        assert evaluators._pool is not pool  # replaced
        assert all(not isinstance(r, BaseException) for r in results)
        assert [r.report.id for r in results] == [s.id for s in sources]  # type: ignore[union-attr]
        assert [r.updates[0].records.column("sku")[0].as_py() for r in results] == [f"K{n}" for n in range(400)]  # type: ignore[union-attr]
    finally:
        evaluators.close()


def test_closing_ends_a_process_that_does_not_stop_and_refuses_new_work(tmp_path: Path) -> None:
    import time

    evaluators = Evaluators(load_settings(None, overrides={"base_dir": tmp_path}), 1)
    evaluators._current().submit(time.sleep, 600)  # a worker busy for ten minutes
    processes = []
    while not processes:  # the pool starts its process when work arrives
        processes = list(evaluators._current()._processes.values())
        time.sleep(0.05)
    started = time.monotonic()
    evaluators.close(grace=0.5)
    assert time.monotonic() - started < 10  # not the ten minutes, nor for ever
    assert not any(process.is_alive() for process in processes)
    with pytest.raises(RuntimeError, match="stopped"):
        evaluators.evaluate_all([Source.from_bytes(b"sku,name\nA,B\n", "inbox/p.csv")])
