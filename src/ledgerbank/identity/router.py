"""Routes of /auth, /users and /admin/users: thin, each declaring its permission and errors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy import Connection, RowMapping

from ledgerbank import errors
from ledgerbank.approvals import service as approvals
from ledgerbank.approvals.schemas import ApprovalProposed, proposed_response
from ledgerbank.identity import auth, service, sessions, signin, tokens
from ledgerbank.identity.approval_actions import GRANT_ROLE
from ledgerbank.identity.deps import DB, AppSettings, Principal, authorized
from ledgerbank.identity.permissions import Permission, Role
from ledgerbank.identity.schemas import (
    ActiveChange,
    AdminUser,
    KycChange,
    KycStatus,
    LoginForm,
    LoginRequest,
    PinChange,
    PinChanged,
    Profile,
    ProfileUpdate,
    RegisterRequest,
    RoleChange,
    TokenResponse,
    User,
)
from ledgerbank.kit.http import LedgerRoute, problem_responses
from ledgerbank.kit.pagination import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    Page,
    decode_cursor,
    encode_cursor,
)
from ledgerbank.risk import sanctions

router = APIRouter(route_class=LedgerRoute)
auth_router = APIRouter(prefix="/auth", tags=["auth"], route_class=LedgerRoute)
users_router = APIRouter(prefix="/users", tags=["users"], route_class=LedgerRoute)
admin_router = APIRouter(prefix="/admin/users", tags=["admin"], route_class=LedgerRoute)

SignedIn = Annotated[Principal, authorized(Permission.PROFILE_MANAGE)]
UserManager = Annotated[Principal, authorized(Permission.USERS_MANAGE)]
SIGNED_IN_ERRORS = (errors.NotAuthenticated, errors.Forbidden)
UserId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _user(row: RowMapping) -> User:
    return User.model_validate(service.public_view(row))


def _profile(row: RowMapping) -> Profile:
    return Profile.model_validate(
        {**service.public_view(row), "has_pin": row["pin_hash"] is not None}
    )


def _admin_user(row: RowMapping) -> AdminUser:
    return AdminUser.model_validate(service.admin_view(row))


def _no_store(response: Response) -> None:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


# --- /auth ---------------------------------------------------------------------------------


@auth_router.post(
    "/register",
    status_code=201,
    response_model=User,
    operation_id="auth-register",
    summary="Register as a customer",
    responses=problem_responses(errors.UsernameTaken),
)
def register(body: RegisterRequest, database: DB, settings: AppSettings) -> User:
    """Open a customer profile: role `customer`, KYC `pending`. Customers must be 18 or older."""

    def open_profile(conn: Connection) -> RowMapping:
        row = service.register_customer(
            conn,
            username=body.username,
            password=body.password,
            email=str(body.email),
            full_name=body.full_name,
            date_of_birth=body.date_of_birth,
            phone=body.phone,
            min_password_length=settings.password_min_length,
        )
        # Sanctions screening: a match is a compliance alert; the customer is never told.
        sanctions.screen_customer(
            conn,
            user_id=int(row["id"]),
            full_name=body.full_name,
            date_of_birth=body.date_of_birth,
            threshold=settings.risk_sanctions_threshold,
        )
        return row

    row = database.write(open_profile)
    return _user(row)


def _body_errors(exc: ValidationError) -> RequestValidationError:
    return RequestValidationError(
        [{**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_input=False)]
    )


async def login_credentials(request: Request) -> LoginRequest:
    """The credentials from a JSON body or from an OAuth2 password form (the docs page)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if media_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.form()
            fields = {key: value for key, value in form.items() if isinstance(value, str)}
            grant = LoginForm.model_validate(fields)
            return LoginRequest(username=grant.username, password=grant.password, totp=grant.totp)
        try:
            body: Any = await request.json()
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise RequestValidationError(
                [{"type": "json_invalid", "loc": ("body",), "msg": "invalid JSON"}]
            ) from None
        return LoginRequest.model_validate(body)
    except ValidationError as exc:
        raise _body_errors(exc) from None


# Each sign-in route documents one body, so clients generated from the schema get one typed
# operation each: JSON for /auth/login (what clients use), the OAuth2 password form for
# /auth/token (the docs page's Authorize button). Both still read either, as before.
_LOGIN_BODY = {
    "required": True,
    "content": {"application/json": {"schema": LoginRequest.model_json_schema()}},
}
_TOKEN_FORM = {
    "required": True,
    "content": {"application/x-www-form-urlencoded": {"schema": LoginForm.model_json_schema()}},
}


