"""Per-account rolling statistics, updated in O(1) by every posting and read by every score.

An account's statistics are a handful of numbers and four small fixed-size rings:
- running count, mean and spread (Welford) of log(1 + amount) for money out and money in;
- the mean direction of the customer's own activity on the 24-hour clock;
- a 1024-bit Bloom filter of the counterparties seen, and their (estimated) number;
- the last 32 outgoing and 32 incoming movements (time, amount, new-counterparty and
  same-owner flags) with, beside them, a 31-bit tag of each movement's counterparty (the
  account's network: distinct payers and payees in a window, repeated payments to one payee),
  the last 16 cash movements just under the reporting threshold and the last 16 attempts that
  risk blocked;
- how many distinct accounts ever paid it (senders) and were paid by it (receivers), and the
  most payments it ever made to one payee within the card-testing window.
Windowed counts ("transfers in the last hour", "inflow of the last two days") are read off the
rings, exact up to the ring size; nothing ever scans the account's history.

Only posted movements change the statistics. A blocked attempt moved no money, so it must not
make an attacker's pattern look normal (amounts, counterparties, velocity); it is counted in
its own ring instead, which feeds the `repeated_blocked` signal.
"""

from __future__ import annotations

import math
import sys
from array import array
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

OUT_RING = 32
IN_RING = 32
CASH_RING = 16
BLOCKED_RING = 16
SKETCH_BITS = 1024
HOUR_MEMORY = 50  # the hour-of-day mean forgets slowly once it has this many observations

# Flags packed under the amount in ring entries: value = amount << 3 | flags.
NEW_COUNTERPARTY = 1
SAME_OWNER = 2
CASH = 4

_MASK64 = (1 << 64) - 1
_LITTLE = sys.byteorder == "little"


@dataclass(slots=True)
class AccountStats:
    """One account's rolling statistics; times are whole seconds since the epoch."""

    account_id: int
    stored: bool = False  # a row exists in risk_account_stats
    out_count: int = 0
    out_log_mean: float = 0.0
    out_log_m2: float = 0.0
    in_count: int = 0
    in_log_mean: float = 0.0
    in_log_m2: float = 0.0
    hour_count: int = 0
    hour_x: float = 0.0
    hour_y: float = 0.0
    counterparties: int = 0
    peak_burst: int = 0
    sketch: int = 0
    first_activity: int | None = None
    last_activity: int | None = None
    recent_out: list[int] = field(default_factory=list)  # flat [t0, v0, t1, v1, ...]
    recent_in: list[int] = field(default_factory=list)
    recent_cash: list[int] = field(default_factory=list)
    recent_blocked: list[int] = field(default_factory=list)
    # Counterparty tags of recent_out / recent_in, aligned from the newest end (a row written
    # before the tags existed has fewer: its older movements have no known counterparty).
    recent_out_peers: list[int] = field(default_factory=list)
    recent_in_peers: list[int] = field(default_factory=list)
    senders: int = 0
    receivers: int = 0
    peak_repeat: int = 0


