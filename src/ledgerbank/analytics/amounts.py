"""Money in reports: exact decimal strings, exact averages, and amount bounds per currency."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from sqlalchemy import ColumnElement, and_, or_

from ledgerbank.kit.money import EXPONENTS, exponent, to_decimal_string
from ledgerbank.ledger.tables import transactions

# Transactions that moved money (a reversed one did, and so did its reversal).
BOOKED = ("posted", "reversed")


def money(minor: int | None, currency: str) -> str | None:
    return None if minor is None else to_decimal_string(int(minor), currency)


def average(total: int, count: int, currency: str) -> str | None:
    """An exact mean in the currency's minor units, rounded half to even."""
    if not count:
        return None
    places = exponent(currency)
    mean = (Decimal(int(total)) / Decimal(count)).scaleb(-places)
    return str(mean.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN))


def amount_condition(minimum: Decimal | None, maximum: Decimal | None) -> ColumnElement[bool]:
    """Amount bounds in major units, applied in each currency's own minor units."""
    arms = []
    for places in sorted(set(EXPONENTS.values())):
        codes = sorted(c for c, p in EXPONENTS.items() if p == places)
        bounds: list[ColumnElement[bool]] = [transactions.c.currency.in_(codes)]
        if minimum is not None:
            lowest = minimum.scaleb(places).to_integral_value(rounding=ROUND_CEILING)
            bounds.append(transactions.c.amount >= int(lowest))
        if maximum is not None:
            highest = maximum.scaleb(places).to_integral_value(rounding=ROUND_FLOOR)
            bounds.append(transactions.c.amount <= int(highest))
        arms.append(and_(*bounds))
    return or_(*arms)
