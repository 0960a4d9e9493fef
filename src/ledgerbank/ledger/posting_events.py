"""The outbox events of postings: one per customer account a posting touches.

Each account's events carry what its owner may see of the posting (never its risk score) and
fall in that account's partition, so every account's events publish in commit order (its row
is locked while they are written). A blocked payment is told to its payer alone, as `declined`;
the payee never learns of it. The second account's copy of a transfer is a `mirror`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ledgerbank.events import outbox
from ledgerbank.kit.money import to_decimal_string

if TYPE_CHECKING:
    from ledgerbank.ledger.posting import Books, Movement


def _type(m: Movement) -> str:
    if m.status == "blocked":
        return "transaction.blocked"
    return "transaction.reversed" if m.type == "reversal" else "transaction.posted"


def body(row: dict[str, Any], *, status: str, account_id: int | None) -> dict[str, Any]:
    """A posting as its account's owner reads it."""
    return {
        "transaction_id": row["id"],
        "account_id": account_id,
        "type": row["type"],
        "status": status,
        "amount": to_decimal_string(row["amount"], row["currency"]),
        "currency": row["currency"],
        "from_account_id": row["from_account_id"],
        "to_account_id": row["to_account_id"],
        "description": row["description"],
        "reverses_id": row["reverses_id"],
        "created_at": row["created_at"].isoformat(),
    }


def posting_events(
    books: Books, movements: Sequence[Movement], at: datetime
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for m in movements:
        touched = [leg.account_id for leg in m.legs if leg.account_id in books.balances]
        customer = list(dict.fromkeys(touched))
        if m.status == "blocked":  # told to the payer only (no payee learns of it)
            payer = m.from_account_id if m.from_account_id in books.balances else None
            customer = [payer if payer is not None else customer[0]] if customer else []
        status = "declined" if m.status == "blocked" else "posted"
        kind = _type(m)
        for index, account_id in enumerate(customer):
            seen = body(m.row, status=status, account_id=account_id)
            for leg in m.legs:  # an exchange's other account reads its own currency
                if leg.account_id == account_id and leg.currency not in (None, m.currency):
                    seen["amount"] = to_decimal_string(abs(leg.amount), leg.currency)
                    seen["currency"] = leg.currency
            rows.append(
                outbox.event(
                    kind,
                    seen,
                    at=at,
                    account_id=account_id,
                    owner_id=books.locked[account_id].owner_id,
                    audience="customer",
                    mirror=index > 0,
                )
            )
        if not customer:  # the bank's own accounts alone (a journal): staff's feed
            rows.append(outbox.event(kind, body(m.row, status=status, account_id=None), at=at))
    return rows


def hold_event(
    books: Books,
    kind: str,
    row: Any,
    *,
    status: str,
    captured_amount: int | None = None,
) -> None:
    """A hold's event (`hold.placed`, `hold.captured`, `hold.voided`, `hold.expired`) for its
    account's owner, written with the books' other rows."""
    account_id = int(row["account_id"])
    currency = row["currency"]
    books.event_rows.append(
        outbox.event(
            kind,
            {
                "hold_id": int(row["id"]),
                "account_id": account_id,
                "payee_account_id": row["payee_account_id"],
                "amount": to_decimal_string(int(row["amount"]), currency),
                "currency": currency,
                "description": row["description"],
                "status": status,
                "captured_amount": None
                if captured_amount is None
                else to_decimal_string(captured_amount, currency),
            },
            at=books.now,
            account_id=account_id,
            owner_id=books.locked[account_id].owner_id if account_id in books.locked else None,
            audience="customer",
        )
    )
