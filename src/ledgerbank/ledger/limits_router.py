"""Daily limits per customer: staff read what a customer may still move today and set
per-customer overrides of the bank's defaults (audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field
from sqlalchemy import Connection, select, update

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.identity.deps import DB, AppSettings, Principal, authorized
from ledgerbank.identity.permissions import Permission
from ledgerbank.identity.tables import users
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.http import LedgerRoute, problem_responses
from ledgerbank.kit.money import to_decimal_string
from ledgerbank.ledger.limits import (
    OVERRIDE_COLUMNS,
    DailyLimits,
    Kind,
    LimitBook,
    check_limit_text,
)
from ledgerbank.ledger.schemas import MAX_ID, Body

router = APIRouter(prefix="/admin/users", tags=["admin"], route_class=LedgerRoute)
UserManager = Annotated[Principal, authorized(Permission.USERS_MANAGE)]
UserId = Annotated[int, Path(ge=1, le=MAX_ID)]
LimitText = Annotated[
    str | None,
    Field(default=None, pattern=r"^\d{1,12}(\.\d{1,2})?$", examples=["2500.00"]),
]
NAMES = {
    Kind.DEPOSIT: "deposit_daily",
    Kind.WITHDRAWAL: "withdrawal_daily",
    Kind.TRANSFER: "transfer_daily",
}


class LimitsChange(Body):
    """New per-customer limits (major units of each account's currency); null: the default."""

    deposit_daily: LimitText = None
    withdrawal_daily: LimitText = None
    transfer_daily: LimitText = None
    reason: str = Field(min_length=1, max_length=500)


class LimitLine(BaseModel):
    kind: str
    override: str | None = Field(description="this customer's own limit, or null")
    default: str


class UsageLine(BaseModel):
    currency: str
    deposited: str
    withdrawn: str
    sent: str


class Limits(BaseModel):
    user_id: int
    kyc_status: str
    business_day: str
    limits: list[LimitLine]
    used_today: list[UsageLine]


def _customer(conn: Connection, user_id: int, *, lock: bool = False) -> dict[str, object]:
    query = select(users).where(users.c.id == user_id, users.c.role == "customer")
    row = conn.execute(query.with_for_update() if lock else query).mappings().first()
    if row is None:
        raise errors.NotFound(f"customer {user_id} not found")
    return dict(row)


def _view(conn: Connection, user: dict[str, object], defaults: DailyLimits) -> Limits:
    book = LimitBook(defaults, defaults.business_day(utcnow()))
    user_id = int(user["id"])  # type: ignore[call-overload]
    book.load(conn, [user_id])
    default_of = {
        Kind.DEPOSIT: defaults.deposit,
        Kind.WITHDRAWAL: defaults.withdrawal,
        Kind.TRANSFER: defaults.transfer,
    }
    return Limits(
        user_id=user_id,
        kyc_status=str(user["kyc_status"]),
        business_day=book.day.isoformat(),
        limits=[
            LimitLine(
                kind=NAMES[kind],
                override=None if user[column] is None else str(user[column]),
                default=default_of[kind],
            )
            for kind, column in OVERRIDE_COLUMNS.items()
        ],
        used_today=[
            UsageLine(
                currency=currency,
                deposited=to_decimal_string(tally.deposited, currency),
                withdrawn=to_decimal_string(tally.withdrawn, currency),
                sent=to_decimal_string(tally.sent, currency),
            )
            for (_, currency), tally in sorted(book.tallies.items())
        ],
    )


@router.get(
    "/{user_id}/limits",
    operation_id="admin-limits_get",
    summary="A customer's daily limits and what they moved today",
    response_model=Limits,
    responses=problem_responses(errors.NotAuthenticated, errors.Forbidden, errors.NotFound),
)
def get_limits(
    user_id: UserId, principal: UserManager, database: DB, settings: AppSettings
) -> Limits:
    with database.read() as conn:
        return _view(conn, _customer(conn, user_id), DailyLimits.from_settings(settings))


@router.put(
    "/{user_id}/limits",
    operation_id="admin-limits_set",
    summary="Set a customer's own daily limits (audited; null restores the bank's default)",
    response_model=Limits,
    responses=problem_responses(errors.NotAuthenticated, errors.Forbidden, errors.NotFound),
)
def set_limits(
    user_id: UserId, body: LimitsChange, principal: UserManager, database: DB, settings: AppSettings
) -> Limits:
    def change(conn: Connection) -> Limits:
        user = _customer(conn, user_id, lock=True)  # the money service reads it under this lock
        values = {
            column: None if (text := getattr(body, NAMES[kind])) is None else check_limit_text(text)
            for kind, column in OVERRIDE_COLUMNS.items()
        }
        before = {NAMES[kind]: user[column] for kind, column in OVERRIDE_COLUMNS.items()}
        conn.execute(
            update(users).where(users.c.id == user_id).values(**values, updated_at=utcnow())
        )
        audit.record(
            conn,
            actor_id=principal.id,
            action="user.limits_changed",
            entity_type="user",
            entity_id=user_id,
            before=before,
            after={
                **{NAMES[kind]: values[column] for kind, column in OVERRIDE_COLUMNS.items()},
                "reason": body.reason,
            },
        )
        return _view(conn, {**user, **values}, DailyLimits.from_settings(settings))

    return database.write(change)
