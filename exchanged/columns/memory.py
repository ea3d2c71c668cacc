"""Hand freed memory back to the operating system after the big phases of one large file.

Reading and validating a large file allocate and free a few hundred megabytes of short-lived
arrays in two allocators: Python and numpy use the C library's malloc, Arrow its own pool
(mimalloc). Freed memory stays with the allocator that had it; the next phase's allocations in
another allocator (publishing renders with Polars, which has its own) cannot reuse it, so the
process's peak RSS would be the sum of the phases' peaks instead of the largest one (DESIGN §6:
peak RSS <= 300 MB for a 100,000-line PRICAT). Arrow's and polars' allocators are also told to
return freed pages at once, for the whole process (``exchanged/allocators.py``); this is for the
C library's malloc, which only returns what it is asked to, and for Arrow's per-thread caches.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable

import pyarrow as pa

LARGE = 1 << 15  # rows (or, for a file, 4 MB): below this there is little to give back


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim`` (returns free heap pages to the system), or None elsewhere."""
    try:
        return ctypes.CDLL(None).malloc_trim  # type: ignore[no-any-return]  # the process's own symbols: libc's
    except (OSError, AttributeError, TypeError):  # musl, macOS, Windows: nothing to call
        return None


def release_memory() -> None:
    """Return the memory Arrow's pool and malloc hold but no longer use (a few milliseconds)."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


__all__ = ["LARGE", "release_memory"]
