"""`ledger verify` reads what is new since its last sound run, and rescoring keeps it sound."""

from __future__ import annotations

from pathlib import Path

from ledger_helpers import create_account, create_user, run_cli
from sqlalchemy import Connection, func, select, text
from test_ledger_tampering import triggers_off

from ledgerbank.audit import service as audit
from ledgerbank.config import Settings
from ledgerbank.kit.db import Database
from ledgerbank.ledger import posting
from ledgerbank.ledger.tables import ledger_verifications
from ledgerbank.proof import postings as verification
from ledgerbank.risk import training
from ledgerbank.risk.params import Params
from ledgerbank.risk.scores import score_of
from ledgerbank.risk.scoring import Scorer
from ledgerbank.risk.screen import RiskScreen
from ledgerbank.risk.tables import risk_scores


def post_some(database: Database, screen: RiskScreen, count: int) -> list[int]:
    owner = database.write(create_user)
    source = database.write(lambda c: create_account(c, owner))
    target = database.write(lambda c: create_account(c, owner))

    def work(conn: Connection) -> list[int]:
        ids = [
            int(
                posting.deposit(
                    conn, account_id=source, amount="900.00", actor_id=owner, screen=screen
                ).transaction["id"]
            )
        ]
        for i in range(count - 1):
            moved = posting.transfer(
                conn,
                from_account_id=source,
                to_account_id=target,
                amount=f"{i + 1}.00",
                actor_id=owner,
                screen=screen,
            )
            ids.append(int(moved.transaction["id"]))
        return ids

    return database.write(work)


def verify(database: Database, *, full: bool = False) -> verification.Report:
    audit.seal_pending(database.write)
    with verification.snapshot(database) as conn:
        report = verification.run(conn, full=full)
    if report.ok:
        database.write(lambda conn: verification.store(conn, report))
    return report


def test_a_run_checks_only_what_is_new_since_the_last(database: Database, tmp_path: Path) -> None:
    screen = RiskScreen(Settings(environment="test", data_dir=tmp_path))
    post_some(database, screen, 30)
    first = verify(database)
    assert first.ok, first.findings
    assert (first.start.position, first.postings, first.transactions) == (0, 30, 30)
    assert first.entries == 60
    assert first.scores == 30  # every screened posting's score, pinned by its record

    post_some(database, screen, 4)
    second = verify(database)
    assert second.ok, second.findings
    assert second.start.position == first.position
    assert second.postings == 4  # the new ones only
    assert (second.transactions, second.entries, second.scores) == (34, 68, 34)

    nothing_new = verify(database)
    assert nothing_new.postings == 0
    assert nothing_new.records == 1  # the previous run's own `ledger.verified` record

    full = verify(database, full=True)
    assert full.ok, full.findings
    assert (full.postings, full.transactions) == (34, 34)  # and no earlier run's digest changed
    with database.read() as conn:
        stored = conn.execute(select(func.count()).select_from(ledger_verifications)).scalar()
    assert stored == 4


def test_rescoring_appends_newer_scores_that_readers_take_and_verify_accepts(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    settings = Settings(environment="test", data_dir=tmp_path)
    ids = post_some(database, RiskScreen(settings), 12)
    assert verify(database).ok
    lenient = Settings(
        environment="test", data_dir=tmp_path, risk_rule_scores={"round_amount": 0.0}
    )
    strict = Settings(environment="test", data_dir=tmp_path, risk_rule_scores={"round_amount": 0.7})
    for rules in (lenient, strict):
        training.rescore(database, Scorer(Params.from_settings(rules), None), everything=True)
    with database.read() as conn:
        rows = conn.execute(
            select(risk_scores.c.origin, func.count()).group_by(risk_scores.c.origin)
        ).all()
        newest = score_of(conn, ids[0])  # the 900.00 deposit: round_amount does not fire
        latest_origin = conn.execute(
            select(risk_scores.c.origin)
            .where(risk_scores.c.transaction_id == ids[0])
            .order_by(risk_scores.c.id.desc())
            .limit(1)
        ).scalar_one()
    assert {origin: int(n) for origin, n in rows} == {"posting": 12, "rescore": 24}
    assert newest is not None
    assert latest_origin == "rescore"
    report = verify(database)
    assert report.ok, report.findings
    assert report.scores == 36
    assert run_cli(database_url, "ledger", "verify", "--full").exit_code == 0

    # A rescored row changed afterwards no longer matches its batch's record (made CRITICAL
    # here: what a forger would do to have an honest customer's payments blocked or reviewed).
    with triggers_off(database, "risk_scores"):
        database.write(
            lambda c: c.execute(
                text(
                    "UPDATE risk_scores SET verdict = 'CRITICAL', score = 0.99 "
                    "WHERE origin = 'rescore' AND transaction_id = :t"
                ),
                {"t": ids[3]},
            )
        )
    found = verify(database, full=True)
    assert not found.ok
    assert any(f.check == "score_batch" and "changed since" in f.detail for f in found.findings)
