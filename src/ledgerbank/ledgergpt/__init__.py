"""LedgerGPT: plain-English questions to safe, read-only SQL, offline by default."""
