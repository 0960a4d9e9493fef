"""When a scheduled payment falls due.

A monthly order keeps the day of the month of its first date; in a month without that day
(the 31st in April, the 29th–31st in February) it falls on the month's last day, and returns
to its own day the month after. A weekly order falls every 7 days; a one-off once.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta


def due_date(first_date: date, frequency: str, occurrence: int) -> date | None:
    """The `occurrence`-th due date (0: the first); None when there is no such date."""
    if frequency == "once":
        return first_date if occurrence == 0 else None
    if frequency == "weekly":
        return first_date + timedelta(weeks=occurrence)
    months = first_date.month - 1 + occurrence
    year, month = first_date.year + months // 12, months % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(first_date.day, last_day))


def next_due(first_date: date, frequency: str, occurrence: int, until: date | None) -> date | None:
    """The due date of `occurrence` unless the order ends before it."""
    found = due_date(first_date, frequency, occurrence)
    if found is None or (until is not None and found > until):
        return None
    return found
