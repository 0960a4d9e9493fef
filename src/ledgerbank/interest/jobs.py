"""The interest jobs: accrue the days that ended (the last week, oldest first, so a worker that
was down a few days catches up) and pay last month once it is over. Both are idempotent: a day
or month already done posts nothing."""

from __future__ import annotations

import functools
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from ledgerbank.interest import service
from ledgerbank.worker.registry import Job, JobContext, JobResult

CATCH_UP_DAYS = 7


def _zone_and_today(context: JobContext) -> tuple[str, date]:
    """The bank's time zone (UTC for a worker built without settings) and its business day."""
    zone = str(getattr(context.settings, "timezone", None) or "UTC")
    return zone, context.now.astimezone(ZoneInfo(zone)).date()


def _accrue(context: JobContext) -> JobResult:
    zone, today = _zone_and_today(context)
    accrued = 0
    for back in range(CATCH_UP_DAYS, 0, -1):
        run = context.database.write(
            functools.partial(
                service.accrue_interest,
                day=today - timedelta(days=back),
                timezone=zone,
            )
        )
        accrued += len(run.accounts)
    return JobResult(accrued, f"{accrued} account-days accrued" if accrued else "")


def _pay(context: JobContext) -> JobResult:
    _, today = _zone_and_today(context)
    last_month = today.replace(day=1) - timedelta(days=1)
    run = context.database.write(
        functools.partial(service.pay_interest, month=last_month, today=today)
    )
    paid = len(run.payments)
    totals = ", ".join(f"{amount} {currency}" for currency, amount in run.totals().items())
    return JobResult(paid, f"{last_month:%Y-%m} paid to {paid} accounts ({totals})" if paid else "")


ACCRUE_INTEREST = Job(
    "interest.accrue",
    timedelta(hours=1),
    _accrue,
    "interest accrues on each savings account's end-of-day balance",
)
PAY_INTEREST = Job(
    "interest.pay",
    timedelta(hours=1),
    _pay,
    "last month's accrued interest is paid once the month is over",
)
