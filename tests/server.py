"""A real uvicorn serving ledgerbank on a test database, for the tests that talk HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ledgerbank.bench.server import Server, ServerFailed, running_server

# What every test server is started with; tests/conftest.py already sets cheap password
# hashing in the environment the subprocess inherits.
TEST_ENV = {"LEDGERBANK_ENVIRONMENT": "test"}


@contextmanager
def serving(
    database_url: str, data_dir: Path, *, jwt_secret: str, workers: int = 1, **env: str
) -> Iterator[Server]:
    """A server on `database_url`, signing tokens with `jwt_secret`; fails the test if it
    does not start."""
    settings = {
        **TEST_ENV,
        "LEDGERBANK_DATABASE_URL": database_url,
        "LEDGERBANK_DATA_DIR": str(data_dir),
        "LEDGERBANK_JWT_SECRET": jwt_secret,
        **env,
    }
    try:
        with running_server(
            settings, log_path=data_dir / "server.log", cwd=data_dir, workers=workers
        ) as server:
            yield server
    except ServerFailed as exc:
        pytest.fail(str(exc))
