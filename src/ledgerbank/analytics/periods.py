"""Reporting periods: `from`/`to` bounds, and day/week/month buckets computed in SQL per dialect.

A bucket is a text label the database computes, so grouping happens in SQL: a day is
"2024-03-05", a week is the date of its Monday ("2024-03-04"), a month is "2024-03". All in UTC,
the zone timestamps are stored in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, get_args

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import ColumnElement, func, literal_column

from ledgerbank import errors
from ledgerbank.kit.clock import as_utc

Interval = Literal["day", "week", "month"]
INTERVALS: tuple[str, ...] = get_args(Interval)

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MOMENT = TypeAdapter(datetime)
# Longest series a report fills with empty buckets (about 27 years of days).
MAX_FILLED_BUCKETS = 10_000


@dataclass(frozen=True)
class Period:
    """A half-open span of time [start, end); either side may be open."""

    start: datetime | None = None
    end: datetime | None = None

    def clauses(self, column: Any) -> list[ColumnElement[bool]]:
        """SQL conditions keeping `column` inside the period."""
        found: list[ColumnElement[bool]] = []
        if self.start is not None:
            found.append(column >= self.start)
        if self.end is not None:
            found.append(column < self.end)
        return found

    def as_dict(self) -> dict[str, datetime | None]:
        """The bounds as answers show them: `period_start` inclusive, `period_end` exclusive."""
        return {"period_start": self.start, "period_end": self.end}


def parse_moment(text: str, *, field: str, end: bool) -> datetime:
    """A timestamp (naive = UTC) or a date; as an end bound a date means the whole day."""
    try:
        return _parse_moment(text.strip(), field=field, end=end)
    except OverflowError:
        raise errors.ValidationFailed(f"{field}: {text!r} is out of range") from None


def _parse_moment(text: str, *, field: str, end: bool) -> datetime:
    if _DATE_ONLY.match(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise errors.ValidationFailed(f"{field}: {text!r} is not a valid date") from None
        moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return moment + timedelta(days=1) if end else moment
    try:
        moment = as_utc(_MOMENT.validate_python(text))
    except ValidationError:
        raise errors.ValidationFailed(
            f"{field}: {text!r} is not an ISO 8601 date or timestamp"
        ) from None
    # An explicit end timestamp is inclusive; the period is half-open internally.
    return moment + timedelta(microseconds=1) if end else moment


def parse_period(start: str | None, end: str | None) -> Period:
    """The period of a request's `from` and `to` (both inclusive, either optional)."""
    period = Period(
        None if not start else parse_moment(start, field="from", end=False),
        None if not end else parse_moment(end, field="to", end=True),
    )
    if period.start is not None and period.end is not None and period.start >= period.end:
        raise errors.ValidationFailed("`from` must be before `to`")
    return period


_PG_FORMATS = {"day": "'YYYY-MM-DD'", "week": "'YYYY-MM-DD'", "month": "'YYYY-MM'"}


def bucket_key(column: Any, interval: str, dialect: str) -> ColumnElement[Any]:
    """What to GROUP BY for a day, week or month: the cheapest expression per dialect."""
    if interval not in INTERVALS:
        raise errors.ValidationFailed(f"interval must be one of {', '.join(INTERVALS)}")
    if dialect == "sqlite":
        # Timestamps are stored as "YYYY-MM-DD HH:MM:SS.ffffff": a prefix is the day or month.
        if interval == "month":
            return func.substr(column, literal_column("1"), literal_column("7"))
        if interval == "day":
            return func.substr(column, literal_column("1"), literal_column("10"))
        return func.date(column, literal_column("'weekday 0'"), literal_column("'-6 days'"))
    if dialect == "postgresql":
        # date_trunc is cheap per row (to_char is not): format only the groups.
        return func.date_trunc(literal_column(f"'{interval}'"), column)
    if dialect in ("mysql", "mariadb"):
        if interval == "month":
            return func.date_format(column, literal_column("'%Y-%m'"))
        if interval == "day":
            return func.date_format(column, literal_column("'%Y-%m-%d'"))
        return func.date_format(
            func.subdate(column, func.weekday(column)), literal_column("'%Y-%m-%d'")
        )
    raise errors.ValidationFailed(f"reports are not available on {dialect}")


def bucket_label(key: Any, interval: str, dialect: str) -> ColumnElement[str]:
    """The text label of a grouped `bucket_key`: "2024-03-05", "2024-03-04" (Monday), "2024-03"."""
    if dialect == "postgresql":
        return func.to_char(key, literal_column(_PG_FORMATS[interval]))
    return key  # type: ignore[no-any-return]


def bucket(column: Any, interval: str, dialect: str) -> ColumnElement[str]:
    """The day, week or month label of a timestamp column, computed by the database."""
    return bucket_label(bucket_key(column, interval, dialect), interval, dialect)


def label_of(moment: datetime, interval: str) -> str:
    """The bucket label of a moment, the same the database computes."""
    moment = as_utc(moment)
    if interval == "month":
        return f"{moment.year:04d}-{moment.month:02d}"
    day = moment.date()
    if interval == "week":
        day -= timedelta(days=day.weekday())
    return day.isoformat()


def label_start(label: str, interval: str) -> datetime:
    """The first moment of the bucket a label names."""
    if interval == "month":
        year, month = (int(part) for part in label.split("-"))
        return datetime(year, month, 1, tzinfo=UTC)
    day = date.fromisoformat(label)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def next_label(label: str, interval: str) -> str:
    start = label_start(label, interval)
    if interval == "month":
        year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
        return f"{year:04d}-{month:02d}"
    return (start + timedelta(days=7 if interval == "week" else 1)).date().isoformat()


def labels_between(first: str, last: str, interval: str) -> list[str]:
    """Every bucket label from `first` to `last` inclusive (empty when `last` < `first`)."""
    found: list[str] = []
    label = first
    while label <= last:
        if len(found) == MAX_FILLED_BUCKETS:
            raise errors.ValidationFailed(
                f"the period spans more than {MAX_FILLED_BUCKETS:,} {interval}s: narrow it"
            )
        found.append(label)
        label = next_label(label, interval)
    return found


def previous_month(label: str) -> str:
    year, month = (int(part) for part in label.split("-"))
    year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return f"{year:04d}-{month:02d}"


def span_labels(period: Period, seen: set[str], interval: str, now: datetime) -> list[str]:
    """The buckets a series lists: from the period's start (else the first seen) to its end
    (else now), never past now unless data lies beyond it; empty buckets included."""
    if period.start is not None:
        first = label_of(period.start, interval)
    elif seen:
        first = min(seen)
    else:
        return []
    current = label_of(now, interval)
    last = current
    if period.end is not None:
        last = label_of(period.end - timedelta(microseconds=1), interval)
    return labels_between(first, min(last, max([current, *seen])), interval)
