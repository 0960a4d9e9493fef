"""Spending by category: a small categoriser a customer can read and correct.

Each payment out is put in a category by the first rule that fits, and says which: the
customer's own correction for that payee, a word in the description, a word in the payee's
name, or the kind of payment (cash). A correction is remembered per payee (`payee_key`) and
applies to every payment to it, earlier and later. No model, nothing that cannot be explained
in one sentence.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update

from ledgerbank import errors
from ledgerbank.analytics.periods import Period
from ledgerbank.analytics.spending import counts_as_flow, customer_accounts, pick_currency
from ledgerbank.analytics.tables import spending_categories
from ledgerbank.audit import service as audit
from ledgerbank.identity.tables import users
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.money import to_decimal_string
from ledgerbank.ledger.parties import holder_name
from ledgerbank.ledger.tables import accounts, entries, transactions

# (category, words): the first category with a word in the text wins, in this order.
RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("housing", ("rent", "mortgage", "landlord", "properties", "property", "housing")),
    ("utilities", ("power", "electric", "water", "gas bill", "utilit", "internet", "phone bill")),
    ("groceries", ("grocer", "market", "supermarket", "food store", "bakery")),
    ("dining", ("restaurant", "cafe", "coffee", "pizza", "lunch", "dinner", "bar ")),
    ("transport", ("taxi", "uber", "fuel", "petrol", "train", "bus ", "parking", "transit")),
    ("health", ("pharmacy", "doctor", "dental", "clinic", "health", "gym")),
    ("entertainment", ("cinema", "movie", "concert", "music", "game", "streaming", "netflix")),
    ("shopping", ("shop", "store", "amazon", "clothes", "books")),
    ("savings", ("savings", "invest", "pension")),
)
CATEGORIES = (*(name for name, _ in RULES), "cash", "fees", "transfers", "other")
MAX_ITEMS = 500


def payee_key(row: Any) -> str:
    """Whom a payment went to: another account, else the words of its description."""
    if row["to_account_id"] is not None and row["type"] == "transfer":
        return f"account:{row['to_account_id']}"
    words = re.sub(r"[^a-z ]+", " ", str(row["description"] or "").lower())
    return ("text:" + " ".join(words.split()))[:120] if words.strip() else f"type:{row['type']}"


def categorise(row: Any, corrections: dict[str, str]) -> tuple[str, str]:
    """The category of one payment and why, in words."""
    key = payee_key(row)
    if key in corrections:
        return corrections[key], "you chose this category for this payee"
    description = f" {str(row['description'] or '').lower()} "
    for category, words in RULES:
        for word in words:
            if word in description:
                return category, f"the description mentions “{word.strip()}”"
    payee = f" {str(row['payee_name'] or '').lower()} "
    for category, words in RULES:
        for word in words:
            if word in payee:
                return category, f"the payee's name mentions “{word.strip()}”"
    if row["type"] == "withdrawal":
        return "cash", "a cash withdrawal"
    if row["type"] == "fee":
        return "fees", "a fee"
    if row["type"] == "transfer":
        return "transfers", "a transfer no rule recognised"
    return "other", "no rule recognised it"


def _corrections(conn: Connection, owner_id: int) -> dict[str, str]:
    rows = conn.execute(
        select(spending_categories.c.payee_key, spending_categories.c.category).where(
            spending_categories.c.owner_id == owner_id
        )
    )
    return {str(k): str(c) for k, c in rows}


def _payments_out(conn: Connection, account_ids: list[int], currency: str, period: Period) -> Any:
    payee_account = accounts.alias("payee_account")
    query = (
        select(
            transactions.c.id,
            transactions.c.type,
            transactions.c.description,
            transactions.c.to_account_id,
            entries.c.posted_at,
            (-entries.c.amount).label("spent"),
            users.c.full_name.label("payee_name"),
        )
        .join(transactions, transactions.c.id == entries.c.transaction_id)
        .outerjoin(payee_account, payee_account.c.id == transactions.c.to_account_id)
        .outerjoin(users, users.c.id == payee_account.c.owner_id)
        .where(
            entries.c.account_id.in_(account_ids),
            entries.c.currency == currency,
            entries.c.amount < 0,
            counts_as_flow(),
            *period.clauses(entries.c.posted_at),
        )
        .order_by(entries.c.posted_at.desc(), entries.c.id.desc())
    )
    return conn.execute(query).mappings()


def spending_by_category(
    conn: Connection,
    *,
    owner_id: int,
    account_id: int | None,
    currency: str | None,
    period: Period,
) -> dict[str, Any]:
    """Payments out of the customer's accounts in the period, summed by category, with the
    newest payments, each with its category and the reason for it."""
    owned = customer_accounts(conn, owner_id=owner_id, account_id=account_id)
    lead = pick_currency(owned, currency)
    corrections = _corrections(conn, owner_id)
    totals: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    items: list[dict[str, Any]] = []
    rows = _payments_out(conn, [int(a["id"]) for a in owned], lead, period) if lead else []
    for row in rows:
        category, reason = categorise(row, corrections)
        totals[category] += int(row["spent"])
        counts[category] += 1
        if len(items) < MAX_ITEMS:
            items.append(
                {
                    "transaction_id": row["id"],
                    "posted_at": row["posted_at"],
                    "amount": to_decimal_string(int(row["spent"]), lead or "USD"),
                    "description": row["description"],
                    "payee": holder_name(row["payee_name"]) if row["payee_name"] else None,
                    "category": category,
                    "reason": reason,
                    "corrected": reason.startswith("you chose"),
                }
            )
    ordered = sorted(totals, key=lambda c: (-totals[c], c))
    return {
        "currency": lead,
        **period.as_dict(),
        "total": to_decimal_string(sum(totals.values()), lead or "USD") if lead else "0",
        "categories": [
            {
                "category": c,
                "amount": to_decimal_string(totals[c], lead or "USD"),
                "count": counts[c],
            }
            for c in ordered
        ],
        "items": items,
        "known_categories": list(CATEGORIES),
    }


def correct_category(
    conn: Connection, *, owner_id: int, transaction_id: int, category: str
) -> dict[str, Any]:
    """Remember the customer's category for the payee of one of their payments out."""
    own = select(accounts.c.id).where(accounts.c.owner_id == owner_id)
    row = (
        conn.execute(
            select(
                transactions.c.id,
                transactions.c.type,
                transactions.c.description,
                transactions.c.to_account_id,
            ).where(transactions.c.id == transaction_id, transactions.c.from_account_id.in_(own))
        )
        .mappings()
        .first()
    )
    if row is None:
        raise errors.NotFound(f"transaction {transaction_id} not found")
    key = payee_key(row)
    now = utcnow()
    where = and_(spending_categories.c.owner_id == owner_id, spending_categories.c.payee_key == key)
    before = conn.execute(select(spending_categories.c.category).where(where)).scalar()
    if before is None:
        conn.execute(
            insert(spending_categories).values(
                owner_id=owner_id, payee_key=key, category=category, updated_at=now
            )
        )
    else:
        conn.execute(
            update(spending_categories).where(where).values(category=category, updated_at=now)
        )
    audit.record(
        conn,
        actor_id=owner_id,
        action="spending.category_corrected",
        entity_type="user",
        entity_id=owner_id,
        before={"payee_key": key, "category": before} if before else None,
        after={"payee_key": key, "category": category},
        at=now,
    )
    return {"transaction_id": transaction_id, "payee_key": key, "category": category}
