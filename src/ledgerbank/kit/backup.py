"""Backups of the whole database and their restore: SQLite's online backup, pg_dump, mysqldump.

SQLite copies itself page by page with its online backup API while the bank keeps running.
PostgreSQL and MySQL/MariaDB use their own dump tools (their client packages must be
installed): `pg_dump --format=custom` restored by `pg_restore --clean --single-transaction`,
and `mysqldump`/`mariadb-dump --single-transaction --routines --triggers` restored by feeding
the dump to `mysql`/`mariadb`. Passwords travel in the tools' environment, never on their
command line.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from ledgerbank.errors import BackupFailed
from ledgerbank.kit.db import normalize_url


def _url(database_url: str) -> URL:
    return make_url(normalize_url(database_url))


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupFailed("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _tool(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise BackupFailed(
        f"{' or '.join(names)} not found: install the database's client tools "
        "(README: Backups and restores)"
    )


def _run(command: list[str], env: dict[str, str], *, stdin: Path | None = None) -> None:
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as source:
        done = subprocess.run(
            command,
            stdin=source,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        shown = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise BackupFailed(f"{Path(command[0]).name} failed: {' | '.join(shown)}")


def _postgres(url: URL) -> tuple[list[str], dict[str, str]]:
    args = ["--host", url.host or "localhost", "--port", str(url.port or 5432)]
    if url.username:
        args += ["--username", url.username]
    env = {"PGPASSWORD": url.password} if url.password else {}
    return args, env


def _mysql(url: URL) -> tuple[list[str], dict[str, str]]:
    args = ["--host", url.host or "localhost", "--port", str(url.port or 3306), "--protocol=TCP"]
    if url.username:
        args += ["--user", url.username]
    env = {"MYSQL_PWD": str(url.password)} if url.password else {}
    return args, env


def backup(database_url: str, path: Path) -> None:
    """Write a consistent copy of the whole database to `path`."""
    url = _url(database_url)
    dialect = url.get_backend_name()
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    if dialect == "sqlite":
        source_path = _sqlite_path(url)
        partial = path.with_name(path.name + ".partial")
        partial.unlink(missing_ok=True)
        source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
        target = sqlite3.connect(partial)
        try:
            source.backup(target, pages=1024)  # in steps: writers are never held for long
        finally:
            target.close()
            source.close()
        partial.replace(path)
        return
    if dialect == "postgresql":
        args, env = _postgres(url)
        command = [_tool("pg_dump"), *args, "--format=custom", "--file", str(path)]
        _run([*command, "--dbname", str(url.database)], env)
        return
    args, env = _mysql(url)
    tool = _tool("mariadb-dump", "mysqldump")
    options = ["--single-transaction", "--routines", "--triggers", "--hex-blob"]
    _run([tool, *args, *options, "--result-file", str(path), str(url.database)], env)


def restore(database_url: str, path: Path) -> None:
    """Replace the whole database with the backup at `path`."""
    if not path.is_file():
        raise BackupFailed(f"no backup at {path}")
    url = _url(database_url)
    dialect = url.get_backend_name()
    if dialect == "sqlite":
        source = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
        target = sqlite3.connect(_sqlite_path(url), timeout=30)
        try:
            source.backup(target)  # page by page, under the target's write lock
        except sqlite3.DatabaseError as exc:
            raise BackupFailed(f"{path} is not a SQLite backup: {exc}") from None
        finally:
            target.close()
            source.close()
        return
    if dialect == "postgresql":
        args, env = _postgres(url)
        options = ["--clean", "--if-exists", "--no-owner", "--single-transaction"]
        _run([_tool("pg_restore"), *args, *options, "--dbname", str(url.database), str(path)], env)
        return
    args, env = _mysql(url)
    _run([_tool("mariadb", "mysql"), *args, str(url.database)], env, stdin=path)
