"""Exchange arithmetic against exact rational arithmetic (Fraction): conversions round half to
even to the target's minor unit, the spread likewise, and rates round-trip exactly."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerbank.fx.rates import converted_amount
from ledgerbank.kit.money import EXPONENTS
from ledgerbank.kit.rates import RATE_SCALE, parse_rate, rate_text, round_half_even

CURRENCIES = sorted(EXPONENTS)


def exact_converted(amount: int, source: str, target: str, base: str, rate: int) -> Fraction:
    per_base = Fraction(rate, RATE_SCALE)
    per_source = per_base if base == source else 1 / per_base
    return Fraction(amount) * per_source * Fraction(10) ** (EXPONENTS[target] - EXPONENTS[source])


@settings(max_examples=500, deadline=None)
@given(
    amount=st.integers(1, 10**14),
    rate=st.integers(1, 10**15),
    pair=st.lists(st.sampled_from(CURRENCIES), min_size=2, max_size=2, unique=True),
    inverse=st.booleans(),
)
def test_a_conversion_is_the_exact_value_rounded_half_to_even(
    amount: int, rate: int, pair: list[str], inverse: bool
) -> None:
    source, target = pair
    base, quote = (target, source) if inverse else (source, target)
    row = {"base": base, "quote": quote, "rate": rate}
    got = converted_amount(amount, source, target, row)  # type: ignore[arg-type]
    exact = exact_converted(amount, source, target, base, rate)
    assert abs(got - exact) <= Fraction(1, 2)  # never more than half a minor unit off
    if abs(got - exact) == Fraction(1, 2):
        assert got % 2 == 0  # an exact half goes to the even neighbour
    assert got == round(exact)  # Python rounds a Fraction half to even too


@given(numerator=st.integers(-(10**20), 10**20), denominator=st.integers(1, 10**12))
def test_round_half_even_matches_fraction_round(numerator: int, denominator: int) -> None:
    value = Fraction(numerator, denominator)
    assert round_half_even(value) == round(value)


def test_halves_go_to_the_even_neighbour() -> None:
    assert [round_half_even(Fraction(n, 2)) for n in (1, 3, 5, 7, -1, -3)] == [0, 2, 2, 4, 0, -2]


@given(parts=st.integers(1, 10**18))
def test_rates_round_trip_exactly(parts: int) -> None:
    assert parse_rate(rate_text(parts)) == parts
