"""Run ``exchanged`` and SIGKILL itself at the N-th call of one function: a crash at an exact step.

    CRASH_AT=exchanged.audit:Ledger.record CRASH_AFTER=3 CRASH_WHEN=after python crashpoint.py run

``CRASH_WHEN`` is ``before`` (the step never happens) or ``after`` (it happened, nothing after it
did). Test-only: the package has no crash hooks of its own; this patches from the outside.
"""

from __future__ import annotations

import functools
import importlib
import os
import signal
import sys


def _install() -> None:
    module_name, _, path = os.environ["CRASH_AT"].partition(":")
    after, when = int(os.environ["CRASH_AFTER"]), os.environ.get("CRASH_WHEN", "before")
    owner = importlib.import_module(module_name)
    *parents, name = path.split(".")
    for parent in parents:
        owner = getattr(owner, parent)
    real = getattr(owner, name)
    calls = 0

    @functools.wraps(real)
    def crashing(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == after and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        result = real(*args, **kwargs)
        if calls == after and when == "after":
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(owner, name, crashing)


if __name__ == "__main__":
    _install()
    from exchanged.cli import main

    sys.exit(main(sys.argv[1:]))
