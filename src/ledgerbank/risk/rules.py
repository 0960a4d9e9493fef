"""The anti-money-laundering and fraud rules: each an id, a version, its settings and a score.

A rule reads the `Facts` of one movement and either stays quiet or returns a `Hit` naming the
account it is about and why, in words a compliance officer can put in a report. A rule's
`score` is what it alone makes of a transaction (0.5 and above raises an alert); the screen
combines the hits with the model (see `ledgerbank.risk.scoring`). Rules with `alerts=True`
open a compliance alert whenever they fire; `round_amount` and `repeated_blocked` only add
weight to other evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ledgerbank.kit.money import to_decimal_string
from ledgerbank.risk.features import DEPOSIT, TRANSFER, Facts
from ledgerbank.risk.params import Params

Finding = tuple[int | None, str]  # the account concerned, and the finding in words
Check = Callable[[Facts, Params, int | None, int | None], Finding | None]


@dataclass(frozen=True)
class Rule:
    id: str
    version: int
    kind: str  # "aml" (compliance) or "fraud"
    score: float  # what this rule alone makes of a transaction
    severity: str  # of the compliance alert it opens: low, medium, high
    alerts: bool  # opens a compliance alert on its own
    summary: str
    check: Check


@dataclass(frozen=True)
class Hit:
    rule: Rule
    score: float
    account_id: int | None
    detail: str

    def reason(self) -> dict[str, object]:
        return {
            "kind": "rule",
            "rule": self.rule.id,
            "version": self.rule.version,
            "score": self.score,
            "account_id": self.account_id,
            "detail": self.detail,
        }


def _money(minor: int, currency: str) -> str:
    return f"{to_decimal_string(minor, currency)} {currency}"


def _initiator(f: Facts, src: int | None, dst: int | None) -> int | None:
    return dst if f.kind == DEPOSIT else src


def _cash_word(f: Facts) -> str:
    return "cash deposit" if f.kind == DEPOSIT else "cash withdrawal"


def large_cash(f: Facts, p: Params, src: int | None, dst: int | None) -> Finding | None:
    threshold = f.limits.cash_threshold
    if f.kind == TRANSFER or f.amount < threshold:
        return None
    return _initiator(f, src, dst), (
        f"{_cash_word(f)} of {_money(f.amount, f.currency)}, at or above the "
        f"{_money(threshold, f.currency)} reporting threshold"
    )


def structuring(f: Facts, p: Params, src: int | None, dst: int | None) -> Finding | None:
    if not f.near_threshold_cash or f.near_threshold_count < p.structuring_min_count:
        return None
    threshold, low = f.limits.cash_threshold, f.limits.structuring_floor
    days = p.structuring_seconds / 86400
    return _initiator(f, src, dst), (
        f"{f.near_threshold_count} cash movements between {_money(low, f.currency)} and "
        f"just under {_money(threshold, f.currency)} within {days:g} days"
    )


def velocity_burst(f: Facts, p: Params, src: int | None, dst: int | None) -> Finding | None:
    if f.kind == DEPOSIT or f.velocity_count <= max(p.velocity_max_count, f.usual_burst):
        return None  # a payroll or a landlord paying many at once keeps to its usual pace
    minutes = p.velocity_seconds // 60
    return src, (
        f"{f.velocity_count} payments out within {minutes} minutes (at most {f.usual_burst} before)"
    )


def rapid_pass_through(f: Facts, p: Params, src: int | None, dst: int | None) -> Finding | None:
    if f.kind == DEPOSIT or f.same_owner:
        return None
    inflow = f.inflow_window
    if inflow < f.limits.pass_through_min:
        return None
    if f.outflow_window < p.pass_through_ratio * inflow:
        return None
    if f.balance_after is not None and f.balance_after > (1 - p.pass_through_ratio) * inflow:
        return None  # the account keeps most of the money: not a conduit
    hours = p.pass_through_seconds / 3600
    return src, (
        f"{_money(f.outflow_window, f.currency)} sent on of {_money(inflow, f.currency)} "
        f"received within {hours:g} hours"
    )


def dormant_reactivation(f: Facts, p: Params, src: int | None, dst: int | None) -> Finding | None:
    if f.amount < f.limits.dormant_min:
        return None
    dormant = p.dormant_seconds / 86400
    if f.initiator_idle >= dormant:
        account, idle = _initiator(f, src, dst), f.initiator_idle
    elif f.kind == TRANSFER and f.receiver_idle >= dormant:
        account, idle = dst, f.receiver_idle
    else:
        return None
    return account, (f"{_money(f.amount, f.currency)} moved on an account idle for {idle:.0f} days")


def new_account_high_value(f: Facts, p: Params, src: int | None, dst: int | None) -> Finding | None:
    if f.amount < f.limits.new_account_min:
        return None
    young = p.new_account_seconds / 86400
    if f.initiator_age < young:
        account, age = _initiator(f, src, dst), f.initiator_age
    elif f.kind == TRANSFER and not f.same_owner and f.receiver_age < young:
        account, age = dst, f.receiver_age
    else:
        return None
    return account, (
        f"{_money(f.amount, f.currency)} moved on an account opened {age:.0f} days ago"
    )


def round_amount(f: Facts, p: Params, src: int | None, dst: int | None) -> Finding | None:
    if f.amount < f.limits.round_min or f.amount % f.limits.round_unit:
        return None
    return _initiator(f, src, dst), f"a round amount of {_money(f.amount, f.currency)}"


def fan_in(f: Facts, p: Params, src: int | None, dst: int | None) -> Finding | None:
    if f.kind != TRANSFER or not f.new_to_receiver or f.fan_in < p.fan_min_count:
        return None
    if f.fan_in < p.fan_min_share * f.receiver_counterparties:
        return None  # an account that always has many payers (a shop, a landlord)
    hours = p.fan_seconds / 3600
    return dst, f"paid by {f.fan_in} new counterparties within {hours:g} hours"


def fan_out(f: Facts, p: Params, src: int | None, dst: int | None) -> Finding | None:
    if f.kind != TRANSFER or not f.new_to_sender or f.fan_out < p.fan_min_count:
        return None
    if f.fan_out < p.fan_min_share * f.sender_counterparties:
        return None  # an account that always pays many (a payroll)
    hours = p.fan_seconds / 3600
    return src, f"paid {f.fan_out} new counterparties within {hours:g} hours"


def fan_in_network(f: Facts, p: Params, src: int | None, dst: int | None) -> Finding | None:
    if f.kind != TRANSFER or not f.new_to_receiver or f.new_senders_week < p.fan_week_min_count:
        return None
    if f.new_senders_vs_norm < p.fan_norm_ratio:
        return None  # an account that gains payers all the time (a shop, a landlord)
    if f.new_sender_share < p.fan_new_share:
        return None  # a few new payers beside its usual income
    days = p.network_seconds / 86400
    return dst, (
        f"paid by {f.new_senders_week} first-time payers within {days:g} days "
        f"({f.new_senders_vs_norm:.1f} times its usual pace), "
        f"{f.new_sender_share:.0%} of what it received"
    )


def card_testing(f: Facts, p: Params, src: int | None, dst: int | None) -> Finding | None:
    if f.kind != TRANSFER or f.payee_repeat_tiny < p.card_testing_min_count:
        return None
    if f.payee_repeat <= f.usual_repeat:
        return None  # it always pays this often to one payee (a coffee shop)
    minutes = p.card_testing_seconds // 60
    return src, (
        f"{f.payee_repeat} payments to one payee within {minutes} minutes, "
        f"{f.payee_repeat_tiny} of them tiny (at most {f.usual_repeat} before)"
    )


def pass_through_relative(f: Facts, p: Params, src: int | None, dst: int | None) -> Finding | None:
    if f.kind == DEPOSIT or f.same_owner or not f.inflow_window:
        return None
    if f.inflow_new_share < p.pass_new_share or f.outflow_window < p.pass_through_ratio * (
        f.inflow_window
    ):
        return None
    if f.kind == TRANSFER and not f.new_to_sender:
        return None  # paid on to someone it always pays
    drained = f.balance_after is not None and f.balance_after <= (1 - p.pass_through_ratio) * (
        f.inflow_window
    )
    unusual = f.vector[6] >= 1.5  # amount_vs_history: far above what it usually sends
    if not (drained or unusual):
        return None
    hours = p.pass_through_seconds / 3600
    return src, (
        f"{_money(f.outflow_window, f.currency)} sent on of {_money(f.inflow_window, f.currency)} "
        f"received within {hours:g} hours, {f.inflow_new_share:.0%} of it from first-time payers"
    )


def sanctions_match(f: Facts, p: Params, src: int | None, dst: int | None) -> Finding | None:
    return None  # found by the screen against the sanctions lists, not from the features


def repeated_blocked(f: Facts, p: Params, src: int | None, dst: int | None) -> Finding | None:
    if not f.blocked_recent:
        return None
    return _initiator(f, src, dst), f"{f.blocked_recent} attempts blocked within the last hour"


RULES: tuple[Rule, ...] = (
    Rule("large_cash", 1, "aml", 0.5, "medium", True,
         "Cash at or above the currency transaction reporting threshold", large_cash),
    Rule("structuring", 1, "aml", 0.65, "high", True,
         "Repeated cash just under the reporting threshold within days", structuring),
    Rule("velocity_burst", 1, "fraud", 0.6, "medium", False,
         "A burst of payments out, beyond the account's own busiest pace", velocity_burst),
    Rule("rapid_pass_through", 1, "aml", 0.55, "high", True,
         "Most of a recent inflow sent on within a day or two", rapid_pass_through),
    Rule("dormant_reactivation", 1, "aml", 0.55, "medium", True,
         "A long-dormant account moving a large amount", dormant_reactivation),
    Rule("new_account_high_value", 1, "aml", 0.4, "medium", True,
         "A newly opened account receiving or sending a high value", new_account_high_value),
    Rule("round_amount", 1, "aml", 0.1, "low", False,
         "A large round amount", round_amount),
    Rule("fan_in", 1, "aml", 0.55, "high", True,
         "Money collected from many new counterparties", fan_in),
    Rule("fan_out", 1, "aml", 0.55, "high", True,
         "Money spread over many new counterparties", fan_out),
    Rule("repeated_blocked", 1, "fraud", 0.35, "low", False,
         "Further attempts after a blocked one", repeated_blocked),
    # second round: the account's network
    Rule("fan_in_network", 1, "aml", 0.55, "high", True,
         "Money collected from first-time payers over days, beyond the account's usual pace",
         fan_in_network),
    Rule("card_testing", 1, "fraud", 0.6, "medium", False,
         "A burst of tiny payments to one payee, beyond the account's own habits", card_testing),
    Rule("pass_through_relative", 1, "aml", 0.55, "high", True,
         "Money from first-time payers sent straight on, at any size", pass_through_relative),
    Rule("sanctions_match", 1, "aml", 0.5, "high", True,
         "A payment to a new payee whose name resembles a sanctioned one", sanctions_match),
)  # fmt: skip
RULES_BY_ID = {rule.id: rule for rule in RULES}


def _quiet(f: Facts, p: Params) -> bool:
    """True when no rule can fire: most payments, told apart without calling each rule."""
    return (
        f.amount < f.limits.quiet_below
        and f.outflow_window < p.pass_through_ratio * f.limits.pass_through_min
        and f.velocity_count <= p.velocity_max_count
        and f.fan_in < p.fan_min_count
        and f.fan_out < p.fan_min_count
        and not f.near_threshold_cash
        and not f.blocked_recent
        and f.new_senders_week < p.fan_week_min_count
        and f.payee_repeat_tiny < p.card_testing_min_count
        and (
            f.inflow_new_share < p.pass_new_share
            or f.outflow_window < p.pass_through_ratio * f.inflow_window
        )
    )


def evaluate(f: Facts, p: Params, src: int | None, dst: int | None) -> list[Hit]:
    """Every rule that fires on this movement."""
    if _quiet(f, p):
        return []
    hits = []
    for rule in RULES:
        found = rule.check(f, p, src, dst)
        if found is not None:
            score = p.rule_scores.get(rule.id, rule.score)
            hits.append(Hit(rule, score, found[0], found[1]))
    return hits
