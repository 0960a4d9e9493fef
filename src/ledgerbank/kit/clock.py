"""The clock: timezone-aware UTC now, and conversion to and from stored naive UTC."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_frozen: ContextVar[datetime | None] = ContextVar("ledgerbank_frozen_clock", default=None)


def utcnow() -> datetime:
    frozen = _frozen.get()
    return datetime.now(UTC) if frozen is None else frozen


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; naive values are taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Inside, `utcnow()` is `moment`: tools that replay a story date their postings this way
    (postings and their records are immutable, so they cannot be re-dated afterwards)."""
    token = _frozen.set(as_utc(moment))
    try:
        yield
    finally:
        _frozen.reset(token)
