"""Exact rates (exchange rates, interest rates): integers of `RATE_SCALE` parts, decimal
strings at the edges, and the one rounding rule money uses when a rate makes a fraction."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Final

from ledgerbank.errors import InvalidRate

PLACES: Final = 10
RATE_SCALE: Final = 10**PLACES  # 0.9234 is stored as 9_234_000_000
MAX_RATE: Final = 10**18  # far below BIGINT's limit (about 10**8 as a rate)


def parse_rate(value: object, *, allow_zero: bool = False) -> int:
    """A decimal string (or Decimal/int) as RATE_SCALE parts; InvalidRate for anything that is
    not a finite positive decimal with at most PLACES decimals."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise InvalidRate('a rate is a decimal string such as "0.9234"')
    text = value.strip() if isinstance(value, str) else str(value)
    if not text or any(c not in "0123456789." for c in text):
        raise InvalidRate(f"rate {value!r} is not a positive decimal number")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InvalidRate(f"rate {value!r} is not a decimal number") from None
    scaled = number * RATE_SCALE
    if scaled != scaled.to_integral_value():
        raise InvalidRate(f"a rate has at most {PLACES} decimal places")
    parts = int(scaled)
    if parts < 0 or (parts == 0 and not allow_zero) or parts > MAX_RATE:
        raise InvalidRate(f"rate {value!r} is out of range")
    return parts


def rate_text(parts: int) -> str:
    """RATE_SCALE parts as the shortest exact decimal string: 9_234_000_000 -> "0.9234"."""
    whole, rest = divmod(int(parts), RATE_SCALE)
    if not rest:
        return str(whole)
    return f"{whole}.{str(rest).rjust(PLACES, '0').rstrip('0')}"


def as_fraction(parts: int) -> Fraction:
    return Fraction(int(parts), RATE_SCALE)


def round_half_even(value: Fraction) -> int:
    """Banker's rounding to a whole minor unit: exact halves go to the even neighbour, so
    rounding errors do not drift one way over many conversions."""
    floor, rest = divmod(value.numerator, value.denominator)
    twice = 2 * rest
    if twice > value.denominator or (twice == value.denominator and floor % 2 == 1):
        return floor + 1
    return floor
