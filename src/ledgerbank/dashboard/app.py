"""ledgerbank's live monitoring dashboard: a Streamlit script, run by `ledgerbank dashboard`.

It reads through the analytics services on a read-only connection (the database refuses any
write) and refreshes itself: volume and value over time by transaction type, the risk score
distribution with the latest blocked and suspicious transactions, the alert queue, the balance
sheet and the ledger's integrity.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import plotly.express as px
import streamlit as st

from ledgerbank.analytics import monitoring, reports
from ledgerbank.analytics.periods import Period
from ledgerbank.config import Settings
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.kit.read_database import read_only_database

# Window label -> (how far back, bucket of the charts).
WINDOWS: dict[str, tuple[timedelta | None, str]] = {
    "Last 24 hours": (timedelta(days=1), "day"),
    "Last 7 days": (timedelta(days=7), "day"),
    "Last 30 days": (timedelta(days=30), "day"),
    "Last 90 days": (timedelta(days=90), "week"),
    "Last year": (timedelta(days=365), "month"),
    "All history": (None, "month"),
}
REFRESH: dict[str, int | None] = {
    "every 10 s": 10,
    "every 30 s": 30,
    "every minute": 60,
    "off": None,
}


def database_url() -> str:
    """The read replica (LEDGERBANK_READ_DATABASE_URL) when there is one, else the database."""
    settings = Settings()
    return settings.read_database_url or settings.resolved_database_url


@st.cache_resource(show_spinner=False)
def database(url: str) -> Database:
    return read_only_database(url)


@st.cache_data(ttl=600, show_spinner="checking the ledger's integrity")
def integrity(url: str) -> dict[str, Any]:
    """The integrity check reads every entry (seconds on a million transactions): it runs at
    most every ten minutes, and last on the page, so the live figures never wait for it."""
    with database(url).read() as conn:
        return {**monitoring.integrity_status(conn), "checked_at": utcnow()}


def gather(db: Database, period: Period, interval: str, now: datetime) -> dict[str, Any]:
    """Everything the page shows, read in one read-only transaction."""
    with db.read() as conn:
        by_type = reports.TrendQuery(interval, "count", period, by_type=True)
        value_by_type = reports.TrendQuery(interval, "volume", period, by_type=True)
        return {
            "kpis": reports.kpis(conn, period, now=now),
            "counts": reports.trends(conn, by_type, now=now)["points"],
            "values": reports.trends(conn, value_by_type, now=now)["points"],
            "distribution": monitoring.score_distribution(conn, period),
            "verdicts": monitoring.verdict_counts(conn, period),
            "flagged": monitoring.flagged_transactions(conn),
            "queue": monitoring.alert_queue(conn, now),
            "balance_sheet": monitoring.balance_sheet(conn),
        }


def volume_section(found: dict[str, Any]) -> None:
    st.subheader("Volume and value over time, by type")
    counts = pd.DataFrame(found["counts"], columns=["period", "type", "value"])
    values = pd.DataFrame(found["values"], columns=["period", "type", "currency", "value"])
    by_count, by_value = st.tabs(["Number of transactions", "Value"])
    with by_count:
        if counts.empty:
            st.info("No transactions in this window.")
        else:
            chart = px.bar(counts, x="period", y="value", color="type", labels={"value": "count"})
            st.plotly_chart(chart, key="count_by_type")
    with by_value:
        currencies = sorted(values["currency"].unique()) if not values.empty else []
        if not currencies:
            st.info("No transactions in this window.")
            return
        currency = st.radio("Currency", currencies, horizontal=True, key="value_currency")
        shown = values[values["currency"] == currency].copy()
        # Plotted as numbers; the exact amounts are the decimal strings in the table below.
        shown["amount"] = shown["value"].astype(float)
        chart = px.bar(shown, x="period", y="amount", color="type", labels={"amount": currency})
        st.plotly_chart(chart, key="value_by_type")


def risk_section(found: dict[str, Any]) -> None:
    st.subheader("Risk")
    left, right = st.columns([3, 1])
    with left:
        distribution = pd.DataFrame(
            found["distribution"], columns=["from", "to", "verdict", "count"]
        )
        if distribution.empty:
            st.info("No scored transactions in this window.")
        else:
            distribution["score"] = distribution["from"].map(lambda x: f"{x:.2f}")
            chart = px.bar(
                distribution,
                x="score",
                y="count",
                color="verdict",
                title="Risk score distribution",
                color_discrete_map={
                    "SAFE": "#2e7d32",
                    "SUSPICIOUS": "#f9a825",
                    "CRITICAL": "#c62828",
                },
            )
            st.plotly_chart(chart, key="score_distribution")
    with right:
        for verdict, count in found["verdicts"].items():
            st.metric(f"{verdict.title()} scores", f"{count:,}")
    st.markdown("**Latest blocked and suspicious transactions**")
    flagged = pd.DataFrame(found["flagged"])
    if flagged.empty:
        st.info("Nothing blocked or suspicious.")
    else:
        st.dataframe(flagged, hide_index=True, key="flagged")


def alerts_section(found: dict[str, Any]) -> None:
    st.subheader("Alert queue")
    queue = found["queue"]
    left, right = st.columns([1, 3])
    with left:
        by_severity = pd.DataFrame(queue["by_severity"], columns=["queue", "severity", "count"])
        st.dataframe(by_severity, hide_index=True, key="alerts_by_severity")
    with right:
        oldest = pd.DataFrame(queue["oldest"])
        if oldest.empty:
            st.success("No unresolved alerts.")
        else:
            st.dataframe(oldest, hide_index=True, key="oldest_alerts")


def books_section(found: dict[str, Any], status: dict[str, Any]) -> None:
    left, right = st.columns(2)
    with left:
        st.subheader("Balance sheet")
        sheet = pd.DataFrame(
            found["balance_sheet"],
            columns=["currency", "assets", "liabilities", "equity", "difference", "balanced"],
        )
        st.dataframe(sheet, hide_index=True, key="balance_sheet")
        if sheet.empty or sheet["balanced"].all():
            st.caption("Assets = liabilities + equity in every currency.")
        else:
            st.error("The balance sheet does not balance.")
    with right:
        st.subheader("Ledger integrity")
        st.metric(
            "Ledger", "sound" if status["sound"] else f"{len(status['violations'])} violation(s)"
        )
        st.caption(f"checked {status['checked_at']:%Y-%m-%d %H:%M:%S} UTC, every ten minutes")
        if status["sound"]:
            st.success("Every invariant holds.")
        else:
            st.error(f"{len(status['violations'])} integrity violation(s)")
            st.dataframe(pd.DataFrame(status["violations"]), hide_index=True, key="violations")


def page(url: str, window: str) -> None:
    now = utcnow()
    back, interval = WINDOWS[window]
    period = Period(None if back is None else now - back, None)
    found = gather(database(url), period, interval, now)
    kpis = found["kpis"]
    st.caption(f"{window} · read-only · updated {now:%Y-%m-%d %H:%M:%S} UTC")
    columns = st.columns(4)
    unresolved = sum(item["count"] for item in kpis["alert_counts"]["unresolved"])
    columns[0].metric("Transactions", f"{kpis['transaction_count']:,}")
    columns[1].metric("Blocked", f"{kpis['blocked_count']:,}")
    columns[2].metric("Active accounts", f"{kpis['active_accounts']:,}")
    columns[3].metric("Unresolved alerts", f"{unresolved:,}")
    volume_section(found)
    risk_section(found)
    alerts_section(found)
    books_section(found, integrity(url))


def main() -> None:
    st.set_page_config(page_title="ledgerbank monitoring", layout="wide")
    st.title("ledgerbank · live monitoring")
    url = database_url()
    with st.sidebar:
        window = st.selectbox("Window", list(WINDOWS), index=2, key="window")
        refresh = REFRESH[st.selectbox("Refresh", list(REFRESH), index=1, key="refresh")]

    @st.fragment(run_every=refresh)
    def live() -> None:
        page(url, window)

    live()


main()