@lru_cache(maxsize=1 << 16)
def peer_tag(counterparty_id: int) -> int:
    """A 31-bit tag of a counterparty account (a SplitMix64 hash of its id, never 0)."""
    h = (counterparty_id * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & _MASK64
    h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & _MASK64
    return ((h ^ (h >> 31)) & 0x7FFFFFFF) or 1


def peers_since(
    ring: list[int], peers: list[int], since: int, *, exclude: int = 0
) -> tuple[set[int], int]:
    """The distinct counterparty tags of ring entries at or after `since` (leaving out entries
    carrying `exclude`), and how many of those entries had no known counterparty."""
    found: set[int] = set()
    unknown = 0
    offset = len(ring) // 2 - len(peers)  # entry i has peers[i - offset]
    for i in range(len(ring) - 2, -1, -2):
        if ring[i] < since:
            break
        if ring[i + 1] & exclude:
            continue
        index = i // 2 - offset
        tag = peers[index] if index >= 0 else 0
        if tag:
            found.add(tag)
        else:
            unknown += 1
    return found, unknown


def to_peer_since(
    ring: list[int], peers: list[int], since: int, tag: int, *, tiny_below: int
) -> tuple[int, int]:
    """Entries at or after `since` paid to the counterparty `tag`: all, and those under
    `tiny_below` minor units."""
    every = tiny = 0
    offset = len(ring) // 2 - len(peers)
    for i in range(len(ring) - 2, -1, -2):
        if ring[i] < since:
            break
        index = i // 2 - offset
        if index < 0:
            break
        if peers[index] == tag:
            every += 1
            if ring[i + 1] >> 3 < tiny_below:
                tiny += 1
    return every, tiny


def new_share_since(ring: list[int], since: int) -> tuple[int, int]:
    """Amounts of entries at or after `since` (not between own accounts): from first-time
    counterparties, and in all."""
    new = total = 0
    for i in range(len(ring) - 2, -1, -2):
        if ring[i] < since:
            break
        value = ring[i + 1]
        if value & SAME_OWNER:
            continue
        total += value >> 3
        if value & NEW_COUNTERPARTY:
            new += value >> 3
    return new, total


@lru_cache(maxsize=1 << 16)
def counterparty_bits(counterparty_id: int) -> int:
    """The three Bloom-filter bits of a counterparty (a SplitMix64 hash of its id)."""
    h = (counterparty_id * 0x9E3779B97F4A7C15) & _MASK64
    h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & _MASK64
    h ^= h >> 31
    return (1 << (h & 1023)) | (1 << ((h >> 10) & 1023)) | (1 << ((h >> 20) & 1023))


def knows(stats: AccountStats, bits: int) -> bool:
    return stats.sketch & bits == bits


def count_since(ring: list[int], since: int, *, stride: int = 2, mask: int = 0) -> int:
    """How many ring entries are at or after `since` (and carry all of `mask`'s flags)."""
    n = 0
    for i in range(len(ring) - stride, -1, -stride):
        if ring[i] < since:
            break
        if not mask or ring[i + 1] & mask == mask:
            n += 1
    return n


def scan(
    ring: list[int],
    t: int,
    *,
    own_mask: int,
    velocity_since: int,
    fan_since: int,
    pass_since: int,
) -> tuple[int, int, int, int, int, int]:
    """One pass over a movement ring, newest first, for everything windowed at once.

    Returns the entries carrying `own_mask` in the last minute, hour and day and since
    `velocity_since`; the entries with a new counterparty since `fan_since`; and the amount
    of entries since `pass_since` that are not between one customer's own accounts.
    """
    minute = hour = day = velocity = fan = total = 0
    t_minute, t_hour, t_day = t - 60, t - 3600, t - 86400
    oldest = min(t_day, velocity_since, fan_since, pass_since)
    for i in range(len(ring) - 2, -1, -2):
        at = ring[i]
        if at < oldest:
            break
        value = ring[i + 1]
        if value & own_mask == own_mask:
            if at >= t_day:
                day += 1
                if at >= t_hour:
                    hour += 1
                    if at >= t_minute:
                        minute += 1
            if at >= velocity_since:
                velocity += 1
        if at >= fan_since and value & NEW_COUNTERPARTY:
            fan += 1
        if at >= pass_since and not value & SAME_OWNER:
            total += value >> 3
    return minute, hour, day, velocity, fan, total


def sum_since(ring: list[int], since: int, *, exclude: int = 0) -> int:
    """The total amount of ring entries at or after `since`, leaving out flagged ones."""
    total = 0
    for i in range(len(ring) - 2, -1, -2):
        if ring[i] < since:
            break
        value = ring[i + 1]
        if not value & exclude:
            total += value >> 3
    return total


def _push_pair(ring: list[int], size: int, t: int, value: int) -> None:
    ring.append(t)
    ring.append(value)
    if len(ring) > 2 * size:
        del ring[:2]


def _push_peer(peers: list[int], size: int, tag: int) -> None:
    peers.append(tag)
    if len(peers) > size:
        del peers[: len(peers) - size]


def _push_one(ring: list[int], size: int, t: int) -> None:
    ring.append(t)
    if len(ring) > size:
        del ring[0]


def _welford(n: int, mean: float, m2: float, x: float) -> tuple[int, float, float]:
    n += 1
    delta = x - mean
    mean += delta / n
    return n, mean, m2 + delta * (x - mean)


def _touch(stats: AccountStats, t: int) -> None:
    if stats.first_activity is None:
        stats.first_activity = t
    if stats.last_activity is None or t > stats.last_activity:
        stats.last_activity = t


def _own_hour(stats: AccountStats, hour_cos: float, hour_sin: float) -> None:
    stats.hour_count += 1
    weight = 1.0 / min(stats.hour_count, HOUR_MEMORY)
    stats.hour_x += (hour_cos - stats.hour_x) * weight
    stats.hour_y += (hour_sin - stats.hour_y) * weight


def _meet(stats: AccountStats, bits: int) -> None:
    if stats.sketch & bits != bits:
        stats.sketch |= bits
        stats.counterparties += 1


def observe_out(
    stats: AccountStats,
    *,
    t: int,
    amount: int,
    log_amount: float,
    flags: int,
    counterparty_bits: int,
    hour_cos: float,
    hour_sin: float,
    near_threshold_cash: bool,
    burst: int,
    peer: int = 0,
    repeat: int = 0,
) -> None:
    """A posted withdrawal or outgoing transfer; `burst`: payments out in the velocity window,
    `peer`: the payee's tag (0: none), `repeat`: payments to it in the card-testing window."""
    stats.out_count, stats.out_log_mean, stats.out_log_m2 = _welford(
        stats.out_count, stats.out_log_mean, stats.out_log_m2, log_amount
    )
    _push_pair(stats.recent_out, OUT_RING, t, amount << 3 | flags)
    _push_peer(stats.recent_out_peers, OUT_RING, peer)
    stats.peak_burst = max(stats.peak_burst, burst)
    stats.peak_repeat = max(stats.peak_repeat, repeat)
    if flags & NEW_COUNTERPARTY:
        stats.receivers += 1
    if near_threshold_cash:
        _push_one(stats.recent_cash, CASH_RING, t)
    if counterparty_bits:
        _meet(stats, counterparty_bits)
    _own_hour(stats, hour_cos, hour_sin)
    _touch(stats, t)


def observe_in(
    stats: AccountStats,
    *,
    t: int,
    amount: int,
    log_amount: float,
    flags: int,
    counterparty_bits: int,
    hour_cos: float,
    hour_sin: float,
    near_threshold_cash: bool,
    peer: int = 0,
) -> None:
    """A posted deposit or incoming transfer (only a deposit is the customer's own act)."""
    stats.in_count, stats.in_log_mean, stats.in_log_m2 = _welford(
        stats.in_count, stats.in_log_mean, stats.in_log_m2, log_amount
    )
    _push_pair(stats.recent_in, IN_RING, t, amount << 3 | flags)
    _push_peer(stats.recent_in_peers, IN_RING, peer)
    if flags & NEW_COUNTERPARTY:
        stats.senders += 1
    if near_threshold_cash:
        _push_one(stats.recent_cash, CASH_RING, t)
    if counterparty_bits:
        _meet(stats, counterparty_bits)
    else:
        _own_hour(stats, hour_cos, hour_sin)
    _touch(stats, t)


def observe_blocked(stats: AccountStats, *, t: int) -> None:
    """An attempt the screen blocked: it moved nothing, so only the blocked ring remembers it."""
    _push_one(stats.recent_blocked, BLOCKED_RING, t)


# --- database rows ---------------------------------------------------------------------


def _ring_bytes(ring: list[int]) -> bytes | None:
    if not ring:
        return None
    packed = array("q", ring)
    if not _LITTLE:
        packed.byteswap()
    return packed.tobytes()


def _tags_bytes(tags: list[int]) -> bytes | None:
    if not tags:
        return None
    packed = array("i", tags)
    if not _LITTLE:
        packed.byteswap()
    return packed.tobytes()


def _tags_values(data: bytes | None) -> list[int]:
    if not data:
        return []
    packed = array("i")
    packed.frombytes(bytes(data))
    if not _LITTLE:
        packed.byteswap()
    return packed.tolist()


def _ring_values(data: bytes | None) -> list[int]:
    if not data:
        return []
    packed = array("q")
    packed.frombytes(bytes(data))
    if not _LITTLE:
        packed.byteswap()
    return packed.tolist()


def _epoch(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


def from_row(row: Any) -> AccountStats:
    """An `AccountStats` from a risk_account_stats row (a mapping)."""
    sketch = row["counterparty_sketch"]
    return AccountStats(
        account_id=int(row["account_id"]),
        stored=True,
        out_count=int(row["out_count"]),
        out_log_mean=float(row["out_log_mean"]),
        out_log_m2=float(row["out_log_m2"]),
        in_count=int(row["in_count"]),
        in_log_mean=float(row["in_log_mean"]),
        in_log_m2=float(row["in_log_m2"]),
        hour_count=int(row["hour_count"]),
        hour_x=float(row["hour_x"]),
        hour_y=float(row["hour_y"]),
        counterparties=int(row["counterparties"]),
        peak_burst=int(row["peak_burst"]),
        sketch=int.from_bytes(bytes(sketch), "little") if sketch else 0,
        first_activity=_epoch(row["first_activity_at"]),
        last_activity=_epoch(row["last_activity_at"]),
        recent_out=_ring_values(row["recent_out"]),
        recent_in=_ring_values(row["recent_in"]),
        recent_cash=_ring_values(row["recent_cash"]),
        recent_blocked=_ring_values(row["recent_blocked"]),
        recent_out_peers=_tags_values(row.get("recent_out_peers")),
        recent_in_peers=_tags_values(row.get("recent_in_peers")),
        senders=int(row.get("senders") or 0),
        receivers=int(row.get("receivers") or 0),
        peak_repeat=int(row.get("peak_repeat") or 0),
    )


def to_row(stats: AccountStats, now: datetime) -> dict[str, Any]:
    """The risk_account_stats values of an `AccountStats`."""

    def moment(t: int | None) -> datetime | None:
        return None if t is None else datetime.fromtimestamp(t, UTC)

    return {
        "account_id": stats.account_id,
        "out_count": stats.out_count,
        "out_log_mean": stats.out_log_mean,
        "out_log_m2": stats.out_log_m2,
        "in_count": stats.in_count,
        "in_log_mean": stats.in_log_mean,
        "in_log_m2": stats.in_log_m2,
        "hour_count": stats.hour_count,
        "hour_x": stats.hour_x,
        "hour_y": stats.hour_y,
        "counterparties": stats.counterparties,
        "peak_burst": stats.peak_burst,
        "counterparty_sketch": stats.sketch.to_bytes(SKETCH_BITS // 8, "little")
        if stats.sketch
        else None,
        "first_activity_at": moment(stats.first_activity),
        "last_activity_at": moment(stats.last_activity),
        "recent_out": _ring_bytes(stats.recent_out),
        "recent_in": _ring_bytes(stats.recent_in),
        "recent_cash": _ring_bytes(stats.recent_cash),
        "recent_blocked": _ring_bytes(stats.recent_blocked),
        "recent_out_peers": _tags_bytes(stats.recent_out_peers),
        "recent_in_peers": _tags_bytes(stats.recent_in_peers),
        "senders": stats.senders,
        "receivers": stats.receivers,
        "peak_repeat": stats.peak_repeat,
        "updated_at": now,
    }


def shrunk_z(x: float, n: int, mean: float, m2: float, prior_mean: float) -> float:
    """How unusual `x` is against a history, shrunk toward a prior when the history is short.

    With three pseudo-observations of the prior (mean `prior_mean`, spread 1.5 in log units),
    a new account is judged against typical customers and an old one against itself.
    """
    k = 3.0
    prior_var = 2.25
    total = n + k
    post_mean = (n * mean + k * prior_mean) / total
    post_var = (m2 + k * prior_var + n * k / total * (mean - prior_mean) ** 2) / total
    return (x - post_mean) / math.sqrt(max(post_var, 0.01))
