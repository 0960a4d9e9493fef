"""Routes of casework: search, the customer view, names, notes, bulk actions, SARs, networks.

Staff only: customers answer 403 (their own data is elsewhere); SARs and notes never reach a
customer (tipping off).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from ledgerbank import errors as E
from ledgerbank.casework import customers, network, search, service
from ledgerbank.casework.schemas import (
    BulkRequest,
    BulkResult,
    CustomerView,
    Network,
    NoteRequest,
    People,
    SarReport,
    SarRequest,
    SearchResults,
)
from ledgerbank.identity.deps import DB, Principal, authorized
from ledgerbank.identity.names import full_names
from ledgerbank.identity.permissions import Permission, mask_personal, sees_personal_data
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.http import LedgerRoute, problem_responses
from ledgerbank.ledger.schemas import MAX_ID
from ledgerbank.risk import alerts
from ledgerbank.risk.schemas import Alert

router = APIRouter(route_class=LedgerRoute)

CustomersReview = Annotated[Principal, authorized(Permission.CUSTOMERS_REVIEW)]
StaffReader = Annotated[Principal, authorized(Permission.ACCOUNTS_READ_ALL)]
FraudReview = Annotated[Principal, authorized(Permission.FRAUD_REVIEW)]
ComplianceReview = Annotated[Principal, authorized(Permission.COMPLIANCE_REVIEW)]
AlertId = Annotated[int, Path(ge=1, le=MAX_ID)]
UserId = Annotated[int, Path(ge=1, le=MAX_ID)]

SIGNED_IN = (E.NotAuthenticated, E.Forbidden)
ONE = (*SIGNED_IN, E.NotFound)
ACT = (*ONE, E.InvalidTransition)


def _queues(principal: Principal) -> tuple[str, ...]:
    found = []
    if principal.can(Permission.FRAUD_REVIEW):
        found.append("fraud")
    if principal.can(Permission.COMPLIANCE_REVIEW):
        found.append("compliance")
    return tuple(found)


def _private(principal: Principal, value: dict[str, Any]) -> dict[str, Any]:
    """Personal details masked for roles that do not read them."""
    if sees_personal_data(principal.role):
        return value
    masked = mask_personal(value)
    assert isinstance(masked, dict)
    return masked


# --- finding people --------------------------------------------------------------------------


@router.get(
    "/staff/search",
    tags=["casework"],
    operation_id="casework-search",
    summary="Customers and accounts by name, account number, username or email",
    responses=problem_responses(*SIGNED_IN),
)
def search_customers(
    principal: CustomersReview,
    database: DB,
    q: Annotated[str, Query(min_length=2, max_length=100, description="what to look for")],
) -> SearchResults:
    with database.read() as conn:
        found = search.search(conn, q)
    return SearchResults.model_validate(
        {
            "query": q,
            "customers": [_private(principal, c) for c in found["customers"]],
            "accounts": found["accounts"],
        }
    )


@router.get(
    "/staff/customers/{user_id}",
    tags=["casework"],
    operation_id="casework-customer",
    summary="One customer: profile, KYC, accounts, recent activity, alerts and reports",
    responses=problem_responses(*ONE),
)
def customer(user_id: UserId, principal: CustomersReview, database: DB) -> CustomerView:
    with database.read() as conn:
        view = customers.customer_view(conn, user_id, queues=_queues(principal))
    view["profile"] = _private(principal, view["profile"])
    return CustomerView.model_validate(view)


@router.get(
    "/staff/people",
    tags=["casework"],
    operation_id="casework-people",
    summary="The names of users by id (who acted, who owns, who is assigned)",
    responses=problem_responses(*SIGNED_IN),
)
def people(
    principal: StaffReader,
    database: DB,
    ids: Annotated[list[Annotated[int, Query(ge=1, le=MAX_ID)]], Query(max_length=200)],
) -> People:
    with database.read() as conn:
        names = full_names(conn, ids)
    return People.model_validate(
        {"items": [{"id": i, "name": n} for i, n in sorted(names.items())]}
    )


# --- alerts: notes, bulk, network, SARs ------------------------------------------------------


def _note(database: Any, queue: str, alert_id: int, body: NoteRequest, actor: int) -> Alert:
    row = database.write(
        lambda conn: service.add_note(conn, alert_id, queue=queue, note=body.note, actor_id=actor)
    )
    return Alert.model_validate(dict(row))


def _bulk(database: Any, queue: str, body: BulkRequest, actor: int) -> BulkResult:
    result = database.write(
        lambda conn: service.bulk(
            conn,
            queue=queue,
            alert_ids=body.alert_ids,
            action=body.action,
            note=body.note,
            actor_id=actor,
            assignee_id=body.assignee_id,
            resolution=body.resolution,
        )
    )
    return BulkResult.model_validate(result)


def _network(database: Any, queue: str, alert_id: int) -> Network:
    with database.read() as conn:
        alert = alerts.get_alert(conn, alert_id, queue=queue)
        if alert["account_id"] is None:
            raise E.NotFound(f"{queue} alert {alert_id} names no account")
        return Network.model_validate(network.network(conn, int(alert["account_id"]), now=utcnow()))


@router.post(
    "/fraud/alerts/{alert_id}/notes",
    tags=["fraud"],
    operation_id="fraud-note",
    summary="Add a case note without any other action",
    responses=problem_responses(*ONE),
)
def note_fraud_alert(
    alert_id: AlertId, body: NoteRequest, principal: FraudReview, database: DB
) -> Alert:
    return _note(database, "fraud", alert_id, body, principal.id)


@router.post(
    "/compliance/alerts/{alert_id}/notes",
    tags=["compliance"],
    operation_id="compliance-note",
    summary="Add a case note without any other action",
    responses=problem_responses(*ONE),
)
def note_compliance_alert(
    alert_id: AlertId, body: NoteRequest, principal: ComplianceReview, database: DB
) -> Alert:
    return _note(database, "compliance", alert_id, body, principal.id)


@router.post(
    "/fraud/alerts/bulk",
    tags=["fraud"],
    operation_id="fraud-bulk",
    summary="Assign or close many fraud alerts; each one's case history records it",
    responses=problem_responses(*SIGNED_IN),
)
def bulk_fraud(body: BulkRequest, principal: FraudReview, database: DB) -> BulkResult:
    return _bulk(database, "fraud", body, principal.id)


@router.post(
    "/compliance/alerts/bulk",
    tags=["compliance"],
    operation_id="compliance-bulk",
    summary="Assign or close many AML alerts; each one's case history records it",
    responses=problem_responses(*SIGNED_IN),
)
def bulk_compliance(body: BulkRequest, principal: ComplianceReview, database: DB) -> BulkResult:
    if body.resolution is not None:
        raise E.ValidationFailed("resolution is for fraud alerts")
    return _bulk(database, "compliance", body, principal.id)


@router.get(
    "/fraud/alerts/{alert_id}/network",
    tags=["fraud"],
    operation_id="fraud-network",
    summary="Who paid whom around the alert's account (two hops, last 90 days)",
    responses=problem_responses(*ONE),
)
def fraud_network(alert_id: AlertId, principal: FraudReview, database: DB) -> Network:
    return _network(database, "fraud", alert_id)


@router.get(
    "/compliance/alerts/{alert_id}/network",
    tags=["compliance"],
    operation_id="compliance-network",
    summary="Who paid whom around the alert's account (two hops, last 90 days)",
    responses=problem_responses(*ONE),
)
def compliance_network(alert_id: AlertId, principal: ComplianceReview, database: DB) -> Network:
    return _network(database, "compliance", alert_id)


@router.post(
    "/compliance/alerts/{alert_id}/reports",
    tags=["compliance"],
    operation_id="compliance-sar-file",
    status_code=201,
    summary="File a suspicious-activity report with a narrative; kept with the case",
    responses=problem_responses(*ACT),
)
def file_sar(
    alert_id: AlertId, body: SarRequest, principal: ComplianceReview, database: DB
) -> SarReport:
    report = database.write(
        lambda conn: service.file_sar(
            conn,
            alert_id,
            activity_type=body.activity_type,
            narrative=body.narrative,
            actor_id=principal.id,
        )
    )
    return SarReport.model_validate(report)


@router.get(
    "/compliance/alerts/{alert_id}/reports",
    tags=["compliance"],
    operation_id="compliance-sar-list",
    summary="The suspicious-activity reports filed from this alert, newest first",
    responses=problem_responses(*ONE),
)
def list_sars(alert_id: AlertId, principal: ComplianceReview, database: DB) -> list[SarReport]:
    with database.read() as conn:
        alerts.get_alert(conn, alert_id, queue="compliance")
        return [SarReport.model_validate(r) for r in customers.sar_list(conn, [alert_id])]
