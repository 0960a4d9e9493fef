"""Closing an account: a money request, so every check and the move-out share one transaction.

The account must hold nothing (`balance_not_zero`), or the rest is moved out to
`move_to_account_id` in the same transaction (a transfer like any other: the PIN, limits, the
risk screen; staff may move it only to another account of the same customer). Then the account
is closed, which every later movement is refused by (`account_closed`, checked by the posting
engine on the locked row), and the domains' closing steps run in the same transaction: standing
orders end, open holds end. Statements stay readable. Audited; the customer is told.

Domains with something to end add a step with `when_closing` at import time (as they register
approval actions): standing orders end (payments), open holds are voided (holds, through the
books, which write the account's `held` with the group).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from sqlalchemy import Connection, select, update

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.events import outbox
from ledgerbank.identity import notices
from ledgerbank.interest.closing import owed_at_close
from ledgerbank.kit.money import to_decimal_string
from ledgerbank.ledger.money import Answer, Desk, Order, Pending
from ledgerbank.ledger.orders import declined, transaction_body
from ledgerbank.ledger.posting import Books
from ledgerbank.ledger.schemas import Account
from ledgerbank.ledger.tables import accounts

# A step: (the closing transaction's books, the closing account's id, who closes it) -> what it
# ended, for the answer. A step changes the account's `held` only through the books.
ClosingStep = Callable[[Books, int, int | None], dict[str, Any]]
CLOSING_STEPS: list[ClosingStep] = []


def when_closing(step: ClosingStep) -> ClosingStep:
    """Run `step` in every account-closing transaction (after the account is closed)."""
    CLOSING_STEPS.append(step)
    return step


@dataclass(frozen=True)
class CloseAccount(Order):
    account_id: int
    reason: str | None = None
    move_to_account_id: int | None = None
    kind: ClassVar[str] = "account_close"

    def account_ids(self, conn: Connection) -> list[int]:
        ids = [self.account_id]
        if self.move_to_account_id is not None:
            ids.append(self.move_to_account_id)
        return ids

    def execute(self, desk: Desk) -> Pending:
        if desk.staff:
            desk.account(self.account_id)
        else:
            desk.own(self.account_id)  # another's account: 404
        state = desk.books.account(self.account_id)  # with this group's running balance
        if state.status == "closed":
            raise errors.InvalidTransition(f"account {self.account_id} is already closed")
        if state.status == "frozen" and not desk.staff:
            raise errors.AccountFrozen(
                f"account {self.account_id} is frozen; contact us to close it",
                account_id=self.account_id,
            )
        books = desk.books
        interest = owed_at_close(books.conn, state, desk.now, timezone=desk.fees.timezone)
        paid = interest.movement(books, actor_id=desk.caller.user_id)
        balance = state.balance + interest.amount  # interest is paid in before any move-out
        movement = None
        if balance != 0:
            if self.move_to_account_id is None or balance < 0:
                earned = (
                    f" (with {to_decimal_string(interest.amount, state.currency)} "
                    f"{state.currency} interest to pay in)"
                    if interest.amount
                    else ""
                )
                raise errors.BalanceNotZero(
                    f"account {self.account_id} holds "
                    f"{to_decimal_string(balance, state.currency)} {state.currency}{earned}: "
                    "move it out first, or name move_to_account_id",
                    account_id=self.account_id,
                )
            target = desk.account(self.move_to_account_id)
            if desk.staff and target.owner_id != state.owner_id:
                raise errors.NotFound(
                    f"account {self.move_to_account_id} not found (staff move the rest only "
                    "to another account of the same customer)",
                    account_id=self.move_to_account_id,
                )
            movement = books.movement(
                type="transfer",
                source_id=self.account_id,
                destination_id=self.move_to_account_id,
                amount=to_decimal_string(balance, state.currency),
                description=f"Closing account {self.account_id}: the rest moved out",
                actor_id=desk.caller.user_id,
            )
            if not desk.post([m for m in (paid, movement) if m is not None]):
                staff = desk.staff
                blocked = movement
                return Pending(lambda: declined([blocked], staff=staff))
        elif paid is not None:  # an overdrawn account the interest brings to zero
            books.post_unscreened(paid)
        interest.record_after_write(books, paid)
        ended = _close(desk, self.account_id, self.reason, int(state.owner_id or 0))
        conn, staff, account_id = desk.books.conn, desk.staff, self.account_id

        def render() -> Answer:
            row = conn.execute(select(accounts).where(accounts.c.id == account_id)).mappings()
            body = {
                "account": Account.from_row(row.one(), staff=staff).model_dump(mode="json"),
                "interest_paid": None if paid is None else transaction_body(paid.row, staff=staff),
                "moved_out": None
                if movement is None
                else transaction_body(movement.row, staff=staff),
                **ended,
            }
            return Answer(200, body, movement.row["id"] if movement else None, keep=True)

        return Pending(render)


@dataclass(frozen=True)
class CloseAndMoveOut(CloseAccount):
    """Closing with the rest moved out sends money: the PIN and verified KYC, as a transfer."""

    sends_money: ClassVar[bool] = True


def _close(desk: Desk, account_id: int, reason: str | None, owner_id: int) -> dict[str, Any]:
    conn, now = desk.books.conn, desk.now
    before = desk.books.locked[account_id]
    # Later requests of this group see it closed too (the posting engine reads this state).
    desk.books.locked[account_id] = replace(before, status="closed")
    conn.execute(
        update(accounts)
        .where(accounts.c.id == account_id)
        .values(
            status="closed",
            status_reason=reason or ("closed by the customer" if not desk.staff else "closed"),
            frozen_by=None,
            freeze_reason=None,
            updated_at=now,
        )
    )
    desk.books.event_rows.append(  # the owner's news, written with the group's other events
        outbox.event(
            "account.closed",
            {"account_id": account_id, "status": "closed"},
            at=now,
            account_id=account_id,
            owner_id=before.owner_id,
            audience="customer",
        )
    )
    audit.record(
        conn,
        actor_id=desk.caller.user_id,
        action="account.closed",
        entity_type="account",
        entity_id=account_id,
        before={"status": before.status},
        after={"status": "closed", "reason": reason, "by": "staff" if desk.staff else "customer"},
        at=now,
    )
    notices.notify(conn, owner_id, "account_closed", {"account_id": account_id})
    ended: dict[str, Any] = {}
    for step in CLOSING_STEPS:
        ended |= step(desk.books, account_id, desk.caller.user_id)
    return ended
