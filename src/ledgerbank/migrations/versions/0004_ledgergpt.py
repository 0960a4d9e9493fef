"""ledgergpt: the views LedgerGPT may read

Revision ID: 0004
Revises: 0003

Every view hides secrets (no password or PIN hash, no lockout counters). Amounts appear twice:
`*_minor` in exact integer minor units, and as a decimal in major units rounded to the
currency's exponent (exact NUMERIC/DECIMAL on PostgreSQL and MySQL, REAL on SQLite).
`vw_transactions` carries the risk screen's score and verdict (0002's `risk_scores`).
"""

from __future__ import annotations

from alembic import op

from ledgerbank.kit.money import EXPONENTS
from ledgerbank.migrations.ddl import create_view, drop_view

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _dialect() -> str:
    return op.get_bind().dialect.name


def _major(column: str, currency: str) -> str:
    """`column` (minor units) as a decimal of major units, per the currency's exponent."""
    by_places: dict[int, list[str]] = {}
    for code, places in sorted(EXPONENTS.items()):
        by_places.setdefault(places, []).append(code)
    whens = []
    for places, codes in sorted(by_places.items()):
        if places == 2:
            continue
        listed = ", ".join(f"'{code}'" for code in codes)
        whens.append(f"WHEN {currency} IN ({listed}) THEN {_divide(column, places)}")
    return f"CASE {' '.join(whens)} ELSE {_divide(column, 2)} END"


def _divide(column: str, places: int) -> str:
    if places == 0:
        return f"CAST({column} AS {'REAL' if _dialect() == 'sqlite' else 'DECIMAL(20, 0)'})"
    if _dialect() == "mysql":
        return f"ROUND({column} / {10**places}, {places})"
    return f"ROUND({column} / {10**places}.0, {places})"


def _id_matches(alias: str, entity_type: str) -> str:
    """Join an audit record's string `entity_id` to a numeric id, using the id's index."""
    if _dialect() == "postgresql":
        return f"l.entity_type = '{entity_type}' AND l.entity_id = CAST({alias}.id AS VARCHAR)"
    integer = "SIGNED" if _dialect() == "mysql" else "INTEGER"
    return (
        f"{alias}.id = CASE WHEN l.entity_type = '{entity_type}' "
        f"THEN CAST(l.entity_id AS {integer}) END"
    )


def _quote(name: str) -> str:
    """`before` is a reserved word on MySQL/MariaDB."""
    return f"`{name}`" if _dialect() == "mysql" else f'"{name}"'


def views() -> dict[str, str]:
    return {
        # Customers and staff, without secrets: no password or PIN hash, no lockout state.
        "vw_customers": """
            SELECT u.id AS id, u.username AS username, u.full_name AS full_name,
                   u.email AS email, u.phone AS phone, u.date_of_birth AS date_of_birth,
                   u.role AS role, u.kyc_status AS kyc_status, u.is_active AS is_active,
                   u.created_at AS created_at
            FROM users u
        """,
        # Customer accounts (not the bank's internal ones) with their owner.
        "vw_accounts": f"""
            SELECT a.id AS id, a.account_number AS account_number, a.owner_id AS owner_id,
                   u.username AS username, u.full_name AS full_name,
                   a.account_type AS account_type, a.currency AS currency,
                   {_major("a.balance", "a.currency")} AS balance, a.balance AS balance_minor,
                   {_major("a.overdraft_limit", "a.currency")} AS overdraft_limit,
                   a.status AS status, a.status_reason AS status_reason,
                   a.created_at AS created_at, a.updated_at AS updated_at
            FROM accounts a JOIN users u ON u.id = a.owner_id
            WHERE a.is_internal = 0
        """,
        "vw_transactions": f"""
            SELECT t.id AS id, t.type AS type, t.status AS status,
                   {_major("t.amount", "t.currency")} AS amount, t.amount AS amount_minor,
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
            LEFT JOIN risk_scores rs ON rs.transaction_id = t.id
        """,
        # Fraud and AML alerts (from the risk screen) with the account and its owner.
        "vw_alerts": """
            SELECT al.id AS id, al.queue AS queue, al.transaction_id AS transaction_id,
                   aa.account_number AS account_number, au.username AS username,
                   al.rule_id AS rule_id, al.severity AS severity, al.status AS status,
                   al.score AS score, al.verdict AS verdict, al.summary AS summary,
                   al.hits AS hits, su.username AS assigned_to, al.resolution AS resolution,
                   ru.username AS resolved_by, al.resolved_at AS resolved_at,
                   al.created_at AS created_at
            FROM risk_alerts al
            LEFT JOIN accounts aa ON aa.id = al.account_id
            LEFT JOIN users au ON au.id = aa.owner_id
            LEFT JOIN users su ON su.id = al.assigned_to
            LEFT JOIN users ru ON ru.id = al.resolved_by
        """,
        # The audit trail with names: who acted, and whose user or account it was about.
        "vw_audit_events": f"""
            SELECT l.id AS id, l.created_at AS created_at, l.actor_id AS actor_id,
                   au.username AS actor_username, au.role AS actor_role,
                   l.action AS action, l.entity_type AS entity_type, l.entity_id AS entity_id,
                   COALESCE(su.username, ou.username) AS subject_username,
                   l.{_quote("before")} AS before_state, l.{_quote("after")} AS after_state,
                   l.request_id AS request_id
            FROM audit_log l
            LEFT JOIN users au ON au.id = l.actor_id
            LEFT JOIN users su ON {_id_matches("su", "user")}
            LEFT JOIN accounts sa ON {_id_matches("sa", "account")}
            LEFT JOIN users ou ON ou.id = sa.owner_id
        """,
    }


def upgrade() -> None:
    for name, select_sql in views().items():
        create_view(name, select_sql)


def downgrade() -> None:
    for name in ("vw_alerts", "vw_audit_events", "vw_transactions", "vw_accounts", "vw_customers"):
        drop_view(name)
