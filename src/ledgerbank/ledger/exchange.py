"""Money between accounts of two currencies: an exchange between a customer's own accounts,
or a transfer to an account of another currency while a rate is in force.

One transaction with legs in both currencies, each currency balancing on its own through the
bank's FX position account of that currency:

    source (from currency)        -amount      FX position (from currency)  +amount
    FX position (to currency)     -converted   destination (to currency)    +converted

The spread is a fee transaction of its own (source to fee income, from currency), linked to
the exchange and decided with it (all or none). The rate, both amounts and the rate's id are
kept in `fx_conversions`. It runs in the money service like every other order: PIN, KYC, daily
limits (a transfer to someone else counts, in the source currency), idempotency and the risk
screen apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert

from ledgerbank import errors
from ledgerbank.fx.rates import Conversion, convert
from ledgerbank.fx.tables import fx_conversions
from ledgerbank.kit.money import to_decimal_string, to_minor
from ledgerbank.ledger import fees
from ledgerbank.ledger.accounts import internal_account_id
from ledgerbank.ledger.money import Answer, Desk, Order, Pending
from ledgerbank.ledger.posting import Books, Leg, Movement, RawAmount, require_open
from ledgerbank.ledger.screening import AccountState

FX_POSITION = "fx_position"


def exchange_movement(
    books: Books,
    source: AccountState,
    destination: AccountState,
    conversion: Conversion,
    *,
    description: str | None,
    actor_id: int | None,
) -> Movement:
    sold = internal_account_id(books.conn, source.currency, FX_POSITION)
    bought = internal_account_id(books.conn, destination.currency, FX_POSITION)
    amount, converted = conversion.amount, conversion.converted
    return Movement(
        type="transfer",
        amount=amount,
        currency=source.currency,
        legs=[
            Leg(source.id, -amount, source.currency),
            Leg(sold, amount, source.currency),
            Leg(bought, -converted, destination.currency),
            Leg(destination.id, converted, destination.currency),
        ],
        from_account_id=source.id,
        to_account_id=destination.id,
        description=description
        or (
            f"Exchange {to_decimal_string(amount, source.currency)} {source.currency} to "
            f"{to_decimal_string(converted, destination.currency)} {destination.currency}"
        ),
        actor_id=actor_id,
        screened=True,
    )


def _record_after_write(books: Books, movement: Movement, conversion: Conversion) -> None:
    def write(conn: Connection) -> None:
        if movement.status == "posted" and movement.row:
            conn.execute(
                insert(fx_conversions),
                {
                    "transaction_id": movement.row["id"],
                    "rate_id": conversion.rate_id,
                    "from_currency": conversion.from_currency,
                    "from_amount": conversion.amount,
                    "to_currency": conversion.to_currency,
                    "to_amount": conversion.converted,
                    "created_at": books.now,
                },
            )

    books.after_write.append(write)


@dataclass(frozen=True)
class Exchange(Order):
    """From one of the caller's accounts to an account of another currency: their own
    (`POST /transactions/exchange`), or anyone's (`own_only=False`: a transfer)."""

    from_account_id: int
    to_account_id: int
    amount: RawAmount
    description: str | None = None
    own_only: bool = True
    kind = "exchange"
    sends_money = True

    def account_ids(self, conn: Connection) -> list[int]:
        return [self.from_account_id, self.to_account_id]

    def execute(self, desk: Desk) -> Pending:
        if self.from_account_id == self.to_account_id:
            raise errors.SameAccount("cannot exchange into the same account")
        source = desk.own(self.from_account_id)
        destination = (
            desk.own(self.to_account_id) if self.own_only else desk.account(self.to_account_id)
        )
        if source.currency == destination.currency:
            raise errors.SameCurrency(
                f"both accounts hold {source.currency}: use a transfer, not an exchange"
            )
        books = desk.books
        amount = to_minor(self.amount, source.currency, max_major=books.max_major)
        require_open(source)
        require_open(destination)
        conversion = convert(
            books.conn,
            amount,
            source.currency,
            destination.currency,
            spread=desk.fees.spread,
            at=desk.now,
        )
        movement = exchange_movement(
            books,
            source,
            destination,
            conversion,
            description=self.description,
            actor_id=desk.caller.user_id,
        )
        charged = [movement]
        if conversion.fee > 0:
            fee = fees.fee_movement(
                books,
                account_id=source.id,
                amount=conversion.fee,
                description=f"Fee: exchange spread {desk.fees.fx_spread} of "
                f"{to_decimal_string(amount, source.currency)} {source.currency}",
                actor_id=desk.caller.user_id,
            )
            fees.link_after_write(books, fee, movement, fees.FX_SPREAD)
            charged.append(fee)
        posted = desk.post(charged)
        if posted:
            _record_after_write(books, movement, conversion)
        return _rendered(desk, charged, conversion, posted=posted)


def _rendered(
    desk: Desk, charged: list[Movement], conversion: Conversion, *, posted: bool
) -> Pending:
    from ledgerbank.ledger.orders import declined, transaction_body  # orders builds on this

    staff = desk.staff

    def render() -> Answer:
        if not posted:
            return declined(charged[:1], staff=staff)
        movement = charged[0]
        body: dict[str, Any] = transaction_body(movement.row, staff=staff)
        body["exchange"] = {
            **conversion.as_dict(),
            "fee_transaction_id": charged[1].row["id"] if len(charged) > 1 else None,
        }
        return Answer(201, body, movement.row["id"], keep=True)

    return Pending(render)
