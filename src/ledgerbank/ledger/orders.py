"""The money-moving orders the API takes, and how their answers read.

Each order names the accounts it needs locked and decides its movements at a `Desk` inside the
money service's transaction. Answers are built as plain dicts (the routes' response models
document them): a customer never reads a risk score, verdict or reason, and a payment the
screen blocked answers them only `payment_declined` with a reference the bank can look up;
staff read the assessment and `blocked_by_risk`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from ledgerbank import errors
from ledgerbank.approvals import service as approvals
from ledgerbank.approvals.schemas import ApprovalProposed
from ledgerbank.kit.money import to_decimal_string, to_minor
from ledgerbank.ledger import fees, posting
from ledgerbank.ledger.exchange import Exchange
from ledgerbank.ledger.money import Answer, Desk, Order, Pending, refusal
from ledgerbank.ledger.posting import Movement, RawAmount
from ledgerbank.ledger.tables import entries

STAFF_DEPOSIT = "money.staff_deposit"  # registered in ledger.approval_actions


def _timestamp(moment: datetime) -> str:
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def transaction_body(row: dict[str, Any], *, staff: bool) -> dict[str, Any]:
    """A written transaction as the API shows it (the `Transaction` schema)."""
    currency = row["currency"]
    body: dict[str, Any] = {
        "id": row["id"],
        "type": row["type"],
        "status": row["status"],
        "amount": to_decimal_string(int(row["amount"]), currency),
        "currency": currency,
        "from_account_id": row["from_account_id"],
        "to_account_id": row["to_account_id"],
        "description": row["description"],
        "created_at": _timestamp(row["created_at"]),
        "reverses_id": row["reverses_id"],
        "batch_id": row["batch_id"],
    }
    if staff:  # a customer never reads a score, verdict or reason (tipping off)
        body["risk"] = row.get("risk")
    return body


def declined(movements: Sequence[Movement], *, staff: bool) -> Answer:
    """The 422 answering a payment the risk screen blocked (recorded, nothing moved)."""
    written = [m.row for m in movements if m.row]
    first = written[0]
    if staff:
        error: errors.LedgerbankError = errors.BlockedByRisk(
            f"transaction {first['id']} was blocked by risk screening and not posted",
            transaction_id=first["id"],
            transaction_ids=[row["id"] for row in written],
            risk=first.get("risk"),
        )
    else:
        error = errors.PaymentDeclined(
            "this payment could not be completed; please contact us and quote the reference",
            reference=str(first["id"]),
        )
    found = refusal(error)
    return Answer(found.status, found.body, first["id"], keep=True)


def _posted_or_declined(desk: Desk, movement: Movement, *, posted: bool) -> Pending:
    staff = desk.staff

    def render() -> Answer:
        if not posted:
            return declined([movement], staff=staff)
        row = movement.row
        return Answer(201, transaction_body(row, staff=staff), row["id"], keep=True)

    return Pending(render)


@dataclass(frozen=True)
class Deposit(Order):
    """Cash into one of the caller's accounts (self-service: within the daily deposit limit),
    or, with `on_behalf`, staff paying cash in for a customer."""

    account_id: int
    amount: RawAmount
    description: str | None = None
    on_behalf: bool = False
    kind = "deposit"

    def account_ids(self, conn: Connection) -> list[int]:
        return [self.account_id]

    def execute(self, desk: Desk) -> Pending:
        if self.on_behalf:
            desk.account(self.account_id)
        else:
            desk.own(self.account_id)
        movement = desk.books.movement(
            type="deposit",
            source_id=None,
            destination_id=self.account_id,
            amount=self.amount,
            description=self.description,
            actor_id=desk.caller.user_id,
        )
        if self.on_behalf and _above(movement, desk.four_eyes.deposit_above):
            return _propose_staff_deposit(desk, movement)
        return _posted_or_declined(desk, movement, posted=desk.post([movement]))


def _above(movement: Movement, threshold: str) -> bool:
    return movement.amount > to_minor(
        threshold, movement.currency, max_major=Decimal(threshold) + 1
    )


def _propose_staff_deposit(desk: Desk, movement: Movement) -> Pending:
    """Four eyes: a large sum of cash paid in by staff waits for a second person (in the same
    transaction, so an Idempotency-Key replays the 202)."""
    amount = to_decimal_string(movement.amount, movement.currency)
    proposal = approvals.propose(
        desk.books.conn,
        action_name=STAFF_DEPOSIT,
        params={
            "account_id": movement.to_account_id,
            "amount": amount,
            "description": movement.description,
        },
        proposed_by=desk.caller.user_id,
        summary=f"Pay in {amount} {movement.currency} of cash to account {movement.to_account_id}",
        hours=desk.four_eyes.hours,
        entity_type="account",
        entity_id=movement.to_account_id,
        note=movement.description,
    )
    body = ApprovalProposed(
        approval_id=proposal["id"],
        action=proposal["action"],
        summary=proposal["summary"],
        expires_at=proposal["expires_at"],
    ).model_dump(mode="json")
    return Pending(lambda: Answer(202, body, keep=True))


@dataclass(frozen=True)
class Withdrawal(Order):
    account_id: int
    amount: RawAmount
    description: str | None = None
    kind = "withdrawal"
    sends_money = True

    def account_ids(self, conn: Connection) -> list[int]:
        return [self.account_id]

    def execute(self, desk: Desk) -> Pending:
        desk.own(self.account_id)
        movement = desk.books.movement(
            type="withdrawal",
            source_id=self.account_id,
            destination_id=None,
            amount=self.amount,
            description=self.description,
            actor_id=desk.caller.user_id,
        )
        fee = fees.withdrawal_fee(desk.books, desk.fees, movement, desk.now)
        posted = desk.post([movement] if fee is None else [movement, fee])
        return _posted_or_declined(desk, movement, posted=posted)


@dataclass(frozen=True)
class Transfer(Order):
    from_account_id: int
    to_account_id: int
    amount: RawAmount
    description: str | None = None
    kind = "transfer"
    sends_money = True

    def account_ids(self, conn: Connection) -> list[int]:
        return [self.from_account_id, self.to_account_id]

    def execute(self, desk: Desk) -> Pending:
        if self.from_account_id == self.to_account_id:
            raise errors.SameAccount("cannot transfer to the same account")
        source = desk.own(self.from_account_id)
        target = desk.account(self.to_account_id)
        if target.currency != source.currency:
            # Another currency: converted at the rate in force; without one, the contract's
            # currency_mismatch as before.
            try:
                return Exchange(
                    self.from_account_id,
                    self.to_account_id,
                    self.amount,
                    self.description,
                    own_only=False,
                ).execute(desk)
            except errors.NoRateInForce:
                raise errors.CurrencyMismatch(
                    f"account {source.id} holds {source.currency}, account {target.id} holds "
                    f"{target.currency}, and no exchange rate between them is in force"
                ) from None
        movement = desk.books.movement(
            type="transfer",
            source_id=self.from_account_id,
            destination_id=self.to_account_id,
            amount=self.amount,
            description=self.description,
            actor_id=desk.caller.user_id,
        )
        posted = desk.post([movement])
        if posted:  # the notice commits with the transfer, or neither
            desk.first_payments.add(desk.caller.user_id, movement, target)
        return _posted_or_declined(desk, movement, posted=posted)


@dataclass(frozen=True)
class Batch(Order):
    """Several transfers from the caller's accounts: all or none (`atomic`), or each on its
    own (a refused or declined item does not stop the others)."""

    transfers: tuple[posting.TransferOrder, ...]
    atomic: bool = True
    kind = "batch"
    sends_money = True

    def account_ids(self, conn: Connection) -> list[int]:
        return [i for t in self.transfers for i in (t.from_account_id, t.to_account_id)]

    def execute(self, desk: Desk) -> Pending:
        return self._all_or_none(desk) if self.atomic else self._each(desk)

    def _check(self, desk: Desk, index: int, order: posting.TransferOrder) -> None:
        try:
            if order.from_account_id == order.to_account_id:
                raise errors.SameAccount("cannot transfer to the same account")
            desk.own(order.from_account_id)
            desk.account(order.to_account_id)
        except errors.LedgerbankError as exc:
            exc.detail = f"transfer {index}: {exc.detail}"
            exc.extra["index"] = index
            raise

    def _all_or_none(self, desk: Desk) -> Pending:
        for index, order in enumerate(self.transfers):
            self._check(desk, index, order)
        movements = posting.batch_movements(
            desk.books, self.transfers, actor_id=desk.caller.user_id
        )
        posted = desk.post(movements)
        staff = desk.staff

        def render() -> Answer:
            if not posted:
                return declined(movements, staff=staff)
            items = [
                {
                    "index": i,
                    "status": "posted",
                    "transaction": transaction_body(m.row, staff=staff),
                    "error": None,
                }
                for i, m in enumerate(movements)
            ]
            body = {
                "atomic": True,
                "batch_id": movements[0].batch_id,
                "posted": len(items),
                "blocked": 0,
                "failed": 0,
                "items": items,
            }
            return Answer(201, body, movements[0].row["id"], keep=True)

        return Pending(render)

    def _each(self, desk: Desk) -> Pending:
        outcomes: list[Movement | errors.LedgerbankError] = []
        posted_flags: list[bool] = []
        for index, order in enumerate(self.transfers):
            try:
                self._check(desk, index, order)
                movement = desk.books.movement(
                    type="transfer",
                    source_id=order.from_account_id,
                    destination_id=order.to_account_id,
                    amount=order.amount,
                    description=order.description,
                    actor_id=desk.caller.user_id,
                )
                posted_flags.append(desk.post([movement]))
                outcomes.append(movement)
            except errors.LedgerbankError as exc:
                outcomes.append(exc)
                posted_flags.append(False)
        staff = desk.staff

        def render() -> Answer:
            items: list[dict[str, Any]] = []
            for index, (outcome, posted) in enumerate(zip(outcomes, posted_flags, strict=True)):
                if isinstance(outcome, errors.LedgerbankError):
                    items.append(
                        {
                            "index": index,
                            "status": "failed",
                            "transaction": None,
                            "error": refusal(outcome).body,
                        }
                    )
                elif posted:
                    items.append(
                        {
                            "index": index,
                            "status": "posted",
                            "transaction": transaction_body(outcome.row, staff=staff),
                            "error": None,
                        }
                    )
                elif staff:
                    items.append(
                        {
                            "index": index,
                            "status": "blocked",
                            "transaction": transaction_body(outcome.row, staff=True),
                            "error": None,
                        }
                    )
                else:
                    items.append(
                        {
                            "index": index,
                            "status": "failed",
                            "transaction": None,
                            "error": declined([outcome], staff=False).body,
                        }
                    )
            body = {
                "atomic": False,
                "batch_id": None,
                "posted": sum(item["status"] == "posted" for item in items),
                "blocked": sum(item["status"] == "blocked" for item in items),
                "failed": sum(item["status"] == "failed" for item in items),
                "items": items,
            }
            return Answer(200, body, keep=True)

        return Pending(render)


@dataclass(frozen=True)
class Reversal(Order):
    """Staff post the mirror image of a posted transaction (and of the fees it caused)."""

    transaction_id: int
    reason: str
    kind = "reversal"

    def account_ids(self, conn: Connection) -> list[int]:
        undone = [self.transaction_id, *posting.linked_fees(conn, [self.transaction_id])]
        return [
            int(i)
            for i in conn.execute(
                select(entries.c.account_id).where(entries.c.transaction_id.in_(undone))
            ).scalars()
        ]

    def execute(self, desk: Desk) -> Pending:
        movement = posting.reversal(
            desk.books, self.transaction_id, reason=self.reason, actor_id=desk.caller.user_id
        )

        def render() -> Answer:
            row = movement.row
            return Answer(201, transaction_body(row, staff=True), row["id"], keep=True)

        return Pending(render)
