"""Fixtures of the publish tests (builders live in publish_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """``outbox/shop`` inside a fresh folder (not created: publish creates it)."""
    return tmp_path / "outbox" / "shop"
