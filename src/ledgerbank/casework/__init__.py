"""Casework: the staff's tools around alerts and customers (search, the customer view, notes,
bulk actions, suspicious-activity reports, the payment network around an alert)."""
