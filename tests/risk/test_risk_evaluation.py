"""The labelled scenario generator and the evaluation that compares ledgerbank with the original."""

from __future__ import annotations

import dataclasses

import numpy as np
from risk_helpers import risk_settings

from ledgerbank.evaluation.risk import Method, evaluate, replay_scenario
from ledgerbank.evaluation.risk_scenarios import TYPOLOGIES, generate
from ledgerbank.risk.params import Params


def test_the_generator_is_reproducible_and_injects_every_typology() -> None:
    first = generate(seed=3, customers=80, train_days=30, test_days=10, cases_per_month=4)
    again = generate(seed=3, customers=80, train_days=30, test_days=10, cases_per_month=4)
    assert first.transactions == again.transactions
    labelled = {tx.label for tx in first.transactions if tx.label}
    assert labelled == set(TYPOLOGIES)
    assert all(first.start <= tx.t < first.end for tx in first.transactions)
    times = [tx.t for tx in first.transactions]
    assert times == sorted(times)
    # Money never goes below zero and accounts move nothing before they are opened.
    balances = dict(first.opening_balances)
    for tx in first.transactions:
        for account in (tx.src, tx.dst):
            if account is not None:
                assert first.accounts[account].opened <= tx.t
        if tx.src is not None:
            balances[tx.src] -= tx.amount
            assert balances[tx.src] >= 0
        if tx.dst is not None:
            balances[tx.dst] += tx.amount
        assert tx.amount > 0


def test_labels_never_reach_the_features() -> None:
    scenario = generate(seed=4, customers=60, train_days=20, test_days=5, cases_per_month=4)
    params = Params.from_settings(risk_settings())
    with_labels = replay_scenario(scenario, params)
    scenario.transactions = [
        dataclasses.replace(tx, label=None, case=None) for tx in scenario.transactions
    ]
    without = replay_scenario(scenario, params)
    assert np.array_equal(with_labels.vectors, without.vectors)
    assert np.array_equal(with_labels.rule_keep, without.rule_keep)
    assert with_labels.labels.any()
    assert not without.labels.any()


def test_a_small_evaluation_beats_the_original_design_and_the_release() -> None:
    settings = risk_settings(risk_model_trees=40)
    result = evaluate(
        settings, seed=2, customers=200, train_days=60, test_days=20, cases_per_month=8
    )
    methods = {m.name.split(" (")[0]: m for m in result.methods}
    original, release = methods["original"], methods["release"]
    ours, rules_only = methods["ledgerbank before labels"], methods["ledgerbank rules alone"]
    learned = methods["ledgerbank with analyst labels"]
    assert result.test_positives > 0
    assert ours.pr_auc >= 2 * original.pr_auc
    assert ours.alert_rate_normal < original.alert_rate_normal
    assert set(ours.typologies) == set(TYPOLOGIES)
    assert all(t.cases > 0 for t in ours.typologies.values())
    assert rules_only.typologies["large_cash"].cases_caught == 1.0
    # The network features and rules see what the release did not; the labels add precision.
    assert result.labels["fraud"] >= 20
    assert learned.pr_auc > release.pr_auc
    assert learned.alert_rate_normal < release.alert_rate_normal
    second_round = ("fan_in_spread", "card_testing", "small_pass_through")

    def caught(method: Method) -> float:
        return sum(method.typologies[t].visible * method.typologies[t].visible_caught
                   for t in second_round)  # fmt: skip

    assert caught(ours) > caught(release)


def test_visibility_marks_the_point_a_pattern_shows() -> None:
    scenario = generate(seed=5, customers=120, train_days=20, test_days=10, cases_per_month=6)
    by_case: dict[int, list[bool]] = {}
    for tx in scenario.transactions:
        if tx.label in ("fan_in_spread", "card_testing"):
            by_case.setdefault(tx.case or 0, []).append(tx.visible)
    assert by_case
    for marks in by_case.values():
        assert not marks[0]  # the first payment looks like any payment
    mules = [tx for tx in scenario.transactions if tx.label == "small_pass_through"]
    assert any(not tx.visible for tx in mules)  # what the mule received, before sending on
