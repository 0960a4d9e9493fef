"""A posting's audit record as evidence: its full content, and whether the ledger still matches it.

The posting engine writes, in the posting's own database transaction, one audit record whose
`after` is `posting_record(...)`: the transaction header (every column, the description as a
digest), every leg in entry order and the risk score it was screened with. Once the record is
sealed into the hash chain and a signed checkpoint covers it, an attacker who rewrites the
ledger must also rewrite the chain, which the checkpoint exposes. `balance_after` is not in the
record: it follows from the amounts, and `ledger verify` recomputes every chain of it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ledgerbank.kit.clock import as_utc

# Header columns a record names as they were at posting time (status may later become reversed).
HEADER = (
    "type", "status", "amount", "currency", "from_account_id", "to_account_id", "reverses_id",
    "external_id", "batch_id", "initiated_by",
)  # fmt: skip
# What a posting screened by nothing (risk disabled) carries: no score row is stored for it.
UNSCREENED = {"score": 0.0, "verdict": "SAFE", "reasons": [], "model_version": None}
# Audit records that pin a batch of score rows (ids and a digest) rather than one posting.
RESCORED = "risk.rescored"
SCORES_MIGRATED = "risk.scores_migrated"
SCORE_BATCHES = (RESCORED, SCORES_MIGRATED)


def moment(value: datetime) -> str:
    return as_utc(value).isoformat(timespec="microseconds")


def text_digest(text: str | None) -> str | None:
    """Descriptions are free text (a name, say): the record keeps their SHA-256, not a copy."""
    return None if text is None else hashlib.sha256(text.encode()).hexdigest()


def posting_record(
    header: Mapping[Any, Any], legs: Sequence[tuple[int, int]], risk: dict[str, Any] | None
) -> dict[str, Any]:
    """The `after` of a posting's audit record: everything the posting wrote."""
    record: dict[str, Any] = {key: header[key] for key in HEADER}
    record["amount"] = int(header["amount"])
    record["created_at"] = moment(header["created_at"])
    record["description_sha256"] = text_digest(header["description"])
    record["legs"] = [[int(account_id), int(amount)] for account_id, amount in legs]
    if risk is not None:
        record["risk"] = risk
    return record


def is_posting_record(entity_type: str, after: Any) -> bool:
    return entity_type == "transaction" and isinstance(after, dict) and "legs" in after


def score_view(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A stored score as a posting record carries it (the screen's `Assessment.as_dict`)."""
    return {
        "score": round(float(row["score"]), 4),
        "verdict": row["verdict"],
        "reasons": json.loads(row["reasons"]),
        "model_version": row["model_version"],
    }


def differences(
    record: Mapping[Any, Any],
    transaction: Mapping[Any, Any],
    legs: Sequence[tuple[int, int]],
    first_score: Mapping[Any, Any] | None,
) -> list[str]:
    """Where the ledger's rows differ from what the posting's record says, field by field.

    Only fields the record names are compared: records written before a field was added to
    the evidence simply do not cover it.
    """
    found: list[str] = []
    for key in HEADER:
        if key not in record or key == "status":
            continue
        stored = transaction[key]
        if key == "amount":
            stored = int(stored)
        if record[key] != stored:
            found.append(f"{key}: recorded {record[key]!r}, stored {stored!r}")
    if "status" in record:
        expected = {"posted": ("posted", "reversed"), "blocked": ("blocked",)}.get(
            record["status"], (record["status"],)
        )
        if transaction["status"] not in expected:
            found.append(f"status: recorded {record['status']!r}, stored {transaction['status']!r}")
    if "created_at" in record and record["created_at"] != moment(transaction["created_at"]):
        found.append(
            f"created_at: recorded {record['created_at']}, stored "
            f"{moment(transaction['created_at'])}"
        )
    described = text_digest(transaction["description"])
    if "description_sha256" in record and record["description_sha256"] != described:
        found.append("description: differs from the recorded digest")
    if record.get("status", "posted") != "blocked":
        stored_legs = [[int(a), int(m)] for a, m in legs]
        if record["legs"] != stored_legs:
            found.append(f"entries: recorded {record['legs']}, stored {stored_legs}")
    if "risk" in record:
        stored_risk = score_view(first_score) if first_score is not None else None
        if stored_risk is None and record["risk"] != UNSCREENED:
            found.append(f"risk: recorded {_risk_text(record['risk'])}, no score stored")
        elif stored_risk is not None and stored_risk != record["risk"]:
            found.append(
                f"risk: recorded {_risk_text(record['risk'])}, stored {_risk_text(stored_risk)}"
            )
    return found


def _risk_text(risk: Mapping[Any, Any]) -> str:
    return f"{risk.get('verdict')} {risk.get('score')}"


def score_rows_digest(rows: Sequence[Mapping[Any, Any]]) -> str:
    """SHA-256 over score rows in id order (what a rescoring batch's audit record carries)."""
    digest = hashlib.sha256()
    for row in rows:
        line = [
            int(row["id"]),
            int(row["transaction_id"]),
            repr(float(row["score"])),
            row["verdict"],
            row["reasons"],
            row["model_version"],
            moment(row["scored_at"]),
            row["origin"],
        ]
        digest.update(json.dumps(line, separators=(",", ":")).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def id_runs(ids: Sequence[int]) -> list[list[int]]:
    """Sorted ids as [first, last] runs of consecutive ids (compact in an audit record)."""
    runs: list[list[int]] = []
    for value in sorted(ids):
        if runs and value == runs[-1][1] + 1:
            runs[-1][1] = value
        else:
            runs.append([value, value])
    return runs


def run_ids(runs: Sequence[Sequence[int]]) -> list[int]:
    return [value for first, last in runs for value in range(int(first), int(last) + 1)]
