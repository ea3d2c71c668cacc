"""The native allocators are told on ``import exchanged`` to hand freed memory back at once."""

from __future__ import annotations

import os
import subprocess
import sys

import pyarrow as pa
import pytest

from exchanged.allocators import SETTINGS, configure


def test_settings_are_added_and_the_users_own_are_kept() -> None:
    environ = {"MIMALLOC_PURGE_DELAY": "250"}
    configure(environ)
    assert environ == {**SETTINGS, "MIMALLOC_PURGE_DELAY": "250"}


@pytest.mark.skipif(pa.default_memory_pool().backend_name != "mimalloc", reason="Arrow built without mimalloc")
def test_arrows_allocator_loaded_after_exchanged_purges_freed_pages_at_once() -> None:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    env["MIMALLOC_VERBOSE"] = "1"  # mimalloc prints its options when it starts
    child = subprocess.run([sys.executable, "-c", "import exchanged, pyarrow; pyarrow.allocate_buffer(1)"],
                           env=env, capture_output=True, text=True, check=True)
    assert "option 'purge_delay': 0" in child.stderr, child.stderr
