"""The hash-chained audit trail and its verification."""
