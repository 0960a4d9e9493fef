"""The features of one proposed movement, computed in O(1) from the accounts' rolling statistics.

`compute` is shared by the inline screen, the history replay (`risk score`, `risk train`) and
the offline evaluation, so a transaction gets the same features whichever path scores it.
`apply` then folds the movement into the statistics, as the posting itself does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from ledgerbank.risk.params import Limits, Params
from ledgerbank.risk.stats import (
    CASH,
    NEW_COUNTERPARTY,
    SAME_OWNER,
    AccountStats,
    count_since,
    counterparty_bits,
    knows,
    new_share_since,
    observe_blocked,
    observe_in,
    observe_out,
    peer_tag,
    peers_since,
    scan,
    shrunk_z,
    sum_since,
    to_peer_since,
)

# The model's inputs, in order. The first four are the original design's.
FEATURES: tuple[str, ...] = (
    "amount_log",  # log(1 + amount in major units)
    "hour",  # local hour of day, with minutes as a fraction
    "day_of_week",  # Monday 0 .. Sunday 6
    "sender_frequency",  # the initiating account's payments in the last 24 hours
    "is_deposit",
    "is_withdrawal",
    "amount_vs_history",  # z-score of the log amount against the initiator's own history
    "amount_vs_receiver",  # ... against what the receiving account usually receives
    "new_counterparty",  # a transfer to an account the sender never dealt with
    "same_owner",  # a transfer between two accounts of one customer
    "account_age",  # log(1 + days) since the initiating account was opened
    "receiver_age",
    "idle_days",  # log(1 + days) since the initiating account last moved money
    "receiver_idle_days",
    "out_last_minute",  # the initiator's payments in the last minute, hour
    "out_last_hour",
    "hour_unusual",  # 0: the customer's usual time of day .. 1: the opposite side of the clock
    "balance_drain",  # the share of the balance this payment takes
    "pass_through",  # money sent on in the window / money received in it
    "fan_out",  # new counterparties paid in the fan window, this one included
    "fan_in",  # new counterparties the receiver was paid by in the window
    "near_threshold_cash",  # cash just under the reporting threshold
    "near_threshold_recent",  # such cash movements of the account within the window
    "round_amount",  # trailing zeros of a whole amount
    "blocked_recent",  # attempts blocked in the last hour
    # The account's network (second round), from the rings' counterparty tags:
    "new_senders_week",  # first-time payers of the receiving account within the network window
    "new_senders_vs_norm",  # ... against the first-time payers it gains in a usual week
    "senders_day",  # distinct payers of the receiving account in the last 24 hours
    "senders_week",  # ... within the network window
    "new_sender_share",  # share of the receiver's inflow in the window from first-time payers
    "receivers_day",  # distinct payees of the sender in the last 24 hours
    "receivers_week",  # ... within the network window
    "new_receivers_vs_norm",  # first-time payees in the window against a usual week
    "retained_share",  # the sender's balance after this payment / its inflow of the window
    "inflow_vs_norm",  # log of that inflow against what the sender usually receives
    "inflow_new_share",  # share of that inflow from first-time payers
    "payee_repeat",  # payments to this payee within the card-testing window, this one included
    "payee_repeat_tiny",  # ... of them tiny
    "repeat_vs_norm",  # payee_repeat beyond the most the sender ever made to one payee
)
BASELINE_FEATURES: tuple[str, ...] = ("amount", "hour", "day_of_week", "sender_frequency")

DEPOSIT, WITHDRAWAL, TRANSFER = 0, 1, 2
KINDS = {"deposit": DEPOSIT, "withdrawal": WITHDRAWAL, "transfer": TRANSFER}
_TAU = 2 * math.pi / 24
_PRIOR_LOG_AMOUNT = math.log1p(100.0)  # a typical payment, for accounts with little history


@dataclass(slots=True)
class Facts:
    """What the model and the rules know about one movement."""

    kind: int
    t: int
    amount: int
    currency: str
    limits: Limits
    major: float  # amount in major units, for statistics only (money stays integer)
    log_amount: float
    hour: float
    day_of_week: int
    hour_cos: float
    hour_sin: float
    sender_frequency: int
    new_to_sender: bool
    new_to_receiver: bool
    same_owner: bool
    initiator_age: float  # days
    receiver_age: float
    initiator_idle: float  # days since the last movement (or since opening)
    receiver_idle: float
    velocity_count: int  # payments out within the velocity window, this one included
    usual_burst: int  # the most the sender ever made within that window before
    inflow_window: int  # minor units received within the pass-through window
    outflow_window: int  # ... and sent on, this one included
    balance_after: int | None  # the sender's balance after this payment
    fan_out: int
    fan_in: int
    sender_counterparties: int  # after this movement
    receiver_counterparties: int
    near_threshold_cash: bool
    near_threshold_count: int  # this one included
    blocked_recent: int
    vector: list[float]
    # the network (second round)
    new_senders_week: int = 0
    new_senders_vs_norm: float = 0.0
    new_sender_share: float = 0.0
    retained_share: float = 2.0
    inflow_vs_norm: float = 0.0
    inflow_new_share: float = 0.0
    payee_repeat: int = 0
    payee_repeat_tiny: int = 0
    usual_repeat: int = 0  # the most the sender ever paid one payee within the window before

    def baseline(self) -> list[float]:
        """The original design's four features."""
        return [self.major, float(int(self.hour)), float(self.day_of_week), self.vector[3]]


