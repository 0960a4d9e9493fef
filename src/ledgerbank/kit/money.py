"""Exact money: integer minor units with ISO 4217 exponents; decimal strings at the edges."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Final

from ledgerbank.errors import InvalidAmount, UnknownCurrency

# ISO 4217 minor-unit exponents of the currencies ledgerbank accepts.
EXPONENTS: Final[dict[str, int]] = {
    "USD": 2, "EUR": 2, "GBP": 2, "CHF": 2, "CAD": 2, "AUD": 2, "NZD": 2, "SEK": 2, "NOK": 2,
    "DKK": 2, "PLN": 2, "CZK": 2, "HUF": 2, "RON": 2, "MXN": 2, "BRL": 2, "INR": 2, "CNY": 2,
    "HKD": 2, "SGD": 2, "ZAR": 2, "TRY": 2, "ILS": 2, "AED": 2, "SAR": 2, "NGN": 2, "KES": 2,
    "PHP": 2, "THB": 2, "MYR": 2, "IDR": 2, "EGP": 2, "MAD": 2,
    "JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "XAF": 0, "XOF": 0, "UGX": 0,
    "KWD": 3, "BHD": 3, "JOD": 3, "OMR": 3, "TND": 3, "LYD": 3, "IQD": 3,
}  # fmt: skip


class ScientificNumber(Decimal):
    """A JSON number written with an exponent (`1e3`); kit.http decodes them as this, and an
    amount written so is refused (the contract says decimal notation)."""


# The largest amount one posting may move, in major units; far below BIGINT's limit.
DEFAULT_MAX_MAJOR: Final = Decimal("1000000000")


def exponent(currency: str) -> int:
    """The number of decimals the currency allows; UnknownCurrency for anything else."""
    try:
        return EXPONENTS[currency]
    except (KeyError, TypeError):
        raise UnknownCurrency(f"{currency!r} is not a supported ISO 4217 currency code") from None


def normalize_currency(code: str) -> str:
    """Upper-case a currency code and check that it is known."""
    upper = code.strip().upper() if isinstance(code, str) else code
    exponent(upper)
    return upper


def to_minor(
    value: str | int | Decimal, currency: str, *, max_major: Decimal = DEFAULT_MAX_MAJOR
) -> int:
    """Parse a positive amount exactly into minor units.

    Accepts decimal strings ("12.50"), integers and Decimals (JSON numbers are decoded to
    Decimal, never float). Zero, negatives, NaN, infinities, exponents, more decimals than the
    currency allows and amounts above `max_major` are refused with InvalidAmount.
    """
    places = exponent(currency)
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise InvalidAmount("amount must be a decimal string or a number")
    if isinstance(value, ScientificNumber):  # a JSON number with an exponent: refused
        raise InvalidAmount("amount must be written without an exponent (1000.00, not 1e3)")
    if isinstance(value, str):
        text = value.strip()
        if not text or any(c not in "0123456789.-+" for c in text):
            raise InvalidAmount(f"amount {value!r} is not a decimal number")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise InvalidAmount(f"amount {value!r} is not a decimal number") from None
    else:
        amount = Decimal(value)
    if not amount.is_finite():
        raise InvalidAmount("amount must be a finite number")
    if amount <= 0:
        raise InvalidAmount("amount must be greater than zero")
    if amount > max_major:
        raise InvalidAmount(f"amount must not exceed {max_major} {currency}")
    # Integer arithmetic on the digits: Decimal operations would round past 28 digits.
    _, digits, exp = amount.as_tuple()
    coefficient = int("".join(map(str, digits)))
    shift: int = int(exp) + places
    if shift >= 0:
        return coefficient * int(10**shift)
    minor, rest = divmod(coefficient, int(10**-shift))
    if rest:
        raise InvalidAmount(f"{currency} allows at most {places} decimal places")
    return minor


def to_decimal_string(minor: int, currency: str) -> str:
    """Format minor units as an exact decimal string: 125000 USD -> "1250.00"."""
    places = exponent(currency)
    sign = "-" if minor < 0 else ""
    digits = str(abs(minor)).rjust(places + 1, "0")
    if places == 0:
        return f"{sign}{digits}"
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def to_decimal(minor: int, currency: str) -> Decimal:
    """Minor units as an exact Decimal of major units."""
    return Decimal(to_decimal_string(minor, currency))
