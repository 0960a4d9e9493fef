"""How one posting must look: its header against its entries, its status against the reversal
link, a reversal against its original. Pure checks over rows already read; `proof.postings`
reads them and follows the balance chains."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import RowMapping

from ledgerbank.ledger import evidence

CHECKS = {
    "audit_chain": "the audit chain itself does not check out",
    "chain_rewritten": "the audit chain changed below the last verified position",
    "missing_transaction": "an audit record names a transaction the ledger does not have",
    "evidence_mismatch": "a transaction, its entries or its score differ from its audit record",
    "unbalanced_transaction": "a transaction's entries in one currency do not sum to zero "
    "(or it has one leg in a currency)",
    "blocked_with_entries": "a blocked transaction moved money",
    "legs_mismatch": "a transaction's header disagrees with its entries",
    "currency_mismatch": "an entry's currency differs from its transaction's or account's",
    "reversal_link": "status and reversal link disagree",
    "broken_balance_chain": "balance_after does not follow from the previous entry",
    "balance_mismatch": "an account's balance differs from its newest balance_after",
    "below_limit": "a balance is below zero (or its overdraft limit)",
    "unrecorded_rows": "rows no audit record accounts for (or records naming rows now gone)",
    "score_batch": "score rows pinned by a rescoring record changed or are missing",
    "digest_changed": "what an earlier run verified has changed since",
    "posted_without_entries": "a posted transaction has no entries",
}


# Types whose legs may be in two currencies (each balancing on its own): an exchange is a
# transfer through the bank's FX position accounts, and its reversal mirrors it.
CROSS_CURRENCY = ("transfer", "reversal")


@dataclass(frozen=True)
class Finding:
    check: str
    subject: str
    detail: str

    @property
    def meaning(self) -> str:
        return CHECKS.get(self.check, self.check)


def transaction_findings(
    header: RowMapping,
    own: list[RowMapping],
    reversal: RowMapping | None,
    original_headers: Mapping[int, RowMapping],
    original_legs: Mapping[int, list[RowMapping]],
    accounts: Mapping[int, RowMapping],
) -> list[Finding]:
    """The header against its entries, and the status against the reversal link."""
    found: list[Finding] = []

    def add(check: str, subject: str, detail: str) -> None:
        found.append(Finding(check, subject, detail))

    transaction_id = int(header["id"])
    subject = f"transaction {transaction_id}"
    status = header["status"]
    if status == "blocked":
        if own:
            add("blocked_with_entries", subject, f"blocked, yet it has {len(own)} entries")
        if reversal is not None:
            add("reversal_link", subject, f"blocked, yet reversed by {reversal['id']}")
        return found
    if status == "reversed" and reversal is None:
        add("reversal_link", subject, "marked reversed, but no reversal points at it")
    if status == "posted" and reversal is not None:
        add("reversal_link", subject, f"reversed by {reversal['id']}, still marked posted")
    if reversal is not None and (reversal["type"] != "reversal" or reversal["status"] != "posted"):
        add(
            "reversal_link",
            subject,
            f"transaction {reversal['id']} points at it as its reversal "
            f"but is a {reversal['status']} {reversal['type']}",
        )
    currency = header["currency"]
    by_currency: dict[str, list[int]] = {}
    for entry in own:
        by_currency.setdefault(entry["currency"], []).append(int(entry["amount"]))
    if not own:
        add("unbalanced_transaction", subject, "no entries")
    for leg_currency, legs in sorted(by_currency.items()):  # each currency on its own
        if len(legs) < 2 or sum(legs) != 0:
            add(
                "unbalanced_transaction",
                subject,
                f"{len(legs)} {leg_currency} entries summing to {sum(legs)}",
            )
    amounts = [int(e["amount"]) for e in own if e["currency"] == currency]
    for entry in own:
        account = accounts.get(int(entry["account_id"]))
        other = entry["currency"] != currency and header["type"] not in CROSS_CURRENCY
        if other or (account is not None and account["currency"] != entry["currency"]):
            add(
                "currency_mismatch",
                f"entry {entry['id']}",
                f"{entry['currency']} on a {currency} transaction"
                + (f" and a {account['currency']} account" if account is not None else ""),
            )
        if entry["posted_at"] != header["created_at"]:
            add(
                "legs_mismatch",
                f"entry {entry['id']}",
                f"posted at {evidence.moment(entry['posted_at'])}, its transaction at "
                f"{evidence.moment(header['created_at'])}",
            )
    amount = int(header["amount"])
    if sum(a for a in amounts if a > 0) != amount:
        add(
            "legs_mismatch",
            subject,
            f"amount {amount}, its entries credit {sum(a for a in amounts if a > 0)}",
        )
    if header["type"] == "reversal":
        found += _reversal(header, own, original_headers, original_legs)
    elif header["type"] != "journal":
        found += _customer_legs(header, own, accounts)
    return found


def _customer_legs(
    header: RowMapping, own: list[RowMapping], accounts: Mapping[int, RowMapping]
) -> list[Finding]:
    """Customer-account legs are exactly from -amount and to +amount; the rest internal. A
    transfer into another currency credits its destination the converted amount instead."""
    amount = int(header["amount"])
    to_id = header["to_account_id"]
    converted = [
        int(e["amount"])
        for e in own
        if e["currency"] != header["currency"]
        and to_id is not None
        and int(e["account_id"]) == int(to_id)
    ]
    expected = []
    if header["from_account_id"] is not None:
        expected.append((int(header["from_account_id"]), -amount))
    if to_id is not None:
        expected.append((int(to_id), converted[0] if len(converted) == 1 else amount))
    expected.sort()
    customer = sorted(
        (int(e["account_id"]), int(e["amount"]))
        for e in own
        if not _internal(accounts, int(e["account_id"]))
    )
    if customer == expected and all(a > 0 for a in converted):
        return []
    return [
        Finding(
            "legs_mismatch",
            f"transaction {header['id']}",
            f"a {header['type']} of {amount} from {header['from_account_id']} to "
            f"{header['to_account_id']}, but its customer entries are {customer}",
        )
    ]


def _reversal(
    header: RowMapping,
    own: list[RowMapping],
    original_headers: Mapping[int, RowMapping],
    original_legs: Mapping[int, list[RowMapping]],
) -> list[Finding]:
    """A reversal points at a reversed original and mirrors it leg by leg."""
    found: list[Finding] = []

    def add(check: str, subject: str, detail: str) -> None:
        found.append(Finding(check, subject, detail))

    subject = f"transaction {header['id']}"
    original_id = header["reverses_id"]
    original = original_headers.get(int(original_id)) if original_id is not None else None
    if original is None:
        add("reversal_link", subject, f"a reversal of {original_id}, which does not exist")
        return found
    if original["status"] != "reversed":
        add(
            "reversal_link",
            f"transaction {original_id}",
            f"reversed by {header['id']}, but marked {original['status']}",
        )
    mirrored = [
        (int(e["account_id"]), -int(e["amount"])) for e in original_legs.get(int(original_id), [])
    ]
    mine = [(int(e["account_id"]), int(e["amount"])) for e in own]
    same_header = (
        int(header["amount"]) == int(original["amount"])
        and header["currency"] == original["currency"]
        and header["from_account_id"] == original["to_account_id"]
        and header["to_account_id"] == original["from_account_id"]
    )
    if mine != mirrored or not same_header:
        add(
            "legs_mismatch",
            subject,
            f"does not mirror transaction {original_id} (entries {mine}, mirror {mirrored})",
        )
    return found


def _internal(accounts: Mapping[int, RowMapping], account_id: int) -> bool:
    account = accounts.get(account_id)
    return bool(account["is_internal"]) if account is not None else False
