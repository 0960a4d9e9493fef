# ruff: noqa: E501
"""The evaluation questions over the demo bank, each with gold SQL written by hand against the
base tables (not the views the engine reads, and not by the engine's compiler).

Conventions the gold follows (the engine's documented reading of such questions): "today" is
2026-06-17 (UTC); lists include every status; counts, totals, averages and per-group
extremes cover posted transactions only; "$" means USD; money figures are per currency;
"customer" of a transaction is the paying side (the receiving one for deposits).
`{month}`/`{day}` stand for the dialect's formatting of t.created_at; `{owner.type}` in a
question for that account's number. Column names say which answer columns are compared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final


@dataclass(frozen=True)
class Case:
    question: str
    sql: str
    params: dict[str, datetime] = field(default_factory=dict)
    ordered: bool = False


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def _between(start: str, end: str) -> dict[str, datetime]:
    return {"start": _at(start), "end": _at(end)}


THIS_YEAR = _between("2026-01-01", "2027-01-01")
LAST_MONTH = _between("2026-05-01", "2026-06-01")
THIS_MONTH = _between("2026-06-01", "2026-07-01")
MARCH = _between("2026-03-01", "2026-04-01")
JANUARY = _between("2026-01-01", "2026-02-01")
YESTERDAY = _between("2026-06-16", "2026-06-17")
THIS_WEEK = _between("2026-06-15", "2026-06-22")
LAST_WEEK = _between("2026-06-08", "2026-06-15")
LAST_7_DAYS = _between("2026-06-11", "2026-06-18")
LAST_30_DAYS = _between("2026-05-19", "2026-06-18")
Q1 = _between("2026-01-01", "2026-04-01")
IN_PERIOD = "t.created_at >= :start AND t.created_at < :end"

TX = (
    "transactions t "
    "LEFT JOIN accounts fa ON fa.id = t.from_account_id "
    "LEFT JOIN users fu ON fu.id = fa.owner_id "
    "LEFT JOIN accounts ta ON ta.id = t.to_account_id "
    "LEFT JOIN users tu ON tu.id = ta.owner_id"
)
ACCOUNTS = "accounts a JOIN users u ON u.id = a.owner_id WHERE a.is_internal = 0"
PAYER = "COALESCE(fu.username, tu.username)"
FLAGGED = (
    "(EXISTS (SELECT 1 FROM risk_scores s WHERE s.transaction_id = t.id AND s.verdict <> 'SAFE')"
    " OR EXISTS (SELECT 1 FROM risk_alerts r WHERE r.transaction_id = t.id)"
    " OR EXISTS (SELECT 1 FROM transaction_flags f WHERE f.transaction_id = t.id))"
)


def _tx(where: str, params: dict[str, datetime] | None = None) -> Case:
    """A list of transactions: compared by id."""
    return Case("", f"SELECT t.id AS id FROM {TX} WHERE {where}", params or {})


def _q(question: str, case: Case, *, ordered: bool | None = None) -> Case:
    return Case(question, case.sql, case.params, case.ordered if ordered is None else ordered)


def _verdict(name: str) -> str:
    return f"EXISTS (SELECT 1 FROM risk_scores s WHERE s.transaction_id = t.id AND s.verdict = '{name}')"


CASES: Final[list[Case]] = [
    # --- the original's three examples ---
    _q("show all transactions for alice", _tx("(fu.username = 'alice' OR tu.username = 'alice')")),
    _q("find transfers over $500", _tx("t.type = 'transfer' AND t.currency = 'USD' AND t.amount > 50000")),
    _q("show flagged transactions", _tx(FLAGGED)),
    # --- transactions: filters ---
    _q("transactions yesterday", _tx(IN_PERIOD, YESTERDAY)),
    _q("withdrawals last month", _tx(f"t.type = 'withdrawal' AND {IN_PERIOD}", LAST_MONTH)),
    _q("deposits in March", _tx(f"t.type = 'deposit' AND {IN_PERIOD}", MARCH)),
    _q("transfers since 2026-06-01", _tx("t.type = 'transfer' AND t.created_at >= :start", {"start": _at("2026-06-01")})),
    _q("transactions between 100 and 200", _tx("t.amount >= 10000 AND t.amount <= 20000")),
    _q("show blocked transactions", _tx("t.status = 'blocked'")),
    _q("deposits over 9000 dollars", _tx("t.type = 'deposit' AND t.currency = 'USD' AND t.amount > 900000")),
    _q("transfers from alice to mallory", _tx("t.type = 'transfer' AND fu.username = 'alice' AND tu.username = 'mallory'")),
    _q("transfers to mallory this week", _tx(f"t.type = 'transfer' AND tu.username = 'mallory' AND {IN_PERIOD}", THIS_WEEK)),
    _q("payments from frank", _tx("t.type = 'transfer' AND fu.username = 'frank'")),
    _q("cash withdrawals over $1000", _tx("t.type = 'withdrawal' AND t.currency = 'USD' AND t.amount > 100000")),
    _q("transactions mentioning rent", _tx("LOWER(t.description) LIKE '%rent%'")),
    _q("show suspicious transactions", _tx(_verdict("SUSPICIOUS"))),
    _q("critical transactions", _tx(_verdict("CRITICAL"))),
    _q("deposits into savings accounts", _tx("t.type = 'deposit' AND (fa.account_type = 'savings' OR ta.account_type = 'savings')")),
    _q("show transactions on account {alice.checking}", _tx("(fa.owner_id = (SELECT id FROM users WHERE username = 'alice') AND fa.account_type = 'checking') OR (ta.owner_id = (SELECT id FROM users WHERE username = 'alice') AND ta.account_type = 'checking')")),
    _q("transactions last week over $300", _tx(f"t.currency = 'USD' AND t.amount > 30000 AND {IN_PERIOD}", LAST_WEEK)),
    _q("show transactions from the last 7 days", _tx(IN_PERIOD, LAST_7_DAYS)),
    _q("deposits in euros", _tx("t.type = 'deposit' AND t.currency = 'EUR'")),
    _q("withdrawals in eur", _tx("t.type = 'withdrawal' AND t.currency = 'EUR'")),
    _q("transactions by bob in January", _tx(f"(fu.username = 'bob' OR tu.username = 'bob') AND {IN_PERIOD}", JANUARY)),
    _q("show all fees", _tx("t.type = 'fee'")),
    _q("reversed transactions", _tx("t.status = 'reversed'")),
    _q("show reversals", _tx("t.type = 'reversal'")),
    _q("transactions today", _tx(IN_PERIOD, _between("2026-06-17", "2026-06-18"))),
    _q("grace's transfers over 5000", _tx("t.type = 'transfer' AND (fu.username = 'grace' OR tu.username = 'grace') AND t.amount > 500000")),
    _q("withdrawals under $50 in Q1", _tx(f"t.type = 'withdrawal' AND t.currency = 'USD' AND t.amount < 5000 AND {IN_PERIOD}", Q1)),
    _q("transfers to greenleaf between $150 and $160", _tx("t.type = 'transfer' AND tu.username = 'greenleaf' AND t.currency = 'USD' AND t.amount >= 15000 AND t.amount <= 16000")),
    _q("deposits to erin last month", _tx(f"t.type = 'deposit' AND tu.username = 'erin' AND {IN_PERIOD}", LAST_MONTH)),
    _q("show transactions with description \"Ticket resale\"", _tx("LOWER(t.description) LIKE '%ticket resale%'")),
    _q("wallet transactions this month", _tx(f"(fa.account_type = 'wallet' OR ta.account_type = 'wallet') AND {IN_PERIOD}", THIS_MONTH)),
    # --- transactions: ordered lists ---
    _q("largest transfer this year", Case("", f"SELECT t.id AS id FROM {TX} WHERE t.type = 'transfer' AND {IN_PERIOD} ORDER BY t.amount DESC LIMIT 1", THIS_YEAR), ordered=True),
    _q("top 3 deposits", Case("", f"SELECT t.id AS id FROM {TX} WHERE t.type = 'deposit' ORDER BY t.amount DESC LIMIT 3"), ordered=True),
    _q("5 most recent transactions", Case("", f"SELECT t.id AS id FROM {TX} ORDER BY t.created_at DESC, t.id DESC LIMIT 5"), ordered=True),
    _q("latest withdrawal", Case("", f"SELECT t.id AS id FROM {TX} WHERE t.type = 'withdrawal' ORDER BY t.created_at DESC LIMIT 1"), ordered=True),
    _q("smallest deposit last month", Case("", f"SELECT t.id AS id FROM {TX} WHERE t.type = 'deposit' AND {IN_PERIOD} ORDER BY t.amount ASC LIMIT 1", LAST_MONTH), ordered=True),
    _q("10 largest transactions in May", Case("", f"SELECT t.id AS id FROM {TX} WHERE {IN_PERIOD} ORDER BY t.amount DESC, t.id DESC LIMIT 10", LAST_MONTH), ordered=True),
    _q("oldest transaction", Case("", f"SELECT t.id AS id FROM {TX} ORDER BY t.created_at ASC LIMIT 1"), ordered=True),
    _q("alice's last 3 transfers", Case("", f"SELECT t.id AS id FROM {TX} WHERE t.type = 'transfer' AND (fu.username = 'alice' OR tu.username = 'alice') ORDER BY t.created_at DESC LIMIT 3"), ordered=True),
    _q("biggest withdrawals this year", Case("", f"SELECT t.id AS id FROM {TX} WHERE t.type = 'withdrawal' AND {IN_PERIOD} ORDER BY t.amount DESC, t.id DESC LIMIT 10", THIS_YEAR), ordered=True),
    # --- transactions: figures ---
    _q("total deposits by month this year", Case("", f"SELECT {{month}} AS month, t.currency AS currency, SUM(t.amount) / 100.0 AS total FROM {TX} WHERE t.type = 'deposit' AND t.status = 'posted' AND {IN_PERIOD} GROUP BY {{month}}, t.currency", THIS_YEAR)),
    _q("how many transactions last month", Case("", f"SELECT COUNT(*) AS count FROM {TX} WHERE t.status = 'posted' AND {IN_PERIOD}", LAST_MONTH)),
    _q("average withdrawal amount", Case("", f"SELECT t.currency AS currency, AVG(t.amount) / 100.0 AS average FROM {TX} WHERE t.type = 'withdrawal' AND t.status = 'posted' GROUP BY t.currency")),
    _q("total withdrawals by customer", Case("", f"SELECT {PAYER} AS customer, t.currency AS currency, SUM(t.amount) / 100.0 AS total FROM {TX} WHERE t.type = 'withdrawal' AND t.status = 'posted' GROUP BY {PAYER}, t.currency")),
    _q("count of transactions by type", Case("", f"SELECT t.type AS type, COUNT(*) AS count FROM {TX} WHERE t.status = 'posted' GROUP BY t.type")),
    _q("number of deposits per customer", Case("", f"SELECT {PAYER} AS customer, COUNT(*) AS count FROM {TX} WHERE t.type = 'deposit' AND t.status = 'posted' GROUP BY {PAYER}")),
    _q("average deposit by month", Case("", f"SELECT {{month}} AS month, t.currency AS currency, AVG(t.amount) / 100.0 AS average FROM {TX} WHERE t.type = 'deposit' AND t.status = 'posted' GROUP BY {{month}}, t.currency")),
    _q("total transfer volume by account", Case("", f"SELECT COALESCE(fa.account_number, ta.account_number) AS account_number, t.currency AS currency, SUM(t.amount) / 100.0 AS total FROM {TX} WHERE t.type = 'transfer' AND t.status = 'posted' GROUP BY COALESCE(fa.account_number, ta.account_number), t.currency")),
    _q("total fees by month", Case("", f"SELECT {{month}} AS month, t.currency AS currency, SUM(t.amount) / 100.0 AS total FROM {TX} WHERE t.type = 'fee' AND t.status = 'posted' GROUP BY {{month}}, t.currency")),
    _q("how many transfers over $500 last month", Case("", f"SELECT COUNT(*) AS count FROM {TX} WHERE t.type = 'transfer' AND t.status = 'posted' AND t.currency = 'USD' AND t.amount > 50000 AND {IN_PERIOD}", LAST_MONTH)),
    _q("largest withdrawal by customer", Case("", f"SELECT {PAYER} AS customer, t.currency AS currency, MAX(t.amount) / 100.0 AS largest FROM {TX} WHERE t.type = 'withdrawal' AND t.status = 'posted' GROUP BY {PAYER}, t.currency")),
    _q("top 5 customers by deposits", Case("", f"SELECT {PAYER} AS customer, t.currency AS currency, SUM(t.amount) / 100.0 AS total FROM {TX} WHERE t.type = 'deposit' AND t.status = 'posted' GROUP BY {PAYER}, t.currency ORDER BY SUM(t.amount) DESC LIMIT 5"), ordered=True),
    _q("total volume by transaction type this year", Case("", f"SELECT t.type AS type, t.currency AS currency, SUM(t.amount) / 100.0 AS total FROM {TX} WHERE t.status = 'posted' AND {IN_PERIOD} GROUP BY t.type, t.currency", THIS_YEAR)),
    _q("daily count of transactions this week", Case("", f"SELECT {{day}} AS day, COUNT(*) AS count FROM {TX} WHERE t.status = 'posted' AND {IN_PERIOD} GROUP BY {{day}}", THIS_WEEK)),
    _q("how much did alice deposit last month", Case("", f"SELECT t.currency AS currency, SUM(t.amount) / 100.0 AS total FROM {TX} WHERE t.type = 'deposit' AND t.status = 'posted' AND (fu.username = 'alice' OR tu.username = 'alice') AND {IN_PERIOD} GROUP BY t.currency", LAST_MONTH)),
    _q("average transfer amount by customer", Case("", f"SELECT {PAYER} AS customer, t.currency AS currency, AVG(t.amount) / 100.0 AS average FROM {TX} WHERE t.type = 'transfer' AND t.status = 'posted' GROUP BY {PAYER}, t.currency")),
    _q("how many withdrawals did carol make", Case("", f"SELECT COUNT(*) AS count FROM {TX} WHERE t.type = 'withdrawal' AND t.status = 'posted' AND (fu.username = 'carol' OR tu.username = 'carol')")),
    _q("count of flagged transactions", Case("", f"SELECT COUNT(*) AS count FROM {TX} WHERE t.status = 'posted' AND {FLAGGED}")),
    _q("number of suspicious transactions by customer", Case("", f"SELECT {PAYER} AS customer, COUNT(*) AS count FROM {TX} WHERE t.status = 'posted' AND {_verdict('SUSPICIOUS')} GROUP BY {PAYER}")),
    _q("total deposits by customer this year", Case("", f"SELECT {PAYER} AS customer, t.currency AS currency, SUM(t.amount) / 100.0 AS total FROM {TX} WHERE t.type = 'deposit' AND t.status = 'posted' AND {IN_PERIOD} GROUP BY {PAYER}, t.currency", THIS_YEAR)),
    _q("transactions per month", Case("", f"SELECT {{month}} AS month, COUNT(*) AS count FROM {TX} WHERE t.status = 'posted' GROUP BY {{month}}")),
    _q("total transfers to oakwood by month", Case("", f"SELECT {{month}} AS month, t.currency AS currency, SUM(t.amount) / 100.0 AS total FROM {TX} WHERE t.type = 'transfer' AND t.status = 'posted' AND tu.username = 'oakwood' GROUP BY {{month}}, t.currency")),
    _q("sum of withdrawals in euros", Case("", f"SELECT t.currency AS currency, SUM(t.amount) / 100.0 AS total FROM {TX} WHERE t.type = 'withdrawal' AND t.status = 'posted' AND t.currency = 'EUR' GROUP BY t.currency")),
    _q("smallest transfer by customer", Case("", f"SELECT {PAYER} AS customer, t.currency AS currency, MIN(t.amount) / 100.0 AS smallest FROM {TX} WHERE t.type = 'transfer' AND t.status = 'posted' GROUP BY {PAYER}, t.currency")),
    _q("total spent on groceries this year", Case("", f"SELECT t.currency AS currency, SUM(t.amount) / 100.0 AS total FROM {TX} WHERE t.status = 'posted' AND LOWER(t.description) LIKE '%groceries%' AND {IN_PERIOD} GROUP BY t.currency", THIS_YEAR)),
    _q("number of transactions by risk verdict", Case("", f"SELECT s.verdict AS verdict, COUNT(*) AS count FROM {TX} LEFT JOIN risk_scores s ON s.transaction_id = t.id WHERE t.status = 'posted' GROUP BY s.verdict")),
    # --- accounts ---
    _q("which accounts are frozen", Case("", f"SELECT a.account_number AS account_number FROM {ACCOUNTS} AND a.status = 'frozen'")),
    _q("top 5 customers by balance", Case("", f"SELECT u.username AS customer, a.currency AS currency, SUM(a.balance) / 100.0 AS total FROM {ACCOUNTS} GROUP BY u.username, a.currency ORDER BY SUM(a.balance) DESC LIMIT 5"), ordered=True),
    _q("show savings accounts", Case("", f"SELECT a.account_number AS account_number FROM {ACCOUNTS} AND a.account_type = 'savings'")),
    _q("accounts with a balance over 10000", Case("", f"SELECT a.account_number AS account_number FROM {ACCOUNTS} AND a.balance > 1000000")),
    _q("how many accounts are there", Case("", f"SELECT COUNT(*) AS count FROM {ACCOUNTS}")),
    _q("total balance by account type", Case("", f"SELECT a.account_type AS account_type, a.currency AS currency, SUM(a.balance) / 100.0 AS total FROM {ACCOUNTS} GROUP BY a.account_type, a.currency")),
    _q("alice's accounts", Case("", f"SELECT a.account_number AS account_number, a.balance / 100.0 AS balance FROM {ACCOUNTS} AND u.username = 'alice'")),
    _q("what is bob's balance", Case("", f"SELECT a.account_number AS account_number, a.balance / 100.0 AS balance FROM {ACCOUNTS} AND u.username = 'bob'")),
    _q("average balance of checking accounts", Case("", f"SELECT a.currency AS currency, AVG(a.balance) / 100.0 AS average FROM {ACCOUNTS} AND a.account_type = 'checking' GROUP BY a.currency")),
    _q("accounts opened in the last 30 days", Case("", f"SELECT a.account_number AS account_number FROM {ACCOUNTS} AND a.created_at >= :start AND a.created_at < :end", LAST_30_DAYS)),
    _q("list wallet accounts", Case("", f"SELECT a.account_number AS account_number FROM {ACCOUNTS} AND a.account_type = 'wallet'")),
    _q("account with the highest balance", Case("", f"SELECT a.account_number AS account_number FROM {ACCOUNTS} ORDER BY a.balance DESC LIMIT 1"), ordered=True),
    _q("how many accounts does each customer have", Case("", f"SELECT u.username AS customer, COUNT(*) AS count FROM {ACCOUNTS} GROUP BY u.username")),
    _q("total balance of alice", Case("", f"SELECT a.currency AS currency, SUM(a.balance) / 100.0 AS total FROM {ACCOUNTS} AND u.username = 'alice' GROUP BY a.currency")),
    _q("euro accounts", Case("", f"SELECT a.account_number AS account_number FROM {ACCOUNTS} AND a.currency = 'EUR'")),
    _q("count of frozen accounts", Case("", f"SELECT COUNT(*) AS count FROM {ACCOUNTS} AND a.status = 'frozen'")),
    _q("who has the highest balance", Case("", f"SELECT u.username AS customer FROM {ACCOUNTS} GROUP BY u.username, a.currency ORDER BY SUM(a.balance) DESC LIMIT 1"), ordered=True),
    _q("active checking accounts with a balance under $2000", Case("", f"SELECT a.account_number AS account_number FROM {ACCOUNTS} AND a.status = 'active' AND a.account_type = 'checking' AND a.currency = 'USD' AND a.balance < 200000")),
    _q("number of accounts by status", Case("", f"SELECT a.status AS status, COUNT(*) AS count FROM {ACCOUNTS} GROUP BY a.status")),
    # --- customers and staff ---
    _q("customers with pending kyc", Case("", "SELECT username FROM users WHERE role = 'customer' AND kyc_status = 'pending'")),
    _q("list all auditors", Case("", "SELECT username FROM users WHERE role = 'auditor'")),
    _q("how many customers", Case("", "SELECT COUNT(*) AS count FROM users WHERE role = 'customer'")),
    _q("new customers in the last 30 days", Case("", "SELECT username FROM users WHERE role = 'customer' AND created_at >= :start AND created_at < :end", LAST_30_DAYS)),
    _q("show staff", Case("", "SELECT username FROM users WHERE role <> 'customer'")),
    _q("users by role", Case("", "SELECT role, COUNT(*) AS count FROM users GROUP BY role")),
    _q("customers by kyc status", Case("", "SELECT kyc_status, COUNT(*) AS count FROM users WHERE role = 'customer' GROUP BY kyc_status")),
    _q("list compliance officers", Case("", "SELECT username FROM users WHERE role = 'compliance_officer'")),
    # --- the audit trail ---
    _q("who changed bob's role", Case("", "SELECT au.username AS actor_username, l.action AS action FROM audit_log l JOIN users au ON au.id = l.actor_id WHERE l.entity_type = 'user' AND l.entity_id = (SELECT CAST(id AS CHAR(20)) FROM users WHERE username = 'bob') AND l.action LIKE '%role%'")),
    _q("who froze accounts", Case("", "SELECT au.username AS actor_username, o.username AS subject_username FROM audit_log l JOIN users au ON au.id = l.actor_id JOIN accounts a ON CAST(a.id AS CHAR(20)) = l.entity_id JOIN users o ON o.id = a.owner_id WHERE l.entity_type = 'account' AND l.action = 'account.frozen'")),
    _q("audit events for mallory", Case("", "SELECT l.action AS action FROM audit_log l LEFT JOIN accounts a ON l.entity_type = 'account' AND CAST(a.id AS CHAR(20)) = l.entity_id WHERE (l.entity_type = 'user' AND l.entity_id = (SELECT CAST(id AS CHAR(20)) FROM users WHERE username = 'mallory')) OR a.owner_id = (SELECT id FROM users WHERE username = 'mallory')")),
    _q("how many role changes", Case("", "SELECT COUNT(*) AS count FROM audit_log WHERE action LIKE '%role%'")),
    _q("audit events by compliance", Case("", "SELECT l.action AS action FROM audit_log l JOIN users au ON au.id = l.actor_id WHERE au.username = 'compliance' AND l.action NOT LIKE 'ledgergpt.%'")),
    # --- risk alerts ---
    _q("list open alerts", Case("", "SELECT id FROM risk_alerts WHERE status = 'open'")),
    _q("number of alerts by rule", Case("", "SELECT rule_id, COUNT(*) AS count FROM risk_alerts GROUP BY rule_id")),
    _q("alerts for mallory", Case("", "SELECT r.id AS id FROM risk_alerts r JOIN accounts a ON a.id = r.account_id JOIN users u ON u.id = a.owner_id WHERE u.username = 'mallory'")),
    _q("how many high severity fraud alerts", Case("", "SELECT COUNT(*) AS count FROM risk_alerts WHERE severity = 'high' AND queue = 'fraud'")),
    # --- written after the parser, run once before fixing it (17 of 25 right; 7 refusals) ---
    _q("list every deposit alice received in May", _tx(f"t.type = 'deposit' AND tu.username = 'alice' AND {IN_PERIOD}", LAST_MONTH)),
    _q("what transfers did bob send last month", _tx(f"t.type = 'transfer' AND fu.username = 'bob' AND {IN_PERIOD}", LAST_MONTH)),
    _q("count the withdrawals made this year", Case("", f"SELECT COUNT(*) AS count FROM {TX} WHERE t.type = 'withdrawal' AND t.status = 'posted' AND {IN_PERIOD}", THIS_YEAR)),
    _q("total value of transfers in March", Case("", f"SELECT t.currency AS currency, SUM(t.amount) / 100.0 AS total FROM {TX} WHERE t.type = 'transfer' AND t.status = 'posted' AND {IN_PERIOD} GROUP BY t.currency", MARCH)),
    _q("show payments above 2000 dollars", _tx("t.type = 'transfer' AND t.currency = 'USD' AND t.amount > 200000")),
    _q("how many accounts are frozen", Case("", f"SELECT COUNT(*) AS count FROM {ACCOUNTS} AND a.status = 'frozen'")),
    _q("list checking accounts", Case("", f"SELECT a.account_number AS account_number FROM {ACCOUNTS} AND a.account_type = 'checking'")),
    _q("which customers have a pending kyc status", Case("", "SELECT username FROM users WHERE role = 'customer' AND kyc_status = 'pending'")),
    _q("the 3 biggest deposits this year", Case("", f"SELECT t.id AS id FROM {TX} WHERE t.type = 'deposit' AND {IN_PERIOD} ORDER BY t.amount DESC LIMIT 3", THIS_YEAR), ordered=True),
    _q("average deposit size per customer", Case("", f"SELECT {PAYER} AS customer, t.currency AS currency, AVG(t.amount) / 100.0 AS average FROM {TX} WHERE t.type = 'deposit' AND t.status = 'posted' GROUP BY {PAYER}, t.currency")),
    _q("number of transfers per month this year", Case("", f"SELECT {{month}} AS month, COUNT(*) AS count FROM {TX} WHERE t.type = 'transfer' AND t.status = 'posted' AND {IN_PERIOD} GROUP BY {{month}}", THIS_YEAR)),
    _q("who are the compliance officers", Case("", "SELECT username FROM users WHERE role = 'compliance_officer'")),
    _q("transactions involving frank this week", _tx(f"(fu.username = 'frank' OR tu.username = 'frank') AND {IN_PERIOD}", THIS_WEEK)),
    _q("show me yesterday's withdrawals", _tx(f"t.type = 'withdrawal' AND {IN_PERIOD}", YESTERDAY)),
    _q("what is the total balance held in savings accounts", Case("", f"SELECT a.currency AS currency, SUM(a.balance) / 100.0 AS total FROM {ACCOUNTS} AND a.account_type = 'savings' GROUP BY a.currency")),
    _q("largest deposit by month", Case("", f"SELECT {{month}} AS month, t.currency AS currency, MAX(t.amount) / 100.0 AS largest FROM {TX} WHERE t.type = 'deposit' AND t.status = 'posted' GROUP BY {{month}}, t.currency")),
    _q("list all flagged transfers", _tx(f"t.type = 'transfer' AND {FLAGGED}")),
    _q("show dave's deposits over $9,000", _tx("t.type = 'deposit' AND (fu.username = 'dave' OR tu.username = 'dave') AND t.currency = 'USD' AND t.amount > 900000")),
    _q("how many customers does the bank have", Case("", "SELECT COUNT(*) AS count FROM users WHERE role = 'customer'")),
    _q("total withdrawals by month", Case("", f"SELECT {{month}} AS month, t.currency AS currency, SUM(t.amount) / 100.0 AS total FROM {TX} WHERE t.type = 'withdrawal' AND t.status = 'posted' GROUP BY {{month}}, t.currency")),
    _q("transfers between alice and mallory", _tx("t.type = 'transfer' AND ((fu.username = 'alice' AND tu.username = 'mallory') OR (fu.username = 'mallory' AND tu.username = 'alice'))")),
    _q("which account has the lowest balance", Case("", f"SELECT a.account_number AS account_number FROM {ACCOUNTS} ORDER BY a.balance ASC LIMIT 1"), ordered=True),
    _q("deposits of more than 1000 euros", _tx("t.type = 'deposit' AND t.currency = 'EUR' AND t.amount > 100000")),
    _q("show grace's transactions in June", _tx(f"(fu.username = 'grace' OR tu.username = 'grace') AND {IN_PERIOD}", THIS_MONTH)),
    _q("top 3 customers by number of transactions", Case("", f"SELECT {PAYER} AS customer, COUNT(*) AS count FROM {TX} WHERE t.status = 'posted' GROUP BY {PAYER} ORDER BY COUNT(*) DESC LIMIT 3"), ordered=True),
    # --- the books ---
    _q("show the balance sheet", Case("", "SELECT a.currency AS currency, -SUM(e.amount) AS difference_minor FROM entries e JOIN accounts a ON a.id = e.account_id GROUP BY a.currency")),
    _q("is the ledger sound", Case("", "SELECT 1 AS check_name FROM users WHERE 1 = 0")),
]  # fmt: skip
