"""One analytics test bank per module and backend: its tests only read, so they share it.

Building the bank posts about two hundred operations; doing that once per module instead of
once per test keeps the suite fast on three databases. Each bank gets a fresh database made
from the same migrated template as the `database_url` fixture's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from analytics_bank import BACKENDS, Bank, shared_bank


@pytest.fixture(scope="module", params=BACKENDS)
def bank(
    request: pytest.FixtureRequest,
    templates: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Bank]:
    yield from shared_bank(request.param, templates, tmp_path_factory)
