"""Routes of the identity lifecycle: sign out, password change and reset, the second factor,
security notices, and the administrators' actions on people (create, unlock, reset links and
second-factor resets, the last three sensitive enough to need a second administrator)."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import Connection, RowMapping

from ledgerbank import errors as E
from ledgerbank.approvals import service as approvals
from ledgerbank.approvals.router import context as approval_context
from ledgerbank.approvals.schemas import ApprovalProposed, proposed_response
from ledgerbank.audit import service as audit
from ledgerbank.identity import auth, notices, recovery, second_factor, service, sessions, signin
from ledgerbank.identity.approval_actions import (
    CREATE_STAFF,
    PASSWORD_RESET,
    SECOND_FACTOR_RESET,
    reset_url,
)
from ledgerbank.identity.deps import DB, AppSettings, EnrollingUser, Principal, authorized
from ledgerbank.identity.permissions import Permission, Role
from ledgerbank.identity.schemas import (
    AdminUser,
    NoticePage,
    NoticesRead,
    PasswordChange,
    PasswordReset,
    ResetCheck,
    ResetStatus,
    StaffCreate,
    TokenResponse,
    TwoFactorCode,
    TwoFactorDisable,
    TwoFactorEnabled,
    TwoFactorSetup,
    TwoFactorStatus,
    Unlocked,
    User,
    UserCreated,
)
from ledgerbank.kit.http import LedgerRoute, problem_responses
from ledgerbank.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, decode_cursor, encode_cursor

router = APIRouter(route_class=LedgerRoute)
auth_router = APIRouter(prefix="/auth", tags=["auth"], route_class=LedgerRoute)
users_router = APIRouter(prefix="/users", tags=["users"], route_class=LedgerRoute)
admin_router = APIRouter(prefix="/admin/users", tags=["admin"], route_class=LedgerRoute)

SignedIn = Annotated[Principal, authorized(Permission.PROFILE_MANAGE)]
UserManager = Annotated[Principal, authorized(Permission.USERS_MANAGE)]
SIGNED_IN = (E.NotAuthenticated, E.Forbidden)
UserId = Annotated[int, Path(ge=1, le=2**63 - 1)]
PROPOSED: dict[int | str, dict[str, Any]] = {
    202: {"model": ApprovalProposed, "description": "proposed: a second person decides"}
}


def _no_store(response: Response) -> None:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


def _fresh_token(settings: AppSettings, user: RowMapping) -> tuple[str, int]:
    return sessions.issue_for(
        settings,
        user_id=int(user["id"]),
        role=str(user["role"]),
        token_version=int(user["token_version"]),
    )


# --- signing out -----------------------------------------------------------------------


@auth_router.post(
    "/logout",
    status_code=204,
    operation_id="auth-logout",
    summary="Sign out: this token stops working",
    responses=problem_responses(*SIGNED_IN, validation=False),
)
def logout(principal: EnrollingUser, database: DB) -> Response:
    database.write(lambda conn: sessions.sign_out(conn, principal))
    return Response(status_code=204)


@auth_router.post(
    "/logout-all",
    status_code=204,
    operation_id="auth-logout_all",
    summary="Sign out everywhere: every token of the caller stops working",
    responses=problem_responses(*SIGNED_IN, validation=False),
)
def logout_all(principal: EnrollingUser, database: DB) -> Response:
    def unit(conn: Connection) -> None:
        sessions.sign_out_everywhere(
            conn, principal.id, actor_id=principal.id, why="signed out everywhere"
        )
        notices.notify(conn, principal.id, "signed_out_everywhere")

    database.write(unit)
    return Response(status_code=204)


# --- passwords -------------------------------------------------------------------------


@users_router.put(
    "/password",
    response_model=TokenResponse,
    operation_id="users-change_password",
    summary="Change one's password; every other session ends, the answer carries a fresh token",
    responses=problem_responses(*SIGNED_IN, E.WrongPassword, E.AccountLocked),
)
def change_password(
    body: PasswordChange,
    principal: SignedIn,
    database: DB,
    settings: AppSettings,
    response: Response,
) -> TokenResponse:
    """Needs the current password (wrong ones count toward the lockout)."""
    user = recovery.change_password(
        database, principal.id, body.current_password, body.new_password, settings=settings
    )
    token, expires_in = _fresh_token(settings, user)
    _no_store(response)
    return TokenResponse(access_token=token, expires_in=expires_in, role=Role(user["role"]))


@auth_router.post(
    "/password-reset",
    status_code=204,
    operation_id="auth-password_reset",
    summary="Set a new password with a reset link's token (once, before it expires)",
    responses=problem_responses(E.InvalidResetToken),
)
def password_reset(body: PasswordReset, database: DB, settings: AppSettings) -> Response:
    """Every session of the user ends; their sign-in delays are lifted."""
    recovery.reset_password(database, body.token, body.new_password, settings=settings)
    return Response(status_code=204)


# --- the second factor -----------------------------------------------------------------


@users_router.get(
    "/2fa",
    operation_id="users-second_factor",
    summary="Whether the caller's second factor is on, and whether it must be",
    responses=problem_responses(*SIGNED_IN, validation=False),
)
def second_factor_status(principal: EnrollingUser, database: DB) -> TwoFactorStatus:
    with database.read() as conn:
        user = service.get_user(conn, principal.id)
        left = second_factor.remaining_recovery_codes(conn, principal.id)
    return TwoFactorStatus(
        enabled=second_factor.is_enabled(user),
        required=second_factor.required_for(str(user["role"])),
        recovery_codes_left=left,
    )


@users_router.post(
    "/2fa/setup",
    operation_id="users-second_factor_setup",
    summary="Start enrolling a TOTP second factor: a secret and its QR code",
    responses=problem_responses(*SIGNED_IN, E.InvalidTransition, validation=False),
)
def second_factor_setup(
    principal: EnrollingUser, database: DB, settings: AppSettings, response: Response
) -> TwoFactorSetup:
    """Not in force until `/users/2fa/enable` proves it with a code. Staff who signed in
    without one use the enrol-only token their sign-in gave them."""
    found = database.write(
        lambda conn: second_factor.start(
            conn, principal.id, issuer=settings.totp_issuer, sealer=settings.sealer()
        )
    )
    _no_store(response)
    return TwoFactorSetup(secret=found.secret, otpauth_uri=found.otpauth_uri, qr_svg=found.qr_svg)


@users_router.post(
    "/2fa/enable",
    operation_id="users-second_factor_enable",
    summary="Turn the second factor on with a code: recovery codes (once) and a fresh token",
    responses=problem_responses(*SIGNED_IN, E.InvalidTransition),
)
def second_factor_enable(
    body: TwoFactorCode,
    principal: EnrollingUser,
    database: DB,
    settings: AppSettings,
    response: Response,
) -> TwoFactorEnabled:
    def unit(conn: Connection) -> tuple[list[str], RowMapping]:
        codes = second_factor.enable(
            conn,
            principal.id,
            body.code,
            max_failures=settings.totp_max_failures,
            lock_minutes=settings.totp_lock_minutes,
            sealer=settings.sealer(),
        )
        service.end_sessions(conn, principal.id)
        notices.notify(conn, principal.id, "second_factor_enabled")
        return codes, service.get_user(conn, principal.id)

    codes, user = database.write(unit)
    token, expires_in = _fresh_token(settings, user)
    _no_store(response)
    return TwoFactorEnabled(
        recovery_codes=codes, access_token=token, expires_in=expires_in, role=Role(user["role"])
    )


@users_router.post(
    "/2fa/disable",
    status_code=204,
    operation_id="users-second_factor_disable",
    summary="Turn one's second factor off (customers; staff must keep theirs)",
    responses=problem_responses(
        *SIGNED_IN, E.WrongPassword, E.AccountLocked, E.InvalidSecondFactor, E.SecondFactorLocked
    ),
)
def second_factor_disable(
    body: TwoFactorDisable, principal: SignedIn, database: DB, settings: AppSettings
) -> Response:
    """Needs the password and a current code (or a recovery code); every session ends."""
    if second_factor.required_for(principal.role):
        raise E.Forbidden("staff sign in with a second factor: it cannot be turned off")
    auth.confirm_password(database, principal.id, body.password, settings=settings)
    verdict = database.write(
        lambda conn: second_factor.verify(
            conn,
            principal.id,
            body.code,
            max_failures=settings.totp_max_failures,
            lock_minutes=settings.totp_lock_minutes,
            sealer=settings.sealer(),
        )
    )
    if verdict.locked_error is not None:
        raise verdict.locked_error
    if not verdict.ok:
        raise E.InvalidSecondFactor("the code is wrong or was already used")

    def unit(conn: Connection) -> None:
        second_factor.disable(
            conn, principal.id, actor_id=principal.id, action="user.second_factor_disabled"
        )
        service.end_sessions(conn, principal.id)
        notices.notify(conn, principal.id, "second_factor_disabled")

    database.write(unit)
    return Response(status_code=204)


# --- security notices ------------------------------------------------------------------


@users_router.get(
    "/notices",
    operation_id="users-notices",
    summary="Security notices about one's own profile, newest first",
    responses=problem_responses(*SIGNED_IN),
)
def list_notices(
    principal: SignedIn, database: DB, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> NoticePage:
    before = decode_cursor(cursor, int)[0] if cursor else None
    with database.read() as conn:
        items, next_before, unread = notices.list_notices(
            conn, principal.id, limit=limit, before_id=before
        )
    return NoticePage.model_validate(
        {
            "items": items,
            "next_cursor": encode_cursor(next_before) if next_before else None,
            "unread": unread,
        }
    )


@users_router.post(
    "/notices/read",
    operation_id="users-notices_read",
    summary="Mark one notice (or all of them) as read",
    responses=problem_responses(*SIGNED_IN, E.NotFound),
)
def read_notices(body: NoticesRead, principal: SignedIn, database: DB) -> dict[str, int]:
    marked = database.write(lambda conn: notices.mark_read(conn, principal.id, body.id))
    return {"marked": marked}


# --- administrators' actions -----------------------------------------------------------


@admin_router.post(
    "",
    status_code=201,
    response_model=UserCreated,
    operation_id="admin-create_user",
    summary="Create a user; a staff user waits for a second administrator (202)",
    responses={**PROPOSED, **problem_responses(*SIGNED_IN, E.UsernameTaken, E.Conflict)},
)
def create_user(
    request: Request,
    body: StaffCreate,
    principal: UserManager,
    database: DB,
    settings: AppSettings,
    response: Response,
) -> UserCreated | JSONResponse:
    """The new user has no password until they use the reset link (shown once to whoever
    carries the creation out: the approving administrator for staff)."""
    with database.read() as conn:
        if service.find_user(conn, body.username) is not None:
            raise E.UsernameTaken(f"username {body.username.lower()!r} is taken")
    params = {
        "username": body.username,
        "email": str(body.email),
        "full_name": body.full_name,
        "role": body.role.value,
    }
    if body.role != Role.CUSTOMER:
        row = database.write(
            lambda conn: approvals.propose(
                conn,
                action_name=CREATE_STAFF,
                params=params,
                proposed_by=principal.id,
                summary=f"Create {body.role.value} {body.username.lower()} ({body.full_name})",
                hours=settings.approval_hours,
                entity_type="username",
                entity_id=body.username.lower(),
                note=body.reason,
            )
        )
        return proposed_response(row)

    def unit(conn: Connection) -> tuple[RowMapping, recovery.ResetLink]:
        user = service.create_user(
            conn,
            username=body.username,
            password=secrets.token_urlsafe(32),
            email=str(body.email),
            full_name=body.full_name,
            role=Role.CUSTOMER,
            actor_id=principal.id,
        )
        link = recovery.issue_reset(
            conn, int(user["id"]), created_by=principal.id, minutes=settings.password_reset_minutes
        )
        return user, link

    user, link = database.write(unit)
    _no_store(response)
    base = approval_context(request).base_url
    return UserCreated(
        user=User.model_validate(service.public_view(user)),
        reset_url=reset_url(base, link.token),
        expires_at=link.expires_at,
    )


def _propose_about_user(
    database: DB,
    principal: Principal,
    user_id: int,
    *,
    action_name: str,
    summary: str,
    hours: int,
) -> JSONResponse:
    if user_id == principal.id:
        raise E.Forbidden("this is about you: use your own profile's settings")

    def unit(conn: Connection) -> RowMapping:
        target = service.get_user(conn, user_id)
        return approvals.propose(
            conn,
            action_name=action_name,
            params={"user_id": user_id},
            proposed_by=principal.id,
            summary=summary.format(username=target["username"]),
            hours=hours,
            entity_type="user",
            entity_id=user_id,
        )

    return proposed_response(database.write(unit))


@admin_router.post(
    "/{user_id}/password-reset",
    status_code=202,
    operation_id="admin-password_reset",
    summary="Propose a password reset link for another user (a second administrator issues it)",
    responses={**PROPOSED, **problem_responses(*SIGNED_IN, E.NotFound, E.Conflict)},
)
def propose_password_reset(
    user_id: UserId, principal: UserManager, database: DB, settings: AppSettings
) -> JSONResponse:
    """Whoever holds a reset link owns the account: the approving administrator gets the link
    (`shown_once` of the approval) and hands it to the user."""
    return _propose_about_user(
        database,
        principal,
        user_id,
        action_name=PASSWORD_RESET,
        summary="Issue a password reset link for {username}",
        hours=settings.approval_hours,
    )


@admin_router.post(
    "/{user_id}/2fa/reset",
    status_code=202,
    operation_id="admin-second_factor_reset",
    summary="Propose resetting a user's second factor (a second administrator carries it out)",
    responses={**PROPOSED, **problem_responses(*SIGNED_IN, E.NotFound, E.Conflict)},
)
def propose_second_factor_reset(
    user_id: UserId, principal: UserManager, database: DB, settings: AppSettings
) -> JSONResponse:
    return _propose_about_user(
        database,
        principal,
        user_id,
        action_name=SECOND_FACTOR_RESET,
        summary="Reset the second factor of {username}",
        hours=settings.approval_hours,
    )


@admin_router.post(
    "/{user_id}/unlock",
    operation_id="admin-unlock",
    summary="Lift a user's sign-in delays and lockouts",
    responses=problem_responses(*SIGNED_IN, E.NotFound),
)
def unlock(user_id: UserId, principal: UserManager, database: DB) -> Unlocked:
    def unit(conn: Connection) -> int:
        service.get_user(conn, user_id)
        cleared = signin.unlock(conn, user_id)
        audit.record(
            conn,
            actor_id=principal.id,
            action="user.unlocked",
            entity_type="user",
            entity_id=user_id,
            after={"cleared": cleared},
        )
        return cleared

    return Unlocked(user_id=user_id, cleared=database.write(unit))


@admin_router.get(
    "/{user_id}",
    operation_id="admin-get_user",
    summary="One user as administrators see them",
    responses=problem_responses(*SIGNED_IN, E.NotFound),
)
def get_user(user_id: UserId, principal: UserManager, database: DB) -> AdminUser:
    with database.read() as conn:
        row = service.get_user(conn, user_id)
        delayed = signin.delayed_until(conn, user_id)
    view = service.admin_view(row)
    if delayed is not None and (view["locked_until"] is None or delayed > view["locked_until"]):
        view["locked_until"] = delayed
    return AdminUser.model_validate(view)


@auth_router.post(
    "/reset-check",
    operation_id="auth-reset_check",
    summary="Whether a reset link's token still works (for the page that consumes it)",
    responses=problem_responses(E.InvalidResetToken),
)
def reset_check(body: ResetCheck, database: DB) -> ResetStatus:
    """POSTed, so the token never lands in an access log's URL."""
    with database.read() as conn:
        reset = recovery.valid_reset(conn, body.token)
        user = service.get_user(conn, int(reset["user_id"]))
    return ResetStatus(username=user["username"], expires_at=reset["expires_at"])


router.include_router(auth_router)
router.include_router(users_router)
router.include_router(admin_router)
