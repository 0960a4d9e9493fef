"""Bulk import of historical transactions from CSV, posted with their original timestamps.

An import runs in two passes. The first reads: it parses every row, looks up every account
number once, checks currencies and amounts, skips rows already imported (same `external_id`)
and refuses rows older than the latest entry of one of their accounts (balances after each
entry and point-in-time balances rely on entries arriving in time order). The second posts
the rows, sorted by timestamp, through the posting engine: all of them in one database
transaction, or with `partial` each row in its own savepoint and each chunk committed.
Posting-time refusals (insufficient funds) are reported by line like the rest.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Connection, func, select

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.kit.money import DEFAULT_MAX_MAJOR
from ledgerbank.ledger import posting
from ledgerbank.ledger.import_file import ImportRow, RowError, parse
from ledgerbank.ledger.screening import NO_SCREEN, Screen
from ledgerbank.ledger.tables import accounts, entries, transactions

CHUNK_SIZE = 500
# Kept well under every database's limit on bound parameters in one statement.
_IN_LIST_SIZE = 500

T = TypeVar("T")
Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    """What an import did, or with `dry_run` what it would do."""

    file_name: str
    rows: int = 0
    posted: int = 0
    skipped_duplicates: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    partial: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "file_name": self.file_name,
            "rows": self.rows,
            "posted": self.posted,
            "skipped_duplicates": self.skipped_duplicates,
            "errors": [{"line": e.line, "message": e.message} for e in self.errors],
            "dry_run": self.dry_run,
            "partial": self.partial,
        }


@dataclass(frozen=True)
class PlannedRow:
    """A row whose accounts were found: ready to post."""

    row: ImportRow
    from_account_id: int | None
    to_account_id: int | None

    @property
    def account_ids(self) -> list[int]:
        return [i for i in (self.from_account_id, self.to_account_id) if i is not None]


# --- the first pass: check against the ledger -----------------------------------------------


def plan(
    conn: Connection, rows: Sequence[ImportRow]
) -> tuple[list[PlannedRow], list[RowError], int]:
    """Resolve accounts and check rows against the ledger: (to post, refused, duplicates)."""
    existing = _imported_external_ids(conn, [r.external_id for r in rows])
    fresh = [r for r in rows if r.external_id not in existing]
    numbers = {n for r in fresh for n in (r.from_number, r.to_number) if n is not None}
    found = {
        row.account_number: row
        for part in _chunks(sorted(numbers), _IN_LIST_SIZE)
        for row in conn.execute(
            select(
                accounts.c.id,
                accounts.c.account_number,
                accounts.c.currency,
                accounts.c.status,
                accounts.c.is_internal,
            ).where(accounts.c.account_number.in_(part))
        )
    }
    planned: list[PlannedRow] = []
    refused: list[RowError] = []
    for row in fresh:
        problems: list[str] = []
        ids: list[int | None] = []
        for number in (row.from_number, row.to_number):
            if number is None:
                ids.append(None)
                continue
            account = found.get(number)
            if account is None or account.is_internal:
                problems.append(f"account {number} not found")
            elif account.currency != row.currency:
                problems.append(
                    f"currency {row.currency} does not match account {number} ({account.currency})"
                )
            elif account.status != "active":
                problems.append(f"account {number} is {account.status}")
            ids.append(None if account is None else int(account.id))
        if problems:
            refused.append(RowError(row.line, "; ".join(problems)))
        else:
            planned.append(PlannedRow(row, ids[0], ids[1]))
    planned.sort(key=lambda p: (p.row.occurred_at, p.row.line))
    in_order, out_of_order = _in_time_order(conn, planned)
    return in_order, refused + out_of_order, len(rows) - len(fresh)


def _imported_external_ids(conn: Connection, external_ids: Iterable[str]) -> set[str]:
    return {
        str(found)
        for part in _chunks(sorted(set(external_ids)), _IN_LIST_SIZE)
        for found in conn.execute(
            select(transactions.c.external_id).where(transactions.c.external_id.in_(part))
        ).scalars()
    }


def _in_time_order(
    conn: Connection, planned: Sequence[PlannedRow]
) -> tuple[list[PlannedRow], list[RowError]]:
    """Split rows into those no older than their accounts' latest entries and the rest."""
    latest = _latest_entries(conn, {i for p in planned for i in p.account_ids})
    kept: list[PlannedRow] = []
    refused: list[RowError] = []
    for item in planned:
        newer = [i for i in item.account_ids if i in latest and item.row.occurred_at < latest[i]]
        if not newer:
            kept.append(item)
            continue
        number = item.row.from_number if newer[0] == item.from_account_id else item.row.to_number
        refused.append(
            RowError(
                item.row.line,
                f"timestamp {item.row.occurred_at.isoformat()} is earlier than the latest entry "
                f"of account {number} ({latest[newer[0]].isoformat()}): history must be "
                "imported in time order",
            )
        )
    return kept, refused


