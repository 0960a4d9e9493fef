"""The evaluation over the demo bank on every database: execution accuracy of the offline
engine against hand-written gold SQL (latency is reported by `ledgerbank ask --evaluate`,
never asserted: tests check behaviour, not timings)."""

from __future__ import annotations

from pathlib import Path

from ledgergpt_bank import CHEAP_HASHING

from ledgerbank.config import Settings
from ledgerbank.evaluation import ledgergpt as evaluation
from ledgerbank.evaluation.ledgergpt_heldout import HELDOUT_CASES
from ledgerbank.evaluation.ledgergpt_questions import CASES
from ledgerbank.identity import passwords
from ledgerbank.kit.db import Database

ORIGINAL_EXAMPLES = {
    "show all transactions for alice",
    "find transfers over $500",
    "show flagged transactions",
}


def test_the_question_set_is_large_and_covers_the_originals() -> None:
    questions = [case.question for case in CASES]
    assert len(questions) >= 80
    assert len(set(questions)) == len(questions)
    assert set(questions) >= ORIGINAL_EXAMPLES


def test_the_held_out_set_is_large_and_apart_from_the_tuning_set() -> None:
    held_out = [case.question for case in HELDOUT_CASES]
    assert len(held_out) >= 60
    assert len(set(held_out)) == len(held_out)
    assert not set(held_out) & {case.question for case in CASES}


def test_execution_accuracy_over_the_demo_bank(database: Database, tmp_path: Path) -> None:
    passwords.configure(**CHEAP_HASHING)
    settings = Settings(
        database_url=database.engine.url.render_as_string(hide_password=False),
        data_dir=tmp_path,
    )
    evaluation.build_bank(database, settings)
    report = evaluation.evaluate(database, settings)
    wrong = {o.case.question: o.detail for o in report.failures}
    assert report.accuracy >= 0.9, wrong
    assert not ORIGINAL_EXAMPLES & set(wrong), wrong
    # The bank really holds what the questions ask about: most gold answers have rows.
    assert sum(1 for o in report.outcomes if o.gold_rows) >= 0.85 * len(report.outcomes)
    held_out = evaluation.evaluate(database, settings, cases=HELDOUT_CASES)
    missed = {o.case.question: o.detail for o in held_out.failures}
    assert held_out.accuracy >= 0.9, missed
    assert sum(1 for o in held_out.outcomes if o.gold_rows) >= 0.85 * len(held_out.outcomes)
