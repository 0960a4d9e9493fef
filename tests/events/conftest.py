"""Events tests: the ledger and API tests' builders, and a real webhook receiver on 127.0.0.1."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "ledger"))
sys.path.insert(0, str(Path(__file__).parents[1] / "api"))

from api_helpers import Bank, api_settings
from events_helpers import Receiver
from fastapi.testclient import TestClient

from ledgerbank.app import create_app


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver.running() as found:
        yield found


@pytest.fixture
def bank(database_url: str, tmp_path: Path) -> Iterator[Bank]:
    """The API tests' bank (tests/api), with webhooks allowed to reach 127.0.0.1."""
    settings = api_settings(database_url, tmp_path)
    settings = settings.model_copy(update={"webhook_allowed_hosts": "127.0.0.1/32"})
    app = create_app(settings)
    with TestClient(app) as client:
        world = Bank(app=app, client=client, database=app.state.db)
        world.add_users({"alice": "customer", "bob": "customer", "admin": "admin"})
        yield world
