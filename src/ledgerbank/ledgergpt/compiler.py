"""Query plan -> one SELECT over the allowed views, for the active dialect, with every value
(names, amounts, dates) bound as a parameter and never written into the SQL text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledgerbank.ledgergpt.explanation import explain
from ledgerbank.ledgergpt.plan import (
    GroupKey,
    Metric,
    QueryPlan,
    SortKey,
    Subject,
)

# Where a plan's subject is read from.
VIEWS = {
    Subject.TRANSACTIONS: "vw_transactions",
    Subject.ACCOUNTS: "vw_accounts",
    Subject.CUSTOMERS: "vw_customers",
    Subject.AUDIT_EVENTS: "vw_audit_events",
    Subject.ALERTS: "vw_alerts",
    Subject.BALANCE_SHEET: "vw_balance_sheet",
    Subject.INTEGRITY: "vw_ledger_integrity_check",
}

_DATE_FORMATS = {
    "sqlite": {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"},
    "postgresql": {"day": "YYYY-MM-DD", "month": "YYYY-MM", "year": "YYYY"},
    "mysql": {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"},
}


def date_bucket(dialect: str, unit: str, column: str = "created_at") -> str:
    """`column` as text of one day, month or year: '2026-03', on every dialect."""
    fmt = _DATE_FORMATS[dialect][unit]
    if dialect == "sqlite":
        return f"STRFTIME('{fmt}', {column})"
    if dialect == "postgresql":
        return f"TO_CHAR({column}, '{fmt}')"
    return f"DATE_FORMAT({column}, '{fmt}')"


@dataclass(frozen=True)
class MoneyColumn:
    """A result column holding money: its currency comes from another column (or is fixed);
    `minor` when it is in integer minor units."""

    currency_column: str | None = "currency"
    minor: bool = False


@dataclass(frozen=True)
class CompiledQuery:
    sql: str
    params: dict[str, Any]
    explanation: str
    money: dict[str, MoneyColumn] = field(default_factory=dict)
    ordered: bool = False


@dataclass(frozen=True)
class _Shape:
    """How one subject is read: its columns for lists and how each grouping is written."""

    listing: tuple[str, ...]
    default_order: str
    by_amount: str
    by_date: str
    by_name: str
    measured: str | None  # the money column the figures are over
    groups: dict[GroupKey, tuple[str, str]]  # key -> (expression, alias)


def _shapes(dialect: str) -> dict[Subject, _Shape]:
    def bucket(unit: str) -> tuple[str, str]:
        return date_bucket(dialect, unit), unit

    dates = {GroupKey.DAY: bucket("day"), GroupKey.MONTH: bucket("month"),
             GroupKey.YEAR: bucket("year")}  # fmt: skip
    return {
        Subject.TRANSACTIONS: _Shape(
            listing=(
                "id",
                "created_at",
                "type",
                "status",
                "amount",
                "currency",
                "from_username",
                "from_account_number",
                "to_username",
                "to_account_number",
                "description",
                "risk_verdict",
            ),
            default_order="created_at DESC, id DESC",
            by_amount="amount {dir}, id {dir}",
            by_date="created_at {dir}, id {dir}",
            by_name="from_username {dir}, id",
            measured="amount",
            groups=dates
            | {
                GroupKey.TYPE: ("type", "type"),
                GroupKey.STATUS: ("status", "status"),
                GroupKey.CURRENCY: ("currency", "currency"),
                GroupKey.VERDICT: ("risk_verdict", "verdict"),
                GroupKey.CUSTOMER: ("COALESCE(from_username, to_username)", "customer"),
                GroupKey.ACCOUNT: (
                    "COALESCE(from_account_number, to_account_number)",
                    "account_number",
                ),
                GroupKey.ACCOUNT_TYPE: (
                    "COALESCE(from_account_type, to_account_type)",
                    "account_type",
                ),
                GroupKey.SENDER: ("from_username", "customer"),
                GroupKey.RECIPIENT: ("to_username", "customer"),
            },
        ),
        Subject.ACCOUNTS: _Shape(
            listing=(
                "account_number",
                "username",
                "full_name",
                "account_type",
                "currency",
                "balance",
                "status",
                "created_at",
            ),
            default_order="username, account_number",
            by_amount="balance {dir}, account_number",
            by_date="created_at {dir}, account_number",
            by_name="username {dir}, account_number",
            measured="balance",
            groups=dates
            | {
                GroupKey.CUSTOMER: ("username", "customer"),
                GroupKey.ACCOUNT_TYPE: ("account_type", "account_type"),
                GroupKey.STATUS: ("status", "status"),
                GroupKey.CURRENCY: ("currency", "currency"),
            },
        ),
        Subject.CUSTOMERS: _Shape(
            listing=(
                "username",
                "full_name",
                "email",
                "phone",
                "role",
                "kyc_status",
                "is_active",
                "created_at",
            ),
            default_order="username",
            by_amount="username",
            by_date="created_at {dir}, username",
            by_name="username {dir}",
            measured=None,
            groups=dates
            | {GroupKey.ROLE: ("role", "role"), GroupKey.KYC: ("kyc_status", "kyc_status")},
        ),
        Subject.ALERTS: _Shape(
            listing=(
                "id",
                "created_at",
                "queue",
                "severity",
                "status",
                "rule_id",
                "username",
                "account_number",
                "transaction_id",
                "verdict",
                "summary",
                "assigned_to",
                "resolution",
            ),
            default_order="created_at DESC, id DESC",
            by_amount="score {dir}, id {dir}",
            by_date="created_at {dir}, id {dir}",
            by_name="username {dir}, id",
            measured=None,
            groups=dates
            | {
                GroupKey.STATUS: ("status", "status"),
                GroupKey.QUEUE: ("queue", "queue"),
                GroupKey.SEVERITY: ("severity", "severity"),
                GroupKey.RULE: ("rule_id", "rule_id"),
                GroupKey.CUSTOMER: ("username", "customer"),
            },
        ),
        Subject.AUDIT_EVENTS: _Shape(
            listing=(
                "created_at",
                "actor_username",
                "action",
                "entity_type",
                "entity_id",
                "subject_username",
                "before_state",
                "after_state",
            ),
            default_order="created_at DESC, id DESC",
            by_amount="created_at DESC, id DESC",
            by_date="created_at {dir}, id {dir}",
            by_name="actor_username {dir}, id",
            measured=None,
            groups=dates
            | {
                GroupKey.ACTION: ("action", "action"),
                GroupKey.ACTOR: ("actor_username", "actor"),
            },
        ),
    }


class _Params:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def bind(self, prefix: str, value: Any) -> str:
        name = f"{prefix}_{len([k for k in self.values if k.startswith(prefix + '_')])}"
        self.values[name] = value
        return f":{name}"

    def many(self, prefix: str, values: tuple[Any, ...]) -> str:
        return ", ".join(self.bind(prefix, value) for value in values)


def escape_like(text: str) -> str:
    """`text` as a literal inside a LIKE pattern written with ESCAPE '!'."""
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def compile_plan(
    plan: QueryPlan, *, dialect: str, readable: dict[str, frozenset[str]]
) -> CompiledQuery:
    """SQL for `plan` on `dialect`, reading only columns in `readable` (view -> columns)."""
    dialect = "mysql" if dialect == "mariadb" else dialect
    view = VIEWS[plan.subject]
    columns = readable.get(view, frozenset())
    if plan.subject in (Subject.BALANCE_SHEET, Subject.INTEGRITY):
        return _ledger_view(plan, view)
    shape = _shapes(dialect)[plan.subject]
    params = _Params()
    where = _filters(plan, params)
    money: dict[str, MoneyColumn] = {}
    notes: list[str] = []
    if plan.metric is None:
        select = [c for c in shape.listing if c in columns]
        if shape.measured in select:
            money[shape.measured] = MoneyColumn()
        order = shape.default_order
        if plan.order is not None:
            template = {
                SortKey.AMOUNT: shape.by_amount,
                SortKey.DATE: shape.by_date,
                SortKey.NAME: shape.by_name,
                SortKey.VALUE: shape.by_amount,
            }[plan.order.key]
            order = template.format(dir="DESC" if plan.order.descending else "ASC")
        group_sql = ""
    else:
        if (
            plan.subject is Subject.TRANSACTIONS
            and not plan.transaction_statuses
            and plan.metric is not None
        ):
            where.append("status = 'posted'")
            notes.append("figures count posted transactions only (not blocked or reversed)")
        keys = [shape.groups[key] for key in plan.group_by]
        for key, column in (
            (GroupKey.SENDER, "from_username"),
            (GroupKey.RECIPIENT, "to_username"),
        ):
            if key in plan.group_by:
                where.append(f"{column} IS NOT NULL")  # cash has no other party
        metric_sql, alias = _metric(plan.metric, shape.measured)
        by_currency = plan.metric is not Metric.COUNT and all(a != "currency" for _, a in keys)
        if by_currency:
            keys.append(("currency", "currency"))
        if alias != "count":
            money[alias] = MoneyColumn()
        select = [f"{expr} AS {name}" if expr != name else expr for expr, name in keys]
        select.append(f"{metric_sql} AS {alias}")
        group_sql = " GROUP BY " + ", ".join(expr for expr, _ in keys) if keys else ""
        if plan.having_count is not None and keys:
            op, count = plan.having_count
            comparison = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "eq": "="}[op]
            group_sql += f" HAVING COUNT(*) {comparison} {params.bind('having', count)}"
        key_order = ", ".join(name for _, name in keys)
        if plan.order is not None and plan.order.key is SortKey.VALUE:
            direction = "DESC" if plan.order.descending else "ASC"
            order = f"{alias} {direction}" + (f", {key_order}" if key_order else "")
        else:
            order = key_order
    sql = f"SELECT {', '.join(select)} FROM {view}"
    if plan.versus_average is not None and shape.measured is not None:
        sql += f" AS {_OUTER}"
        where.append(_versus_average(plan, view, shape.measured, params))
        notes.append(
            f"the average is that of the same kind of {plan.subject.value.replace('_', ' ')}"
            + (" (posted ones)" if plan.subject is Subject.TRANSACTIONS else "")
            + " in the same currency"
        )
    notes.extend(plan.readings)
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += group_sql
    if order:
        sql += f" ORDER BY {order}"
    if plan.limit is not None:
        sql += f" LIMIT {int(plan.limit)}"
    return CompiledQuery(
        sql=sql,
        params=params.values,
        explanation=explain(plan, notes),
        money=money,
        ordered=plan.order is not None,
    )


_OUTER = "asked"  # the outer rows, when a filter compares them with their peers


def _versus_average(plan: QueryPlan, view: str, measured: str, params: _Params) -> str:
    """`measured` above (or below) the average of the rows matching the plan's other filters,
    in the row's own currency: a correlated subquery over the same view."""
    peers = plan.model_copy(update={"amount": None, "versus_average": None, "period": plan.period})
    inner = _filters(peers, params)
    if plan.subject is Subject.TRANSACTIONS and not plan.transaction_statuses:
        inner.append("status = 'posted'")
    inner.append(f"currency = {_OUTER}.currency")
    comparison = ">" if plan.versus_average == "above" else "<"
    return (
        f"{_OUTER}.{measured} {comparison} (SELECT AVG({measured}) FROM {view} AS peers "
        f"WHERE {' AND '.join(inner)})"
    )


