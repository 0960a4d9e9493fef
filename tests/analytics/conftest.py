"""One analytics test bank per module and backend: its tests only read, so they share it.

Building the bank posts about two hundred operations; doing that once per module instead of
once per test keeps the suite fast on three databases. Each bank gets a fresh database made
from the same migrated template as the `database_url` fixture's.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from analytics_bank import BACKENDS, Bank, fresh_database, open_bank


@pytest.fixture(scope="module", params=BACKENDS)
def bank(
    request: pytest.FixtureRequest,
    templates: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Bank]:
    template = templates[request.param]
    if template.error:
        if os.environ.get("LEDGERBANK_TEST_REQUIRE_DATABASES") == "1":
            pytest.fail(template.error)
        pytest.skip(template.error)
    data_dir = tmp_path_factory.mktemp(f"analytics-{request.param}")
    with (
        fresh_database(request.param, template.url, data_dir) as url,
        open_bank(url, data_dir) as opened,
    ):
        yield opened
