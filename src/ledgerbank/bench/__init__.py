"""Benchmarks run by `ledgerbank bench`: the ledger in-process, and room for others."""
