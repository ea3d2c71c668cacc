"""A scripted disk and a gate over it: the tests of ``exchange/gate.py`` spell out each write."""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path


from exchanged.exchange.gate import ReadinessGate, Verdicts

INBOX = Path("/srv/inbox")
SETTLE = 2.0
EMPTY_WAIT = 10.0


@dataclass
class FakeStat:
    st_mode: int
    st_size: int
    st_mtime_ns: int


class FakeDisk:
    """Files as (mode, size, mtime); every write moves mtime on, as a real write does."""

    def __init__(self) -> None:
        self.files: dict[Path, FakeStat] = {}
        self.stats: list[Path] = []
        self._mtime_ns = 1_700_000_000_000_000_000

    def write(self, path: Path, size: int = 100) -> Path:
        """Append ``size`` bytes (creating the file)."""
        self._mtime_ns += 1_000_000
        old = self.files.get(path)
        self.files[path] = FakeStat(stat.S_IFREG | 0o644, (old.st_size if old else 0) + size, self._mtime_ns)
        return path

    def touch(self, path: Path) -> Path:
        """A new mtime, the same size (a writer that rewrites a block in place, or ``touch``)."""
        self._mtime_ns += 1_000_000
        self.files[path].st_mtime_ns = self._mtime_ns
        return path

    def make(self, path: Path, mode: int) -> Path:
        self.files[path] = FakeStat(mode, 0, self._mtime_ns)
        return path

    def remove(self, path: Path) -> None:
        del self.files[path]

    def stat(self, path: Path) -> FakeStat:
        self.stats.append(path)
        try:
            found = self.files[path]
        except KeyError:
            raise FileNotFoundError(2, "No such file or directory", str(path)) from None
        return FakeStat(found.st_mode, found.st_size, found.st_mtime_ns)


def make_gate(disk: FakeDisk, **options: object) -> ReadinessGate:
    settings: dict[str, object] = {"settle_seconds": SETTLE, "empty_file_wait": EMPTY_WAIT, "inbox": INBOX}
    settings.update(options)
    return ReadinessGate(stat=disk.stat, **settings)  # type: ignore[arg-type]


def nothing(verdicts: Verdicts) -> bool:
    return not (verdicts.ready or verdicts.empty or verdicts.links)
