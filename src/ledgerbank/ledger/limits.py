"""KYC tiers and daily limits: what a customer may move today, checked inside the posting.

Each customer has, per business day and currency, a row of what they deposited, withdrew and
sent to others (`customer_daily_totals`). The money service reads the rows of a group's callers
once, while it holds their user rows locked, keeps them current in memory as it decides each
request, and writes them back in the same transaction: a limit is never checked by summing
history, and two payments of one customer can never both slip under it.

Tiers: `verified` has the full limits; `pending` may receive money and deposit up to a small
daily amount but sends nothing out; `rejected` moves nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, bindparam, insert, select, update

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.identity.tables import users
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.money import exponent, to_decimal_string
from ledgerbank.ledger.tables import customer_daily_totals

TOTALS = customer_daily_totals


class Kind(StrEnum):
    """The three movements with a daily limit, named as their counter columns."""

    DEPOSIT = "deposited"
    WITHDRAWAL = "withdrawn"
    TRANSFER = "sent"


@dataclass(frozen=True)
class DailyLimits:
    """The bank's default limits (decimal major units of the account's currency)."""

    deposit: str
    withdrawal: str
    transfer: str
    pending_deposit: str
    timezone: str = "UTC"

    @classmethod
    def from_settings(cls, settings: Any) -> DailyLimits:
        return cls(
            deposit=settings.limit_deposit_daily,
            withdrawal=settings.limit_withdrawal_daily,
            transfer=settings.limit_transfer_daily,
            pending_deposit=settings.limit_pending_deposit_daily,
            timezone=settings.timezone,
        )

    def business_day(self, moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(self.timezone)).date()


OVERRIDE_COLUMNS = {
    Kind.DEPOSIT: "limit_deposit_daily",
    Kind.WITHDRAWAL: "limit_withdrawal_daily",
    Kind.TRANSFER: "limit_transfer_daily",
}


def check_limit_text(value: str) -> str:
    """A limit as staff write it: a non-negative decimal with at most two places."""
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise errors.ValidationFailed(f"{value!r} is not a decimal amount") from None
    if not number.is_finite() or number < 0 or number.as_tuple().exponent < -2:  # type: ignore[operator]
        raise errors.ValidationFailed(f"{value!r} is not a valid limit")
    return format(number, "f")


@lru_cache(maxsize=1024)
def _minor(limit: str, currency: str) -> int:
    """A limit in the currency's minor units (rounded down to what the currency can hold)."""
    return int(Decimal(limit).scaleb(exponent(currency)).to_integral_value(ROUND_FLOOR))


@dataclass
class Tally:
    """One customer's totals of one day and currency, as stored and as moved since."""

    deposited: int = 0
    withdrawn: int = 0
    sent: int = 0
    stored: bool = False
    dirty: bool = False


