"""Freezing and unfreezing accounts: who froze (the customer, fraud, compliance), the reason the
customer sees, chosen from a short list, and the staff's own note, which the customer never sees.

A customer may freeze their own account (a lost card, a worry) and lift only a freeze they made.
Staff freeze for fraud or compliance; a staff freeze over a customer's one takes it over. A
compliance freeze is lifted only with a second person's approval (the route proposes it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, RowMapping, select, update

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.events import outbox
from ledgerbank.identity import notices
from ledgerbank.kit.clock import utcnow
from ledgerbank.ledger.accounts import account_snapshot, get_account
from ledgerbank.ledger.tables import FREEZERS, accounts

Freezer = Literal["customer", "fraud", "compliance"]

# What the customer reads on a frozen account; none of them says why the bank looked.
FREEZE_REASONS: dict[str, str] = {
    "customer_request": "You froze this account. You can unfreeze it at any time.",
    "account_review": "This account is temporarily restricted. Please contact us.",
    "verification_needed": "We need to confirm some details with you. Please contact us.",
    "suspected_fraud": "We froze this account to protect you from possible fraud. "
    "Please contact us.",
    "security_concern": "We froze this account after a security concern. Please contact us.",
}
STAFF_REASONS = tuple(code for code in FREEZE_REASONS if code != "customer_request")
DEFAULT_STAFF_REASON = "account_review"


def customer_message(row: RowMapping | dict[str, Any]) -> str | None:
    """The words a customer reads about their account's status (None while it is active)."""
    if row["status"] == "frozen":
        return FREEZE_REASONS.get(row["freeze_reason"] or "", FREEZE_REASONS["account_review"])
    if row["status"] == "closed":
        return "This account is closed."
    return None


def _lock(conn: Connection, account_id: int) -> RowMapping:
    row = (
        conn.execute(select(accounts).where(accounts.c.id == account_id).with_for_update())
        .mappings()
        .first()
    )
    if row is None or row["is_internal"]:
        raise errors.NotFound(f"account {account_id} not found")
    return row


def freeze(
    conn: Connection,
    account_id: int,
    *,
    frozen_by: Freezer,
    customer_reason: str,
    note: str,
    actor_id: int | None,
) -> RowMapping:
    """Freeze an active account (or take over a customer's own freeze); audited and told."""
    if frozen_by not in FREEZERS:
        raise errors.ValidationFailed(f"frozen_by must be one of {', '.join(FREEZERS)}")
    allowed = ("customer_request",) if frozen_by == "customer" else STAFF_REASONS
    if customer_reason not in allowed:
        raise errors.ValidationFailed(f"customer_reason must be one of {', '.join(allowed)}")
    before = _lock(conn, account_id)
    if before["status"] == "closed":
        raise errors.InvalidTransition(f"account {account_id} is closed")
    if before["status"] == "frozen" and not (
        before["frozen_by"] == "customer" and frozen_by != "customer"
    ):
        raise errors.InvalidTransition(f"account {account_id} is already frozen")
    now = utcnow()
    conn.execute(
        update(accounts)
        .where(accounts.c.id == account_id)
        .values(
            status="frozen",
            status_reason=note[:500],
            frozen_by=frozen_by,
            freeze_reason=customer_reason,
            updated_at=now,
        )
    )
    after = get_account(conn, account_id)
    audit.record(
        conn,
        actor_id=actor_id,
        action="account.frozen",
        entity_type="account",
        entity_id=account_id,
        before=_snapshot(before),
        after=_snapshot(after),
        at=now,
    )
    _tell(conn, "account.frozen", after, now)
    if frozen_by != "customer" and before["owner_id"] is not None:
        notices.notify(
            conn,
            int(before["owner_id"]),
            "account_frozen",
            {"account_number": _masked(before), "message": FREEZE_REASONS[customer_reason]},
        )
    return after


def unfreeze(
    conn: Connection,
    account_id: int,
    *,
    by_customer: bool,
    note: str,
    actor_id: int | None,
    approved: bool = False,
) -> RowMapping:
    """Lift a freeze. A customer lifts only their own; compliance's needs `approved`."""
    before = _lock(conn, account_id)
    if before["status"] != "frozen":
        raise errors.InvalidTransition(f"account {account_id} is {before['status']}, not frozen")
    if by_customer and before["frozen_by"] != "customer":
        raise errors.Forbidden("only the bank can lift this freeze: please contact us")
    if before["frozen_by"] == "compliance" and not approved:
        raise errors.Forbidden("lifting this freeze needs a second person's approval")
    now = utcnow()
    conn.execute(
        update(accounts)
        .where(accounts.c.id == account_id)
        .values(
            status="active", status_reason=note[:500], frozen_by=None, freeze_reason=None,
            updated_at=now,
        )
    )  # fmt: skip
    after = get_account(conn, account_id)
    audit.record(
        conn,
        actor_id=actor_id,
        action="account.unfrozen",
        entity_type="account",
        entity_id=account_id,
        before=_snapshot(before),
        after={**_snapshot(after), "note": note, "approved": approved},
        at=now,
    )
    _tell(conn, "account.unfrozen", after, now)
    if not by_customer and before["owner_id"] is not None:
        notices.notify(
            conn, int(before["owner_id"]), "account_unfrozen", {"account_number": _masked(before)}
        )
    return after


def _tell(conn: Connection, kind: str, row: RowMapping, now: datetime) -> None:
    """The outbox event of a freeze or its end: what the customer reads, never the note."""
    owner = row["owner_id"]
    outbox.emit(
        conn,
        kind,
        {"account_id": int(row["id"]), "status": row["status"], "message": customer_message(row)},
        at=now,
        account_id=int(row["id"]),
        owner_id=None if owner is None else int(owner),
        audience="customer",
    )


def _snapshot(row: RowMapping) -> dict[str, Any]:
    return {
        **account_snapshot(row),
        "frozen_by": row["frozen_by"],
        "customer_reason": row["freeze_reason"],
        "note": row["status_reason"],
    }


def _masked(row: RowMapping) -> str:
    return "··" + str(row["account_number"])[-4:]
