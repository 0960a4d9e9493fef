"""Test databases: real SQLite, PostgreSQL and MariaDB/MySQL, built by running the migrations.

Every test that asks for `database` runs once per configured backend, each time on a fresh,
fully migrated database:
- SQLite: a copy of a template file migrated once per session;
- PostgreSQL: CREATE DATABASE ... TEMPLATE a database migrated once per session;
- MySQL/MariaDB: one database migrated once per session, emptied with TRUNCATE between tests.

PostgreSQL and MySQL run when LEDGERBANK_TEST_POSTGRES_URL / LEDGERBANK_TEST_MYSQL_URL are set.
With LEDGERBANK_TEST_REQUIRE_DATABASES=1 (CI), a configured database that cannot be reached
fails the tests instead of skipping them.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ledgerbank.identity import passwords
from ledgerbank.kit.db import Database, normalize_url
from ledgerbank.migrations import upgrade

# Every Settings() the suite builds (in process or in a server subprocess) hashes passwords
# cheaply; production keeps argon2id at RFC 9106's low-memory profile or above.
os.environ.setdefault("LEDGERBANK_ENVIRONMENT", "test")
os.environ.setdefault("LEDGERBANK_PASSWORD_HASH_TIME_COST", "1")
os.environ.setdefault("LEDGERBANK_PASSWORD_HASH_MEMORY_KIB", "8")
os.environ.setdefault("LEDGERBANK_PASSWORD_HASH_PARALLELISM", "1")
passwords.configure(time_cost=1, memory_kib=8, parallelism=1)

POSTGRES_URL = os.environ.get("LEDGERBANK_TEST_POSTGRES_URL", "")
MYSQL_URL = os.environ.get("LEDGERBANK_TEST_MYSQL_URL", "")
REQUIRE = os.environ.get("LEDGERBANK_TEST_REQUIRE_DATABASES") == "1"

BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else []) + (["mysql"] if MYSQL_URL else [])
_counter = itertools.count()


def pytest_configure(config: pytest.Config) -> None:
    if REQUIRE and not (POSTGRES_URL and MYSQL_URL):
        raise pytest.UsageError(
            "LEDGERBANK_TEST_REQUIRE_DATABASES=1 needs LEDGERBANK_TEST_POSTGRES_URL and "
            "LEDGERBANK_TEST_MYSQL_URL"
        )


@dataclass
class Template:
    """A migrated database that fresh test databases are made from."""

    backend: str
    url: str
    error: str | None = None


def _unreachable(backend: str, exc: Exception) -> str:
    return f"{backend} test database unreachable: {type(exc).__name__}: {exc}"


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Template]]:
    made: dict[str, Template] = {}
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    # SQLite
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    database = Database.from_url(f"sqlite:///{path}")
    upgrade(database.engine)
    database.dispose()
    made["sqlite"] = Template("sqlite", f"sqlite:///{path}")
    # PostgreSQL
    if POSTGRES_URL:
        name = f"lbtest_template_{worker}_{os.getpid()}"
        try:
            admin = create_engine(normalize_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
                conn.execute(text(f"CREATE DATABASE {name}"))
            url = make_url(normalize_url(POSTGRES_URL)).set(database=name)
            engine = Database.from_url(url.render_as_string(hide_password=False)).engine
            upgrade(engine)
            engine.dispose()
            made["postgresql"] = Template("postgresql", url.render_as_string(hide_password=False))
        except Exception as exc:
            made["postgresql"] = Template("postgresql", "", _unreachable("postgresql", exc))
    # MySQL / MariaDB
    if MYSQL_URL:
        name = f"lbtest_{worker}_{os.getpid()}"
        try:
            admin = create_engine(normalize_url(MYSQL_URL))
            with admin.begin() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
                conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
            url = make_url(normalize_url(MYSQL_URL)).set(database=name)
            engine = Database.from_url(url.render_as_string(hide_password=False)).engine
            upgrade(engine)
            engine.dispose()
            made["mysql"] = Template("mysql", url.render_as_string(hide_password=False))
        except Exception as exc:
            made["mysql"] = Template("mysql", "", _unreachable("mysql", exc))
    yield made
    for template in made.values():
        if template.error or template.backend == "sqlite":
            continue
        _drop_database(template)


def _drop_database(template: Template) -> None:
    url = make_url(template.url)
    if template.backend == "postgresql":
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {url.database} WITH (FORCE)"))
    else:
        admin = create_engine(url.set(database=None))
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {url.database}"))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, templates: dict[str, Template], tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, migrated, empty database on the backend under test."""
    template = templates[backend]
    if template.error:
        if REQUIRE:
            pytest.fail(template.error)
        pytest.skip(template.error)
    if backend == "sqlite":
        path = tmp_path / "ledgerbank.db"
        shutil.copyfile(make_url(template.url).database or "", path)
        yield f"sqlite:///{path}"
        return
    if backend == "postgresql":
        url = make_url(template.url)
        name = f"{url.database}_{next(_counter)}"
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {url.database}"))
        yield url.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
        return
    _empty_mysql(template.url)
    yield template.url


def _empty_mysql(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = conn.execute(
            text(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' "
                "AND table_name <> 'alembic_version'"
            )
        ).scalars()
        conn.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
        for table in tables:
            if conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM `{table}`)")).scalar():
                conn.execute(text(f"TRUNCATE TABLE `{table}`"))
        conn.execute(text("SET FOREIGN_KEY_CHECKS = 1"))
    engine.dispose()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A `Database` on a fresh, migrated, empty database of the backend under test."""
    db = Database.from_url(database_url)
    yield db
    db.dispose()
