"""A Hypothesis state machine of holds: place, capture (whole, partial, too much), void, expire
and payments from the same account, against a Python model. After every step the account's
balance and available balance match the model exactly and the books are sound; at the end
`ledger verify` passes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from ledger_helpers import (
    assert_ledger_sound,
    create_account,
    create_user,
    run_ledger_verify,
)
from sqlalchemy import select, update

from ledgerbank import errors
from ledgerbank.config import Settings
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.ledger import hold_orders, holds, posting
from ledgerbank.ledger.money import Caller, MoneyRequest, MoneyService, Order
from ledgerbank.ledger.screening import NO_SCREEN
from ledgerbank.ledger.tables import accounts
from ledgerbank.ledger.tables import holds as holds_table

OPENING = 50_000  # cents in the account at the start of every run


@dataclass
class ModelHold:
    id: int
    amount: int
    payee: bool
    status: str = "active"


def cents(value: int) -> str:
    return f"{value // 100}.{value % 100:02d}"


def test_holds_against_a_model(database: Database, database_url: str, tmp_path: Path) -> None:
    service = MoneyService.from_settings(
        database,
        lambda: NO_SCREEN,
        Settings(database_url=database_url, data_dir=tmp_path, environment="test"),
    )

    class Holds(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()

            def open_bank(conn: Any) -> tuple[int, int, int, int]:
                admin = create_user(conn, role="admin")
                owner = create_user(conn)
                account = create_account(conn, owner)
                payee = create_account(conn, create_user(conn))
                posting.deposit(conn, account_id=account, amount=cents(OPENING), actor_id=None)
                return admin, owner, account, payee

            self.admin, self.owner, self.account, self.payee = database.write(open_bank)
            self.balance = OPENING
            self.payee_balance = 0
            self.holds: list[ModelHold] = []

        # --- the model ---

        @property
        def held(self) -> int:
            return sum(h.amount for h in self.holds if h.status == "active")

        @property
        def available(self) -> int:
            return self.balance - self.held

        def run(self, order: Order) -> Any:
            return service.run(MoneyRequest(Caller(self.admin, "admin"), order))

        def pick(self, index: int) -> ModelHold | None:
            return self.holds[index % len(self.holds)] if self.holds else None

        # --- the rules ---

        @rule(amount=st.integers(1, 30_000), to_payee=st.booleans())
        def place(self, amount: int, to_payee: bool) -> None:
            answer = self.run(
                hold_orders.PlaceHold(
                    self.account,
                    cents(amount),
                    "card",
                    payee_account_id=self.payee if to_payee else None,
                )
            )
            if amount > self.available:
                assert answer.code == "insufficient_funds", answer.body
                return
            assert answer.status == 201, answer.body
            self.holds.append(ModelHold(int(answer.body["id"]), amount, to_payee))

        @rule(index=st.integers(0, 50), part=st.sampled_from([None, 1, 2, 3, 4, 5]))
        def capture(self, index: int, part: int | None) -> None:
            hold = self.pick(index)
            if hold is None:
                return
            # None: the whole hold; 1..4: a quarter to all of it; 5: one cent too much
            amount = None if part is None else hold.amount * part // 4 + (part == 5)
            if amount == 0:
                amount = 1
            answer = self.run(
                hold_orders.CaptureHold(hold.id, None if amount is None else cents(amount))
            )
            if hold.status != "active":
                assert answer.code == "hold_not_active", answer.body
                return
            if amount is not None and amount > hold.amount:
                assert answer.code == "capture_exceeds_hold", answer.body
                return
            assert answer.status == 200, answer.body
            taken = hold.amount if amount is None else amount
            hold.status = "captured"
            self.balance -= taken
            if hold.payee:
                self.payee_balance += taken

        @rule(index=st.integers(0, 50))
        def void(self, index: int) -> None:
            hold = self.pick(index)
            if hold is None:
                return
            answer = self.run(hold_orders.VoidHold(hold.id))
            if hold.status != "active":
                assert answer.code == "hold_not_active", answer.body
                return
            assert answer.status == 200, answer.body
            hold.status = "voided"

        @rule(index=st.integers(0, 50))
        def time_passes(self, index: int) -> None:
            """A hold reaches its expiry: from now on it reserves nothing."""
            hold = self.pick(index)
            if hold is None:
                return
            past = utcnow() - timedelta(seconds=1)
            database.write(
                lambda conn: conn.execute(
                    update(holds_table).where(holds_table.c.id == hold.id).values(expires_at=past)
                )
            )
            if hold.status == "active":
                hold.status = "expired"

        @rule()
        def worker_expires(self) -> None:
            holds.expire_holds(database)

        @rule(amount=st.integers(1, 40_000))
        def withdraw(self, amount: int) -> None:
            try:
                database.write(
                    lambda conn: posting.withdraw(
                        conn, account_id=self.account, amount=cents(amount), actor_id=None
                    )
                )
            except errors.InsufficientFunds:
                assert amount > self.available
                return
            assert amount <= self.available
            self.balance -= amount

        # --- what must always hold ---

        @invariant()
        def matches_the_model(self) -> None:
            with database.read() as conn:
                found = dict(
                    conn.execute(
                        select(accounts.c.id, accounts.c.balance).where(
                            accounts.c.id.in_([self.account, self.payee])
                        )
                    ).all()
                )
                held = holds.held_now(conn, [self.account]).get(self.account, 0)
                stored = conn.execute(
                    select(accounts.c.held).where(accounts.c.id == self.account)
                ).scalar_one()
                assert_ledger_sound(conn)
            assert found[self.account] == self.balance
            assert found[self.payee] == self.payee_balance
            assert held == self.held
            assert self.balance - held == self.available >= 0
            # The stored total may still count holds past expiry that nothing has marked yet.
            assert stored >= held

        def teardown(self) -> None:
            result = run_ledger_verify(database_url)
            assert result.exit_code == 0, result.output

    run_state_machine_as_test(
        Holds,
        settings=settings(
            max_examples=12,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
