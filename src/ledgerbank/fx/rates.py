"""The bank's exchange rates and what converting an amount at them gives.

A rate `base/quote` says how many units of `quote` one unit of `base` buys. The rate in force
for a pair at a moment is the newest one whose `valid_from` is not after it; a conversion the
other way uses its inverse. Converted amounts are rounded half to even (banker's rounding) to
the target currency's minor unit; the FX spread is a fee in the source currency, rounded the
same way. Nothing is lost to rounding: each currency balances on its own through the bank's FX
position account, which absorbs the rounding as part of the bank's position.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, insert, or_, select

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.fx.tables import fx_rates
from ledgerbank.kit.clock import as_utc, utcnow
from ledgerbank.kit.money import exponent, normalize_currency, to_decimal_string
from ledgerbank.kit.rates import as_fraction, parse_rate, rate_text, round_half_even


@dataclass(frozen=True)
class Conversion:
    """An amount converted at the rate in force, and the spread charged on it."""

    rate_id: int
    base: str
    quote: str
    rate: int  # the stored base/quote rate, RATE_SCALE parts
    from_currency: str
    to_currency: str
    amount: int  # minor units of from_currency
    converted: int  # minor units of to_currency
    fee: int  # the spread, minor units of from_currency

    def as_dict(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "quote": self.quote,
            "rate": rate_text(self.rate),
            "from_currency": self.from_currency,
            "from_amount": to_decimal_string(self.amount, self.from_currency),
            "to_currency": self.to_currency,
            "to_amount": to_decimal_string(self.converted, self.to_currency),
            "fee": to_decimal_string(self.fee, self.from_currency),
            "fee_currency": self.from_currency,
            "total_debited": to_decimal_string(self.amount + self.fee, self.from_currency),
            "rounding": "half-even",
        }


def rate_view(row: RowMapping) -> dict[str, Any]:
    return {
        "id": int(row["id"]),
        "base": row["base"],
        "quote": row["quote"],
        "rate": rate_text(int(row["rate"])),
        "valid_from": as_utc(row["valid_from"]).isoformat(),
        "created_at": as_utc(row["created_at"]).isoformat(),
    }


def set_rate(
    conn: Connection,
    *,
    base: str,
    quote: str,
    rate: object,
    valid_from: datetime | None,
    actor_id: int | None,
) -> dict[str, Any]:
    """Record a rate from `valid_from` on (default: now); audited. A pair and moment already
    set answers Conflict: history is appended, never rewritten."""
    base, quote = normalize_currency(base), normalize_currency(quote)
    if base == quote:
        raise errors.SameCurrency(f"a rate needs two currencies, not {base} twice")
    parts = parse_rate(rate)
    now = utcnow()
    start = as_utc(valid_from) if valid_from is not None else now
    taken = select(fx_rates.c.id).where(
        fx_rates.c.base == base, fx_rates.c.quote == quote, fx_rates.c.valid_from == start
    )
    if conn.execute(taken).first() is not None:
        raise errors.Conflict(f"a {base}/{quote} rate from {start.isoformat()} is already set")
    values = {
        "base": base,
        "quote": quote,
        "rate": parts,
        "valid_from": start,
        "set_by": actor_id,
        "created_at": now,
    }
    rate_id = int(conn.execute(insert(fx_rates), values).inserted_primary_key[0])  # type: ignore[index]
    row = {"id": rate_id, **values}
    audit.record(
        conn,
        actor_id=actor_id,
        action="fx.rate_set",
        entity_type="fx_rate",
        entity_id=rate_id,
        after={"base": base, "quote": quote, "rate": rate_text(parts), "valid_from": start},
        at=now,
    )
    return rate_view(row)  # type: ignore[arg-type]


def list_rates(
    conn: Connection, *, base: str | None = None, quote: str | None = None
) -> list[dict[str, Any]]:
    """Every rate (the history), newest first per pair."""
    query = select(fx_rates)
    if base is not None:
        query = query.where(fx_rates.c.base == normalize_currency(base))
    if quote is not None:
        query = query.where(fx_rates.c.quote == normalize_currency(quote))
    query = query.order_by(fx_rates.c.base, fx_rates.c.quote, fx_rates.c.valid_from.desc())
    return [rate_view(row) for row in conn.execute(query).mappings()]


def rate_in_force(
    conn: Connection, from_currency: str, to_currency: str, at: datetime
) -> RowMapping:
    """The newest rate of the pair (either way round) valid at `at`; NoRateInForce when none."""
    if from_currency == to_currency:
        raise errors.SameCurrency(f"both accounts hold {from_currency}: nothing to exchange")
    pair = or_(
        and_(fx_rates.c.base == from_currency, fx_rates.c.quote == to_currency),
        and_(fx_rates.c.base == to_currency, fx_rates.c.quote == from_currency),
    )
    query = (
        select(fx_rates)
        .where(pair, fx_rates.c.valid_from <= at)
        .order_by(fx_rates.c.valid_from.desc(), fx_rates.c.id.desc())
        .limit(1)
    )
    row = conn.execute(query).mappings().first()
    if row is None:
        raise errors.NoRateInForce(
            f"no {from_currency}/{to_currency} exchange rate is in force",
            from_currency=from_currency,
            to_currency=to_currency,
        )
    return row


def converted_amount(amount: int, from_currency: str, to_currency: str, row: RowMapping) -> int:
    """`amount` minor units of from_currency in minor units of to_currency, half to even."""
    rate = as_fraction(int(row["rate"]))
    if row["base"] != from_currency:
        rate = 1 / rate
    shift = exponent(to_currency) - exponent(from_currency)
    return round_half_even(amount * rate * Fraction(10) ** shift)


def convert(
    conn: Connection,
    amount: int,
    from_currency: str,
    to_currency: str,
    *,
    spread: Fraction,
    at: datetime,
) -> Conversion:
    row = rate_in_force(conn, from_currency, to_currency, at)
    converted = converted_amount(amount, from_currency, to_currency, row)
    if converted <= 0:
        raise errors.InvalidAmount(
            f"{to_decimal_string(amount, from_currency)} {from_currency} is less than the "
            f"smallest unit of {to_currency}"
        )
    return Conversion(
        rate_id=int(row["id"]),
        base=row["base"],
        quote=row["quote"],
        rate=int(row["rate"]),
        from_currency=from_currency,
        to_currency=to_currency,
        amount=amount,
        converted=converted,
        fee=round_half_even(amount * spread),
    )
