"""`audit verify`: the hash chain, its signed checkpoints, and the postings the chain records.

The chain is walked from its first record; each posting record found on the way is checked
against the ledger as `ledger verify` checks it (`ledger.verification`), so a ledger row edited
behind the chain's back is found here too. Every stored checkpoint and every exported one given
is checked for its signature and against the chain at its position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ledgerbank.audit import checkpoints, keys
from ledgerbank.audit import service as audit
from ledgerbank.config import Settings
from ledgerbank.kit.db import Database
from ledgerbank.proof import postings as verification


@dataclass(frozen=True)
class AuditVerification:
    chain: audit.ChainReport
    checkpoints: checkpoints.CheckpointReport
    ledger: verification.Report

    @property
    def ok(self) -> bool:
        return self.chain.ok and self.checkpoints.ok and self.ledger.ok

    @property
    def uncovered(self) -> int:
        """Sealed records after the newest valid checkpoint: no signature covers them yet."""
        newest = self.checkpoints.newest_position or 0
        return max(self.chain.head_position - newest, 0) if self.chain.ok else 0


def verify(
    database: Database,
    settings: Settings,
    *,
    files: Sequence[Path] = (),
    trusted_keys: Sequence[str] = (),
) -> AuditVerification:
    """Seal what is pending, then check the chain, the checkpoints and the recorded postings."""
    trusted = keys.verifier(settings, list(trusted_keys))
    audit.seal_pending(database.write)
    with verification.snapshot(database) as conn:
        checker = verification.Verifier(conn, verification.Start(), full=False)
        chain = audit.verify(conn, on_records=checker.feed)
        ledger = checker.finish()
        documents = checkpoints.stored(conn) + [checkpoints.read_file(p) for p in files]
        signed = checkpoints.check(conn, documents, trusted)
    return AuditVerification(chain, signed, ledger)
