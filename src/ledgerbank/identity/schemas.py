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


class LoginRequest(Strict):
    username: Annotated[str, Field(min_length=1, max_length=256)]
    password: Password


class LoginForm(BaseModel):
    """The OAuth2 password grant as the docs page's Authorize button sends it."""

    grant_type: Literal["password"] | None = None
    username: Annotated[str, Field(min_length=1, max_length=256)]
    password: Password
    scope: str = ""


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires.")
    role: Role


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


class RoleChange(Strict):
    role: Role


class KycChange(Strict):
    kyc_status: KycStatus


class ActiveChange(Strict):
    is_active: bool
