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


def transactions_csv(transactions: Iterable[Transaction]) -> Iterator[bytes]:
    """The header line, then one line per transaction, for a streamed download."""
    yield to_csv(TRANSACTION_COLUMNS, ())
    for transaction in transactions:
        row = transaction.model_dump()
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerow(
            [csv_value(column, row) for column in TRANSACTION_COLUMNS]
        )
        yield buffer.getvalue().encode()
