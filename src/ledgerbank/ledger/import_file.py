"""Reading an import file: CSV rows with their line numbers, and what is wrong with them."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from ledgerbank import errors
from ledgerbank.kit.clock import as_utc
from ledgerbank.kit.money import DEFAULT_MAX_MAJOR, normalize_currency, to_minor

COLUMNS = (
    "external_id",
    "timestamp",
    "type",
    "from_account",
    "to_account",
    "amount",
    "currency",
    "description",
)
OPTIONAL_COLUMNS = frozenset({"description"})
IMPORT_TYPES = ("deposit", "withdrawal", "transfer")
# Which account columns each type names: (from_account, to_account).
ACCOUNTS_NAMED = {
    "deposit": (False, True),
    "withdrawal": (True, False),
    "transfer": (True, True),
}


class RowError(NamedTuple):
    """A refused row: its line in the file (the header is line 1) and why."""

    line: int
    message: str


@dataclass(frozen=True)
class ImportRow:
    """One well-formed row of the file."""

    line: int
    external_id: str
    occurred_at: datetime
    type: str
    from_number: str | None
    to_number: str | None
    amount: str
    currency: str
    description: str | None


def parse(
    content: bytes | str, *, now: datetime, max_major: Decimal = DEFAULT_MAX_MAJOR
) -> tuple[list[ImportRow], list[RowError], int]:
    """Parse the CSV: the well-formed rows, the refused ones, and how many data rows there were."""
    try:
        text = content.decode("utf-8-sig") if isinstance(content, bytes) else content
    except UnicodeDecodeError:
        return [], [RowError(1, "the file is not UTF-8 text")], 0
    reader = csv.reader(io.StringIO(text, newline=""))
    header: dict[str, int] | None = None
    rows: list[ImportRow] = []
    refused: list[RowError] = []
    first_line_of: dict[str, int] = {}
    count = 0
    next_line = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # a field over the csv module's limit, a stray NUL, ...
            return [], [RowError(next_line, f"the file cannot be read as CSV: {exc}")], count
        line, next_line = next_line, reader.line_num + 1  # a quoted cell may span lines
        if not any(cell.strip() for cell in record):
            continue
        if header is None:
            names = [cell.strip().lower() for cell in record]
            header = {name: index for index, name in enumerate(names) if name}
            missing = [c for c in COLUMNS if c not in header and c not in OPTIONAL_COLUMNS]
            if missing:
                return [], [RowError(line, f"missing column(s): {', '.join(missing)}")], 0
            continue
        count += 1
        values = {
            name: (record[i].strip() if i < len(record) else "") for name, i in header.items()
        }
        row, problems = _parse_row(line, values, now=now, max_major=max_major)
        external_id = values["external_id"]
        if external_id in first_line_of:
            problems.append(
                f"external_id {external_id!r} already appears on line {first_line_of[external_id]}"
            )
        elif external_id:
            first_line_of[external_id] = line
        if problems or row is None:
            refused.append(RowError(line, "; ".join(problems)))
        else:
            rows.append(row)
    if header is None:
        return [], [RowError(1, f"the file is empty: expected the columns {', '.join(COLUMNS)}")], 0
    return rows, refused, count


def _parse_row(
    line: int, values: dict[str, str], *, now: datetime, max_major: Decimal
) -> tuple[ImportRow | None, list[str]]:
    problems: list[str] = []
    external_id = values["external_id"]
    if not external_id:
        problems.append("external_id is empty")
    elif len(external_id) > 100:
        problems.append("external_id is longer than 100 characters")
    occurred_at = _parse_timestamp(values["timestamp"], now=now, problems=problems)
    kind = values["type"].lower()
    from_number = values["from_account"] or None
    to_number = values["to_account"] or None
    if kind not in IMPORT_TYPES:
        problems.append(f"type {values['type']!r} is not one of {', '.join(IMPORT_TYPES)}")
    else:
        wants_from, wants_to = ACCOUNTS_NAMED[kind]
        for column, number, wanted in (
            ("from_account", from_number, wants_from),
            ("to_account", to_number, wants_to),
        ):
            if wanted and number is None:
                problems.append(f"a {kind} needs {column}")
            elif not wanted and number is not None:
                problems.append(f"a {kind} has no {column}")
        if kind == "transfer" and from_number is not None and from_number == to_number:
            problems.append("from_account and to_account are the same account")
    currency = values["currency"].upper()
    amount = values["amount"]
    try:
        currency = normalize_currency(currency)
        to_minor(amount, currency, max_major=max_major)
    except (errors.UnknownCurrency, errors.InvalidAmount) as exc:
        problems.append(exc.detail)
    description = values.get("description") or None
    if description is not None and len(description) > 500:
        problems.append("description is longer than 500 characters")
    if problems or occurred_at is None:
        return None, problems
    return (
        ImportRow(
            line=line,
            external_id=external_id,
            occurred_at=occurred_at,
            type=kind,
            from_number=from_number,
            to_number=to_number,
            amount=amount,
            currency=currency,
            description=description,
        ),
        problems,
    )


def _parse_timestamp(text: str, *, now: datetime, problems: list[str]) -> datetime | None:
    if not text:
        problems.append("timestamp is empty")
        return None
    try:
        moment = as_utc(datetime.fromisoformat(text))  # without an offset, UTC is meant
    except ValueError:
        problems.append(f"timestamp {text!r} is not an ISO 8601 date and time")
        return None
    if moment > now:
        problems.append(f"timestamp {text} is in the future")
        return None
    return moment
