"""The ledger's four-eyes actions: lifting a compliance freeze, reversing a large transaction,
importing history that moves money, paying in a large sum of cash for a customer, changing a
customer's daily limits. Each runs inside the approving transaction."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Connection, RowMapping, select

from ledgerbank import errors
from ledgerbank.approvals import service as approvals
from ledgerbank.approvals.service import Action, Done, Proposal, register
from ledgerbank.identity.permissions import Permission
from ledgerbank.identity.tables import revoked_tokens, users
from ledgerbank.identity.tokens import TokenClaims
from ledgerbank.kit.money import DEFAULT_MAX_MAJOR, to_decimal_string, to_minor
from ledgerbank.ledger import freezes, importer, limits, posting
from ledgerbank.ledger.orders import STAFF_DEPOSIT
from ledgerbank.ledger.screening import NO_SCREEN

UNFREEZE_COMPLIANCE = "account.unfreeze_compliance"
REVERSE = "transaction.reverse"
IMPORT = "ledger.import"
LIMITS = "customer.limits_change"


def _unfreeze(conn: Connection, proposal: Proposal) -> Done:
    params = proposal.params
    row = freezes.unfreeze(
        conn,
        int(params["account_id"]),
        by_customer=False,
        note=str(params["reason"]),
        actor_id=proposal.proposed_by,
        approved=True,
    )
    return Done({"account_id": row["id"], "status": row["status"]})


def _reverse(conn: Connection, proposal: Proposal) -> Done:
    params = proposal.params
    result = posting.reverse(
        conn,
        int(params["transaction_id"]),
        reason=str(params["reason"]),
        actor_id=proposal.proposed_by,
    )
    reversal = result.transaction
    return Done({"transaction_id": int(params["transaction_id"]), "reversal_id": reversal["id"]})


def _staff_deposit(conn: Connection, proposal: Proposal) -> Done:
    """The cash a staff member took at the counter, posted under their name once approved
    (screened like any deposit)."""
    params = proposal.params
    settings = proposal.context.settings
    result = posting.deposit(
        conn,
        account_id=int(params["account_id"]),
        amount=str(params["amount"]),
        actor_id=proposal.proposed_by,
        description=params.get("description"),
        screen=proposal.context.screen or NO_SCREEN,
        max_major=Decimal(settings.max_amount) if settings else DEFAULT_MAX_MAJOR,
    )
    row = result.transaction
    return Done({"transaction_id": row["id"], "status": row["status"]})


def _limits(conn: Connection, proposal: Proposal) -> Done:
    params = proposal.params
    limits.set_customer_limits(
        conn,
        int(params["user_id"]),
        params["limits"],
        reason=str(params["reason"]),
        actor_id=proposal.proposed_by,
        approved_by=proposal.approved_by,
    )
    return Done({"user_id": int(params["user_id"]), "limits": params["limits"]})


def _import(conn: Connection, proposal: Proposal) -> Done:
    params = proposal.params
    settings = proposal.context.settings
    report = importer.import_in(
        conn,
        proposal.payload or b"",
        file_name=str(params["file_name"]),
        actor_id=proposal.proposed_by,
        partial=bool(params.get("partial")),
        screen=proposal.context.screen or NO_SCREEN,
        max_major=Decimal(settings.max_amount) if settings else DEFAULT_MAX_MAJOR,
    )
    return Done(report.as_dict())


register(
    Action(
        UNFREEZE_COMPLIANCE,
        Permission.COMPLIANCE_REVIEW,
        _unfreeze,
        "lift a freeze compliance made",
    )
)
register(Action(REVERSE, Permission.TRANSACTIONS_REVERSE, _reverse, "reverse a large transaction"))
register(Action(IMPORT, Permission.IMPORT, _import, "import history that moves money"))
register(
    Action(
        STAFF_DEPOSIT, Permission.MONEY_DEPOSIT_ANY, _staff_deposit, "pay in a large sum of cash"
    )
)
register(Action(LIMITS, Permission.USERS_MANAGE, _limits, "change a customer's daily limits"))


def propose_large_reversal(
    conn: Connection,
    transaction_id: int,
    *,
    reason: str,
    proposer: TokenClaims,
    above: str,
    hours: int,
) -> RowMapping | None:
    """A reversal above `above` (major units of the transaction's currency) becomes a proposal
    for a second person; None: small enough to post now (the money service checks the caller).

    The route's token was only verified, not looked up: the proposer's state is checked here.
    """
    caller = conn.execute(
        select(users.c.is_active, users.c.role, users.c.token_version).where(
            users.c.id == proposer.user_id
        )
    ).first()
    ended = conn.execute(
        select(revoked_tokens.c.jti).where(revoked_tokens.c.jti == proposer.jti)
    ).first()
    if (
        caller is None
        or not caller.is_active
        or caller.role != proposer.role
        or caller.token_version != proposer.version
        or ended is not None
    ):
        raise errors.NotAuthenticated("the access token is no longer valid; sign in again")
    proposed_by = proposer.user_id
    original = posting.get_transaction_row(conn, transaction_id)
    if original["status"] != "posted" or original["type"] == "reversal":
        return None  # the reversal itself answers why not
    currency = original["currency"]
    if int(original["amount"]) <= to_minor(above, currency, max_major=Decimal(above) + 1):
        return None
    amount = to_decimal_string(int(original["amount"]), currency)
    return approvals.propose(
        conn,
        action_name=REVERSE,
        params={"transaction_id": transaction_id, "reason": reason},
        proposed_by=proposed_by,
        summary=f"Reverse transaction {transaction_id} ({amount} {currency}): {reason}",
        hours=hours,
        entity_type="transaction",
        entity_id=transaction_id,
        note=reason,
    )
