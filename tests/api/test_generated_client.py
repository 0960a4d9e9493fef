"""A Python client generated from the app's /openapi.json with openapi-python-client, as an
integrator would make one, used against a real uvicorn server: sign in, list accounts,
transfer with a PIN and register a webhook. And every schema in the document has a name of its
own.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, select

from ledgerbank.app import create_app
from ledgerbank.config import Settings
from ledgerbank.identity import pins, tokens
from ledgerbank.identity import service as identity
from ledgerbank.identity.tables import users
from ledgerbank.kit.db import Database
from ledgerbank.ledger import accounts, posting
from ledgerbank.ledger.tables import accounts as account_rows
from server import serving

JWT_SECRET = "generated-client-test-secret-of-32-bytes"
PASSWORD = "a long and private passphrase"
PIN = "2468"
PACKAGE = "ledgerbank_client"


@pytest.fixture
def backend() -> str:
    """What the generated client sends does not depend on the database: SQLite only."""
    return "sqlite"


def test_every_schema_has_a_unique_meaningful_name(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/unused.db", data_dir=tmp_path))
    schemas = TestClient(app).get("/openapi.json").json()["components"]["schemas"]  # no lifespan
    titles = Counter(schema.get("title", name) for name, schema in schemas.items())
    assert [title for title, count in titles.items() if count > 1] == []
    # FastAPI falls back to module paths (ledgerbank__risk__schemas__Risk) for clashing names
    assert [name for name in schemas if "__" in name] == []


def _seed(database: Database, data_dir: Path) -> dict[str, int]:
    """Two verified customers with a PIN, an account each, alice's funded, and an admin: the
    account ids (and the admin's user id)."""
    keyring = Settings(data_dir=data_dir).pin_keyring()  # the server reads the same key file

    def seed(conn: Connection) -> dict[str, int]:
        found = {}
        for name in ("alice", "bob"):
            user_id = int(
                identity.create_user(
                    conn,
                    username=name,
                    password=PASSWORD,
                    email=f"{name}@example.test",
                    full_name=name.title(),
                    role="customer",
                    kyc_status="verified",
                )["id"]
            )
            conn.execute(
                users.update()
                .where(users.c.id == user_id)
                .values(pin_hash=pins.hash_pin(keyring, user_id, PIN))
            )
            found[name] = int(
                accounts.open_account(
                    conn, owner_id=user_id, account_type="checking", currency="USD"
                )["id"]
            )
        posting.deposit(conn, account_id=found["alice"], amount="500.00", actor_id=None)
        found["admin"] = int(
            identity.create_user(
                conn,
                username="admin",
                password=PASSWORD,
                email="admin@example.test",
                full_name="Admin",
                role="admin",
                kyc_status="verified",
            )["id"]
        )
        return found

    return database.write(seed)


def _generate(spec_url: str, into: Path) -> ModuleType:
    """openapi-python-client as an integrator runs it; no warnings, nothing dropped."""
    (into / "config.yml").write_text("post_hooks: []\n")  # no formatter needed to import it
    spec = into / "openapi.json"
    spec.write_text(httpx.get(spec_url, timeout=30).text)
    generated = subprocess.run(
        [
            str(Path(sys.executable).with_name("openapi-python-client")),
            "generate",
            *("--path", str(spec), "--meta", "none", "--output-path", str(into / PACKAGE)),
            *("--config", str(into / "config.yml")),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = generated.stdout + generated.stderr
    assert generated.returncode == 0, output
    assert "Warning" not in output, output
    assert "Unable" not in output, output
    sys.path.insert(0, str(into))
    return importlib.import_module(PACKAGE)


@pytest.fixture
def generated(tmp_path: Path, database_url: str) -> Iterator[tuple[Any, str, dict[str, int]]]:
    database = Database.from_url(database_url)
    try:
        ids = _seed(database, tmp_path)
        with serving(
            database_url,
            tmp_path,
            jwt_secret=JWT_SECRET,
            LEDGERBANK_WEBHOOK_ALLOWED_HOSTS="127.0.0.1",  # the receiver's address below
        ) as server:
            package = _generate(f"{server.url}/openapi.json", tmp_path)
            try:
                yield package, server.url, ids
            finally:
                sys.path.remove(str(tmp_path))
                for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
                    del sys.modules[name]
    finally:
        database.dispose()


@pytest.mark.http
def test_a_generated_client_signs_in_lists_accounts_transfers_and_registers_a_webhook(
    generated: tuple[Any, str, dict[str, int]], database_url: str
) -> None:
    package, url, ids = generated
    login = importlib.import_module(f"{PACKAGE}.api.auth.auth_login")
    listing = importlib.import_module(f"{PACKAGE}.api.accounts.accounts_list")
    transfer = importlib.import_module(f"{PACKAGE}.api.transactions.transactions_transfer")
    webhooks = importlib.import_module(f"{PACKAGE}.api.webhooks.webhooks_create")
    models = importlib.import_module(f"{PACKAGE}.models")

    with package.Client(base_url=url) as anonymous:
        signed_in = login.sync(
            client=anonymous,
            body=models.AuthLoginLoginRequest(username="alice", password=PASSWORD),
        )
        refused = login.sync_detailed(
            client=anonymous,
            body=models.AuthLoginLoginRequest(username="alice", password="not the password"),
        )
    assert isinstance(signed_in, models.TokenResponse), signed_in
    assert signed_in.role == models.Role.CUSTOMER
    assert refused.status_code == 401
    assert refused.parsed.code.value == "invalid_credentials"

    with package.AuthenticatedClient(base_url=url, token=signed_in.access_token) as client:
        listed = listing.sync(client=client)
        assert isinstance(listed, models.AccountList), listed
        assert [(a.id, a.balance, a.currency) for a in listed.items] == [
            (ids["alice"], "500.00", "USD")
        ]
        sent = transfer.sync(
            client=client,
            body=models.Transfer(
                from_account_id=ids["alice"], to_account_id=ids["bob"], amount="125.50", pin=PIN
            ),
            idempotency_key="generated-client-transfer-1",
        )
        assert isinstance(sent, models.Transaction), sent
        assert (sent.amount, sent.status.value) == ("125.50", "posted")
        replayed = transfer.sync_detailed(
            client=client,
            body=models.Transfer(
                from_account_id=ids["alice"], to_account_id=ids["bob"], amount="125.50", pin=PIN
            ),
            idempotency_key="generated-client-transfer-1",
        )
        assert replayed.parsed.id == sent.id  # the same answer, posted once
        wrong_pin = transfer.sync_detailed(
            client=client,
            body=models.Transfer(
                from_account_id=ids["alice"], to_account_id=ids["bob"], amount="1.00", pin="0000"
            ),
        )
        assert wrong_pin.status_code == 403
        assert wrong_pin.parsed.code.value == "invalid_pin"

    # staff sign in with a second factor; the admin's token is issued directly here
    admin_token, _ = tokens.issue(
        user_id=ids["admin"], role="admin", secret=JWT_SECRET, ttl_minutes=30
    )
    with package.AuthenticatedClient(base_url=url, token=admin_token) as admin:
        registered = webhooks.sync(
            client=admin,
            body=models.WebhookCreate(
                url="http://127.0.0.1:9/ledgerbank", events=["transaction.posted"]
            ),
        )
        assert isinstance(registered, models.WebhookCreated), registered
        assert registered.events == ["transaction.posted"]
        assert len(registered.secret) >= 32  # shown once

    database = Database.from_url(database_url)
    try:
        with database.read() as conn:
            balances = dict(conn.execute(select(account_rows.c.id, account_rows.c.balance)).all())
    finally:
        database.dispose()
    assert balances[ids["alice"]] == 37450
    assert balances[ids["bob"]] == 12550
