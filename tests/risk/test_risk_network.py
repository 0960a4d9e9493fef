"""The account's network, seen incrementally: fan-in spread over days, card testing, small
pass-through, each against the account's own norm (replayed exactly as postings score)."""

from __future__ import annotations

from datetime import timedelta

from risk_helpers import NOON, Sim, fired

from ledgerbank.risk.features import FEATURES
from ledgerbank.risk.stats import AccountStats, from_row, peer_tag, to_row


def salaried(sim: Sim) -> tuple[int, int]:
    """A customer paid by one employer every month for a year."""
    employer, person = sim.account(), sim.account()
    sim.deposit(employer, "1000000.00", at=NOON - timedelta(days=380))
    for month in range(12, 0, -1):
        sim.transfer(employer, person, "2500.00", at=NOON - timedelta(days=30 * month + 3))
    return employer, person


def test_a_fan_in_spread_over_two_days_is_seen_from_the_third_first_time_payer() -> None:
    sim = Sim()
    _, collector = salaried(sim)
    payers = [sim.account() for _ in range(5)]
    for payer in payers:
        sim.deposit(payer, "1000.00", at=NOON - timedelta(days=5))
    found = []
    for index, payer in enumerate(payers):
        item = sim.transfer(
            payer, collector, f"{120 + index}.00", at=NOON + timedelta(hours=11 * index)
        )
        found.append(fired(item))
    assert all("fan_in" not in rules for rules in found)  # the first round's rule: 6 in 24 h
    assert ["fan_in_network" in rules for rules in found] == [False, False, True, True, True]
    vector = item.facts.vector
    assert vector[FEATURES.index("new_senders_week")] == 5
    assert vector[FEATURES.index("senders_week")] == 5
    assert vector[FEATURES.index("new_sender_share")] == 1.0


def test_an_account_that_always_gains_payers_is_not_a_fan_in() -> None:
    sim = Sim()
    shop = sim.account(opened=NOON - timedelta(days=61))
    for day in range(60, 0, -1):  # a new customer every day for two months
        customer = sim.account()
        sim.deposit(customer, "100.00", at=NOON - timedelta(days=day, hours=1))
        sim.transfer(customer, shop, "20.00", at=NOON - timedelta(days=day))
    hits = set()
    for index in range(4):
        customer = sim.account()
        sim.deposit(customer, "100.00", at=NOON - timedelta(hours=2))
        hits |= fired(sim.transfer(customer, shop, "25.00", at=NOON + timedelta(hours=index)))
    assert "fan_in_network" not in hits


def test_card_testing_is_a_burst_of_tiny_payments_to_one_payee() -> None:
    sim = Sim()
    _, victim = salaried(sim)
    merchant = sim.account()
    found = [
        fired(sim.transfer(victim, merchant, f"{1 + i}.50", at=NOON + timedelta(minutes=3 * i)))
        for i in range(5)
    ]
    assert ["card_testing" in rules for rules in found] == [False, False, True, True, True]


def test_daily_coffee_at_one_shop_is_not_card_testing() -> None:
    sim = Sim()
    _, person = salaried(sim)
    cafe = sim.account()
    hits: set[str] = set()
    for day in range(30, 0, -1):
        for cup in range(3):  # three small coffees within the hour, every day
            at = NOON - timedelta(days=day) + timedelta(minutes=15 * cup)
            found = fired(sim.transfer(person, cafe, "3.20", at=at))
            if day < 30:  # the first morning at a new cafe does look like a card test
                hits |= found
    assert "card_testing" not in hits
    hits = set()
    for cup in range(3):
        hits |= fired(sim.transfer(person, cafe, "3.40", at=NOON + timedelta(minutes=15 * cup)))
    assert "card_testing" not in hits  # its own habit: never more than before


def test_a_small_pass_through_is_seen_whatever_its_size() -> None:
    sim = Sim()
    mule = sim.account(opened=NOON - timedelta(days=40))
    sim.deposit(mule, "20.00", at=NOON - timedelta(days=30))
    strangers = [sim.account() for _ in range(2)]
    for index, stranger in enumerate(strangers):
        sim.deposit(stranger, "2000.00", at=NOON - timedelta(days=2))
        sim.transfer(stranger, mule, "160.00", at=NOON + timedelta(hours=index))
    onward = sim.account()
    item = sim.transfer(mule, onward, "300.00", at=NOON + timedelta(hours=5))
    assert "pass_through_relative" in fired(item)
    assert "rapid_pass_through" not in fired(item)  # the first round's: 1,000.00 at least
    assert item.facts.inflow_new_share == 1.0


def test_paying_rent_after_the_salary_is_not_a_pass_through() -> None:
    sim = Sim()
    employer, person = salaried(sim)
    landlord = sim.account()
    for month in range(12, 0, -1):
        sim.transfer(person, landlord, "2300.00", at=NOON - timedelta(days=30 * month + 2))
    sim.transfer(employer, person, "2500.00", at=NOON)
    assert not fired(sim.transfer(person, landlord, "2300.00", at=NOON + timedelta(hours=3)))


def test_the_network_survives_a_round_trip_through_its_row() -> None:
    stats = AccountStats(7, recent_out=[100, 5 << 3, 160, 9 << 3], recent_out_peers=[peer_tag(3)])
    stats.senders, stats.receivers, stats.peak_repeat = 4, 2, 3
    again = from_row({**to_row(stats, NOON), "account_id": 7})
    assert again.recent_out_peers == [peer_tag(3)]
    assert (again.senders, again.receivers, again.peak_repeat) == (4, 2, 3)
    # A row from before the tags: the older movements have no known counterparty.
    legacy = from_row({**to_row(stats, NOON), "recent_out_peers": None, "account_id": 7})
    assert legacy.recent_out_peers == []
