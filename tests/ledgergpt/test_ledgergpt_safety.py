"""The safety gate and the read-only runner against hostile input, on every database.

Each hostile input is asked as a question; whatever happens, nothing but a safe SELECT may
run: no secret comes back, and afterwards every table (the audit trail aside, which only
gains the questions' own records) is exactly as it was.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from ledgergpt_bank import NOW, SmallBank, build, last_audit_id, snapshot
from sqlalchemy import text

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.config import Settings
from ledgerbank.identity.permissions import Role
from ledgerbank.kit.db import Database
from ledgerbank.ledgergpt import allowlist, gate
from ledgerbank.ledgergpt.runner import ReadOnlyRunner
from ledgerbank.ledgergpt.service import Asker, LedgerGPT

HOSTILE = [
    # straight at the base tables and secrets
    "SELECT * FROM users",
    "SELECT password_hash FROM users",
    "select username, pin_hash from users",
    "SELECT CAST(password_hash AS TEXT) FROM users",
    "SELECT * FROM (SELECT * FROM users) t",
    "SELECT * FROM vw_customers, users",
    "SELECT * FROM vw_customers JOIN users ON users.id = vw_customers.id",
    "SELECT * FROM vw_customers NATURAL JOIN users",
    "TABLE users",
    # stacked statements and comments
    "SELECT * FROM vw_customers; DROP TABLE users",
    "SELECT 1; DELETE FROM transactions",
    "SELECT * FROM vw_customers; COMMIT; DELETE FROM users",
    "SELECT * FROM vw_customers -- ; DROP TABLE users",
    "SELECT * FROM vw_customers /* ; DELETE FROM users */",
    "SELECT 1 /*!50000 , (SELECT password_hash FROM users LIMIT 1) */ FROM vw_customers",
    "SELECT * FROM vw_customers; VACUUM",
    # writes and DDL
    "DROP TABLE users",
    "DELETE FROM transactions",
    "UPDATE accounts SET balance = 1000000",
    "INSERT INTO users (username) VALUES ('mallory')",
    "REPLACE INTO users (id) VALUES (1)",
    "TRUNCATE audit_log",
    "ALTER TABLE users ADD COLUMN x INT",
    "CREATE TABLE stolen AS SELECT * FROM users",
    "MERGE INTO users USING vw_customers ON 1 = 1 WHEN MATCHED THEN DELETE",
    "GRANT ALL ON users TO PUBLIC",
    "SELECT * INTO stolen FROM vw_customers",
    # writes hidden in a CTE
    "WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM d",
    "WITH x AS (UPDATE accounts SET balance = 0 RETURNING id) SELECT * FROM x",
    "WITH x AS (INSERT INTO users (username) VALUES ('y') RETURNING id) SELECT * FROM x",
    "WITH users AS (SELECT 1 AS x) SELECT * FROM (SELECT password_hash FROM users) t",
    "SELECT * FROM (WITH users AS (SELECT 1 AS x) SELECT x FROM users) t "
    "UNION SELECT password_hash FROM users",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r",
    # UNION into the users table and other ways round the allow-list
    "SELECT username FROM vw_customers UNION SELECT password_hash FROM users",
    "SELECT username FROM vw_customers UNION ALL SELECT pin_hash FROM users",
    "SELECT (SELECT password_hash FROM users LIMIT 1) AS h FROM vw_customers",
    "SELECT * FROM vw_customers WHERE EXISTS (SELECT 1 FROM users WHERE password_hash LIKE 'a%')",
    "SELECT username FROM vw_customers WHERE username = 'a' UNION SELECT sql FROM sqlite_master",
    "SELECT * FROM sqlite_master",
    "SELECT * FROM information_schema.tables",
    "SELECT * FROM pg_catalog.pg_user",
    "SELECT * FROM mysql.user",
    "SELECT * FROM main.users",
    "SELECT email FROM vw_customers",  # a personal column the auditor may not read
    "SELECT username AS email FROM vw_customers WHERE email LIKE 'a%'",
    "SELECT username FROM vw_customers GROUP BY username HAVING MAX(phone) > '0'",
    "SELECT username FROM vw_customers WHERE username = :x",
    # locks
    "SELECT * FROM vw_accounts FOR UPDATE",
    "SELECT * FROM vw_accounts LOCK IN SHARE MODE",
    # sleep, files, extensions, session state
    "SELECT load_extension('/tmp/evil.so')",
    "SELECT load_extension('x') FROM vw_customers",
    "SELECT pg_sleep(10) FROM vw_customers",
    "SELECT sleep(10) FROM vw_customers",
    "SELECT benchmark(100000000, md5('x')) FROM vw_customers",
    "SELECT pg_read_file('/etc/passwd') FROM vw_customers",
    "SELECT load_file('/etc/passwd') FROM vw_customers",
    "SELECT readfile('/etc/passwd') FROM vw_customers",
    "SELECT writefile('/tmp/x', 'y') FROM vw_customers",
    "SELECT * FROM vw_customers INTO OUTFILE '/tmp/x'",
    "SELECT lo_export(1, '/tmp/x') FROM vw_customers",
    "SELECT set_config('default_transaction_read_only', 'off', false) FROM vw_customers",
    "SELECT nextval('users_id_seq') FROM vw_customers",
    "SELECT pg_advisory_lock(1) FROM vw_customers",
    "SELECT dblink_exec('DROP TABLE users') FROM vw_customers",
    "SELECT @@version FROM vw_customers",
    "COPY users TO '/tmp/users.csv'",
    "PRAGMA query_only = OFF",
    "ATTACH DATABASE '/tmp/x.db' AS x",
    "EXPLAIN ANALYZE DELETE FROM users",
    "SHOW GRANTS",
    "SET GLOBAL read_only = 0",
    "CALL drop_everything()",
    "DO $$ BEGIN DELETE FROM users; END $$",
    "LOAD DATA INFILE '/etc/passwd' INTO TABLE users",
    "VALUES (1)",
    # injection through the English engine
    "show transactions for alice'; DROP TABLE users; --",
    "show transactions for alice' OR '1'='1",
    "show all transactions for robert'); DROP TABLE students;--",
    "transactions for alice; delete from users",
    "who changed bob's role' UNION SELECT password_hash FROM users --",
    # very long input
    "show transactions " * 400,
    "SELECT username FROM vw_customers WHERE username IN (" + ", ".join(["'a'"] * 3000) + ")",
    # a whole row as one value (PostgreSQL hands over every column of the view)
    "SELECT t FROM vw_customers t",
    "SELECT CAST(t AS TEXT) FROM vw_customers t",
    "SELECT (t.*)::text FROM vw_customers t",
    "SELECT vw_customers FROM vw_customers",
    "SELECT username FROM vw_customers t WHERE CAST(t AS TEXT) LIKE '%@%'",
    "SELECT x FROM (SELECT * FROM vw_customers) x",
    # JSON access to what the role may not read, and the unmasked audit states
    "SELECT json_extract(after_state, '$.email') FROM vw_audit_events",
    "SELECT json_extract(after_state, '$.role', '$.email') FROM vw_audit_events",
    "SELECT after_state ->> '$.email' FROM vw_audit_events",
    "SELECT after_state -> 'date_of_birth' FROM vw_audit_events",
    "SELECT CAST(after_state AS jsonb) ->> 'email' FROM vw_audit_events",
    "SELECT JSON_EXTRACT(after_state, '$.*') FROM vw_audit_events",
    "SELECT JSON_EXTRACT(after_state, '$**.email') FROM vw_audit_events",
    "SELECT json_extract(after_state, '$.\"em\\u0061il\"') FROM vw_audit_events",
    "SELECT after_state_unmasked FROM vw_audit_events",
    "SELECT id FROM vw_audit_events WHERE before_state_unmasked LIKE '%@%'",
    # values built far larger than what is read, text aggregated over a cross join
    "SELECT length(replace(printf('%.*c', 100000000, 'x'), 'x', 'yy')) FROM vw_customers",
    "SELECT printf('%.999999999c', 'x') FROM vw_customers",
    "SELECT printf(username, 1) FROM vw_customers",
    "SELECT lpad('x', 1000000000, 'y') FROM vw_customers",
    "SELECT rpad(username, 2000000000) FROM vw_customers",
    "SELECT replace(username, 'a', username) FROM vw_customers",
    "SELECT replace(replace(replace(username, 'a', 'aaaa'), 'a', 'aaaa'), 'a', 'aaaa') "
    "FROM vw_customers",
    "SELECT CAST(username AS CHAR(10000000)) FROM vw_customers",
    "SELECT group_concat(a.description) FROM vw_transactions a, vw_transactions b",
    "SELECT string_agg(description, ',') FROM vw_transactions",
    "SELECT " + " || ".join(["description"] * 40) + " FROM vw_transactions",
    # slow: a cross join that would run for minutes, stopped at the time limit
    "SELECT COUNT(*) FROM "
    + ", ".join(f"vw_transactions t{i}" for i in range(8))
    + " WHERE t0.description LIKE '%x%' OR t7.amount > 0",
]
# Inputs that pass the gate but must stop at the time limit (or finish within it).
SLOW = [h for h in HOSTILE if h.startswith("SELECT COUNT(*) FROM vw_transactions t0")]
TIME_LIMIT = 2.0
MARGIN = 3.0  # seconds a loaded machine may add to answering a question cut at the limit


def _engine(database: Database, tmp_path: Path) -> LedgerGPT:
    url = database.engine.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url, data_dir=tmp_path, query_timeout_seconds=TIME_LIMIT)
    return LedgerGPT(database, settings, clock=lambda: NOW)


def _personal_record(database: Database, bank: SmallBank) -> None:
    """An audit record as identity wrote them before 0010: with an email and a birth date."""
    database.write(
        lambda conn: audit.record(
            conn,
            actor_id=bank.users["admin"],
            action="user.legacy_created",
            entity_type="user",
            entity_id=bank.users["alice"],
            before={"email": "old-alice@example.com", "phone": "+1 555 0199"},
            after={"email": "alice@example.com", "date_of_birth": "1990-05-17", "role": "customer"},
        )
    )
    for params in (  # a four-eyes proposal to create staff carries its details under `params`
        {"username": "newstaff", "email": "new.staff@example.com", "role": "auditor"},
        ["not", "an", "object"],
    ):
        database.write(
            lambda conn, p=params: audit.record(
                conn,
                actor_id=bank.users["admin"],
                action="approval.legacy_proposed",
                entity_type="approval",
                after={"action": "create_user", "params": p},
            )
        )


def _personal_values(database: Database) -> set[str]:
    with database.read() as conn:
        found = {
            str(value)
            for row in conn.execute(text("SELECT email, phone, date_of_birth FROM users"))
            for value in row
            if value
        }
    return found | {"old-alice@example.com", "+1 555 0199", "1990-05-17", "new.staff@example.com"}


def _leaks(rows: list[list[Any]], values: set[str]) -> set[str]:
    shown = " ".join(str(value) for row in rows for value in row)
    return {value for value in values if value in shown}


def test_the_corpus_is_large_enough() -> None:
    assert len(HOSTILE) >= 50


def test_no_hostile_input_runs_anything_but_a_safe_select(
    database: Database, tmp_path: Path
) -> None:
    bank = build(database)
    _personal_record(database, bank)
    with database.read() as conn:
        secrets = {
            value
            for row in conn.execute(text("SELECT password_hash, pin_hash FROM users"))
            for value in row
            if value
        }
    personal = _personal_values(database)
    before = snapshot(database)
    first_audit = last_audit_id(database)
    engine = _engine(database, tmp_path)
    asker = Asker(bank.users["auditor"], "auditor", Role.AUDITOR)
    answered = []
    try:
        for hostile in HOSTILE:
            started = time.monotonic()
            try:
                answer = engine.ask(hostile, asker)
            except (
                errors.UnsafeQuery,
                errors.NotUnderstood,
                errors.QueryFailed,
                errors.QueryTimeout,
                errors.ResultTooLarge,
            ):
                assert time.monotonic() - started < TIME_LIMIT + MARGIN, hostile
                continue
            assert time.monotonic() - started < TIME_LIMIT + MARGIN, hostile
            answered.append(hostile)
            assert answer.sql.upper().startswith(("SELECT", "WITH")), hostile
            assert " LIMIT " in answer.sql.upper(), hostile
            shown = {str(value) for row in answer.rows for value in row}
            assert not shown & secrets, hostile
            assert not _leaks(answer.rows, personal), hostile
            assert "password_hash" not in answer.columns
            assert "email" not in answer.columns
    finally:
        engine.close()
    assert snapshot(database) == before
    with database.read() as conn:
        actions = conn.execute(
            text("SELECT action FROM audit_log WHERE id > :id"), {"id": first_audit}
        ).scalars()
        assert set(actions) == {"ledgergpt.asked"}
        decisions = [
            json.loads(after)["decision"]
            for after in conn.execute(
                text("SELECT after FROM audit_log WHERE id > :id"), {"id": first_audit}
            ).scalars()
        ]
    assert len(decisions) == len(HOSTILE)
    # Only the harmless ones got through (a comment dropped, a limit clamped, a slow count
    # that finished within the limit; on MySQL `||` is OR and '\u' in a string is 'u', so
    # those two read nothing hidden there).
    harmless = {
        "SELECT * FROM vw_customers -- ; DROP TABLE users",
        "SELECT * FROM vw_customers /* ; DELETE FROM users */",
        "SELECT 1 /*!50000 , (SELECT password_hash FROM users LIMIT 1) */ FROM vw_customers",
        *SLOW,
    }
    if database.dialect == "mysql":
        harmless |= {h for h in HOSTILE if " || description" in h or "\\u0061" in h}
    assert set(answered) <= harmless


def test_every_question_is_audited_with_its_decision(database: Database, tmp_path: Path) -> None:
    bank = build(database)
    engine = _engine(database, tmp_path)
    asker = Asker(bank.users["auditor"], "auditor", Role.AUDITOR)
    first = last_audit_id(database)
    try:
        answer = engine.ask("which accounts are frozen", asker)
        with pytest.raises(errors.NotUnderstood):
            engine.ask("what is the meaning of life", asker)
        with pytest.raises(errors.UnsafeQuery):
            engine.ask("DELETE FROM users", asker)
    finally:
        engine.close()
    assert answer.row_count == 1
    with database.read() as conn:
        rows = conn.execute(
            text("SELECT actor_id, action, after FROM audit_log WHERE id > :id ORDER BY id"),
            {"id": first},
        ).all()
    records = [json.loads(row.after) for row in rows]
    assert [row.actor_id for row in rows] == [bank.users["auditor"]] * 3
    assert [r["decision"] for r in records] == ["answered", "not_understood", "refused"]
    assert records[0]["question"] == "which accounts are frozen"
    assert records[0]["row_count"] == 1
    assert "vw_accounts" in records[0]["sql"]
    assert records[2]["sql"] == "DELETE FROM users"


def test_the_row_limit_is_added_and_clamped() -> None:
    readable = allowlist.readable_views(Role.ADMIN)
    checked = gate.check(
        "SELECT id FROM vw_transactions", dialect="sqlite", readable=readable, row_limit=50,
    )  # fmt: skip
    assert checked.sql.endswith("LIMIT 50")
    clamped = gate.check(
        "SELECT id FROM vw_transactions LIMIT 100000",
        dialect="postgresql",
        readable=readable,
        row_limit=50,
    )
    assert clamped.sql.endswith("LIMIT 50")
    kept = gate.check(
        "SELECT id FROM vw_transactions LIMIT 7", dialect="mysql", readable=readable, row_limit=50,
    )  # fmt: skip
    assert kept.sql.endswith("LIMIT 7")


def test_stars_expand_to_the_columns_the_role_may_read() -> None:
    checked = gate.check(
        "SELECT * FROM vw_customers",
        dialect="sqlite",
        readable=allowlist.readable_views(Role.AUDITOR),
        row_limit=10,
    )
    assert "email" not in checked.sql
    assert "username" in checked.sql


def test_the_connection_itself_is_read_only(database: Database) -> None:
    build(database)
    before = snapshot(database)
    runner = ReadOnlyRunner(database.engine.url.render_as_string(hide_password=False))
    try:
        for write in (
            "DELETE FROM transactions",
            "UPDATE accounts SET balance = 0",
            "CREATE TABLE stolen (x INTEGER)",
            "UPDATE users SET full_name = 'owned'",
            "DROP VIEW vw_customers",
        ):
            with pytest.raises(Exception) as refused:  # noqa: PT011 - each database words it its own way
                runner.execute_unchecked(write)
            assert "read" in str(refused.value).lower() or "denied" in str(refused.value).lower()
    finally:
        runner.dispose()
    assert snapshot(database) == before


def test_a_slow_statement_is_stopped_at_the_time_limit(database: Database) -> None:
    runner = ReadOnlyRunner(database.engine.url.render_as_string(hide_password=False))
    slow = {
        "sqlite": "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
        "SELECT COUNT(*) FROM r",
        "postgresql": "SELECT pg_sleep(30)",
        "mysql": "SELECT SLEEP(30)",
    }["mysql" if database.dialect == "mariadb" else database.dialect]
    query = gate.CheckedQuery(sql=slow, template=slow, views=(), row_limit=10)
    try:
        with pytest.raises(errors.QueryTimeout):
            runner.run(query, {}, timeout_seconds=0.3)
    finally:
        runner.dispose()


def test_audit_states_are_masked_for_roles_without_personal_data(
    database: Database, tmp_path: Path
) -> None:
    bank = build(database)
    _personal_record(database, bank)
    engine = _engine(database, tmp_path)
    wanted = "FROM vw_audit_events WHERE action = 'user.legacy_created'"
    try:
        auditor = Asker(bank.users["auditor"], "auditor", Role.AUDITOR)
        seen = engine.ask(f"SELECT before_state, after_state {wanted}", auditor)
        (before, after) = seen.rows[0]
        assert json.loads(after) == {
            "date_of_birth": "[personal]", "email": "[personal]", "role": "customer"
        }  # fmt: skip
        assert json.loads(before) == {"email": "[personal]", "phone": "[personal]"}
        proposals = engine.ask(
            "SELECT after_state FROM vw_audit_events WHERE action = 'approval.legacy_proposed' "
            "ORDER BY id",
            auditor,
        ).rows
        assert [json.loads(row[0])["params"] for row in proposals] == [
            {"username": "newstaff", "email": "[personal]", "role": "auditor"},
            ["not", "an", "object"],
        ]
        for refused in (
            f"SELECT after_state_unmasked {wanted}",
            f"SELECT json_extract(after_state, '$.email') {wanted}",
        ):
            with pytest.raises(errors.UnsafeQuery):
                engine.ask(refused, auditor)
        for role in (Role.ADMIN, Role.COMPLIANCE_OFFICER):
            staff = Asker(bank.users[role.value], role.value, role)
            (row,) = engine.ask(f"SELECT after_state_unmasked {wanted}", staff).rows
            assert json.loads(row[0])["email"] == "alice@example.com"
            masked = engine.ask(f"SELECT after_state {wanted}", staff).rows
            assert json.loads(masked[0][0])["email"] == "[personal]"
    finally:
        engine.close()


def test_four_slow_questions_at_once_each_stop_at_the_limit(
    database: Database, tmp_path: Path
) -> None:
    """The first round's four concurrent runaway statements: each answer (or refusal) comes
    within the limit, waiting for a free slot included; two run at a time."""
    bank = build(database)
    engine = _engine(database, tmp_path)
    asker = Asker(bank.users["auditor"], "auditor", Role.AUDITOR)
    took: list[float] = []
    outcomes: list[str] = []

    def ask() -> None:
        started = time.monotonic()
        try:
            engine.ask(SLOW[0], asker)
            outcomes.append("answered")
        except errors.QueryTimeout:
            outcomes.append("timed_out")
        took.append(time.monotonic() - started)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    started = time.monotonic()
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        engine.close()
    assert len(took) == 4
    assert max(took) < TIME_LIMIT + MARGIN, took
    assert time.monotonic() - started < TIME_LIMIT + MARGIN
    assert "timed_out" in outcomes


def test_sqlite_refuses_to_build_a_huge_value_in_one_step(tmp_path: Path) -> None:
    """Whatever gets past the gate, SQLite stops a value at the runner's length limit: a
    value grown a hundredfold three times over would otherwise be built in a few steps, each
    too long for the progress handler to cut. (printf() with a huge width spends seconds in
    one step even under the limit: the gate refuses such widths.)"""
    path = tmp_path / "values.db"
    database = Database.from_url(f"sqlite:///{path}")
    database.write(lambda conn: conn.exec_driver_sql("CREATE TABLE t (x INTEGER)"))
    database.write(lambda conn: conn.exec_driver_sql("INSERT INTO t VALUES (1), (2), (3)"))
    runner = ReadOnlyRunner(f"sqlite:///{path}")
    grow = "replace(replace(printf('%.100c', 'x'), 'x', printf('%.100c', 'y')), 'y', {})"
    huge = "SELECT length(" + grow.format("printf('%.100c%.100c', 'z', 'z')") + ") FROM t"
    query = gate.CheckedQuery(sql=huge, template=huge, views=(), row_limit=10)
    try:
        started = time.monotonic()
        with pytest.raises(errors.ResultTooLarge):
            runner.run(query, {}, timeout_seconds=TIME_LIMIT)
        assert time.monotonic() - started < 1.0
        fine = "SELECT length(printf('%.1000c', 'x')) FROM t"
        rows = runner.run(
            gate.CheckedQuery(sql=fine, template=fine, views=(), row_limit=10),
            {},
            timeout_seconds=TIME_LIMIT,
        )
        assert rows.rows == [(1000,), (1000,), (1000,)]
    finally:
        runner.dispose()
        database.dispose()


def test_an_answer_too_large_is_stopped_and_the_runner_goes_on(database: Database) -> None:
    build(database)
    url = database.engine.url.render_as_string(hide_password=False)
    runner = ReadOnlyRunner(url, max_result_bytes=2_000)
    wide = (
        "SELECT a.description, b.description FROM vw_transactions a, vw_transactions b, "
        "vw_transactions c"
    )
    small = "SELECT COUNT(*) FROM vw_transactions"
    try:
        with pytest.raises(errors.ResultTooLarge):
            runner.run(
                gate.CheckedQuery(sql=wide, template=wide, views=(), row_limit=1_000),
                {},
                timeout_seconds=TIME_LIMIT,
            )
        for _ in range(3):  # every pooled connection still answers
            rows = runner.run(
                gate.CheckedQuery(sql=small, template=small, views=(), row_limit=10),
                {},
                timeout_seconds=TIME_LIMIT,
            )
            assert rows.rows[0][0] > 0
    finally:
        runner.dispose()
