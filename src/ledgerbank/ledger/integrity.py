"""The ledger integrity check: every invariant, read from `vw_ledger_integrity_check`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

# What each check of the view means, for people reading the report.
CHECKS = {
    "unbalanced_transaction": "entries of a transaction in one currency do not sum to zero",
    "balance_mismatch": "stored balance differs from the sum of the account's entries",
    "broken_balance_chain": "balance_after does not follow from the previous entry",
    "below_limit": "balance is below zero (or below the overdraft limit)",
    "currency_mismatch": "an entry's currency differs from its account's",
    "posted_without_entries": "a posted transaction has no entries",
    "blocked_with_entries": "a blocked transaction moved money",
}


@dataclass(frozen=True)
class Violation:
    check: str
    entity_type: str
    entity_id: int
    difference: int

    @property
    def meaning(self) -> str:
        return CHECKS.get(self.check, self.check)


def violations(conn: Connection, *, limit: int = 1000) -> list[Violation]:
    """Rows of the integrity view: empty while the ledger is sound."""
    rows = conn.execute(
        text(
            "SELECT check_name, entity_type, entity_id, difference_minor "
            "FROM vw_ledger_integrity_check ORDER BY check_name, entity_id"
        )
    ).all()
    return [Violation(r[0], r[1], int(r[2]), int(r[3] or 0)) for r in rows[:limit]]
