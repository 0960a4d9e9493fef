"""Signed checkpoints of the audit chain: the head's position and hash, signed with Ed25519.

A checkpoint is a small JSON document (`document`): which chain position it covers, the chain
hash there, when, and the key id, signed over its canonical JSON. It is stored in
`audit_checkpoints` and can be exported to a file kept elsewhere. Whoever rewrites a record up
to that position and recomputes every hash after it changes the chain hash at that position,
which no longer matches the signed one; whoever removes records there leaves a chain shorter
than the checkpoint. Records after the newest checkpoint are covered by none.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select

from ledgerbank.audit import service as audit
from ledgerbank.audit.keys import Signer, Verifier, public_text
from ledgerbank.audit.tables import audit_chain, audit_checkpoints
from ledgerbank.kit.clock import as_utc, utcnow
from ledgerbank.kit.db import Database

FORMAT = "ledgerbank-audit-checkpoint/1"


def message(document: Mapping[str, Any]) -> bytes:
    """The bytes that are signed: the document's canonical JSON without its signature."""
    body = {key: value for key, value in document.items() if key != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def sign(
    signer: Signer, *, position: int, audit_id: int, chain_hash: str, at: datetime
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "format": FORMAT,
        "position": position,
        "audit_id": audit_id,
        "chain_hash": chain_hash,
        "created_at": as_utc(at).isoformat(timespec="microseconds"),
        "key_id": signer.key_id,
        "public_key": public_text(signer.public),
    }
    document["signature"] = signer.sign(message(document))
    return document


def write(
    conn: Connection, signer: Signer, *, now: datetime | None = None
) -> dict[str, Any] | None:
    """Sign the chain's current head and store the checkpoint; None while the chain is empty."""
    head = (
        conn.execute(select(audit_chain).order_by(audit_chain.c.position.desc()).limit(1))
        .mappings()
        .first()
    )
    if head is None:
        return None
    at = now or utcnow()
    document = sign(
        signer,
        position=int(head["position"]),
        audit_id=int(head["audit_id"]),
        chain_hash=head["chain_hash"],
        at=at,
    )
    conn.execute(
        insert(audit_checkpoints),
        {
            "position": document["position"],
            "audit_id": document["audit_id"],
            "chain_hash": document["chain_hash"],
            "key_id": document["key_id"],
            "document": json.dumps(document, sort_keys=True),
            "created_at": at,
        },
    )
    return document


def checkpoint(database: Database, signer: Signer) -> dict[str, Any] | None:
    """Seal what is pending, then sign the head: `ledgerbank audit checkpoint`, the server's
    schedule (and the worker's and the events publisher's, once they exist) call this."""
    audit.seal_pending(database.write)
    return database.write(lambda conn: write(conn, signer))


def latest(conn: Connection) -> dict[str, Any] | None:
    row = conn.execute(
        select(audit_checkpoints.c.document).order_by(audit_checkpoints.c.id.desc()).limit(1)
    ).scalar()
    return None if row is None else dict(json.loads(row))


def is_due(conn: Connection, *, every_seconds: float, every_records: int, now: datetime) -> bool:
    """Whether the chain has grown since the newest checkpoint by `every_records`, or at all
    and that checkpoint is older than `every_seconds`."""
    head = conn.execute(
        select(audit_chain.c.position).order_by(audit_chain.c.position.desc()).limit(1)
    ).scalar()
    if head is None:
        return False
    last = conn.execute(
        select(audit_checkpoints.c.position, audit_checkpoints.c.created_at)
        .order_by(audit_checkpoints.c.id.desc())
        .limit(1)
    ).first()
    if last is None:
        return True
    grown = int(head) - int(last.position)
    age = (as_utc(now) - as_utc(last.created_at)).total_seconds()
    return grown >= every_records or (grown > 0 and age >= every_seconds)


def checkpoint_if_due(
    database: Database, signer: Signer, *, every_seconds: float, every_records: int
) -> dict[str, Any] | None:
    with database.read() as conn:
        due = is_due(conn, every_seconds=every_seconds, every_records=every_records, now=utcnow())
    return checkpoint(database, signer) if due else None


def stored(conn: Connection) -> list[tuple[str, dict[str, Any] | str]]:
    """Every stored checkpoint, oldest first, named for reports (a document, or why not)."""
    found: list[tuple[str, dict[str, Any] | str]] = []
    for row in conn.execute(
        select(audit_checkpoints.c.id, audit_checkpoints.c.document).order_by(
            audit_checkpoints.c.id
        )
    ):
        found.append((f"stored checkpoint {row.id}", _parse(row.document)))
    return found


def read_file(path: Path) -> tuple[str, dict[str, Any] | str]:
    """An exported checkpoint file (a document, or why it cannot be read)."""
    try:
        return f"checkpoint file {path}", _parse(path.read_text())
    except OSError as exc:
        return f"checkpoint file {path}", f"cannot be read: {exc.strerror}"


def _parse(text: str) -> dict[str, Any] | str:
    try:
        document = json.loads(text)
    except ValueError:
        return "is not JSON"
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return f"is not a {FORMAT} document"
    wanted = {"position": int, "audit_id": int, "chain_hash": str, "key_id": str, "signature": str}
    for key, kind in wanted.items():
        if not isinstance(document.get(key), kind) or isinstance(document.get(key), bool):
            return f"has no valid {key}"
    return document


@dataclass
class CheckpointReport:
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    newest_position: int | None = None
    newest_created_at: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def check(
    conn: Connection,
    documents: Iterable[tuple[str, dict[str, Any] | str]],
    verifier: Verifier,
) -> CheckpointReport:
    """Each checkpoint's signature, and the chain hash at its position against the signed one."""
    report = CheckpointReport()
    head = conn.execute(
        select(audit_chain.c.position).order_by(audit_chain.c.position.desc()).limit(1)
    ).scalar()
    for name, document in documents:
        report.checked += 1
        if isinstance(document, str):
            report.problems.append(f"{name} {document}")
            continue
        refused = verifier.check(document["key_id"], message(document), document["signature"])
        if refused is not None:
            report.problems.append(f"{name} cannot be trusted: {refused}")
            continue
        position = document["position"]
        link = conn.execute(
            select(audit_chain.c.audit_id, audit_chain.c.chain_hash).where(
                audit_chain.c.position == position
            )
        ).first()
        problems = len(report.problems)
        if link is None:
            report.problems.append(
                f"{name} signed chain position {position}, but the chain ends at position "
                f"{head or 0}: records up to the checkpoint were removed"
            )
        elif (
            link.chain_hash != document["chain_hash"] or int(link.audit_id) != document["audit_id"]
        ):
            report.problems.append(
                f"{name} signed chain hash {document['chain_hash'][:16]}... at position "
                f"{position}, the chain now has {link.chain_hash[:16]}...: records up to "
                "there were rewritten and the chain recomputed"
            )
        if len(report.problems) == problems and position > (report.newest_position or 0):
            report.newest_position = position
            report.newest_created_at = document.get("created_at")
    return report
