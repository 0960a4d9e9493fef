"""Fixtures of the worker tests: the API test bank (tests/api/api_helpers.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parents[1] / "api"))

from api_helpers import STAFF_ROLES, Bank, api_settings

from ledgerbank.app import create_app


@pytest.fixture
def bank(database_url: str, tmp_path: Path) -> Iterator[Bank]:
    app = create_app(api_settings(database_url, tmp_path))
    with TestClient(app) as client:
        world = Bank(app=app, client=client, database=app.state.db)
        world.add_users({"alice": "customer", "bob": "customer"} | {r: r for r in STAFF_ROLES})
        yield world
        assert world.violations() == [], "the ledger must stay sound after every worker test"
