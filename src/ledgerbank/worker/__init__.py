"""The worker: runs the bank's due jobs (standing orders, hold expiry, interest, ...)."""
