"""What the end-to-end benchmarks share: run ``exchanged process`` as a fresh command and measure it.

Run from the repository (``python benchmarks/bench_*.py``): the benchmarks import this module by
path, they are not part of the package.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def environment() -> dict[str, str]:
    """The user's environment without a config file (embedded defaults) and with bytecode caching."""
    env = {**os.environ, "EXCHANGED_CONFIG": ""}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_exchanged(workspace: Path, path: Path) -> tuple[float, float, float, dict]:
    """Wall time, CPU time (user + system), peak RSS (MB) of this one child (``wait4``), and its report."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "exchanged", "process", "--json", str(path)],
                                 cwd=workspace, stdout=out, stderr=err, env=environment())
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        child.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if code not in (0, 1):
            raise SystemExit(f"exchanged failed ({code}): {err.read().decode().strip()}")
        return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, json.loads(out.read())[0]


__all__ = ["environment", "run_exchanged"]