def _metric(metric: Metric, measured: str | None) -> tuple[str, str]:
    if metric is Metric.COUNT:
        return "COUNT(*)", "count"
    if measured is None:
        raise ValueError(f"{metric} needs an amount to measure")
    function = {
        Metric.TOTAL: "SUM",
        Metric.AVERAGE: "AVG",
        Metric.LARGEST: "MAX",
        Metric.SMALLEST: "MIN",
    }[metric]
    return f"{function}({measured})", metric.value


def _filters(plan: QueryPlan, params: _Params) -> list[str]:
    where: list[str] = []
    subject = plan.subject
    if plan.customers:
        names = params.many("customer", plan.customers)
        where.append(
            {
                Subject.TRANSACTIONS: f"(from_username IN ({names}) OR to_username IN ({names}))",
                Subject.ACCOUNTS: f"username IN ({names})",
                Subject.CUSTOMERS: f"username IN ({names})",
                Subject.AUDIT_EVENTS: f"subject_username IN ({names})",
                Subject.ALERTS: f"username IN ({names})",
            }[subject]
        )
    if plan.senders:
        where.append(f"from_username IN ({params.many('sender', plan.senders)})")
    if plan.recipients:
        where.append(f"to_username IN ({params.many('recipient', plan.recipients)})")
    if plan.between is not None:
        one, other = (
            params.bind("between", plan.between[0]),
            params.bind("between", plan.between[1]),
        )
        where.append(
            f"((from_username = {one} AND to_username = {other}) "
            f"OR (from_username = {other} AND to_username = {one}))"
        )
    if plan.actors:
        where.append(f"actor_username IN ({params.many('actor', plan.actors)})")
    if plan.account_numbers:
        numbers = params.many("account", plan.account_numbers)
        if subject is Subject.TRANSACTIONS:
            where.append(
                f"(from_account_number IN ({numbers}) OR to_account_number IN ({numbers}))"
            )
        else:
            where.append(f"account_number IN ({numbers})")
    if plan.transaction_ids:
        where.append(f"id IN ({params.many('transaction', plan.transaction_ids)})")
    if plan.transaction_types:
        where.append(f"type IN ({params.many('type', plan.transaction_types)})")
    if plan.transaction_statuses:
        where.append(f"status IN ({params.many('status', plan.transaction_statuses)})")
    if plan.account_statuses:
        where.append(f"status IN ({params.many('status', plan.account_statuses)})")
    if plan.account_types:
        kinds = params.many("account_type", plan.account_types)
        if subject is Subject.TRANSACTIONS:
            where.append(f"(from_account_type IN ({kinds}) OR to_account_type IN ({kinds}))")
        else:
            where.append(f"account_type IN ({kinds})")
    if plan.currencies:
        where.append(f"currency IN ({params.many('currency', plan.currencies)})")
    if plan.verdicts:
        where.append(f"risk_verdict IN ({params.many('verdict', plan.verdicts)})")
    if plan.flagged:
        where.append("id IN (SELECT transaction_id FROM vw_flagged_transactions)")
    if plan.staff_flagged:
        where.append(
            "id IN (SELECT transaction_id FROM vw_flagged_transactions WHERE flag_count > 0)"
        )
    if plan.exclude_customers:
        names = params.many("not_customer", plan.exclude_customers)
        where.append(
            {
                Subject.TRANSACTIONS: f"COALESCE(from_username, '') NOT IN ({names}) "
                f"AND COALESCE(to_username, '') NOT IN ({names})",
                Subject.ACCOUNTS: f"username NOT IN ({names})",
                Subject.CUSTOMERS: f"username NOT IN ({names})",
                Subject.AUDIT_EVENTS: f"COALESCE(subject_username, '') NOT IN ({names})",
                Subject.ALERTS: f"COALESCE(username, '') NOT IN ({names})",
            }[subject]
        )
    if plan.exclude_transaction_types:
        where.append(f"type NOT IN ({params.many('not_type', plan.exclude_transaction_types)})")
    if plan.exclude_transaction_statuses:
        statuses = params.many("not_status", plan.exclude_transaction_statuses)
        where.append(f"status NOT IN ({statuses})")
    if plan.exclude_account_statuses:
        statuses = params.many("not_status", plan.exclude_account_statuses)
        where.append(f"status NOT IN ({statuses})")
    if plan.exclude_account_types:
        kinds = params.many("not_account_type", plan.exclude_account_types)
        if subject is Subject.TRANSACTIONS:
            where.append(
                f"COALESCE(from_account_type, '') NOT IN ({kinds}) "
                f"AND COALESCE(to_account_type, '') NOT IN ({kinds})"
            )
        else:
            where.append(f"account_type NOT IN ({kinds})")
    if plan.alert_statuses:
        where.append(f"status IN ({params.many('status', plan.alert_statuses)})")
    if plan.alert_queues:
        where.append(f"queue IN ({params.many('queue', plan.alert_queues)})")
    if plan.severities:
        where.append(f"severity IN ({params.many('severity', plan.severities)})")
    if plan.roles:
        where.append(f"role IN ({params.many('role', plan.roles)})")
    if plan.kyc_statuses:
        where.append(f"kyc_status IN ({params.many('kyc', plan.kyc_statuses)})")
    if plan.active is not None:
        where.append(f"is_active = {params.bind('active', plan.active)}")
    if plan.actions:
        likes = [f"action LIKE {params.bind('action', a)}" for a in plan.actions]
        where.append(likes[0] if len(likes) == 1 else "(" + " OR ".join(likes) + ")")
    if plan.description_contains:
        pattern = params.bind("description", f"%{escape_like(plan.description_contains.lower())}%")
        where.append(f"LOWER(description) LIKE {pattern} ESCAPE '!'")
    if plan.amount is not None:
        column = "balance" if subject is Subject.ACCOUNTS else "amount"
        amount = plan.amount
        if amount.currency:
            where.append(f"currency = {params.bind('currency', amount.currency)}")
        if amount.minimum is not None and amount.minimum == amount.maximum:
            where.append(f"{column} = {params.bind('amount', amount.minimum)}")
        else:
            if amount.minimum is not None:
                op = ">=" if amount.include_minimum else ">"
                where.append(f"{column} {op} {params.bind('amount', amount.minimum)}")
            if amount.maximum is not None:
                op = "<=" if amount.include_maximum else "<"
                where.append(f"{column} {op} {params.bind('amount', amount.maximum)}")
    if plan.period is not None:
        if plan.period.start is not None:
            where.append(f"created_at >= {params.bind('start', plan.period.start)}")
        if plan.period.end is not None:
            where.append(f"created_at < {params.bind('end', plan.period.end)}")
    return where


