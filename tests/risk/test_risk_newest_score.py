"""Scores are append-only: a newer row (as rescoring writes) is the one every reader takes, and
neither it nor the older one can be changed or removed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from risk_helpers import DbBank
from sqlalchemy import Connection, insert, select, text

from ledgerbank.analytics.custom_reports import ReportSpec, run_report
from ledgerbank.analytics.monitoring import flagged_transactions, verdict_counts
from ledgerbank.analytics.periods import Period
from ledgerbank.config import Settings
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.ledger.history import recorded_risks
from ledgerbank.risk.alerts import recent_activity
from ledgerbank.risk.scores import list_scores, score_of, stored_scores
from ledgerbank.risk.screen import RiskScreen
from ledgerbank.risk.tables import risk_alert_actions, risk_scores


def funded_transfer(database: Database, screen: RiskScreen) -> tuple[int, int]:
    """A deposit and a transfer, both screened (SAFE): the transfer's id and its source."""
    bank = DbBank(database, screen)
    bank.customer("alice")
    bank.customer("bob")
    source, target = bank.account("alice"), bank.account("bob")
    bank.deposit(source, "300.00")
    moved = bank.transfer(source, target, "25.00")
    return int(moved.transaction["id"]), source


def rescored(conn: Connection, transaction_id: int, verdict: str, score: float) -> None:
    conn.execute(
        insert(risk_scores),
        {
            "transaction_id": transaction_id,
            "score": score,
            "verdict": verdict,
            "reasons": json.dumps([{"kind": "rule", "rule": "velocity_burst"}]),
            "model_version": "rescored-for-the-test",
            "scored_at": utcnow(),
            "origin": "rescore",
        },
    )


def test_every_reader_takes_the_newest_score(database: Database, tmp_path: Path) -> None:
    screen = RiskScreen(Settings(environment="test", data_dir=tmp_path))
    transaction_id, account_id = funded_transfer(database, screen)
    with database.read() as conn:
        assert score_of(conn, transaction_id)["verdict"] == "SAFE"  # type: ignore[index]
    database.write(lambda c: rescored(c, transaction_id, "CRITICAL", 0.93))
    database.write(lambda c: rescored(c, transaction_id, "SUSPICIOUS", 0.61))  # the newest
    with database.read() as conn:
        assert score_of(conn, transaction_id)["verdict"] == "SUSPICIOUS"  # type: ignore[index]
        assert (
            recorded_risks(conn, [transaction_id], stored_scores)[transaction_id]["score"] == 0.61
        )
        items, _ = list_scores(conn, visible=text("1 = 1"), verdict="SUSPICIOUS")
        assert [i["transaction_id"] for i in items] == [transaction_id]
        assert list_scores(conn, visible=text("1 = 1"), verdict="SAFE")[0] == [
            i for i in list_scores(conn, visible=text("1 = 1"))[0] if i["verdict"] == "SAFE"
        ]
        (activity,) = [a for a in recent_activity(conn, account_id) if a["id"] == transaction_id]
        assert activity["risk"]["verdict"] == "SUSPICIOUS"
        view = conn.execute(
            text("SELECT risk_verdict, risk_score FROM vw_transactions WHERE id = :t"),
            {"t": transaction_id},
        ).one()
        assert tuple(view) == ("SUSPICIOUS", 0.61)
        flagged = conn.execute(
            text("SELECT verdict FROM vw_flagged_transactions WHERE transaction_id = :t"),
            {"t": transaction_id},
        ).scalars()
        assert list(flagged) == ["SUSPICIOUS"]
        assert verdict_counts(conn, Period())["SUSPICIOUS"] == 1
        assert [f["transaction_id"] for f in flagged_transactions(conn)] == [transaction_id]
        report = run_report(conn, ReportSpec(group_by=["verdict"], metrics=["count"]))
        by_verdict = {row["verdict"]: row["count"] for row in report.rows}
        assert by_verdict["SUSPICIOUS"] == 1
        assert sum(by_verdict.values()) == 2  # the deposit and the transfer, each once


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE risk_scores SET verdict = 'SAFE'",
        "DELETE FROM risk_scores",
        "UPDATE risk_alert_actions SET note = 'nothing to see'",
        "DELETE FROM risk_alert_actions",
        "UPDATE ledger_verifications SET digest = 'x'",
        "DELETE FROM ledger_verifications",
    ],
)
def test_scores_case_notes_and_verifications_are_append_only(
    database: Database, tmp_path: Path, statement: str
) -> None:
    screen = RiskScreen(Settings(environment="test", data_dir=tmp_path))
    transaction_id, _ = funded_transfer(database, screen)
    database.write(lambda c: rescored(c, transaction_id, "SUSPICIOUS", 0.61))
    database.write(
        lambda c: c.execute(
            text(
                "INSERT INTO ledger_verifications (chain_position, chain_hash, transactions, "
                "entries, scores, digest, full_run, checked, started_at, finished_at) VALUES "
                "(0, 'h', 0, 0, 0, 'd', :f, 0, :t, :t)"
            ),
            {"f": False, "t": utcnow()},
        )
    )
    with database.read() as conn:
        alert = conn.execute(text("SELECT id FROM risk_alerts")).scalar()
    if alert is None:
        database.write(
            lambda c: c.execute(
                text(
                    "INSERT INTO risk_alerts (queue, transaction_id, severity, status, score, "
                    "verdict, summary, hits, created_at, updated_at) VALUES ('fraud', :t, 'low', "
                    "'open', 0.6, 'SUSPICIOUS', 'test', 1, :n, :n)"
                ),
                {"t": transaction_id, "n": utcnow()},
            )
        )
    with database.read() as conn:
        alert = conn.execute(text("SELECT id FROM risk_alerts")).scalar()
    database.write(
        lambda c: c.execute(
            insert(risk_alert_actions),
            {"alert_id": alert, "action": "note", "note": "looked at it", "created_at": utcnow()},
        )
    )

    def counts() -> list[int]:
        with database.read() as conn:
            return [
                int(conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one())
                for t in ("risk_scores", "risk_alert_actions", "ledger_verifications")
            ]

    before = counts()
    with pytest.raises(Exception, match="append-only"):
        database.write(lambda c: c.execute(text(statement)))
    assert counts() == before
    with database.read() as conn:
        verdicts = conn.execute(select(risk_scores.c.verdict).order_by(risk_scores.c.id))
        assert verdicts.scalars().all() == ["SAFE", "SAFE", "SUSPICIOUS"]
