"""Fixtures of the identity tests; the builders live in identity_bank.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from identity_bank import Bank, make_bank


@pytest.fixture
def bank(database_url: str, tmp_path: Path) -> Iterator[Bank]:
    """A fresh bank with one user per role, each named after its role ("customer", ...)."""
    yield from make_bank(database_url, tmp_path)
