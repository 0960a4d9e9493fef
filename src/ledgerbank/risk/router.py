"""The risk API: scores, the fraud alert queue, compliance alerts and their actions, the model."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy import true

from ledgerbank import errors as E
from ledgerbank.identity.deps import DB, Principal, authorized
from ledgerbank.identity.permissions import Permission
from ledgerbank.kit.http import LedgerRoute, problem_responses
from ledgerbank.kit.pagination import DEFAULT_LIMIT, Cursor, Limit
from ledgerbank.ledger import policy
from ledgerbank.ledger.schemas import MAX_ID, EndMoment, StartMoment
from ledgerbank.risk import alerts, scores
from ledgerbank.risk.features import FEATURES
from ledgerbank.risk.rules import RULES
from ledgerbank.risk.schemas import (
    Alert,
    AlertDetail,
    AlertPage,
    AlertStatus,
    ComplianceAction,
    ModelInfo,
    Resolve,
    RiskScore,
    RiskScorePage,
    RuleInfo,
    Severity,
    Verdict,
)
from ledgerbank.risk.scoring import CRITICAL_AT, SUSPICIOUS_AT

router = APIRouter(route_class=LedgerRoute)

# Staff only: a customer never sees a score, a verdict or a rule (that would be tipping off).
RiskRead = Annotated[Principal, authorized(Permission.RISK_READ_ALL)]
FraudReview = Annotated[Principal, authorized(Permission.FRAUD_REVIEW)]
ComplianceReview = Annotated[Principal, authorized(Permission.COMPLIANCE_REVIEW)]
RiskStaff = Annotated[
    Principal,
    authorized(Permission.RISK_READ_ALL, Permission.FRAUD_REVIEW, Permission.COMPLIANCE_REVIEW),
]
AlertId = Annotated[int, Path(ge=1, le=MAX_ID)]

SIGNED_IN = (E.NotAuthenticated, E.Forbidden)
ONE = (*SIGNED_IN, E.NotFound)
ACT = (*ONE, E.InvalidTransition)


@router.get(
    "/analytics/risk-scores",
    tags=["risk"],
    operation_id="risk-scores",
    summary="Risk scores with their reasons, newest transaction first (staff only)",
    responses=problem_responses(*ONE),
)
def list_risk_scores(
    principal: RiskRead,
    database: DB,
    verdict: Verdict | None = None,
    min_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    account_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    start: Annotated[StartMoment | None, Query(alias="from")] = None,
    end: Annotated[EndMoment | None, Query(alias="to")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> RiskScorePage:
    with database.read() as conn:
        if account_id is not None:
            policy.visible_account(conn, principal, account_id)
        items, next_cursor = scores.list_scores(
            conn,
            visible=true(),
            verdict=verdict,
            min_score=min_score,
            account_id=account_id,
            start=start,
            end=end,
            limit=limit,
            cursor=cursor,
        )
    return RiskScorePage(
        items=[RiskScore.model_validate(item) for item in items], next_cursor=next_cursor
    )


# --- fraud -----------------------------------------------------------------------------


AlertSort = Annotated[
    Literal["-created_at", "created_at", "-score", "score"],
    Query(description="newest first (default), oldest first, or by risk score"),
]
Assigned = Annotated[
    str | None,
    Query(
        max_length=20,
        pattern=r"^(me|none|[1-9][0-9]{0,18})$",
        description="`me`, `none` (unassigned) or a staff user's id",
    ),
]


def _alerts(
    database: Any,
    queue: str,
    *,
    status: str | None,
    severity: str | None,
    rule_id: str | None,
    account_id: int | None,
    limit: int,
    cursor: str | None,
    principal: Principal | None = None,
    assigned: str | None = None,
    sort: str = "-created_at",
) -> AlertPage:
    assigned_to = None
    if assigned == "me" and principal is not None:
        assigned_to = principal.id
    elif assigned not in (None, "me", "none"):
        assigned_to = int(assigned)
    with database.read() as conn:
        rows, next_cursor = alerts.list_alerts(
            conn,
            queue=queue,
            status=status,
            severity=severity,
            rule_id=rule_id,
            account_id=account_id,
            assigned_to=assigned_to,
            unassigned=assigned == "none",
            sort=sort,
            limit=limit,
            cursor=cursor,
        )
    return AlertPage(items=[Alert.model_validate(dict(r)) for r in rows], next_cursor=next_cursor)


@router.get(
    "/fraud/alerts",
    tags=["fraud"],
    operation_id="fraud-alerts",
    summary="The fraud alert queue: SUSPICIOUS and CRITICAL transactions, newest first",
    responses=problem_responses(*SIGNED_IN),
)
def list_fraud_alerts(
    principal: FraudReview,
    database: DB,
    status: AlertStatus | None = None,
    severity: Severity | None = None,
    account_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    assigned: Assigned = None,
    sort: AlertSort = "-created_at",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> AlertPage:
    return _alerts(
        database,
        "fraud",
        status=status,
        severity=severity,
        rule_id=None,
        account_id=account_id,
        limit=limit,
        cursor=cursor,
        principal=principal,
        assigned=assigned,
        sort=sort,
    )


@router.get(
    "/fraud/alerts/{alert_id}",
    tags=["fraud"],
    operation_id="fraud-alert",
    summary="An alert with its transaction, the account and its recent activity",
    responses=problem_responses(*ONE),
)
def get_fraud_alert(alert_id: AlertId, principal: FraudReview, database: DB) -> AlertDetail:
    with database.read() as conn:
        return AlertDetail.model_validate(alerts.alert_detail(conn, alert_id, queue="fraud"))


@router.post(
    "/fraud/alerts/{alert_id}/assign",
    tags=["fraud"],
    operation_id="fraud-assign",
    summary="Take an alert: it moves to `investigating`, assigned to the caller",
    responses=problem_responses(*ACT),
)
def assign_fraud_alert(alert_id: AlertId, principal: FraudReview, database: DB) -> Alert:
    row = database.write(lambda conn: alerts.assign_alert(conn, alert_id, actor_id=principal.id))
    return Alert.model_validate(dict(row))


@router.post(
    "/fraud/alerts/{alert_id}/resolve",
    tags=["fraud"],
    operation_id="fraud-resolve",
    summary="Close an alert as fraud or a false positive (labels for the next training)",
    responses=problem_responses(*ACT),
)
def resolve_fraud_alert(
    alert_id: AlertId, body: Resolve, principal: FraudReview, database: DB
) -> Alert:
    row = database.write(
        lambda conn: alerts.resolve_fraud_alert(
            conn, alert_id, resolution=body.resolution, note=body.note, actor_id=principal.id
        )
    )
    return Alert.model_validate(dict(row))


# --- compliance ------------------------------------------------------------------------


@router.get(
    "/compliance/alerts",
    tags=["compliance"],
    operation_id="compliance-alerts",
    summary="AML rule hits (large cash, structuring, pass-through, ...), newest first",
    responses=problem_responses(*SIGNED_IN),
)
def list_compliance_alerts(
    principal: ComplianceReview,
    database: DB,
    status: AlertStatus | None = None,
    severity: Severity | None = None,
    rule: Annotated[str | None, Query(max_length=40, description="an AML rule id")] = None,
    account_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    assigned: Assigned = None,
    sort: AlertSort = "-created_at",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> AlertPage:
    return _alerts(
        database,
        "compliance",
        status=status,
        severity=severity,
        rule_id=rule,
        account_id=account_id,
        limit=limit,
        cursor=cursor,
        principal=principal,
        assigned=assigned,
        sort=sort,
    )


@router.get(
    "/compliance/alerts/{alert_id}",
    tags=["compliance"],
    operation_id="compliance-alert",
    summary="An AML alert with its transaction, the account and its recent activity",
    responses=problem_responses(*ONE),
)
def get_compliance_alert(
    alert_id: AlertId, principal: ComplianceReview, database: DB
) -> AlertDetail:
    with database.read() as conn:
        return AlertDetail.model_validate(alerts.alert_detail(conn, alert_id, queue="compliance"))


@router.post(
    "/compliance/alerts/{alert_id}/actions",
    tags=["compliance"],
    operation_id="compliance-action",
    summary="Escalate, file a report, freeze the account or close; each in the audit trail",
    responses=problem_responses(*ACT),
)
def act_on_compliance_alert(
    alert_id: AlertId, body: ComplianceAction, principal: ComplianceReview, database: DB
) -> Alert:
    row = database.write(
        lambda conn: alerts.compliance_action(
            conn,
            alert_id,
            action=body.action,
            note=body.note,
            actor_id=principal.id,
            customer_reason=body.customer_reason,
        )
    )
    return Alert.model_validate(dict(row))


# --- the model -------------------------------------------------------------------------


@router.get(
    "/risk/model",
    tags=["risk"],
    operation_id="risk-model",
    summary="The model in use, the verdict thresholds, the rules and their settings",
    responses=problem_responses(*SIGNED_IN),
)
def model_info(principal: RiskStaff, request: Request) -> ModelInfo:
    screen = request.app.state.screen
    model = getattr(screen, "model", None)
    settings = request.app.state.settings
    return ModelInfo(
        version=model.version if model is not None else None,
        features=list(FEATURES),
        trained=dict(model.info) if model is not None else {},
        thresholds={"suspicious": SUSPICIOUS_AT, "critical": CRITICAL_AT},
        settings={
            name: getattr(settings, name)
            for name in sorted(type(settings).model_fields)
            if name.startswith("risk_")
        },
        rules=[
            RuleInfo(
                id=rule.id,
                version=rule.version,
                kind=rule.kind,
                score=settings.risk_rule_scores.get(rule.id, rule.score),
                severity=rule.severity,
                alerts=rule.alerts,
                summary=rule.summary,
            )
            for rule in RULES
        ],
    )