@dataclass
class LimitBook:
    """The daily totals of a group's callers, read once and kept current in memory."""

    limits: DailyLimits
    day: date
    tallies: dict[tuple[int, str], Tally] = field(default_factory=dict)

    def load(self, conn: Connection, user_ids: Iterable[int]) -> None:
        ids = sorted(set(user_ids))
        if not ids:
            return
        query = select(TOTALS).where(TOTALS.c.user_id.in_(ids), TOTALS.c.business_day == self.day)
        for row in conn.execute(query).mappings():
            self.tallies[(int(row["user_id"]), row["currency"])] = Tally(
                int(row["deposited"]), int(row["withdrawn"]), int(row["sent"]), stored=True
            )

    def limit_of(
        self, user: Mapping[str, Any], kind: Kind, currency: str, *, pending: bool = False
    ) -> int:
        override = user.get(OVERRIDE_COLUMNS[kind])
        default = {
            Kind.DEPOSIT: self.limits.deposit,
            Kind.WITHDRAWAL: self.limits.withdrawal,
            Kind.TRANSFER: self.limits.transfer,
        }[kind]
        limit = _minor(override or default, currency)
        if pending and kind is Kind.DEPOSIT:
            limit = min(limit, _minor(self.limits.pending_deposit, currency))
        return limit

    def check(
        self,
        user: Mapping[str, Any],
        usage: Mapping[tuple[Kind, str], int],
        *,
        pending: bool = False,
    ) -> None:
        """Refuse (LimitExceeded) when today's totals plus `usage` pass any limit."""
        user_id = int(user["id"])
        for (kind, currency), amount in usage.items():
            tally = self.tallies.get((user_id, currency)) or Tally()
            used = getattr(tally, kind.value)
            limit = self.limit_of(user, kind, currency, pending=pending)
            if used + amount > limit:
                remaining = max(0, limit - used)
                raise errors.LimitExceeded(
                    f"this would pass your daily {_label(kind)} limit of "
                    f"{to_decimal_string(limit, currency)} {currency}; "
                    f"{to_decimal_string(remaining, currency)} {currency} is left today",
                    limit_kind=_label(kind),
                    limit=to_decimal_string(limit, currency),
                    remaining=to_decimal_string(remaining, currency),
                    currency=currency,
                )

    def add(self, user_id: int, usage: Mapping[tuple[Kind, str], int]) -> None:
        for (kind, currency), amount in usage.items():
            tally = self.tallies.setdefault((user_id, currency), Tally())
            setattr(tally, kind.value, getattr(tally, kind.value) + amount)
            tally.dirty = True

    def write(self, conn: Connection) -> None:
        """Store what changed: one INSERT for new rows, one UPDATE statement for the rest."""
        new, old = [], []
        for (user_id, currency), tally in sorted(self.tallies.items()):
            if not tally.dirty:
                continue
            row = {
                "deposited": tally.deposited,
                "withdrawn": tally.withdrawn,
                "sent": tally.sent,
            }
            if tally.stored:
                old.append({**row, "b_user": user_id, "b_currency": currency})
            else:
                new.append(
                    {**row, "user_id": user_id, "currency": currency, "business_day": self.day}
                )
            tally.stored, tally.dirty = True, False
        if new:
            conn.execute(insert(TOTALS), new)
        if old:
            conn.execute(_UPDATE, [{**row, "b_day": self.day} for row in old])


def _label(kind: Kind) -> str:
    return {Kind.DEPOSIT: "deposit", Kind.WITHDRAWAL: "withdrawal", Kind.TRANSFER: "transfer"}[kind]


_UPDATE = (
    update(TOTALS)
    .where(
        TOTALS.c.user_id == bindparam("b_user"),
        TOTALS.c.currency == bindparam("b_currency"),
        TOTALS.c.business_day == bindparam("b_day"),
    )
    .values(
        deposited=bindparam("deposited"), withdrawn=bindparam("withdrawn"), sent=bindparam("sent")
    )
)


LIMIT_NAMES = {
    Kind.DEPOSIT: "deposit_daily",
    Kind.WITHDRAWAL: "withdrawal_daily",
    Kind.TRANSFER: "transfer_daily",
}


def set_customer_limits(
    conn: Connection,
    user_id: int,
    limits: Mapping[str, str | None],
    *,
    reason: str,
    actor_id: int,
    approved_by: int | None = None,
) -> dict[str, Any]:
    """Set a customer's own daily limits (`deposit_daily`, ...: decimal text, None for the
    bank's default) under their user row lock, audited with who proposed and who approved."""
    user = (
        conn.execute(
            select(users).where(users.c.id == user_id, users.c.role == "customer").with_for_update()
        )
        .mappings()
        .first()
    )
    if user is None:
        raise errors.NotFound(f"customer {user_id} not found")
    values = {
        column: None if (text := limits.get(LIMIT_NAMES[kind])) is None else check_limit_text(text)
        for kind, column in OVERRIDE_COLUMNS.items()
    }
    conn.execute(update(users).where(users.c.id == user_id).values(**values, updated_at=utcnow()))
    audit.record(
        conn,
        actor_id=actor_id,
        action="user.limits_changed",
        entity_type="user",
        entity_id=user_id,
        before={LIMIT_NAMES[kind]: user[column] for kind, column in OVERRIDE_COLUMNS.items()},
        after={
            **{LIMIT_NAMES[kind]: values[column] for kind, column in OVERRIDE_COLUMNS.items()},
            "reason": reason,
            "approved_by": approved_by,
        },
    )
    return {**dict(user), **values}
