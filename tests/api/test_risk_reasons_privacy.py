"""Customers read no risk reasons at all, neither their own side's nor the other party's;
staff read every reason."""

from __future__ import annotations

from collections.abc import Sequence

from api_helpers import PIN, Bank
from sqlalchemy import Connection

from ledgerbank.ledger.screening import Assessment, Proposal, Screened, StatelessScreen, Verdict


class BothSidesScreen(StatelessScreen):
    """SUSPICIOUS (posts), with one rule reason about each side of a transfer."""

    def assess(self, conn: Connection, proposals: Sequence[Proposal]) -> list[Assessment]:
        return [
            Assessment(
                0.6,
                Verdict.SUSPICIOUS,
                [
                    {"kind": "rule", "rule": "velocity", "account_id": p.source and p.source.id},
                    {
                        "kind": "rule",
                        "rule": "fan_in",
                        "account_id": p.destination and p.destination.id,
                    },
                ],
                "test-1",
            )
            for p in proposals
        ]

    def record(self, conn: Connection, screened: Sequence[Screened]) -> None:
        return None


def rules(body: dict[str, object]) -> list[str]:
    return [reason["rule"] for reason in body["risk"]["reasons"]]  # type: ignore[index]


def test_payer_and_payee_read_no_reasons_and_staff_read_them_all(bank: Bank) -> None:
    mine = bank.open_account("alice")
    theirs = bank.open_account("bob")
    bank.fund(mine, "100.00")
    bank.set_screen(BothSidesScreen())

    posted = bank.post(
        "alice",
        "/transactions/transfer",
        {"pin": PIN, "from_account_id": mine, "to_account_id": theirs, "amount": "10.00"},
    )

    assert posted.status_code == 201, posted.text
    assert "risk" not in posted.json()  # the payment's answer tells the payer nothing of risk
    transaction_id = posted.json()["id"]
    assert bank.get("alice", f"/transactions/{transaction_id}").json()["risk"] is None
    assert bank.get("bob", f"/transactions/{transaction_id}").json()["risk"] is None
    assert rules(bank.get("fraud_analyst", f"/transactions/{transaction_id}").json()) == [
        "velocity",
        "fan_in",
    ]
    history = bank.get("bob", "/transactions/history", params={"account_id": theirs}).json()
    assert [item["risk"] for item in history["items"] if item["id"] == transaction_id] == [None]
