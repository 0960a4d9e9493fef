"""The standing orders' job: pay every due date through the money service, as a transfer the
customer authorised with their PIN when they set the order up (`Caller(pin_exempt=True)`: KYC,
limits, the account's state and the risk screen still apply)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import RowMapping

from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.money import to_decimal_string
from ledgerbank.ledger import idempotency
from ledgerbank.ledger.limits import DailyLimits
from ledgerbank.ledger.money import Caller, MoneyRequest, MoneyService
from ledgerbank.ledger.orders import Transfer
from ledgerbank.payments import service
from ledgerbank.worker.registry import Job, JobContext, JobResult

MAX_ROUNDS = 1000  # batches of due orders per run (a worker down for months catches up)


def pay_due(context: JobContext) -> JobResult:
    """Try every due order once (a missed date after another, oldest first)."""
    money: MoneyService = context.money
    rule = service.RetryRule.from_settings(context.settings)
    business_day = DailyLimits.from_settings(context.settings).business_day
    outcomes: dict[str, int] = {}
    for _ in range(MAX_ROUNDS):
        now = utcnow()
        with context.database.read() as conn:
            due = service.due(conn, today=business_day(now), now=now)
        if not due or context.stopping():
            break
        for row in due:
            if context.stopping():
                break
            outcome = _attempt(context, money, row, rule, business_day)
            if outcome is not None:
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
    return JobResult(sum(outcomes.values()), summary)


def _attempt(
    context: JobContext,
    money: MoneyService,
    payment: RowMapping,
    rule: service.RetryRule,
    business_day: Callable[[datetime], date],
) -> str | None:
    due_date = payment["next_due"]
    amount = to_decimal_string(int(payment["amount"]), payment["currency"])
    order = Transfer(
        from_account_id=int(payment["from_account_id"]),
        to_account_id=int(payment["to_account_id"]),
        amount=amount,
        description=payment["description"] or f"Standing order {payment['id']}",
    )
    answer = money.run(
        MoneyRequest(
            caller=Caller(int(payment["owner_id"]), "customer", pin_exempt=True),
            order=order,
            key=service.idempotency_key(int(payment["id"]), due_date),
            fingerprint=idempotency.fingerprint(
                "RUN",
                "/payments/scheduled",
                {"id": payment["id"], "due_date": due_date.isoformat(), "amount": amount},
            ),
        )
    )
    now = utcnow()
    return context.database.write(
        lambda conn: service.record_attempt(
            conn,
            int(payment["id"]),
            due_date,
            status=answer.status,
            code=answer.code,
            transaction_id=answer.transaction_id,
            now=now,
            today=business_day(now),
            rule=rule,
        )
    )


STANDING_ORDERS = Job(
    "payments.standing_orders",
    timedelta(minutes=1),
    pay_due,
    "pays scheduled payments and standing orders that are due (retries the same day)",
)
