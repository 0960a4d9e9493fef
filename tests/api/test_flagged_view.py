"""vw_flagged_transactions lists what staff flagged by hand, beside what the screen flagged."""

from __future__ import annotations

from api_helpers import Bank
from sqlalchemy import text


def test_a_hand_flagged_transaction_appears_in_the_auditors_view(bank: Bank) -> None:
    account = bank.open_account("alice")
    quiet = bank.fund(account, "20.00")
    flagged = bank.fund(account, "30.00")

    answer = bank.post("fraud_analyst", f"/transactions/{flagged}/flag", {"reason": "odd memo"})
    assert answer.status_code in (200, 201), answer.text

    rows = bank.read(
        lambda conn: conn.execute(
            text("SELECT transaction_id, flag_count FROM vw_flagged_transactions")
        ).all()
    )
    assert [(int(r[0]), int(r[1])) for r in rows] == [(flagged, 1)]
    assert quiet not in [int(r[0]) for r in rows]
