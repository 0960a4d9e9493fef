"""Downloads of statements and transaction lists: CSV (spreadsheet-safe) and PDF statements."""

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


def statement_pdf(statement: Statement, *, owner: str) -> bytes:
    """A one-table PDF statement: header, opening balance, entries, closing balance."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        title=f"Statement {statement.account_number}",
        author="ledgerbank",
    )
    period = (
        f"{statement.from_.isoformat() if statement.from_ else 'opening'} – "
        f"{statement.to.isoformat() if statement.to else 'now'}"
    )
    header = [
        Paragraph(f"Account statement {statement.account_number}", styles["Title"]),
        Paragraph(f"{owner} · {statement.currency} · {period}", styles["Normal"]),
        Spacer(1, 12),
    ]
    cells = [["Posted at", "Transaction", "Type", "Description", "Amount", "Balance"]]
    cells.append(["", "", "", "Opening balance", "", statement.opening_balance])
    for entry in statement.entries:
        cells.append(
            [
                entry.posted_at.strftime("%Y-%m-%d %H:%M:%S"),
                str(entry.transaction_id),
                entry.type,
                Paragraph(entry.description or "", styles["BodyText"]),
                entry.amount,
                entry.balance_after,
            ]
        )
    cells.append(["", "", "", "Closing balance", "", statement.closing_balance])
    table = Table(cells, repeatRows=1, colWidths=[110, 70, 70, 330, 90, 90])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                ("ALIGN", (4, 0), (5, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
            ]
        )
    )
    document.build([*header, table])
    return buffer.getvalue()