def local_clock(t: int, params: Params) -> tuple[float, int]:
    """Hour of day (with minutes) and day of week of an epoch second in the bank's time zone."""
    if params.timezone is None:
        seconds = t % 86400
        return seconds / 3600.0, (t // 86400 + 3) % 7  # 1970-01-01 was a Thursday
    local = datetime.fromtimestamp(t, params.timezone)
    return local.hour + local.minute / 60.0, local.weekday()


def _days(t: int, since: int | None) -> float:
    if since is None or since >= t:
        return 0.0
    return (t - since) / 86400.0


def _hour_unusual(stats: AccountStats, cos_h: float, sin_h: float) -> float:
    shrink = stats.hour_count / (stats.hour_count + 3.0)
    spread = math.hypot(stats.hour_x, stats.hour_y)
    unusual = shrink * (spread - (stats.hour_x * cos_h + stats.hour_y * sin_h)) / 2.0
    return unusual if unusual > 0.0 else 0.0


def _weeks(t: int, stats: AccountStats, opened: int | None) -> float:
    """The account's age in weeks (at least one), from its opening (or first movement)."""
    since = opened if opened is not None else stats.first_activity
    return max(_days(t, since) / 7.0, 1.0)


def _network(
    params: Params,
    facts_kind: int,
    t: int,
    amount: int,
    log_amount: float,
    scale: int,
    src: AccountStats | None,
    dst: AccountStats | None,
    src_opened: int | None,
    dst_opened: int | None,
    new_to_sender: bool,
    new_to_receiver: bool,
    same_owner: bool,
    inflow: int,
    balance_after: int | None,
) -> list[float]:
    """The network features, in FEATURES order, and the raw counts the rules read."""
    week = t - params.network_seconds
    day = t - 86400
    quiet = SAME_OWNER | CASH  # own-account moves and cash have no other party
    new_week = vs_norm = senders_day = senders_week = new_share = 0.0
    receivers_day = receivers_week = receivers_norm = 0.0
    retained, inflow_norm, inflow_new = 2.0, 0.0, 0.0
    repeat = tiny = beyond = 0
    if facts_kind == TRANSFER and not same_owner:
        assert src is not None
        assert dst is not None
        src_tag, dst_tag = peer_tag(src.account_id), peer_tag(dst.account_id)
        # the receiving side: who pays it
        new_week = count_since(dst.recent_in, week, mask=NEW_COUNTERPARTY) + new_to_receiver
        vs_norm = new_week / (dst.senders / _weeks(t, dst, dst_opened) + 1.0)
        in_day, _ = peers_since(dst.recent_in, dst.recent_in_peers, day, exclude=quiet)
        in_week, _ = peers_since(dst.recent_in, dst.recent_in_peers, week, exclude=quiet)
        senders_day, senders_week = len(in_day | {src_tag}), len(in_week | {src_tag})
        new_amount, total = new_share_since(dst.recent_in, week)
        new_share = (new_amount + (amount if new_to_receiver else 0)) / (total + amount)
        # the paying side: whom it pays, and to this payee how often
        out_day, _ = peers_since(src.recent_out, src.recent_out_peers, day, exclude=quiet)
        out_week, _ = peers_since(src.recent_out, src.recent_out_peers, week, exclude=quiet)
        receivers_day, receivers_week = len(out_day | {dst_tag}), len(out_week | {dst_tag})
        new_out = count_since(src.recent_out, week, mask=NEW_COUNTERPARTY) + new_to_sender
        receivers_norm = new_out / (src.receivers / _weeks(t, src, src_opened) + 1.0)
        typical = math.expm1(src.out_log_mean) * scale if src.out_count else 0.0
        tiny_below = max(params.card_tiny_minor(scale), int(typical * params.card_tiny_share))
        repeat, tiny = to_peer_since(
            src.recent_out,
            src.recent_out_peers,
            t - params.card_testing_seconds,
            dst_tag,
            tiny_below=tiny_below,
        )
        repeat += 1
        tiny += amount < tiny_below
        beyond = max(repeat - src.peak_repeat, 0)
    if facts_kind != DEPOSIT and not same_owner and src is not None and inflow > 0:
        if balance_after is not None:
            retained = min(max(balance_after / inflow, 0.0), 2.0)
        usual = src.in_log_mean if src.in_count else _PRIOR_LOG_AMOUNT
        inflow_norm = math.log1p(inflow / scale) - usual
        new_amount, total = new_share_since(src.recent_in, t - params.pass_through_seconds)
        inflow_new = new_amount / total if total else 0.0
    return [
        new_week,
        vs_norm,
        senders_day,
        senders_week,
        new_share,
        receivers_day,
        receivers_week,
        receivers_norm,
        retained,
        inflow_norm,
        inflow_new,
        repeat,
        tiny,
        beyond,
    ]


def compute(
    params: Params,
    *,
    kind: int,
    amount: int,
    currency: str,
    t: int,
    src: AccountStats | None,
    dst: AccountStats | None,
    src_owner: int | None,
    dst_owner: int | None,
    src_opened: int | None,
    dst_opened: int | None,
    src_balance: int | None,
) -> Facts:
    """The features of a movement of `amount` minor units at epoch second `t`."""
    limits = params.limits(currency)
    scale = limits.scale
    major = amount / scale
    log_amount = math.log1p(major)
    hour, day_of_week = local_clock(t, params)
    cos_h, sin_h = math.cos(hour * _TAU), math.sin(hour * _TAU)

    velocity_since = t - params.velocity_seconds
    fan_since = t - params.fan_seconds
    pass_since = t - params.pass_through_seconds
    if kind == DEPOSIT:
        assert dst is not None
        initiator, opened = dst, dst_opened
        amount_z = shrunk_z(
            log_amount, dst.in_count, dst.in_log_mean, dst.in_log_m2, _PRIOR_LOG_AMOUNT
        )
        last_minute, last_hour, sender_frequency, _, _, _ = scan(
            dst.recent_in,
            t,
            own_mask=CASH,
            velocity_since=t,
            fan_since=t,
            pass_since=t,
        )
        velocity_count = fan_out = outflow = 0
    else:
        assert src is not None
        initiator, opened = src, src_opened
        amount_z = shrunk_z(
            log_amount, src.out_count, src.out_log_mean, src.out_log_m2, _PRIOR_LOG_AMOUNT
        )
        last_minute, last_hour, sender_frequency, velocity_count, fan_out, outflow = scan(
            src.recent_out,
            t,
            own_mask=0,
            velocity_since=velocity_since,
            fan_since=fan_since,
            pass_since=pass_since,
        )
        velocity_count += 1
    initiator_age = _days(t, opened)
    initiator_idle = _days(t, initiator.last_activity or opened)

    new_to_sender = new_to_receiver = same_owner = False
    receiver_z = 0.0
    receiver_age, receiver_idle = initiator_age, initiator_idle
    fan_in = 0
    sender_cps = receiver_cps = initiator.counterparties
    if kind == TRANSFER:
        assert src is not None
        assert dst is not None
        new_to_sender = not knows(src, counterparty_bits(dst.account_id))
        new_to_receiver = not knows(dst, counterparty_bits(src.account_id))
        same_owner = src_owner is not None and src_owner == dst_owner
        receiver_z = shrunk_z(
            log_amount, dst.in_count, dst.in_log_mean, dst.in_log_m2, _PRIOR_LOG_AMOUNT
        )
        receiver_age = _days(t, dst_opened)
        receiver_idle = _days(t, dst.last_activity or dst_opened)
        fan_out += new_to_sender
        fan_in = count_since(dst.recent_in, fan_since, mask=NEW_COUNTERPARTY) + new_to_receiver
        sender_cps = src.counterparties + new_to_sender
        receiver_cps = dst.counterparties + new_to_receiver

    inflow = 0
    balance_after: int | None = None
    drain = pass_through = 0.0
    if kind != DEPOSIT:
        assert src is not None
        if src_balance is not None:
            balance_after = src_balance - amount
            drain = min(amount / src_balance, 1.0) if src_balance > 0 else 1.0
        if same_owner:
            outflow = 0
        else:
            inflow = sum_since(src.recent_in, pass_since, exclude=SAME_OWNER)
            outflow += amount
            pass_through = min(outflow / inflow, 2.0) if inflow else 0.0

    near_cash = kind != TRANSFER and limits.structuring_floor <= amount < limits.cash_threshold
    near_recent = (
        count_since(initiator.recent_cash, t - params.structuring_seconds, stride=1)
        if initiator.recent_cash
        else 0
    )
    round_zeros = 0
    if amount % scale == 0:
        whole = amount // scale
        while whole % 10 == 0 and round_zeros < 6:
            whole //= 10
            round_zeros += 1
    blocked_recent = (
        count_since(initiator.recent_blocked, t - 3600, stride=1) if initiator.recent_blocked else 0
    )

    vector: list[float] = [
        log_amount,
        hour,
        day_of_week,
        sender_frequency,
        1.0 if kind == DEPOSIT else 0.0,
        1.0 if kind == WITHDRAWAL else 0.0,
        amount_z,
        receiver_z,
        1.0 if new_to_sender else 0.0,
        1.0 if same_owner else 0.0,
        math.log1p(initiator_age),
        math.log1p(receiver_age),
        math.log1p(initiator_idle),
        math.log1p(receiver_idle),
        last_minute,
        last_hour,
        _hour_unusual(initiator, cos_h, sin_h),
        drain,
        pass_through,
        fan_out,
        fan_in,
        1.0 if near_cash else 0.0,
        near_recent,
        round_zeros,
        blocked_recent,
    ]
    network = _network(
        params,
        kind,
        t,
        amount,
        log_amount,
        scale,
        src,
        dst,
        src_opened,
        dst_opened,
        new_to_sender,
        new_to_receiver,
        same_owner,
        inflow,
        balance_after,
    )
    vector.extend(network)
    return Facts(
        kind=kind,
        t=t,
        amount=amount,
        currency=currency,
        limits=limits,
        major=major,
        log_amount=log_amount,
        hour=hour,
        day_of_week=day_of_week,
        hour_cos=cos_h,
        hour_sin=sin_h,
        sender_frequency=sender_frequency,
        new_to_sender=new_to_sender,
        new_to_receiver=new_to_receiver,
        same_owner=same_owner,
        initiator_age=initiator_age,
        receiver_age=receiver_age,
        initiator_idle=initiator_idle,
        receiver_idle=receiver_idle,
        velocity_count=velocity_count,
        usual_burst=src.peak_burst if src is not None else 0,
        inflow_window=inflow,
        outflow_window=outflow,
        balance_after=balance_after,
        fan_out=fan_out,
        fan_in=fan_in,
        sender_counterparties=sender_cps,
        receiver_counterparties=receiver_cps,
        near_threshold_cash=near_cash,
        near_threshold_count=near_recent + near_cash,
        blocked_recent=blocked_recent,
        vector=vector,
        new_senders_week=int(network[0]),
        new_senders_vs_norm=network[1],
        new_sender_share=network[4],
        retained_share=network[8],
        inflow_vs_norm=network[9],
        inflow_new_share=network[10],
        payee_repeat=int(network[11]),
        payee_repeat_tiny=int(network[12]),
        usual_repeat=src.peak_repeat if src is not None else 0,
    )


def apply(
    facts: Facts, src: AccountStats | None, dst: AccountStats | None, *, posted: bool
) -> None:
    """Fold a written movement into the statistics: all of it if posted, else the attempt."""
    if not posted:
        initiator = dst if facts.kind == DEPOSIT else src
        if initiator is not None:
            observe_blocked(initiator, t=facts.t)
        return
    same = SAME_OWNER if facts.same_owner else 0
    if src is not None:
        observe_out(
            src,
            t=facts.t,
            amount=facts.amount,
            log_amount=facts.log_amount,
            flags=(NEW_COUNTERPARTY if facts.new_to_sender else 0)
            | same
            | (CASH if facts.kind == WITHDRAWAL else 0),
            counterparty_bits=counterparty_bits(dst.account_id) if dst is not None else 0,
            hour_cos=facts.hour_cos,
            hour_sin=facts.hour_sin,
            near_threshold_cash=facts.near_threshold_cash,
            burst=facts.velocity_count,
            peer=peer_tag(dst.account_id) if dst is not None else 0,
            repeat=facts.payee_repeat,
        )
    if dst is not None:
        observe_in(
            dst,
            t=facts.t,
            amount=facts.amount,
            log_amount=facts.log_amount,
            flags=(NEW_COUNTERPARTY if facts.new_to_receiver else 0)
            | same
            | (CASH if facts.kind == DEPOSIT else 0),
            counterparty_bits=counterparty_bits(src.account_id) if src is not None else 0,
            hour_cos=facts.hour_cos,
            hour_sin=facts.hour_sin,
            near_threshold_cash=facts.near_threshold_cash,
            peer=peer_tag(src.account_id) if src is not None else 0,
        )
