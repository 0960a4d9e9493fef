"""The Streamlit dashboard, run with Streamlit's AppTest on the analytics test bank."""

from __future__ import annotations

import base64
import json
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from analytics_bank import ACCOUNTS, Bank, balances, booked
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from streamlit.testing.v1 import AppTest

import ledgerbank.dashboard
from ledgerbank.kit.money import to_decimal_string
from ledgerbank.kit.read_database import read_only_database

SCRIPT = Path(ledgerbank.dashboard.__file__).with_name("app.py")


def run_dashboard(bank: Bank, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("LEDGERBANK_DATABASE_URL", bank.url)
    app = AppTest.from_file(str(SCRIPT), default_timeout=60)
    app.run()
    assert not app.exception, app.exception
    return app


def frames(app: AppTest) -> dict[str, Any]:
    """The page's tables by their first column names (each table has its own)."""
    return {tuple(frame.value.columns[:2]): frame.value for frame in app.dataframe}


def chart(app: AppTest, title_or_axis: str) -> dict[str, Any]:
    for element in app.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        if title_or_axis in json.dumps(spec["layout"]):
            return dict(spec)
    raise AssertionError(f"no chart about {title_or_axis}")


def values(trace: dict[str, Any], axis: str) -> list[float]:
    """A trace's numbers, whether plotly wrote them as a list or as a typed binary array."""
    raw = trace[axis]
    if isinstance(raw, dict):
        return list(np.frombuffer(base64.b64decode(raw["bdata"]), dtype=raw["dtype"]))
    return list(raw)


def test_dashboard_shows_the_figures_of_the_last_30_days(
    bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = run_dashboard(bank, monkeypatch)
    start = bank.now - timedelta(days=30)
    metrics = {m.label: m.value for m in app.metric}
    recent = booked(bank, start)
    assert metrics["Transactions"] == f"{len(recent):,}"
    assert metrics["Blocked"] == "1"
    assert metrics["Ledger"] == "sound"
    unresolved = [a for a in bank.alerts if a["status"] != "closed"]
    assert metrics["Unresolved alerts"] == f"{len(unresolved):,}"
    # Volume by type: the bars add up to the window's transactions, type by type.
    counted = chart(app, "count")
    by_type = {trace["name"]: sum(values(trace, "y")) for trace in counted["data"]}
    assert by_type == dict(Counter(op.type for op in recent))
    # The latest blocked and suspicious transactions, newest first.
    tables = frames(app)
    flagged = tables[("transaction_id", "created_at")]
    expected = sorted(
        (op for op in bank.ops if op.verdict in ("SUSPICIOUS", "CRITICAL")),
        key=lambda op: (op.at, op.transaction_id),
        reverse=True,
    )[:20]
    assert list(flagged["transaction_id"]) == [op.transaction_id for op in expected]
    assert flagged["status"].iloc[0] == "blocked"
    # The alert queue by severity.
    queue = tables[("queue", "severity")]
    assert {(q, s): n for q, s, n in queue.itertuples(index=False)} == dict(
        Counter((a["queue"], a["severity"]) for a in unresolved)
    )
    # The balance sheet: customers' money is the bank's liability, per currency.
    sheet = tables[("currency", "assets")].set_index("currency")
    held: dict[str, int] = Counter()
    for key, balance in balances(bank).items():
        held[ACCOUNTS[key][2]] += balance
    for currency, total in held.items():
        assert sheet.loc[currency, "liabilities"] == to_decimal_string(total, currency)
        assert sheet.loc[currency, "difference"] == to_decimal_string(0, currency)
    assert sheet.loc["USD", "equity"] == "2.50"  # the one fee


def test_dashboard_over_all_history_and_by_value(
    bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = run_dashboard(bank, monkeypatch)
    app.selectbox(key="window").set_value("All history").run()
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Transactions"] == f"{len(booked(bank)):,}"
    app.radio(key="value_currency").set_value("JPY").run()
    assert not app.exception
    valued = chart(app, "JPY")
    total = sum(Decimal(str(v)) for trace in valued["data"] for v in values(trace, "y"))
    assert total == sum(op.minor for op in booked(bank) if op.currency == "JPY")
    distribution = chart(app, "Risk score distribution")
    scored = sum(sum(values(trace, "y")) for trace in distribution["data"])
    assert scored == sum(op.verdict != "UNSCORED" for op in bank.ops)


def test_the_dashboard_connection_refuses_writes(bank: Bank) -> None:
    database = read_only_database(bank.url)
    try:
        with database.read() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM users")).scalar_one() > 0
        with pytest.raises(DBAPIError), database.read() as conn:
            conn.execute(text("UPDATE users SET full_name = 'changed'"))
    finally:
        database.dispose()
    with bank.database.read() as conn:
        names = conn.execute(text("SELECT full_name FROM users")).scalars().all()
    assert "changed" not in names
