"""Routes of analytics (customers), reports (financial managers) and compliance metrics."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from ledgerbank import errors
from ledgerbank.analytics import compliance_metrics, reports, spending
from ledgerbank.analytics.custom_reports import Filters, ReportSpec, run_report
from ledgerbank.analytics.periods import Period, parse_period
from ledgerbank.analytics.schemas import (
    ComplianceMetrics,
    CustomReport,
    CustomReportRequest,
    Kpis,
    SpendingPrediction,
    SpendingSummary,
    TransactionType,
    Trend,
)
from ledgerbank.identity.deps import Principal, ReadDB, authorized
from ledgerbank.identity.permissions import Permission
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.exports import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, to_csv, to_xlsx
from ledgerbank.kit.http import LedgerRoute, problem_responses
from ledgerbank.kit.money import normalize_currency

router = APIRouter(route_class=LedgerRoute)

CustomerAnalytics = Annotated[Principal, authorized(Permission.ANALYTICS_OWN)]
ReportsReader = Annotated[Principal, authorized(Permission.REPORTS_READ)]
ComplianceReviewer = Annotated[Principal, authorized(Permission.COMPLIANCE_REVIEW)]

_MOMENT = "an ISO 8601 timestamp (naive = UTC) or a date"
From = Annotated[
    str | None,
    Query(alias="from", max_length=40, description=f"start, inclusive: {_MOMENT}"),
]
To = Annotated[
    str | None,
    Query(max_length=40, description=f"end, inclusive: {_MOMENT} (a date means the whole day)"),
]
AccountId = Annotated[
    int | None, Query(ge=1, le=2**63 - 1, description="one of your accounts (default: all)")
]
Currency = Annotated[
    str | None,
    Query(
        min_length=3,
        max_length=3,
        description="the currency to lead with (default: that of your oldest account)",
    ),
]

_AUTH = (errors.NotAuthenticated, errors.Forbidden)


# --- customers ------------------------------------------------------------------------------


@router.get(
    "/analytics/spending-summary",
    tags=["analytics"],
    operation_id="analytics-spending-summary",
    response_model=SpendingSummary,
    responses=problem_responses(*_AUTH, errors.NotFound, errors.UnknownCurrency),
)
def spending_summary(
    principal: CustomerAnalytics,
    database: ReadDB,
    from_: From = None,
    to: To = None,
    account_id: AccountId = None,
    currency: Currency = None,
) -> dict[str, Any]:
    """Your income, expenses and net flow for a period, by month, per currency.

    Transfers between your own accounts are neither income nor expense; a reversed transaction
    and its reversal are left out.
    """
    period = parse_period(from_, to)
    with database.read() as conn:
        return spending.spending_summary(
            conn,
            owner_id=principal.id,
            account_id=account_id,
            currency=currency,
            period=period,
            today=utcnow(),
        )


@router.get(
    "/analytics/spending-prediction",
    tags=["analytics"],
    operation_id="analytics-spending-prediction",
    response_model=SpendingPrediction,
    responses=problem_responses(*_AUTH, errors.NotFound, errors.UnknownCurrency),
)
def spending_prediction(
    principal: CustomerAnalytics,
    database: ReadDB,
    account_id: AccountId = None,
    currency: Currency = None,
    method: Annotated[
        Literal["robust_seasonal", "linear_regression"],
        Query(description="robust_seasonal, or the original linear regression"),
    ] = "robust_seasonal",
) -> dict[str, Any]:
    """Next month's spending with a likely range, from your complete months of history."""
    with database.read() as conn:
        return spending.spending_prediction(
            conn,
            owner_id=principal.id,
            account_id=account_id,
            currency=currency,
            today=utcnow(),
            method=method,
        )


# --- financial managers ---------------------------------------------------------------------


@router.get(
    "/reports/kpis",
    tags=["reports"],
    operation_id="reports-kpis",
    response_model=Kpis,
    responses=problem_responses(*_AUTH),
)
def kpis(
    _: ReportsReader,
    database: ReadDB,
    from_: From = None,
    to: To = None,
    compare: Annotated[
        Literal["previous"] | None,
        Query(description="`previous`: add the period of equal length just before (needs from)"),
    ] = None,
) -> dict[str, Any]:
    """Transaction count and volume by type, activity, growth, average balances, alerts."""
    period = parse_period(from_, to)
    now = utcnow()
    with database.read() as conn:
        found = reports.kpis(conn, period, now=now)
        if compare == "previous":
            if period.start is None:
                raise errors.ValidationFailed("comparing with the previous period needs `from`")
            end = period.end or now
            before = Period(period.start - (end - period.start), period.start)
            found["previous"] = reports.kpis(conn, before, now=period.start)
        return found