def client_address(request: Request) -> str:
    """The caller's address as the server sees it (behind a proxy: run uvicorn with
    --forwarded-allow-ips so X-Forwarded-For is trusted from the proxy alone)."""
    return request.client.host if request.client else "unknown"


SIGN_IN_ERRORS = (
    errors.InvalidCredentials,
    errors.SecondFactorRequired,
    errors.InvalidSecondFactor,
    errors.SecondFactorLocked,
)


def _sign_in(
    request: Request, credentials: LoginRequest, database: DB, settings: AppSettings
) -> TokenResponse:
    signed_in = signin.login(
        database,
        credentials.username,
        credentials.password,
        address=client_address(request),
        code=credentials.totp,
        settings=settings,
    )
    user = signed_in.user
    token, expires_in = sessions.issue_for(
        settings,
        user_id=int(user["id"]),
        role=str(user["role"]),
        token_version=int(user["token_version"]),
        scope=tokens.ENROL_SCOPE if signed_in.enrol_only else None,
    )
    return TokenResponse(
        access_token=token,
        expires_in=expires_in,
        role=Role(user["role"]),
        enrolment_required=signed_in.enrol_only,
    )


@auth_router.post(
    "/login",
    response_model=TokenResponse,
    operation_id="auth-login",
    summary="Sign in for an access token",
    responses=problem_responses(*SIGN_IN_ERRORS),
    openapi_extra={"requestBody": _LOGIN_BODY},
)
def login(
    request: Request,
    credentials: Annotated[LoginRequest, Depends(login_credentials)],
    database: DB,
    settings: AppSettings,
    response: Response,
) -> TokenResponse:
    """Exchange a username, password and (when the user has one) TOTP code for a token.

    An unknown username, a wrong password, a deactivated user and an attempt while sign-ins
    are delayed all answer the same 401 `invalid_credentials`. A right password without the
    needed code answers 401 `second_factor_required`. Staff who have not enrolled a second
    factor get a token that can only enrol one (`enrolment_required`).
    """
    _no_store(response)
    return _sign_in(request, credentials, database, settings)


@auth_router.post(
    "/token",
    response_model=TokenResponse,
    operation_id="auth-token",
    summary="Sign in with an OAuth2 password form (the docs page's Authorize button)",
    responses=problem_responses(*SIGN_IN_ERRORS),
    openapi_extra={"requestBody": _TOKEN_FORM},
)
def token(
    request: Request,
    credentials: Annotated[LoginRequest, Depends(login_credentials)],
    database: DB,
    settings: AppSettings,
    response: Response,
) -> TokenResponse:
    """The same as /auth/login; the form may carry the code as `totp`."""
    _no_store(response)
    return _sign_in(request, credentials, database, settings)


@auth_router.get(
    "/me",
    response_model=User,
    operation_id="auth-me",
    summary="The signed-in user",
    responses=problem_responses(*SIGNED_IN_ERRORS, validation=False),
)
def me(principal: SignedIn, database: DB, response: Response) -> User:
    with database.read() as conn:
        row = service.get_user(conn, principal.id)
    _no_store(response)
    return _user(row)


# --- /users --------------------------------------------------------------------------------


@users_router.get(
    "/profile",
    response_model=Profile,
    operation_id="users-get_profile",
    summary="One's own profile",
    responses=problem_responses(*SIGNED_IN_ERRORS, validation=False),
)
def get_profile(principal: SignedIn, database: DB, response: Response) -> Profile:
    with database.read() as conn:
        row = service.get_user(conn, principal.id)
    _no_store(response)
    return _profile(row)


@users_router.put(
    "/profile",
    response_model=Profile,
    operation_id="users-update_profile",
    summary="Change one's full name, email or phone",
    responses=problem_responses(*SIGNED_IN_ERRORS),
)
def update_profile(body: ProfileUpdate, principal: SignedIn, database: DB) -> Profile:
    """Only the fields sent change; `phone: null` removes the phone number. Audited."""
    changes = body.model_dump(exclude_unset=True)
    if "email" in changes and changes["email"] is not None:
        changes["email"] = str(changes["email"])
    row = database.write(lambda conn: service.update_profile(conn, principal.id, changes))
    return _profile(row)


