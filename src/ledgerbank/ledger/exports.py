"""CSV downloads of statements and transaction lists (PDF statements: analytics.statement_pdf)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from ledgerbank.kit.exports import ExportColumn, csv_value, to_csv
from ledgerbank.kit.money import exponent
from ledgerbank.ledger.schemas import Statement, Transaction

TRANSACTION_COLUMNS = (
    ExportColumn("id", "integer"),
    ExportColumn("created_at", "datetime"),
    ExportColumn("type"),
    ExportColumn("status"),
    ExportColumn("amount", "decimal", currency_column="currency"),
    ExportColumn("currency"),
    ExportColumn("from_account_id", "integer"),
    ExportColumn("to_account_id", "integer"),
    ExportColumn("description"),
)


def statement_csv(statement: Statement) -> bytes:
    places = exponent(statement.currency)
    columns = (
        ExportColumn("posted_at", "datetime"),
        ExportColumn("transaction_id", "integer"),
        ExportColumn("type"),
        ExportColumn("status"),
        ExportColumn("description"),
        ExportColumn("amount", "decimal", places=places),
        ExportColumn("balance_after", "decimal", places=places),
    )
    return to_csv(columns, (entry.model_dump() for entry in statement.entries))


# What a customer exports: the sides by name and masked number, never internal account ids.
CUSTOMER_TRANSACTION_COLUMNS = (
    *TRANSACTION_COLUMNS[:6],
    ExportColumn("from_name"),
    ExportColumn("from_account"),
    ExportColumn("to_name"),
    ExportColumn("to_account"),
    ExportColumn("description"),
)

STAFF_TRANSACTION_COLUMNS = (
    *TRANSACTION_COLUMNS,
    ExportColumn("from_name"),
    ExportColumn("to_name"),
)


def _flat(transaction: Transaction) -> dict[str, object]:
    row = transaction.model_dump()
    for side in ("from", "to"):
        party = row.pop(f"{side}_party", None) or {"name": "cash", "account_number": ""}
        row[f"{side}_name"], row[f"{side}_account"] = party["name"], party["account_number"]
    return row


def transactions_csv(transactions: Iterable[Transaction], *, staff: bool) -> Iterator[bytes]:
    """The header line, then one line per transaction, for a streamed download."""
    columns = STAFF_TRANSACTION_COLUMNS if staff else CUSTOMER_TRANSACTION_COLUMNS
    yield to_csv(columns, ())
    for transaction in transactions:
        row = _flat(transaction)
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerow(
            [csv_value(column, row) for column in columns]
        )
        yield buffer.getvalue().encode()
