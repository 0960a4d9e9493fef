"""Each AML and fraud rule fires on its pattern and stays quiet on the near misses.

The movements are replayed in memory through the same rolling statistics, features and rules
the inline screen uses (the database path is covered by test_risk_screen_inline.py).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from risk_helpers import NOON, Sim, fired, risk_settings

from ledgerbank.ledger.screening import Verdict
from ledgerbank.risk.rules import RULES, RULES_BY_ID, Hit
from ledgerbank.risk.scoring import Scorer, verdict_of

MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


def funded(sim: Sim, amount: str = "50000.00", *, days_ago: int = 60) -> int:
    """An established account with a little ordinary history."""
    account = sim.account()
    sim.deposit(account, amount, at=NOON - days_ago * DAY)
    return account


# --- large cash ---------------------------------------------------------------------------


def test_large_cash_fires_at_the_threshold_for_deposits_and_withdrawals() -> None:
    sim = Sim()
    account = funded(sim)
    assert "large_cash" in fired(sim.deposit(account, "10000.00"))
    assert "large_cash" in fired(sim.withdraw(account, "12000.00", at=NOON + DAY))


def test_large_cash_is_quiet_just_below_and_for_transfers() -> None:
    sim = Sim()
    account, other = funded(sim), funded(sim)
    assert "large_cash" not in fired(sim.deposit(account, "9999.99"))
    assert "large_cash" not in fired(sim.transfer(account, other, "20000.00", at=NOON + DAY))


# --- structuring --------------------------------------------------------------------------


def test_structuring_fires_on_the_second_deposit_just_under_the_threshold_within_days() -> None:
    sim = Sim()
    account = funded(sim)
    first = sim.deposit(account, "9100.00")
    second = sim.deposit(account, "9650.00", at=NOON + 3 * DAY)
    assert "structuring" not in fired(first)
    assert "structuring" in fired(second)
    hit = next(h for h in second.hits if h.rule.id == "structuring")
    assert hit.detail.startswith("2 cash movements")


@pytest.mark.parametrize(
    ("first", "second", "days_apart"),
    [
        ("9100.00", "9650.00", 8),  # too far apart
        ("8400.00", "8450.00", 1),  # below the band (15% under 10000.00)
        ("9100.00", "10000.00", 1),  # the second is reported as large cash, not structured
    ],
)
def test_structuring_near_misses_stay_quiet(first: str, second: str, days_apart: int) -> None:
    sim = Sim()
    account = funded(sim)
    sim.deposit(account, first)
    assert "structuring" not in fired(sim.deposit(account, second, at=NOON + days_apart * DAY))


# --- velocity -----------------------------------------------------------------------------


def test_velocity_burst_fires_on_the_sixth_payment_within_an_hour() -> None:
    sim = Sim()
    account, shop = funded(sim), funded(sim)
    results = [sim.transfer(account, shop, "20.00", at=NOON + i * 10 * MINUTE) for i in range(6)]
    assert ["velocity_burst" in fired(r) for r in results] == [False] * 5 + [True]


def test_velocity_burst_is_quiet_for_five_payments_or_six_spread_over_two_hours() -> None:
    sim = Sim()
    account, shop = funded(sim), funded(sim)
    five = [sim.transfer(account, shop, "20.00", at=NOON + i * MINUTE) for i in range(5)]
    assert not any("velocity_burst" in fired(r) for r in five)
    later = NOON + DAY
    spread = [sim.transfer(account, shop, "20.00", at=later + i * 24 * MINUTE) for i in range(6)]
    assert not any("velocity_burst" in fired(r) for r in spread)


# --- rapid pass-through -------------------------------------------------------------------


def mule_and_sender(sim: Sim) -> tuple[int, int, int]:
    mule = sim.account(opened=NOON - 90 * DAY)
    sender, onward = funded(sim), funded(sim)
    return mule, sender, onward


def test_pass_through_fires_when_most_of_an_inflow_leaves_within_two_days() -> None:
    sim = Sim()
    mule, sender, onward = mule_and_sender(sim)
    sim.transfer(sender, mule, "5000.00")
    result = sim.transfer(mule, onward, "4600.00", at=NOON + 20 * HOUR)
    assert "rapid_pass_through" in fired(result)


@pytest.mark.parametrize(
    ("inflow", "outflow", "hours_later"),
    [
        ("5000.00", "3000.00", 20),  # only 60% sent on
        ("5000.00", "4600.00", 72),  # sent on after three days
        ("900.00", "850.00", 2),  # an inflow under the 1000.00 minimum
    ],
)
def test_pass_through_near_misses_stay_quiet(inflow: str, outflow: str, hours_later: int) -> None:
    sim = Sim()
    mule, sender, onward = mule_and_sender(sim)
    sim.transfer(sender, mule, inflow)
    result = sim.transfer(mule, onward, outflow, at=NOON + hours_later * HOUR)
    assert "rapid_pass_through" not in fired(result)


def test_pass_through_is_quiet_when_the_account_keeps_its_money_or_moves_its_own() -> None:
    sim = Sim()
    saver, sender, landlord = funded(sim, "30000.00"), funded(sim), funded(sim)
    sim.transfer(sender, saver, "5000.00")  # salary in, rent out: the balance stays high
    assert "rapid_pass_through" not in fired(
        sim.transfer(saver, landlord, "4500.00", at=NOON + HOUR)
    )
    owner = 77
    checking = sim.account(owner=owner)
    savings = sim.account(owner=owner)
    sim.deposit(savings, "6000.00", at=NOON - 30 * DAY)
    sim.transfer(savings, checking, "5000.00", at=NOON + DAY)  # from the customer's own savings
    assert "rapid_pass_through" not in fired(
        sim.transfer(checking, landlord, "4900.00", at=NOON + DAY + HOUR)
    )


# --- dormant reactivation -----------------------------------------------------------------


def test_dormant_account_moving_a_large_amount_fires() -> None:
    sim = Sim()
    sleeper = funded(sim, "3000.00", days_ago=200)
    payee = funded(sim)
    result = sim.transfer(sleeper, payee, "2500.00")
    assert "dormant_reactivation" in fired(result)
    assert next(h for h in result.hits if h.rule.id == "dormant_reactivation").account_id == sleeper


def test_dormant_account_receiving_a_large_amount_fires_for_the_receiver() -> None:
    sim = Sim()
    sleeper = sim.account(opened=NOON - 700 * DAY)  # opened long ago, never used
    payer = funded(sim)
    result = sim.transfer(payer, sleeper, "4000.00")
    hit = next(h for h in result.hits if h.rule.id == "dormant_reactivation")
    assert hit.account_id == sleeper


@pytest.mark.parametrize(("idle_days", "amount"), [(170, "2500.00"), (200, "900.00")])
def test_dormant_near_misses_stay_quiet(idle_days: int, amount: str) -> None:
    sim = Sim()
    sleeper = funded(sim, "3000.00", days_ago=idle_days)
    payee = funded(sim)
    assert "dormant_reactivation" not in fired(sim.transfer(sleeper, payee, amount))


# --- new account, high value --------------------------------------------------------------


def test_new_account_receiving_a_high_value_fires() -> None:
    sim = Sim()
    fresh = sim.account(opened=NOON - 10 * DAY)
    assert "new_account_high_value" in fired(sim.deposit(fresh, "6000.00"))


def test_new_account_near_misses_stay_quiet() -> None:
    sim = Sim()
    older = sim.account(opened=NOON - 40 * DAY)
    fresh = sim.account(opened=NOON - 10 * DAY)
    assert "new_account_high_value" not in fired(sim.deposit(older, "6000.00"))
    assert "new_account_high_value" not in fired(sim.deposit(fresh, "4000.00"))
    owner = 5
    old_checking = sim.account(owner=owner, opened=NOON - 900 * DAY)
    sim.deposit(old_checking, "20000.00", at=NOON - 100 * DAY)
    new_savings = sim.account(owner=owner, opened=NOON - 2 * DAY)
    own = sim.transfer(old_checking, new_savings, "8000.00")  # into one's own new savings
    assert "new_account_high_value" not in fired(own)


# --- round amounts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "fires"), [("5000.00", True), ("5000.01", False), ("2000.00", False)]
)
def test_round_amount(amount: str, fires: bool) -> None:
    sim = Sim()
    account, payee = funded(sim), funded(sim)
    assert ("round_amount" in fired(sim.transfer(account, payee, amount))) is fires


def test_round_amount_alone_does_not_alert() -> None:
    assert RULES_BY_ID["round_amount"].score < 0.5
    assert not RULES_BY_ID["round_amount"].alerts


# --- fan-in and fan-out -------------------------------------------------------------------


def test_fan_in_fires_when_six_new_payers_pay_within_a_day() -> None:
    sim = Sim()
    collector = sim.account(opened=NOON - 50 * DAY)
    payers = [funded(sim) for _ in range(6)]
    results = [
        sim.transfer(p, collector, "300.00", at=NOON + i * HOUR) for i, p in enumerate(payers)
    ]
    assert ["fan_in" in fired(r) for r in results] == [False] * 5 + [True]


def test_fan_in_near_misses_stay_quiet() -> None:
    sim = Sim()
    collector = sim.account(opened=NOON - 50 * DAY)
    spread = [funded(sim) for _ in range(6)]  # six payers, but over three days
    results = [
        sim.transfer(p, collector, "300.00", at=NOON + i * 12 * HOUR) for i, p in enumerate(spread)
    ]
    assert not any("fan_in" in fired(r) for r in results)
    shop = sim.account(opened=NOON - 900 * DAY)  # a shop with many regular payers
    for regular in [funded(sim) for _ in range(20)]:
        sim.transfer(regular, shop, "30.00", at=NOON - 10 * DAY)
    newcomers = [funded(sim) for _ in range(6)]
    results = [
        sim.transfer(p, shop, "30.00", at=NOON + i * MINUTE) for i, p in enumerate(newcomers)
    ]
    assert not any("fan_in" in fired(r) for r in results)


def test_fan_out_fires_when_paying_six_new_counterparties_within_a_day() -> None:
    sim = Sim()
    sender = funded(sim)
    payees = [funded(sim) for _ in range(6)]
    results = [
        sim.transfer(sender, p, "100.00", at=NOON + i * 2 * HOUR) for i, p in enumerate(payees)
    ]
    assert ["fan_out" in fired(r) for r in results] == [False] * 5 + [True]


def test_fan_out_is_quiet_when_paying_known_counterparties() -> None:
    sim = Sim()
    payroll = funded(sim, "900000.00")
    staff = [funded(sim) for _ in range(8)]
    for person in staff:  # last month's salaries
        sim.transfer(payroll, person, "3000.00", at=NOON - 30 * DAY)
    results = [
        sim.transfer(payroll, p, "3000.00", at=NOON + i * MINUTE) for i, p in enumerate(staff)
    ]
    assert not any("fan_out" in fired(r) for r in results)


# --- repeated blocked attempts ------------------------------------------------------------


def test_repeated_blocked_fires_within_the_hour_after_a_block() -> None:
    sim = Sim()
    account, payee = funded(sim), funded(sim)
    sim.move("transfer", "900.00", src=account, dst=payee, status="blocked")
    assert "repeated_blocked" in fired(sim.transfer(account, payee, "900.00", at=NOON + 5 * MINUTE))
    assert "repeated_blocked" not in fired(
        sim.transfer(account, payee, "900.00", at=NOON + 2 * HOUR)
    )


def test_a_blocked_attempt_changes_nothing_but_the_blocked_count() -> None:
    sim = Sim()
    account, payee = funded(sim), funded(sim)
    before = sim.state.stats[account]
    counts = (before.out_count, before.counterparties, list(before.recent_out))
    sim.move("transfer", "900.00", src=account, dst=payee, status="blocked")
    after = sim.state.stats[account]
    assert (after.out_count, after.counterparties, list(after.recent_out)) == counts
    assert len(after.recent_blocked) == 1


# --- scores and verdicts ------------------------------------------------------------------


def test_every_rule_has_an_id_a_version_and_a_setting_driven_score() -> None:
    assert len({rule.id for rule in RULES}) == len(RULES)
    assert all(rule.version >= 1 and 0 < rule.score < 1 for rule in RULES)
    sim = Sim(risk_settings(risk_rule_scores={"large_cash": 0.3}))
    account = funded(sim)
    hit = next(h for h in sim.deposit(account, "15000.00").hits if h.rule.id == "large_cash")
    assert hit.score == 0.3


def test_evidence_combines_as_a_noisy_or_and_maps_to_verdicts() -> None:
    sim = Sim()
    scorer = Scorer(sim.params, None)
    account = funded(sim)
    facts = sim.deposit(account, "15000.00").facts
    hits = [
        Hit(RULES_BY_ID["large_cash"], 0.5, account, "x"),
        Hit(RULES_BY_ID["fan_in"], 0.6, 1, "y"),
    ]
    assessment = scorer.combine(facts, hits, None)
    assert assessment.score == pytest.approx(1 - 0.5 * 0.4)
    assert assessment.verdict is Verdict.CRITICAL
    assert [r["rule"] for r in assessment.reasons] == ["fan_in", "large_cash"]
    assert verdict_of(0.4999) is Verdict.SAFE
    assert verdict_of(0.5) is Verdict.SUSPICIOUS
    assert verdict_of(0.7999) is Verdict.SUSPICIOUS
    assert verdict_of(0.8) is Verdict.CRITICAL
    assert scorer.combine(facts, [], None).verdict is Verdict.SAFE