def _ledger_view(plan: QueryPlan, view: str) -> CompiledQuery:
    params = _Params()
    if plan.subject is Subject.BALANCE_SHEET:
        sql = (
            "SELECT currency, assets_minor, liabilities_minor, equity_minor, difference_minor, "
            f"fx_position_minor FROM {view}"
        )
        if plan.currencies:
            sql += f" WHERE currency IN ({params.many('currency', plan.currencies)})"
        sql += " ORDER BY currency"
        money = {
            name: MoneyColumn(minor=True)
            for name in (
                "assets_minor",
                "liabilities_minor",
                "equity_minor",
                "difference_minor",
                "fx_position_minor",
            )
        }
        explanation = (
            "The balance sheet per currency: assets (cash held) = liabilities (customer "
            "balances) + equity (fees earned, the FX position); the difference is zero while "
            "the books balance. fx position: what exchanges left the bank holding in that "
            "currency."
        )
        return CompiledQuery(sql, params.values, explanation, money)
    sql = (
        "SELECT check_name, entity_type, entity_id, difference_minor "
        f"FROM {view} ORDER BY check_name, entity_id"
    )
    explanation = (
        "The ledger integrity check: no rows means every invariant holds (balanced "
        "transactions, balances matching entries, no account below its limit)."
    )
    return CompiledQuery(sql, {}, explanation, {"difference_minor": MoneyColumn(None, True)})
