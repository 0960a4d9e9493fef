"""Identity's four-eyes actions: creating a staff user, granting a staff role, issuing another
user's password reset link, resetting a second factor. Each runs inside the approving
transaction; the approver is never the user concerned (no one approves their own power)."""

from __future__ import annotations

import secrets

from sqlalchemy import Connection

from ledgerbank import errors
from ledgerbank.approvals.service import Action, Done, Proposal, register
from ledgerbank.identity import notices, recovery, second_factor, service
from ledgerbank.identity.permissions import Permission

CREATE_STAFF = "user.create_staff"
GRANT_ROLE = "user.grant_role"
PASSWORD_RESET = "user.password_reset"
SECOND_FACTOR_RESET = "user.second_factor_reset"


def reset_url(base_url: str, token: str) -> str:
    return f"{base_url}/#/reset-password?token={token}"


def _reset_minutes(proposal: Proposal) -> int:
    settings = proposal.context.settings
    return int(settings.password_reset_minutes) if settings is not None else 60


def _not_about_approver(proposal: Proposal, user_id: int) -> None:
    if user_id == proposal.approved_by:
        raise errors.Forbidden("this is about you: another person must approve it")


def _create_staff(conn: Connection, proposal: Proposal) -> Done:
    params = proposal.params
    user = service.create_user(
        conn,
        username=str(params["username"]),
        # Nobody knows this password: the new user sets theirs with the reset link.
        password=secrets.token_urlsafe(32),
        email=str(params["email"]),
        full_name=str(params["full_name"]),
        role=str(params["role"]),
        kyc_status="verified",
        actor_id=proposal.approved_by,
    )
    link = recovery.issue_reset(
        conn, int(user["id"]), created_by=proposal.approved_by, minutes=_reset_minutes(proposal)
    )
    return Done(
        {"user_id": user["id"], "username": user["username"], "role": user["role"]},
        {
            "reset_url": reset_url(proposal.context.base_url, link.token),
            "expires_at": link.expires_at.isoformat(),
        },
    )


def _grant_role(conn: Connection, proposal: Proposal) -> Done:
    params = proposal.params
    user_id = int(params["user_id"])
    _not_about_approver(proposal, user_id)
    row = service.change_role(
        conn,
        actor_id=proposal.approved_by,
        user_id=user_id,
        role=str(params["role"]),
        reason=params.get("reason"),
    )
    return Done({"user_id": user_id, "role": row["role"]})


def _password_reset(conn: Connection, proposal: Proposal) -> Done:
    user_id = int(proposal.params["user_id"])
    _not_about_approver(proposal, user_id)
    link = recovery.issue_reset(
        conn, user_id, created_by=proposal.approved_by, minutes=_reset_minutes(proposal)
    )
    return Done(
        {"user_id": user_id, "expires_at": link.expires_at.isoformat()},
        {
            "reset_url": reset_url(proposal.context.base_url, link.token),
            "expires_at": link.expires_at.isoformat(),
        },
    )


def _second_factor_reset(conn: Connection, proposal: Proposal) -> Done:
    user_id = int(proposal.params["user_id"])
    _not_about_approver(proposal, user_id)
    service.get_user(conn, user_id)
    second_factor.disable(
        conn, user_id, actor_id=proposal.approved_by, action="user.second_factor_reset"
    )
    service.end_sessions(conn, user_id)
    notices.notify(conn, user_id, "second_factor_reset")
    return Done({"user_id": user_id, "second_factor": None})


register(Action(CREATE_STAFF, Permission.USERS_MANAGE, _create_staff, "create a staff user"))
register(Action(GRANT_ROLE, Permission.USERS_MANAGE, _grant_role, "grant a staff role"))
register(Action(PASSWORD_RESET, Permission.USERS_MANAGE, _password_reset, "issue a reset link"))
register(
    Action(
        SECOND_FACTOR_RESET,
        Permission.USERS_MANAGE,
        _second_factor_reset,
        "reset a second factor",
    )
)
