"""Request and response models of the auth, users and admin endpoints."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from ledgerbank.identity.permissions import Role

Username = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$"
    ),
    Field(description="3–64 letters, digits, `_`, `.` or `-`; case-insensitive."),
]
Password = Annotated[str, Field(min_length=1, max_length=256)]
FullName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=32, pattern=r"^\+?[0-9][0-9 ().-]{3,30}$"),
]
Pin = Annotated[str, Field(pattern=r"^[0-9]{4,6}$", description="4 to 6 digits.")]
KycStatus = Literal["pending", "verified", "rejected"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterRequest(Strict):
    username: Username
    password: Password
    email: EmailStr
    full_name: FullName
    date_of_birth: date = Field(description="The customer must be at least 18.")
    phone: Phone | None = None


SecondFactorCode = Annotated[
    str,
    Field(
        min_length=6,
        max_length=16,
        pattern=r"^[0-9A-Za-z -]+$",
        description="the 6-digit code of the authenticator app, or a recovery code",
    ),
]


class LoginRequest(Strict):
    username: Annotated[str, Field(min_length=1, max_length=256)]
    password: Password
    totp: SecondFactorCode | None = Field(
        default=None, description="needed when the user has a second factor (401 says so)"
    )


class LoginForm(BaseModel):
    """The OAuth2 password grant as the docs page's Authorize button sends it."""

    grant_type: Literal["password"] | None = None
    username: Annotated[str, Field(min_length=1, max_length=256)]
    password: Password
    scope: str = ""
    totp: SecondFactorCode | None = None


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires.")
    role: Role
    enrolment_required: bool = Field(
        default=False,
        description="staff without a second factor: the token can only enrol one "
        "(POST /users/2fa/setup, then /users/2fa/enable)",
    )


class User(BaseModel):
    id: int
    username: str
    email: str
    full_name: str
    phone: str | None
    date_of_birth: date | None
    role: Role
    kyc_status: KycStatus
    created_at: datetime


class Profile(User):
    has_pin: bool = Field(description="Whether a transaction PIN is set.")


class AdminUser(User):
    is_active: bool
    locked_until: datetime | None = Field(description="Logins refused until then.")
    second_factor: bool | None = Field(default=None, description="whether TOTP is enabled")


class ProfileUpdate(Strict):
    full_name: FullName | None = None
    email: EmailStr | None = None
    phone: Phone | None = Field(default=None, description="null removes the phone number.")


class PinChange(Strict):
    pin: Pin
    password: Password = Field(description="The current password, to confirm the change.")


class PinChanged(BaseModel):
    pin_set: bool
    updated_at: datetime


Reason = Annotated[
    str | None, Field(default=None, max_length=500, description="why (kept in the audit trail)")
]


class RoleChange(Strict):
    role: Role
    reason: Reason = None


class KycChange(Strict):
    kyc_status: KycStatus
    reason: Reason = None


class ActiveChange(Strict):
    is_active: bool
    reason: Reason = None


class StaffCreate(Strict):
    """A new user made by an administrator; a staff role waits for a second administrator."""

    username: Username
    email: EmailStr
    full_name: FullName
    role: Role
    reason: Reason = None


class UserCreated(BaseModel):
    user: User
    reset_url: str = Field(description="shown once: the new user sets a password with it")
    expires_at: datetime


class PasswordChange(Strict):
    current_password: Password
    new_password: Password


class PasswordReset(Strict):
    token: Annotated[str, Field(min_length=1, max_length=200)]
    new_password: Password


class ResetCheck(Strict):
    token: Annotated[str, Field(min_length=1, max_length=200)]


class ResetStatus(BaseModel):
    valid: Literal[True] = True
    username: str
    expires_at: datetime


class ResetIssued(BaseModel):
    reset_url: str = Field(description="shown once; works once until `expires_at`")
    expires_at: datetime


class TwoFactorSetup(BaseModel):
    secret: str = Field(description="base32, for typing into an authenticator app")
    otpauth_uri: str
    qr_svg: str = Field(description="the otpauth URI as an SVG QR code")


class TwoFactorCode(Strict):
    code: Annotated[str, Field(min_length=6, max_length=8, pattern=r"^[0-9 ]+$")]


class TwoFactorEnabled(BaseModel):
    recovery_codes: list[str] = Field(
        description="shown once: each signs in once instead of a code"
    )
    access_token: str = Field(description="a fresh token: every earlier session has ended")
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    role: Role


class TwoFactorDisable(Strict):
    password: Password
    code: SecondFactorCode


class TwoFactorStatus(BaseModel):
    enabled: bool
    required: bool = Field(description="staff roles must have one")
    recovery_codes_left: int


class Notice(BaseModel):
    id: int
    kind: str
    message: str
    detail: dict[str, object]
    created_at: datetime
    read: bool


class NoticePage(BaseModel):
    items: list[Notice]
    next_cursor: str | None
    unread: int


class NoticesRead(Strict):
    id: int | None = Field(default=None, ge=1, description="one notice; without it, all")


class Unlocked(BaseModel):
    user_id: int
    cleared: int = Field(description="sign-in counters forgotten")