def _latest_entries(conn: Connection, account_ids: Iterable[int]) -> dict[int, datetime]:
    """When each account's newest entry was posted (accounts without entries are absent)."""
    query = select(entries.c.account_id, func.max(entries.c.posted_at)).group_by(
        entries.c.account_id
    )
    return {
        int(account_id): posted_at
        for part in _chunks(sorted(account_ids), _IN_LIST_SIZE)
        for account_id, posted_at in conn.execute(query.where(entries.c.account_id.in_(part)))
    }


# --- the second pass: post ------------------------------------------------------------------


@dataclass
class PostingOutcome:
    """What the second pass did with the planned rows."""

    posted: int = 0
    skipped_duplicates: int = 0
    errors: list[RowError] = field(default_factory=list)

    def add(self, other: PostingOutcome) -> None:
        self.posted += other.posted
        self.skipped_duplicates += other.skipped_duplicates
        self.errors.extend(other.errors)


class _RollBack(Exception):
    """Raised inside `Database.write` to roll back what was posted and keep the outcome."""

    def __init__(self, outcome: PostingOutcome) -> None:
        super().__init__("rolled back")
        self.outcome = outcome


class _Counter:
    """Reports rows done / rows planned to the caller's progress callback."""

    def __init__(self, report: Progress | None, total: int) -> None:
        self.report, self.total, self.done = report, total, 0
        self.restart()

    def restart(self) -> None:
        self.done = 0
        if self.report is not None:
            self.report(0, self.total)

    def __call__(self) -> None:
        self.done += 1
        if self.report is not None:
            self.report(self.done, self.total)


def post_rows(
    conn: Connection,
    planned: Sequence[PlannedRow],
    *,
    actor_id: int | None,
    screen: Screen,
    savepoints: bool,
    row_done: Callable[[], None] | None = None,
) -> PostingOutcome:
    """Post planned rows in the caller's transaction; refused rows are reported, not raised.

    The rows' accounts are locked first and the duplicate check repeated under those locks, so
    a concurrent import of the same rows waits and then skips them (the engine itself refuses
    a row dated before its accounts' latest entry). Without `savepoints` a refused row leaves
    the transaction for the caller to roll back; the engine refuses before it writes, so the
    rows after it are still checked against true balances.
    """
    outcome = PostingOutcome()
    account_ids = sorted({i for p in planned for i in p.account_ids})
    for part in _chunks(account_ids, _IN_LIST_SIZE):
        conn.execute(
            select(accounts.c.id)
            .where(accounts.c.id.in_(part))
            .order_by(accounts.c.id)
            .with_for_update()
        ).all()
    imported = _imported_external_ids(conn, [p.row.external_id for p in planned])
    fresh = [p for p in planned if p.row.external_id not in imported]
    outcome.skipped_duplicates = len(planned) - len(fresh)
    for item in fresh:
        try:
            if savepoints:
                with conn.begin_nested():
                    _post_one(conn, item, actor_id=actor_id, screen=screen)
            else:
                _post_one(conn, item, actor_id=actor_id, screen=screen)
            outcome.posted += 1
        except errors.LedgerbankError as exc:
            outcome.errors.append(RowError(item.row.line, _by_number(exc.detail, item)))
        if row_done is not None:
            row_done()
    return outcome


def _by_number(detail: str, item: PlannedRow) -> str:
    """The engine names accounts by id; the file named them by account number."""
    for account_id, number in (
        (item.from_account_id, item.row.from_number),
        (item.to_account_id, item.row.to_number),
    ):
        if account_id is not None:
            detail = re.sub(rf"\baccount {account_id}\b", f"account {number}", detail)
    return detail


def _post_one(conn: Connection, item: PlannedRow, *, actor_id: int | None, screen: Screen) -> None:
    row = item.row
    common: dict[str, Any] = {
        "amount": row.amount,
        "actor_id": actor_id,
        "description": row.description,
        "screen": screen,
        "occurred_at": row.occurred_at,  # also marks the posting as imported: never blocked
        "external_id": row.external_id,
    }
    if row.type == "deposit":
        assert item.to_account_id is not None
        posting.deposit(conn, account_id=item.to_account_id, **common)
    elif row.type == "withdrawal":
        assert item.from_account_id is not None
        posting.withdraw(conn, account_id=item.from_account_id, **common)
    else:
        assert item.from_account_id is not None
        assert item.to_account_id is not None
        posting.transfer(
            conn, from_account_id=item.from_account_id, to_account_id=item.to_account_id, **common
        )


