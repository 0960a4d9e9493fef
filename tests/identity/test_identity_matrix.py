"""Who may call which identity, admin, audit and health route: every route x every caller."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from identity_bank import PASSWORD, ROLES, Bank

CALLERS: tuple[str | None, ...] = (*ROLES, None)  # None: no token at all


def everyone(status: int) -> dict[str | None, int]:
    return dict.fromkeys(CALLERS, status)


SIGNED_IN = {**everyone(200), None: 401}
ADMIN_ONLY = {
    "customer": 403,
    "admin": 200,
    "auditor": 403,
    "fraud_analyst": 403,
    "financial_manager": 403,
    "compliance_officer": 403,
    None: 401,
}
STAFF_ONLY = {**everyone(200), "customer": 403, None: 401}
PROPOSED_BY_ADMIN = {**ADMIN_ONLY, "admin": 202}
AUDIT_READERS = {
    "customer": 403,
    "admin": 200,
    "auditor": 200,
    "fraud_analyst": 403,
    "financial_manager": 403,
    "compliance_officer": 200,
    None: 401,
}


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # the route template
    expected: dict[str | None, int]
    url: Callable[[Bank], str] | None = None
    body: Callable[[Bank, str | None], Any] | None = None
    codes: tuple[str, ...] = ()  # problem codes this route may answer besides 401/403
    fresh: bool = False  # ends sessions: each caller gets a fresh token first


def target(bank: Bank) -> int:
    return bank.users.get("target") or bank.add_user("target")


CASES = [
    Case(
        "POST",
        "/auth/register",
        everyone(201),
        body=lambda bank, who: {
            "username": f"new_{who or 'anonymous'}",
            "password": "a long enough passphrase",
            "email": "new@example.com",
            "full_name": "New Customer",
            "date_of_birth": "1985-01-01",
        },
    ),
    Case(
        "POST",
        "/auth/login",
        everyone(200),
        body=lambda bank, who: {"username": "customer", "password": PASSWORD},
    ),
    Case("GET", "/auth/me", SIGNED_IN),
    Case("GET", "/users/profile", SIGNED_IN),
    Case("PUT", "/users/profile", SIGNED_IN, body=lambda bank, who: {"full_name": "Renamed"}),
    Case(
        "PUT", "/users/pin", SIGNED_IN, body=lambda bank, who: {"pin": "4821", "password": PASSWORD}
    ),
    Case("GET", "/admin/users", ADMIN_ONLY),
    Case(
        "PUT",
        "/admin/users/{user_id}/role",
        ADMIN_ONLY,
        url=lambda bank: f"/admin/users/{target(bank)}/role",
        body=lambda bank, who: {"role": "customer"},
    ),
    Case(
        "PUT",
        "/admin/users/{user_id}/kyc",
        ADMIN_ONLY,
        url=lambda bank: f"/admin/users/{target(bank)}/kyc",
        body=lambda bank, who: {"kyc_status": "verified"},
    ),
    Case(
        "PUT",
        "/admin/users/{user_id}/active",
        ADMIN_ONLY,
        url=lambda bank: f"/admin/users/{target(bank)}/active",
        body=lambda bank, who: {"is_active": True},
    ),
    Case(
        "GET",
        "/admin/users/{user_id}/limits",
        ADMIN_ONLY,
        url=lambda bank: f"/admin/users/{target(bank)}/limits",
    ),
    Case(
        "PUT",
        "/admin/users/{user_id}/limits",
        {**ADMIN_ONLY, "admin": 202},  # four eyes: proposed
        url=lambda bank: f"/admin/users/{target(bank)}/limits",
        body=lambda bank, who: {"withdrawal_daily": "100.00", "reason": "matrix"},
    ),
    Case("GET", "/audit/logs", AUDIT_READERS),
    Case("GET", "/audit/verify", AUDIT_READERS),
    Case("GET", "/health", everyone(200)),
    Case("GET", "/ready", everyone(200)),
    Case("GET", "/metrics", STAFF_ONLY),
    Case(
        "POST",
        "/auth/token",
        everyone(200),
        body=lambda bank, who: {"username": "customer", "password": PASSWORD},
    ),
    Case(
        "POST",
        "/auth/password-reset",
        everyone(400),
        body=lambda bank, who: {"token": "not-a-reset-token", "new_password": "a new passphrase"},
        codes=("invalid_reset_token",),
    ),
    Case(
        "POST",
        "/auth/reset-check",
        everyone(400),
        body=lambda bank, who: {"token": "not-a-reset-token"},
        codes=("invalid_reset_token",),
    ),
    Case("GET", "/users/2fa", SIGNED_IN),
    Case("POST", "/users/2fa/setup", SIGNED_IN),
    Case(
        "POST",
        "/users/2fa/enable",
        {**everyone(422), None: 401},
        body=lambda bank, who: {"code": "000000"},
        codes=("validation_error",),
    ),
    Case(
        "POST",
        "/users/2fa/disable",
        {**everyone(403), None: 401},
        body=lambda bank, who: {"password": "not the password", "code": "000000"},
        codes=("wrong_password",),
    ),
    Case("GET", "/users/notices", SIGNED_IN),
    Case("POST", "/users/notices/read", SIGNED_IN, body=lambda bank, who: {}),
    Case(
        "POST",
        "/admin/users",
        PROPOSED_BY_ADMIN,
        body=lambda bank, who: {
            "username": f"staff_by_{who or 'anonymous'}",
            "email": "staff@example.com",
            "full_name": "New Staff",
            "role": "auditor",
        },
    ),
    Case(
        "GET", "/admin/users/{user_id}", ADMIN_ONLY, url=lambda bank: f"/admin/users/{target(bank)}"
    ),
    Case(
        "POST",
        "/admin/users/{user_id}/password-reset",
        PROPOSED_BY_ADMIN,
        url=lambda bank: f"/admin/users/{target(bank)}/password-reset",
    ),
    Case(
        "POST",
        "/admin/users/{user_id}/2fa/reset",
        PROPOSED_BY_ADMIN,
        url=lambda bank: f"/admin/users/{target(bank)}/2fa/reset",
    ),
    Case(
        "POST",
        "/admin/users/{user_id}/unlock",
        ADMIN_ONLY,
        url=lambda bank: f"/admin/users/{target(bank)}/unlock",
    ),
    # last: these end the caller's sessions
    Case("POST", "/auth/logout", {**everyone(204), None: 401}, fresh=True),
    Case("POST", "/auth/logout-all", {**everyone(204), None: 401}, fresh=True),
    Case(
        "PUT",
        "/users/password",
        SIGNED_IN,
        body=lambda bank, who: {"current_password": PASSWORD, "new_password": "a new passphrase"},
        fresh=True,
    ),
]
PREFIXES = ("/auth/", "/users/", "/admin/users", "/audit/", "/health", "/ready", "/metrics")


def test_each_route_allows_and_denies_each_caller(bank: Bank) -> None:
    # one bank for the whole matrix (a database per cell would cost minutes, not seconds);
    # every cell is still checked and every wrong cell reported
    wrong: list[tuple[str, str, str | None, int, int]] = []
    for case in CASES:
        url = case.url(bank) if case.url else case.path
        for who in CALLERS:
            if case.fresh and who is not None:
                bank.refresh(who)
            body = case.body(bank, who) if case.body else None
            response = bank.call(who, case.method, url, json=body)
            expected, got = case.expected[who], response.status_code
            if got != expected:
                wrong.append((case.method, case.path, who, expected, got))
            elif response.status_code >= 400:
                assert response.headers["content-type"] == "application/problem+json"
                allowed = ("forbidden", "not_authenticated", *case.codes)
                assert response.json()["code"] in allowed, (case.path, who, response.text)
    assert wrong == [], "(method, route, caller, expected, got)"


def test_every_route_of_these_areas_is_in_the_matrix(bank: Bank) -> None:
    routes = {
        (method.upper(), path)
        for path, operations in bank.app.openapi()["paths"].items()
        if path.startswith(PREFIXES)
        for method in operations
    }
    assert routes == {(case.method, case.path) for case in CASES}
