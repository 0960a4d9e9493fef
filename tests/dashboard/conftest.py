"""The dashboard tests use the analytics test bank (tests/analytics/analytics_bank.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "analytics"))

from analytics_bank import BACKENDS, Bank, shared_bank


@pytest.fixture(scope="module", params=BACKENDS)
def bank(
    request: pytest.FixtureRequest,
    templates: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Bank]:
    yield from shared_bank(request.param, templates, tmp_path_factory)