def import_transactions(
    database: Database,
    content: bytes | str,
    *,
    file_name: str,
    actor_id: int | None,
    dry_run: bool = False,
    partial: bool = False,
    screen: Screen = NO_SCREEN,
    max_major: Decimal = DEFAULT_MAX_MAJOR,
    chunk_size: int = CHUNK_SIZE,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a CSV of transactions; the report says what was posted, skipped and refused.

    It owns its transactions, like a CLI command: without `partial` every row is posted in one
    transaction or none is; with `partial` each chunk of rows is committed on its own, so a
    re-run skips what an interrupted run already posted. A dry run posts in a transaction that
    is rolled back, unscored (imports are never blocked, so scores change nothing it reports).
    """
    report = ImportReport(file_name=file_name, dry_run=dry_run, partial=partial)
    raw = content.encode() if isinstance(content, str) else content
    digest = hashlib.sha256(raw).hexdigest()
    rows, refused, report.rows = parse(raw, now=utcnow(), max_major=max_major)
    with database.read() as conn:
        planned, not_postable, report.skipped_duplicates = plan(conn, rows)
    report.errors = sorted(refused + not_postable)
    if report.errors and not partial:
        return report  # nothing of a file with a bad row is posted
    counter = _Counter(progress, len(planned))
    post = functools.partial(
        post_rows,
        actor_id=actor_id,
        screen=NO_SCREEN if dry_run else screen,
        savepoints=partial,
        row_done=counter,
    )

    def record(conn: Connection, outcome: PostingOutcome) -> None:
        _record_import(conn, _with_outcome(report, outcome), digest, actor_id)

    if partial and not dry_run:
        outcome = PostingOutcome()
        for chunk in _chunks(planned, chunk_size):
            outcome.add(database.write(functools.partial(post, planned=chunk)))
        database.write(functools.partial(record, outcome=outcome))
        return _with_outcome(report, outcome)

    def post_all(conn: Connection) -> PostingOutcome:
        counter.restart()  # `write` runs this again after a deadlock
        outcome = PostingOutcome()
        for chunk in _chunks(planned, chunk_size):
            outcome.add(post(conn, planned=chunk))
        if outcome.errors and not partial:
            outcome.posted = 0
        if dry_run or (outcome.errors and not partial):
            raise _RollBack(outcome)
        record(conn, outcome)
        return outcome

    try:
        outcome = database.write(post_all)
    except _RollBack as rolled_back:
        outcome = rolled_back.outcome
    return _with_outcome(report, outcome)


def _with_outcome(report: ImportReport, outcome: PostingOutcome) -> ImportReport:
    """The first pass's report completed with what the second pass did."""
    return dataclasses.replace(
        report,
        posted=outcome.posted,
        skipped_duplicates=report.skipped_duplicates + outcome.skipped_duplicates,
        errors=sorted([*report.errors, *outcome.errors]),
    )


def _record_import(
    conn: Connection, report: ImportReport, digest: str, actor_id: int | None
) -> None:
    """The one audit record summarising an import (each posting writes its own as well)."""
    audit.record(
        conn,
        actor_id=actor_id,
        action="ledger.imported",
        entity_type="import",
        entity_id=digest,
        after={
            "file_name": report.file_name,
            "sha256": digest,
            "rows": report.rows,
            "posted": report.posted,
            "skipped_duplicates": report.skipped_duplicates,
            "refused": len(report.errors),
            "partial": report.partial,
        },
    )


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def import_in(
    conn: Connection,
    content: bytes,
    *,
    file_name: str,
    actor_id: int | None,
    partial: bool,
    screen: Screen,
    max_major: Decimal = DEFAULT_MAX_MAJOR,
) -> ImportReport:
    """Import a file inside the caller's transaction (an approved four-eyes import).

    Without `partial` a refused row raises ImportRejected (the caller's savepoint undoes the
    rest); with it each row has its own savepoint and refused rows are reported.
    """
    report = ImportReport(file_name=file_name, partial=partial)
    digest = hashlib.sha256(content).hexdigest()
    rows, refused, report.rows = parse(content, now=utcnow(), max_major=max_major)
    planned, not_postable, report.skipped_duplicates = plan(conn, rows)
    report.errors = sorted(refused + not_postable)
    if report.errors and not partial:
        raise errors.ImportRejected(
            f"{len(report.errors)} row(s) refused; nothing of the file was posted",
            report=report.as_dict(),
        )
    outcome = post_rows(conn, planned, actor_id=actor_id, screen=screen, savepoints=partial)
    done = _with_outcome(report, outcome)
    if outcome.errors and not partial:
        raise errors.ImportRejected(
            f"{len(done.errors)} row(s) refused; nothing of the file was posted",
            report=done.as_dict(),
        )
    _record_import(conn, done, digest, actor_id)
    return done
