"""Bad input and broken business rules: the right domain error, and nothing written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from ledger_helpers import (
    assert_ledger_sound,
    balances,
    create_account,
    create_funded_account,
    create_user,
    row_counts,
)
from sqlalchemy import Connection

from ledgerbank import errors
from ledgerbank.kit.db import Database
from ledgerbank.ledger import accounts as account_service
from ledgerbank.ledger import posting
from ledgerbank.ledger.posting import TransferOrder

UNKNOWN = 987_654_321


@dataclass(frozen=True)
class Bank:
    owner: int
    payer: int  # USD, 100.00
    payee: int  # USD, 0.00
    yen: int  # JPY, 5000
    frozen: int  # USD, 50.00, frozen
    closed: int  # USD, closed
    vault: int  # the USD cash vault
    deposit_id: int  # the payer's opening deposit

    @property
    def customer_accounts(self) -> list[int]:
        return [self.payer, self.payee, self.yen, self.frozen, self.closed]


def open_bank(database: Database) -> Bank:
    owner = database.write(create_user)
    payer = create_funded_account(database, owner, "100.00")
    yen = create_funded_account(database, owner, "5000", currency="JPY")
    frozen = create_funded_account(database, owner, "50.00")

    def rest(conn: Connection) -> Bank:
        payee = create_account(conn, owner)
        closed = create_account(conn, owner, account_type="savings")
        account_service.set_status(conn, frozen, status="frozen", reason="fraud", actor_id=None)
        account_service.set_status(conn, closed, status="closed", reason="moved", actor_id=None)
        deposit_id = posting.deposit(conn, account_id=payee, amount="1.00", actor_id=None)
        posting.withdraw(conn, account_id=payee, amount="1.00", actor_id=None)
        return Bank(
            owner=owner,
            payer=payer,
            payee=payee,
            yen=yen,
            frozen=frozen,
            closed=closed,
            vault=account_service.internal_account_id(conn, "USD", "cash_vault"),
            deposit_id=int(deposit_id.transaction["id"]),
        )

    return database.write(rest)


Attempt = Callable[[Connection, Bank], Any]


def deposit(account: str, amount: str) -> Attempt:
    return lambda c, b: posting.deposit(c, account_id=_id(b, account), amount=amount, actor_id=None)


def withdraw(account: str, amount: str) -> Attempt:
    return lambda c, b: posting.withdraw(
        c, account_id=_id(b, account), amount=amount, actor_id=None
    )


def transfer(source: str, destination: str, amount: str) -> Attempt:
    return lambda c, b: posting.transfer(
        c,
        from_account_id=_id(b, source),
        to_account_id=_id(b, destination),
        amount=amount,
        actor_id=None,
    )


def batch(*orders: tuple[str, str, str]) -> Attempt:
    return lambda c, b: posting.transfer_batch(
        c, [TransferOrder(_id(b, s), _id(b, d), a) for s, d, a in orders], actor_id=None
    )


def fee(account: str, amount: str) -> Attempt:
    return lambda c, b: posting.post_fee(
        c, account_id=_id(b, account), amount=amount, actor_id=None
    )


def journal(*legs: tuple[str, str]) -> Attempt:
    return lambda c, b: posting.post_journal(
        c, [(_id(b, account), amount) for account, amount in legs], actor_id=None
    )


def open_account(currency: str, account_type: str = "checking") -> Attempt:
    return lambda c, b: account_service.open_account(
        c, owner_id=b.owner, account_type=account_type, currency=currency
    )


def _id(bank: Bank, name: str) -> int:
    return UNKNOWN if name == "unknown" else int(getattr(bank, name))


CASES: dict[str, tuple[Attempt, type[errors.LedgerbankError]]] = {
    # amounts
    "deposit zero": (deposit("payee", "0"), errors.InvalidAmount),
    "deposit 0.00": (deposit("payee", "0.00"), errors.InvalidAmount),
    "deposit negative": (deposit("payee", "-5.00"), errors.InvalidAmount),
    "deposit too many decimals": (deposit("payee", "1.001"), errors.InvalidAmount),
    "deposit NaN": (deposit("payee", "NaN"), errors.InvalidAmount),
    "deposit Infinity": (deposit("payee", "Infinity"), errors.InvalidAmount),
    "deposit exponent": (deposit("payee", "1e3"), errors.InvalidAmount),
    "deposit huge": (deposit("payee", "1000000000.01"), errors.InvalidAmount),
    "deposit garbage": (deposit("payee", "ten dollars"), errors.InvalidAmount),
    "deposit JPY fraction": (deposit("yen", "1.5"), errors.InvalidAmount),
    "withdraw negative": (withdraw("payer", "-1.00"), errors.InvalidAmount),
    "withdraw too many decimals": (withdraw("payer", "0.999"), errors.InvalidAmount),
    "transfer zero": (transfer("payer", "payee", "0.00"), errors.InvalidAmount),
    "transfer NaN": (transfer("payer", "payee", "NaN"), errors.InvalidAmount),
    "transfer huge": (transfer("payer", "payee", "99999999999"), errors.InvalidAmount),
    "fee negative": (fee("payer", "-0.50"), errors.InvalidAmount),
    "fee too many decimals": (fee("payer", "0.505"), errors.InvalidAmount),
    "batch item with bad amount": (
        batch(("payer", "payee", "1.00"), ("payer", "payee", "0.001")),
        errors.InvalidAmount,
    ),
    "journal double sign": (journal(("payer", "--5.00"), ("payee", "5.00")), errors.InvalidAmount),
    "journal zero leg": (
        journal(("payer", "-5.00"), ("payee", "5.00"), ("payee", "0")),
        errors.InvalidAmount,
    ),
    # currencies
    "open unknown currency": (open_account("XYZ"), errors.UnknownCurrency),
    "open empty currency": (open_account(""), errors.UnknownCurrency),
    "open unknown account type": (open_account("USD", "brokerage"), errors.ValidationFailed),
    "transfer USD to JPY": (transfer("payer", "yen", "1.00"), errors.CurrencyMismatch),
    "transfer JPY to USD": (transfer("yen", "payer", "1"), errors.CurrencyMismatch),
    "batch with a currency mismatch": (
        batch(("payer", "payee", "1.00"), ("payee", "yen", "1.00")),
        errors.CurrencyMismatch,
    ),
    "journal across currencies": (
        journal(("payer", "-1.00"), ("yen", "1")),
        errors.CurrencyMismatch,
    ),
    # unknown accounts
    "deposit unknown account": (deposit("unknown", "1.00"), errors.NotFound),
    "withdraw unknown account": (withdraw("unknown", "1.00"), errors.NotFound),
    "transfer to unknown account": (transfer("payer", "unknown", "1.00"), errors.NotFound),
    "transfer from unknown account": (transfer("unknown", "payer", "1.00"), errors.NotFound),
    "fee on unknown account": (fee("unknown", "1.00"), errors.NotFound),
    "deposit into the cash vault": (deposit("vault", "1.00"), errors.NotFound),
    "transfer out of the cash vault": (transfer("vault", "payee", "1.00"), errors.NotFound),
    "batch to unknown account": (
        batch(("payer", "payee", "1.00"), ("payer", "unknown", "1.00")),
        errors.NotFound,
    ),
    # closed and frozen accounts
    "deposit into closed": (deposit("closed", "1.00"), errors.AccountClosed),
    "withdraw from closed": (withdraw("closed", "1.00"), errors.AccountClosed),
    "transfer to closed": (transfer("payer", "closed", "1.00"), errors.AccountClosed),
    "transfer from closed": (transfer("closed", "payer", "1.00"), errors.AccountClosed),
    "deposit into frozen": (deposit("frozen", "1.00"), errors.AccountFrozen),
    "withdraw from frozen": (withdraw("frozen", "1.00"), errors.AccountFrozen),
    "transfer from frozen": (transfer("frozen", "payee", "1.00"), errors.AccountFrozen),
    "transfer to frozen": (transfer("payer", "frozen", "1.00"), errors.AccountFrozen),
    "fee on frozen": (fee("frozen", "1.00"), errors.AccountFrozen),
    "batch through frozen": (
        batch(("payer", "payee", "1.00"), ("payee", "frozen", "1.00")),
        errors.AccountFrozen,
    ),
    "journal on frozen": (journal(("frozen", "-1.00"), ("payee", "1.00")), errors.AccountFrozen),
    # same account
    "transfer to itself": (transfer("payer", "payer", "1.00"), errors.SameAccount),
    "batch with a transfer to itself": (
        batch(("payer", "payee", "1.00"), ("payee", "payee", "1.00")),
        errors.SameAccount,
    ),
    # funds
    "withdraw more than the balance": (withdraw("payer", "100.01"), errors.InsufficientFunds),
    "withdraw from empty": (withdraw("payee", "0.01"), errors.InsufficientFunds),
    "transfer more than the balance": (
        transfer("payer", "payee", "100.01"),
        errors.InsufficientFunds,
    ),
    "fee more than the balance": (fee("payer", "100.01"), errors.InsufficientFunds),
    "batch overdrawing on its third item": (
        batch(
            ("payer", "payee", "60.00"), ("payee", "payer", "10.00"), ("payer", "payee", "50.01")
        ),
        errors.InsufficientFunds,
    ),
    "journal overdrawing": (
        journal(("payer", "-100.01"), ("payee", "100.01")),
        errors.InsufficientFunds,
    ),
    "journal overdrawing through two legs on one account": (
        journal(("payer", "-60.00"), ("payer", "-60.00"), ("payee", "120.00")),
        errors.InsufficientFunds,
    ),
    # journal shape
    "journal unbalanced": (
        journal(("payer", "-5.00"), ("payee", "4.99")),
        errors.UnbalancedPosting,
    ),
    "journal with one leg": (journal(("payer", "-5.00")), errors.UnbalancedPosting),
    # batches
    "empty batch": (batch(), errors.ValidationFailed),
    # reversals
    "reverse unknown transaction": (
        lambda c, b: posting.reverse(c, UNKNOWN, reason="x", actor_id=None),
        errors.NotFound,
    ),
    "reverse a deposit already spent": (
        lambda c, b: posting.reverse(c, b.deposit_id, reason="x", actor_id=None),
        errors.InsufficientFunds,
    ),
}


def test_bad_input_raises_its_domain_error_and_writes_nothing(database: Database) -> None:
    bank = open_bank(database)
    with database.read() as conn:
        counts = row_counts(conn)
        money = balances(conn, bank.customer_accounts)
    problems = []
    for name, (attempt, expected) in CASES.items():
        try:
            database.write(lambda conn, attempt=attempt: attempt(conn, bank))  # type: ignore[misc]
        except errors.LedgerbankError as exc:
            if type(exc) is not expected or exc.code != expected.code:
                problems.append(f"{name}: {type(exc).__name__} ({exc.code}) {exc.detail}")
        except Exception as exc:
            problems.append(f"{name}: {type(exc).__name__}: {exc}"[:300])
        else:
            problems.append(f"{name}: was accepted")
        with database.read() as conn:
            if row_counts(conn) != counts or balances(conn, bank.customer_accounts) != money:
                problems.append(f"{name}: wrote something")
                counts = row_counts(conn)
                money = balances(conn, bank.customer_accounts)
    assert not problems, "\n".join(problems)
    with database.read() as conn:
        assert_ledger_sound(conn)


STATUS_CASES = [
    # (account, new status, expected error)
    ("frozen", "frozen", errors.InvalidTransition),
    ("payer", "active", errors.InvalidTransition),  # unfreezing an active account
    ("payer", "closed", errors.InvalidTransition),  # money is left in it
    ("closed", "closed", errors.InvalidTransition),
    ("closed", "frozen", errors.InvalidTransition),
    ("closed", "active", errors.InvalidTransition),
    ("vault", "frozen", errors.NotFound),
    ("unknown", "frozen", errors.NotFound),
]


def test_bad_status_changes_are_refused_and_write_nothing(database: Database) -> None:
    bank = open_bank(database)
    with database.read() as conn:
        counts = row_counts(conn)
    for account, status, expected in STATUS_CASES:
        with pytest.raises(expected):
            database.write(
                lambda c, account=account, status=status: account_service.set_status(
                    c, _id(bank, account), status=status, reason="test", actor_id=None
                )
            )
        with database.read() as conn:
            assert row_counts(conn) == counts, (account, status)
