"""Fixtures of the audit API tests: the identity test bank (tests/identity/identity_bank.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "identity"))

from identity_bank import Bank, make_bank


@pytest.fixture
def bank(database_url: str, tmp_path: Path) -> Iterator[Bank]:
    """A fresh bank with one user per role, each named after its role ("customer", ...)."""
    yield from make_bank(database_url, tmp_path)