@router.get(
    "/reports/trends",
    tags=["reports"],
    operation_id="reports-trends",
    response_model=Trend,
    responses=problem_responses(*_AUTH, errors.UnknownCurrency),
)
def trends(
    _: ReportsReader,
    database: ReadDB,
    interval: Literal["day", "week", "month"] = "day",
    metric: Annotated[
        Literal["count", "volume", "average", "blocked", "new_accounts", "new_customers"],
        Query(description="volume and average are per currency"),
    ] = "count",
    from_: From = None,
    to: To = None,
    type: Annotated[list[TransactionType], Query(description="only these types")] = [],  # noqa: B006
    currency: Annotated[list[str], Query(max_length=50, description="only these")] = [],  # noqa: B006
    by_type: Annotated[bool, Query(description="one series per transaction type")] = False,
) -> dict[str, Any]:
    """A time series of one metric by day, week or month, empty periods included."""
    query = reports.TrendQuery(
        interval=interval,
        metric=metric,
        period=parse_period(from_, to),
        types=type,
        currencies=[normalize_currency(c) for c in currency],
        by_type=by_type,
    )
    with database.read() as conn:
        return reports.trends(conn, query, now=utcnow())


@router.post(
    "/reports/custom",
    tags=["reports"],
    operation_id="reports-custom",
    response_model=CustomReport,
    responses={
        **problem_responses(*_AUTH, errors.UnknownCurrency),
        200: {
            "description": "the report; as a CSV or XLSX download with `format`",
            "content": {CSV_MEDIA_TYPE: {}, XLSX_MEDIA_TYPE: {}},
        },
    },
)
def custom_report(
    _: ReportsReader,
    database: ReadDB,
    body: CustomReportRequest,
    format: Annotated[
        Literal["json", "csv", "xlsx"], Query(description="json, or a csv / xlsx download")
    ] = "json",
) -> Any:
    """Transactions grouped by any dimensions, with count, sum, avg, min and max of amounts.

    Amounts are never added across currencies: a money metric groups by currency too.
    """
    f = body.filters
    spec = ReportSpec(
        group_by=body.group_by,
        metrics=list(dict.fromkeys(body.metrics)),
        filters=Filters(
            types=f.types,
            statuses=f.statuses,
            account_types=f.account_types,
            currencies=[normalize_currency(c) for c in f.currencies],
            customer_ids=f.customer_ids,
            verdicts=f.verdicts,
            min_amount=f.min_amount,
            max_amount=f.max_amount,
            period=parse_period(f.from_, f.to),
        ),
        order_by=body.order_by,
        limit=body.limit,
    )
    with database.read() as conn:
        report = run_report(conn, spec)
    if format == "json":
        return {
            "group_by": report.group_by,
            "metrics": report.metrics,
            "columns": [{"name": c.name, "type": c.kind} for c in report.columns],
            "rows": report.rows,
            "row_count": len(report.rows),
            "truncated": report.truncated,
        }
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    if format == "csv":
        content, media_type = to_csv(report.columns, report.rows), CSV_MEDIA_TYPE
    else:
        content, media_type = to_xlsx(report.columns, report.rows), XLSX_MEDIA_TYPE
    headers = {
        "Content-Disposition": f'attachment; filename="report-{stamp}.{format}"',
        "X-Report-Truncated": "true" if report.truncated else "false",
    }
    return Response(content, media_type=media_type, headers=headers)


# --- compliance -----------------------------------------------------------------------------


@router.get(
    "/compliance/metrics",
    tags=["compliance"],
    operation_id="compliance-metrics",
    response_model=ComplianceMetrics,
    responses=problem_responses(*_AUTH),
)
def compliance(
    _: ComplianceReviewer,
    request: Request,
    database: ReadDB,
    from_: Annotated[
        str | None,
        Query(alias="from", max_length=40, description=f"{_MOMENT}; default: 30 days before `to`"),
    ] = None,
    to: To = None,
) -> dict[str, Any]:
    """Alerts by rule and status and their ages, reports filed, frozen accounts, large cash
    per day, and the thresholds in force."""
    now = utcnow()
    period = parse_period(from_, to)
    if period.start is None:
        period = Period((period.end or now) - timedelta(days=30), period.end)
    with database.read() as conn:
        return compliance_metrics.compliance_metrics(
            conn, period, settings=request.app.state.settings, now=now
        )
