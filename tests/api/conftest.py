"""Fixtures of the API tests: `bank`, the app on a fresh database with its people."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_helpers import STAFF_ROLES, Bank, api_settings
from fastapi.testclient import TestClient

from ledgerbank.app import create_app


@pytest.fixture
def bank(database_url: str, tmp_path: Path) -> Iterator[Bank]:
    app = create_app(api_settings(database_url, tmp_path))
    with TestClient(app) as client:
        world = Bank(app=app, client=client, database=app.state.db)
        world.add_users({"alice": "customer", "bob": "customer"} | {r: r for r in STAFF_ROLES})
        yield world
        assert world.violations() == [], "the ledger must stay sound after every API test"
