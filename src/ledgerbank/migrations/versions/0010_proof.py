"""proof: guards on transactions and the risk tables, signed audit checkpoints, ledger verifications

Revision ID: 0010
Revises: 0009

- `transactions` refuses every UPDATE but one: a posted transaction's status becoming
  `reversed`, nothing else changing, once its reversal (a `reversal` row whose `reverses_id` is
  its id) exists, i.e. the reversal is inserted first in the same database transaction.
- `risk_scores` gets an id of its own and an `origin` (`posting`: the screen at posting time,
  `rescore`: `ledgerbank risk score`, `migrated`: rows older than this migration) and becomes
  append-only: rescoring appends a newer row and readers take the newest per transaction (the
  views below do). The rows that predate this migration are pinned by one audit record
  (`risk.scores_migrated`: their ids and a digest). `risk_alert_actions` (the case notes) is
  append-only too.
- `audit_checkpoints`: signed statements of the audit chain's head (`ledgerbank audit
  checkpoint`); `ledger_verifications`: how far `ledgerbank ledger verify` got and the digest
  of what it verified. Both append-only.
- `entries` gets an index on (account_id, id): `ledger verify` follows balance_after chains.
- `vw_audit_events` masks personal data (email, phone, date of birth) in `before_state` and
  `after_state`; the unmasked states are separate columns LedgerGPT grants only to roles that
  may read personal data.
"""

from __future__ import annotations

import importlib
from typing import Any

import sqlalchemy as sa
from alembic import op

from ledgerbank.kit.db import UTCDateTime
from ledgerbank.migrations.ddl import allow_changes, create_view, drop_view, refuse_changes

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
GUARD_MESSAGE = (
    "UPDATE on transactions is refused: only a reversal may mark a posted transaction "
    "reversed, once the reversal is written"
)
# Every column of `transactions` but `status`: the one allowed update must leave them as they were.
TRANSACTION_COLUMNS = (
    "id", "type", "amount", "currency", "from_account_id", "to_account_id", "description",
    "reverses_id", "external_id", "batch_id", "initiated_by", "created_at",
)  # fmt: skip
PERSONAL_KEYS = ("email", "phone", "date_of_birth")
MASK = "[personal]"
APPEND_ONLY = ("risk_scores", "risk_alert_actions", "audit_checkpoints", "ledger_verifications")


def _dialect() -> str:
    return op.get_bind().dialect.name


