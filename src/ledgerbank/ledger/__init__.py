"""The double-entry ledger: accounts, postings, reversals, statements, balances, import."""
