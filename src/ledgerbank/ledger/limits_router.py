"""Daily limits per customer: staff read what a customer may still move today and propose
per-customer overrides of the bank's defaults (four eyes: a second admin approves them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import Connection, RowMapping, select

from ledgerbank import errors
from ledgerbank.approvals import service as approvals
from ledgerbank.approvals.schemas import ApprovalProposed, proposed_response
from ledgerbank.identity.deps import DB, AppSettings, Principal, authorized
from ledgerbank.identity.permissions import Permission
from ledgerbank.identity.tables import users
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.http import LedgerRoute, problem_responses
from ledgerbank.kit.money import to_decimal_string
from ledgerbank.ledger.approval_actions import LIMITS
from ledgerbank.ledger.limits import LIMIT_NAMES, OVERRIDE_COLUMNS, DailyLimits, Kind, LimitBook
from ledgerbank.ledger.schemas import MAX_ID, Body

router = APIRouter(prefix="/admin/users", tags=["admin"], route_class=LedgerRoute)
UserManager = Annotated[Principal, authorized(Permission.USERS_MANAGE)]
UserId = Annotated[int, Path(ge=1, le=MAX_ID)]
LimitText = Annotated[
    str | None,
    Field(default=None, pattern=r"^\d{1,12}(\.\d{1,2})?$", examples=["2500.00"]),
]
NAMES = LIMIT_NAMES


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
    status_code=202,
    operation_id="admin-limits_set",
    summary="Propose a customer's own daily limits (null: the bank's default); a second admin "
    "approves them in /approvals",
    response_model=ApprovalProposed,
    responses=problem_responses(
        errors.NotAuthenticated, errors.Forbidden, errors.NotFound, errors.Conflict
    ),
)
def set_limits(
    user_id: UserId, body: LimitsChange, principal: UserManager, database: DB, settings: AppSettings
) -> JSONResponse:
    """Four eyes: changing what a customer may move a day takes a second person."""
    wanted = {name: getattr(body, name) for name in NAMES.values()}

    def propose(conn: Connection) -> RowMapping:
        _customer(conn, user_id)
        shown = ", ".join(f"{name} {value or 'default'}" for name, value in wanted.items())
        return approvals.propose(
            conn,
            action_name=LIMITS,
            params={"user_id": user_id, "limits": wanted, "reason": body.reason},
            proposed_by=principal.id,
            summary=f"Daily limits of customer {user_id}: {shown}",
            hours=settings.approval_hours,
            entity_type="user",
            entity_id=user_id,
            note=body.reason,
        )

    return proposed_response(database.write(propose))