def upgrade() -> None:
    _guard_transactions()
    op.create_index("ix_entries_account_id", "entries", ["account_id", "id"])
    drop_view("vw_flagged_transactions")
    drop_view("vw_transactions")
    _scores_get_an_id()
    op.add_column(
        "risk_scores",
        sa.Column("origin", sa.String(length=8), server_default="posting", nullable=False),
    )
    op.execute("UPDATE risk_scores SET origin = 'migrated'")
    _pin_migrated_scores()
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("audit_id", BigId, nullable=False),
        sa.Column("chain_hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )
    op.create_index("ix_audit_checkpoints_position", "audit_checkpoints", ["position"])
    op.create_table(
        "ledger_verifications",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("chain_position", sa.BigInteger(), nullable=False),
        sa.Column("chain_hash", sa.String(length=64), nullable=False),
        sa.Column("transactions", sa.BigInteger(), nullable=False),
        sa.Column("entries", sa.BigInteger(), nullable=False),
        sa.Column("scores", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("full_run", sa.Boolean(), nullable=False),
        sa.Column("checked", sa.BigInteger(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_verifications")),
    )
    for table in APPEND_ONLY:
        refuse_changes(table)
    defined = views()
    for name in ("vw_transactions", "vw_flagged_transactions", "vw_audit_events"):
        if name == "vw_audit_events":
            drop_view(name)
        create_view(name, defined[name])


def downgrade() -> None:
    for name in ("vw_audit_events", "vw_flagged_transactions", "vw_transactions"):
        drop_view(name)
    for table in APPEND_ONLY:
        allow_changes(table)
    op.drop_table("ledger_verifications")
    op.drop_index("ix_audit_checkpoints_position", table_name="audit_checkpoints")
    op.drop_table("audit_checkpoints")
    # Back to one score per transaction: the newest one stays.
    op.execute(
        "DELETE FROM risk_scores WHERE id NOT IN "
        "(SELECT newest FROM (SELECT MAX(id) AS newest FROM risk_scores "
        "GROUP BY transaction_id) kept)"
    )
    if _dialect() != "sqlite":
        op.drop_column("risk_scores", "origin")
    _scores_lose_their_id()
    _unguard_transactions()
    op.drop_index("ix_entries_account_id", table_name="entries")
    ledgergpt = importlib.import_module("ledgerbank.migrations.versions.0004_ledgergpt")
    for name in ("vw_transactions", "vw_audit_events"):
        create_view(name, ledgergpt.views()[name])
    flags = importlib.import_module("ledgerbank.migrations.versions.0007_flagged_view_flags")
    create_view("vw_flagged_transactions", flags.FLAGGED)


# --- the transactions guard ---------------------------------------------------------------


def _guard_transactions() -> None:
    dialect = _dialect()
    reversal_written = (
        "EXISTS (SELECT 1 FROM transactions r "
        "WHERE r.reverses_id = OLD.id AND r.type = 'reversal' AND r.status = 'posted')"
    )
    if dialect == "postgresql":
        # Every column but status compared at once, so columns added later are covered too.
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION ledgerbank_transactions_guard() RETURNS trigger AS $$
            BEGIN
                IF OLD.status = 'posted' AND NEW.status = 'reversed'
                   AND (to_jsonb(NEW) - 'status') = (to_jsonb(OLD) - 'status')
                   AND {reversal_written} THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION '{GUARD_MESSAGE}'
                    USING ERRCODE = 'integrity_constraint_violation';
            END
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER transactions_guard_update BEFORE UPDATE ON transactions "
            "FOR EACH ROW EXECUTE FUNCTION ledgerbank_transactions_guard()"
        )
        return
    if dialect == "sqlite":
        same = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in TRANSACTION_COLUMNS)
        op.execute(
            "CREATE TRIGGER transactions_guard_update BEFORE UPDATE ON transactions "
            f"WHEN NOT (OLD.status = 'posted' AND NEW.status = 'reversed' AND {same} "
            f"AND {reversal_written}) "
            f"BEGIN SELECT RAISE(ABORT, '{GUARD_MESSAGE}'); END"
        )
        return
    same = " AND ".join(f"NEW.{c} <=> OLD.{c}" for c in TRANSACTION_COLUMNS)
    op.execute(
        "CREATE TRIGGER transactions_guard_update BEFORE UPDATE ON transactions FOR EACH ROW "
        f"BEGIN IF NOT (OLD.status = 'posted' AND NEW.status = 'reversed' AND {same} "
        f"AND {reversal_written}) THEN "
        f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{GUARD_MESSAGE}'; END IF; END"
    )


def _unguard_transactions() -> None:
    if _dialect() == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS transactions_guard_update ON transactions")
        op.execute("DROP FUNCTION IF EXISTS ledgerbank_transactions_guard()")
    else:
        op.execute("DROP TRIGGER IF EXISTS transactions_guard_update")


# --- risk_scores: one row per scoring, not per transaction ----------------------------------


def _scores_get_an_id() -> None:
    dialect = _dialect()
    if dialect == "postgresql":
        op.execute("ALTER TABLE risk_scores DROP CONSTRAINT pk_risk_scores")
        op.execute("ALTER TABLE risk_scores ADD COLUMN id BIGSERIAL NOT NULL")
        op.execute("ALTER TABLE risk_scores ADD CONSTRAINT pk_risk_scores PRIMARY KEY (id)")
    elif dialect == "mysql":
        # The foreign key needs an index on transaction_id before the primary key goes.
        op.execute(
            "ALTER TABLE risk_scores ADD INDEX ix_risk_scores_transaction (transaction_id, id), "
            "DROP PRIMARY KEY, ADD COLUMN id BIGINT NOT NULL AUTO_INCREMENT FIRST, "
            "ADD PRIMARY KEY (id)"
        )
        return
    else:
        _rebuild_scores(with_id=True)
    op.create_index("ix_risk_scores_transaction", "risk_scores", ["transaction_id", "id"])


def _scores_lose_their_id() -> None:
    dialect = _dialect()
    if dialect == "postgresql":
        op.drop_index("ix_risk_scores_transaction", table_name="risk_scores")
        op.execute("ALTER TABLE risk_scores DROP CONSTRAINT pk_risk_scores")
        op.execute("ALTER TABLE risk_scores DROP COLUMN id")
        op.execute(
            "ALTER TABLE risk_scores ADD CONSTRAINT pk_risk_scores PRIMARY KEY (transaction_id)"
        )
    elif dialect == "mysql":
        op.execute(
            "ALTER TABLE risk_scores DROP PRIMARY KEY, DROP COLUMN id, "
            "ADD PRIMARY KEY (transaction_id), DROP INDEX ix_risk_scores_transaction"
        )
    else:
        _rebuild_scores(with_id=False)


def _rebuild_scores(*, with_id: bool) -> None:
    """SQLite cannot change a primary key in place: copy the rows into a new table."""
    columns: list[sa.Column[Any]] = [
        sa.Column("transaction_id", BigId, autoincrement=False, nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("verdict", sa.String(length=10), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("scored_at", UTCDateTime(), nullable=False),
    ]
    key = "id" if with_id else "transaction_id"
    if with_id:
        columns.insert(0, sa.Column("id", BigId, autoincrement=True, nullable=False))
    op.create_table(
        "risk_scores_next",
        *columns,
        sa.CheckConstraint("score >= 0 AND score <= 1", name="ck_risk_scores_score_in_range"),
        sa.CheckConstraint(
            "verdict IN ('SAFE', 'SUSPICIOUS', 'CRITICAL')", name="ck_risk_scores_verdict_known"
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name="fk_risk_scores_transaction_id_transactions",
        ),
        sa.PrimaryKeyConstraint(key, name="pk_risk_scores"),
    )
    names = "transaction_id, score, verdict, reasons, model_version, scored_at"
    op.execute(
        f"INSERT INTO risk_scores_next ({names}) SELECT {names} FROM risk_scores "
        "ORDER BY scored_at, transaction_id"
    )
    op.drop_table("risk_scores")
    op.rename_table("risk_scores_next", "risk_scores")
    op.create_index("ix_risk_scores_verdict_scored", "risk_scores", ["verdict", "scored_at"])


def _pin_migrated_scores() -> None:
    """One audit record naming every score row older than this migration, with a digest."""
    from ledgerbank.audit import service as audit
    from ledgerbank.ledger import evidence

    scores = sa.table(
        "risk_scores",
        sa.column("id", sa.BigInteger()),
        sa.column("transaction_id", sa.BigInteger()),
        sa.column("score", sa.Double()),
        sa.column("verdict", sa.String()),
        sa.column("reasons", sa.Text()),
        sa.column("model_version", sa.String()),
        sa.column("scored_at", UTCDateTime()),
        sa.column("origin", sa.String()),
    )
    names = "actor_id action entity_type entity_id before after request_id created_at row_hash"
    audit_log = sa.table(
        "audit_log",
        *(sa.column(n, UTCDateTime() if n == "created_at" else None) for n in names.split()),
    )
    conn = op.get_bind()
    rows = list(conn.execute(sa.select(scores).order_by(scores.c.id)).mappings())
    if not rows:
        return
    conn.execute(
        sa.insert(audit_log),
        audit.prepare(
            actor_id=None,
            action=evidence.SCORES_MIGRATED,
            entity_type="risk_scores",
            after={
                "ids": evidence.id_runs([int(row["id"]) for row in rows]),
                "count": len(rows),
                "sha256": evidence.score_rows_digest(rows),
            },
        ),
    )


# --- views -------------------------------------------------------------------------------


def newest_score(alias: str, transaction_id: str) -> str:
    """Join condition: `alias` is the newest score row of the transaction."""
    return (
        f"{alias}.transaction_id = {transaction_id} AND NOT EXISTS (SELECT 1 FROM risk_scores n "
        f"WHERE n.transaction_id = {alias}.transaction_id AND n.id > {alias}.id)"
    )


def masked(column: str) -> str:
    """An audit state (JSON text) with the values of personal keys replaced by MASK, at the
    top level and under `params` (what a four-eyes proposal carries); JSON text without any
    of those keys comes back exactly as stored."""
    dialect = _dialect()
    paths = [(key,) for key in PERSONAL_KEYS] + [("params", key) for key in PERSONAL_KEYS]
    mentioned = " OR ".join(f"{column} LIKE '%\"{key}\"%'" for key in PERSONAL_KEYS)
    if dialect == "postgresql":
        top = f"CAST({column} AS jsonb)"
        for path in paths[: len(PERSONAL_KEYS)]:
            top = _jsonb_masked(top, path)
        nested = top
        for path in paths[len(PERSONAL_KEYS) :]:
            nested = _jsonb_masked(nested, path)
        # jsonb_set fails on a path through an array: `params` must be an object first.
        either = (
            f"CASE WHEN jsonb_typeof(CAST({column} AS jsonb) -> 'params') = 'object' "
            f"THEN {nested} ELSE {top} END"
        )
        return (
            f"CASE WHEN {column} IS NULL THEN NULL "
            f"WHEN {column} !~ '^[[:space:]]*[{{]' THEN {column} "
            f"WHEN {mentioned} THEN CAST({either} AS text) ELSE {column} END"
        )
    pairs = ", ".join(f"'$.{'.'.join(path)}', '{MASK}'" for path in paths)
    valid, replace = (
        ("json_valid", "json_replace") if dialect == "sqlite" else ("JSON_VALID", "JSON_REPLACE")
    )
    return (
        f"CASE WHEN NOT {valid}({column}) THEN {column} "
        f"WHEN {mentioned} THEN {replace}({column}, {pairs}) ELSE {column} END"
    )


def _jsonb_masked(value: str, path: tuple[str, ...]) -> str:
    """`value` with the key at `path` masked if it is there (create_missing false)."""
    return f"jsonb_set({value}, '{{{','.join(path)}}}', to_jsonb(CAST('{MASK}' AS text)), false)"


def views() -> dict[str, str]:
    """The views as this migration defines them (later migrations that recreate one use it)."""
    ledgergpt = importlib.import_module("ledgerbank.migrations.versions.0004_ledgergpt")
    flags = importlib.import_module("ledgerbank.migrations.versions.0007_flagged_view_flags")
    major, quote, id_matches = ledgergpt._major, ledgergpt._quote, ledgergpt._id_matches
    before, after = f"l.{quote('before')}", f"l.{quote('after')}"
    flagged = flags.FLAGGED.replace(
        "LEFT JOIN risk_scores s ON s.transaction_id = t.id",
        f"LEFT JOIN risk_scores s ON {newest_score('s', 't.id')}",
    )
    assert flagged != flags.FLAGGED
    return {
        "vw_transactions": f"""
            SELECT t.id AS id, t.type AS type, t.status AS status,
                   {major("t.amount", "t.currency")} AS amount, t.amount AS amount_minor,
                   t.currency AS currency,
                   t.from_account_id AS from_account_id, fa.account_number AS from_account_number,
                   fa.account_type AS from_account_type, fu.username AS from_username,
                   t.to_account_id AS to_account_id, ta.account_number AS to_account_number,
                   ta.account_type AS to_account_type, tu.username AS to_username,
                   t.description AS description, t.reverses_id AS reverses_id,
                   t.external_id AS external_id, t.batch_id AS batch_id,
                   t.initiated_by AS initiated_by_id, iu.username AS initiated_by,
                   t.created_at AS created_at,
                   rs.score AS risk_score, rs.verdict AS risk_verdict
            FROM transactions t
            LEFT JOIN accounts fa ON fa.id = t.from_account_id
            LEFT JOIN users fu ON fu.id = fa.owner_id
            LEFT JOIN accounts ta ON ta.id = t.to_account_id
            LEFT JOIN users tu ON tu.id = ta.owner_id
            LEFT JOIN users iu ON iu.id = t.initiated_by
            LEFT JOIN risk_scores rs ON {newest_score("rs", "t.id")}
        """,
        "vw_flagged_transactions": flagged,
        "vw_audit_events": f"""
            SELECT l.id AS id, l.created_at AS created_at, l.actor_id AS actor_id,
                   au.username AS actor_username, au.role AS actor_role,
                   l.action AS action, l.entity_type AS entity_type, l.entity_id AS entity_id,
                   COALESCE(su.username, ou.username) AS subject_username,
                   {masked(before)} AS before_state, {masked(after)} AS after_state,
                   l.request_id AS request_id,
                   {before} AS before_state_unmasked, {after} AS after_state_unmasked
            FROM audit_log l
            LEFT JOIN users au ON au.id = l.actor_id
            LEFT JOIN users su ON {id_matches("su", "user")}
            LEFT JOIN accounts sa ON {id_matches("sa", "account")}
            LEFT JOIN users ou ON ou.id = sa.owner_id
        """,
    }
