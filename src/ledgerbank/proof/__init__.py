"""Proof that history is intact: every posting checked against its audit record, entries, risk
score and balance chains; the audit chain against its signed checkpoints; backups that restore
only what verifies. It reads across the ledger, risk and the audit trail, so it sits above them
(the ledger itself imports nothing from risk)."""
