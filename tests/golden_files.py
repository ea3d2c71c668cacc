"""Golden files: a writer's output compared byte for byte with the file kept in the repository.

``EXCHANGED_REGEN_GOLDEN=1 pytest …`` rewrites them: only after a deliberate change of output,
reviewed in the diff like code.
"""

from __future__ import annotations

import os
from pathlib import Path


def matches_golden_in(folder: Path, name: str, data: bytes) -> bool:
    path = folder / name
    if os.environ.get("EXCHANGED_REGEN_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return path.read_bytes() == data


__all__ = ["matches_golden_in"]
