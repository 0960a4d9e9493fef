"""kit.money: exact parsing into minor units, refusals, and formatting round-trips."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledgerbank import errors
from ledgerbank.kit.money import (
    DEFAULT_MAX_MAJOR,
    EXPONENTS,
    exponent,
    normalize_currency,
    to_decimal,
    to_decimal_string,
    to_minor,
)


@pytest.mark.parametrize(
    ("value", "currency", "minor"),
    [
        ("12.50", "USD", 1250),
        ("0.01", "USD", 1),
        ("1250", "USD", 125000),
        ("1250.5", "USD", 125050),
        (" 7.25 ", "USD", 725),
        ("+3.10", "USD", 310),
        (".5", "USD", 50),
        ("12.500", "USD", 1250),  # exact: the extra zero rounds nothing
        ("1000000000.00", "USD", 100_000_000_000),  # the maximum itself
        (5, "USD", 500),
        (Decimal("19.99"), "USD", 1999),
        (Decimal("100"), "USD", 10000),
        ("1500", "JPY", 1500),
        (1, "JPY", 1),
        (Decimal("980"), "JPY", 980),
        ("1500.0", "JPY", 1500),
        ("1.234", "KWD", 1234),
        ("0.001", "KWD", 1),
        ("2", "KWD", 2000),
        (Decimal("12.5"), "KWD", 12500),
    ],
)
def test_amounts_parse_exactly(value: str | int | Decimal, currency: str, minor: int) -> None:
    assert to_minor(value, currency) == minor


@pytest.mark.parametrize(
    ("value", "currency"),
    [
        ("0", "USD"),
        ("0.00", "USD"),
        ("-0", "USD"),
        (0, "JPY"),
        (Decimal("0.000"), "KWD"),
        ("-5.00", "USD"),
        (-5, "USD"),
        (Decimal("-0.01"), "USD"),
        ("1.001", "USD"),  # too many decimals for the currency
        ("0.005", "USD"),
        (Decimal("19.999"), "USD"),
        ("1.5", "JPY"),
        (Decimal("0.1"), "JPY"),
        ("1.2345", "KWD"),
        ("NaN", "USD"),
        ("nan", "USD"),
        ("Infinity", "USD"),
        ("-Infinity", "USD"),
        ("inf", "USD"),
        (Decimal("NaN"), "USD"),
        (Decimal("sNaN"), "USD"),
        (Decimal("Infinity"), "USD"),
        ("1e3", "USD"),  # exponent forms are refused in text
        ("1E3", "USD"),
        ("2.5e-1", "USD"),
        ("1000000000.01", "USD"),  # above the maximum
        ("99999999999999999999999999999999", "USD"),
        (10**30, "JPY"),
        (Decimal("1E+40"), "KWD"),
        ("", "USD"),
        ("   ", "USD"),
        ("abc", "USD"),
        ("12,50", "USD"),
        ("1_000", "USD"),
        ("$5", "USD"),
        ("5 USD", "USD"),
        ("1.2.3", "USD"),
        ("--5", "USD"),
        ("5-", "USD"),
        ("１２", "USD"),  # full-width digits
        (1.5, "USD"),  # floats never touch money
        (True, "USD"),
        (None, "USD"),
        ([1], "USD"),
    ],
)
def test_bad_amounts_are_refused(value: object, currency: str) -> None:
    with pytest.raises(errors.InvalidAmount) as caught:
        to_minor(value, currency)  # type: ignore[arg-type]
    assert caught.value.code == "invalid_amount"
    assert caught.value.status == 422


@pytest.mark.parametrize(
    "value",
    ["99999999.9999999999999999999999", Decimal("100000000.00000000000000000000001")],
)
def test_long_fractions_are_refused_not_rounded(value: str | Decimal) -> None:
    with pytest.raises(errors.InvalidAmount):
        to_minor(value, "USD")


def test_the_maximum_can_be_lowered() -> None:
    assert to_minor("50.00", "USD", max_major=Decimal(50)) == 5000
    with pytest.raises(errors.InvalidAmount):
        to_minor("50.01", "USD", max_major=Decimal(50))


@pytest.mark.parametrize("currency", ["XXX", "usd", "US", "", "EURO", None, 840])
def test_unknown_currencies_are_refused(currency: object) -> None:
    with pytest.raises(errors.UnknownCurrency) as caught:
        to_minor("1.00", currency)  # type: ignore[arg-type]
    assert caught.value.code == "unknown_currency"


def test_currency_codes_are_normalized() -> None:
    assert normalize_currency(" usd ") == "USD"
    assert normalize_currency("jpy") == "JPY"
    assert (exponent("USD"), exponent("JPY"), exponent("KWD")) == (2, 0, 3)
    with pytest.raises(errors.UnknownCurrency):
        normalize_currency("ABC")


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (125000, "USD", "1250.00"),
        (5, "USD", "0.05"),
        (-5, "USD", "-0.05"),
        (0, "USD", "0.00"),
        (-125050, "USD", "-1250.50"),
        (1500, "JPY", "1500"),
        (-7, "JPY", "-7"),
        (1, "KWD", "0.001"),
        (12345, "KWD", "12.345"),
        (-1000, "KWD", "-1.000"),
    ],
)
def test_minor_units_format_as_exact_decimal_strings(minor: int, currency: str, text: str) -> None:
    assert to_decimal_string(minor, currency) == text
    assert to_decimal(minor, currency) == Decimal(text)


currencies = st.sampled_from(sorted(EXPONENTS))


@given(currency=currencies, data=st.data())
def test_minor_units_round_trip(currency: str, data: st.DataObject) -> None:
    places = exponent(currency)
    ceiling = int(DEFAULT_MAX_MAJOR) * 10**places
    minor = data.draw(st.integers(min_value=1, max_value=ceiling))
    text = to_decimal_string(minor, currency)
    assert to_minor(text, currency) == minor
    assert Decimal(text).as_tuple().exponent == -places


@given(
    currency=st.sampled_from(["USD", "JPY", "KWD"]),
    amount=st.decimals(
        min_value=Decimal("0.001"),
        max_value=DEFAULT_MAX_MAJOR,
        places=3,
        allow_nan=False,
        allow_infinity=False,
    ),
)
def test_parsing_then_formatting_gives_the_normalized_amount(
    currency: str, amount: Decimal
) -> None:
    places = exponent(currency)
    fits = amount == amount.quantize(Decimal(1).scaleb(-places))
    for value in (amount, format(amount, "f")):
        if not fits:
            with pytest.raises(errors.InvalidAmount):
                to_minor(value, currency)
            continue
        text = to_decimal_string(to_minor(value, currency), currency)
        assert text == format(amount.quantize(Decimal(1).scaleb(-places)), "f")
        assert Decimal(text) == amount
