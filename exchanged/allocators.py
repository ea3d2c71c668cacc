"""How long the native allocators keep freed memory: set for the process before pyarrow and polars load.

Reading, validating and publishing a large file each allocate and free a hundred megabytes and more
of short-lived columns, in three allocators: Python's and numpy's (the C library's malloc), Arrow's
(mimalloc) and polars' (its own jemalloc). By default mimalloc keeps freed pages for a second
(``purge_delay``) and jemalloc for ten (``dirty_decay_ms``) before handing them back. A phase lasts
less than that, so what one phase freed in one allocator was still held while the next phase
allocated in another: measured with a 100,000-item PRICAT on the 2-core machine, mimalloc held
~120 MB for ~20 MB of live Arrow data when publishing peaked (DESIGN §6: peak RSS <= 300 MB).
Returning freed pages at once lowered the peak by ~35 MB (mimalloc) and ~10 MB more (jemalloc);
the CPU time of the run did not measurably change.

Both allocators read their settings from the environment when their library is loaded, which is
why this runs on ``import exchanged``, before anything imports pyarrow or polars. A value the user
set is kept; and in a process that loaded either library before exchanged, these do nothing.
``columns/memory.release_memory`` is the complement for the C library's malloc, which reads no
setting after the process started.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

SETTINGS = {
    "MIMALLOC_PURGE_DELAY": "0",  # Arrow's default memory pool: purge freed pages at once (default 1000 ms)
    "_RJEM_MALLOC_CONF": "dirty_decay_ms:0,muzzy_decay_ms:0",  # polars' jemalloc (its symbols carry _rjem_)
}


def configure(environ: MutableMapping[str, str] = os.environ) -> None:
    """Put ``SETTINGS`` into ``environ`` where it does not name them already."""
    for name, value in SETTINGS.items():
        environ.setdefault(name, value)


__all__ = ["SETTINGS", "configure"]