@users_router.put(
    "/pin",
    response_model=PinChanged,
    operation_id="users-set_pin",
    summary="Set the transaction PIN",
    responses=problem_responses(*SIGNED_IN_ERRORS, errors.WrongPassword, errors.AccountLocked),
)
def set_pin(
    body: PinChange, principal: SignedIn, database: DB, settings: AppSettings
) -> PinChanged:
    """Set or replace the 4–6 digit PIN that withdrawals and transfers then require.

    The current password confirms the change; wrong passwords count toward the login lockout.
    """
    updated_at = auth.set_pin(database, principal.id, body.pin, body.password, settings=settings)
    return PinChanged(pin_set=True, updated_at=updated_at)


# --- /admin/users --------------------------------------------------------------------------


@admin_router.get(
    "",
    response_model=Page[AdminUser],
    operation_id="admin-list_users",
    summary="List users",
    responses=problem_responses(*SIGNED_IN_ERRORS),
)
def list_users(
    principal: UserManager,
    database: DB,
    role: Role | None = None,
    kyc_status: KycStatus | None = None,
    q: Annotated[
        str | None, Query(max_length=100, description="Text in username, email or full name.")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[AdminUser]:
    """All users in the order they joined, filtered by role, KYC status or text."""
    after_id = decode_cursor(cursor, int)[0] if cursor else None
    with database.read() as conn:
        rows, next_after = service.list_users(
            conn, role=role, kyc_status=kyc_status, q=q, limit=limit, after_id=after_id
        )
    return Page[AdminUser](
        items=[_admin_user(row) for row in rows],
        next_cursor=encode_cursor(next_after) if next_after is not None else None,
    )


ADMIN_CHANGE_ERRORS = (*SIGNED_IN_ERRORS, errors.NotFound)


@admin_router.put(
    "/{user_id}/role",
    response_model=AdminUser,
    operation_id="admin-change_role",
    summary="Change a user's role (granting a staff role: 202, a second administrator approves)",
    responses={
        202: {"model": ApprovalProposed, "description": "a staff role: proposed"},
        **problem_responses(*ADMIN_CHANGE_ERRORS, errors.Conflict),
    },
)
def change_role(
    user_id: UserId,
    body: RoleChange,
    principal: UserManager,
    database: DB,
    settings: AppSettings,
) -> AdminUser | JSONResponse:
    """Every session of the user ends. Making someone staff is proposed (202 `{approval_id}`)
    and done when another administrator approves it. Audited with the reason."""
    if body.role != Role.CUSTOMER:
        if user_id == principal.id:
            raise errors.Forbidden("administrators cannot change their own role")

        def propose(conn: Connection) -> RowMapping:
            target = service.get_user(conn, user_id)
            return approvals.propose(
                conn,
                action_name=GRANT_ROLE,
                params={"user_id": user_id, "role": body.role.value, "reason": body.reason},
                proposed_by=principal.id,
                summary=f"Make {target['username']} ({target['role']}) {body.role.value}",
                hours=settings.approval_hours,
                entity_type="user",
                entity_id=user_id,
                note=body.reason,
            )

        return proposed_response(database.write(propose))
    row = database.write(
        lambda conn: service.change_role(
            conn, actor_id=principal.id, user_id=user_id, role=body.role, reason=body.reason
        )
    )
    return _admin_user(row)


@admin_router.put(
    "/{user_id}/kyc",
    response_model=AdminUser,
    operation_id="admin-change_kyc",
    summary="Change a user's KYC status",
    responses=problem_responses(*ADMIN_CHANGE_ERRORS),
)
def change_kyc(user_id: UserId, body: KycChange, principal: UserManager, database: DB) -> AdminUser:
    """`pending`, `verified` or `rejected`. Audited with the reason."""
    row = database.write(
        lambda conn: service.change_kyc(
            conn,
            actor_id=principal.id,
            user_id=user_id,
            kyc_status=body.kyc_status,
            reason=body.reason,
        )
    )
    return _admin_user(row)


@admin_router.put(
    "/{user_id}/active",
    response_model=AdminUser,
    operation_id="admin-set_active",
    summary="Deactivate or reactivate a user",
    responses=problem_responses(*ADMIN_CHANGE_ERRORS),
)
def set_active(
    user_id: UserId, body: ActiveChange, principal: UserManager, database: DB
) -> AdminUser:
    """A deactivated user can no longer sign in and every session ends at once (and stays
    ended after a reactivation). Audited with the reason."""
    row = database.write(
        lambda conn: service.set_active(
            conn,
            actor_id=principal.id,
            user_id=user_id,
            is_active=body.is_active,
            reason=body.reason,
        )
    )
    return _admin_user(row)


router.include_router(auth_router)
router.include_router(users_router)
router.include_router(admin_router)
