"""The bank statement as a PDF: holder, account, period, balances and every entry, page-numbered.

Laid out like a bank's statement of account: a letterhead, the holder's and the account's
details, a summary (opening balance, money in, money out, closing balance), then the entries
with money out and money in in separate columns and the running balance, the table header
repeated on every page and "page n of m" in the footer. Amounts are the ledger's exact minor
units, formatted per currency; nothing passes through floating point.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ledgerbank.kit.clock import as_utc, utcnow
from ledgerbank.kit.money import to_decimal_string
from ledgerbank.ledger.statements import Statement

BANK_NAME = "ledgerbank"
INK = colors.HexColor("#1f2937")
ACCENT = colors.HexColor("#0f4c81")
STRIPE = colors.HexColor("#f3f6f9")


def _grouped(minor: int, currency: str) -> str:
    """1234567.5 -> "1,234,567.50": thousands separators on the exact decimal string."""
    text = to_decimal_string(minor, currency)
    sign = "-" if text.startswith("-") else ""
    whole, _, fraction = text.lstrip("-").partition(".")
    whole = f"{int(whole):,}"
    return sign + whole + (f".{fraction}" if fraction else "")


def _account_number(number: str) -> str:
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def _day(moment: datetime | None) -> str:
    return "" if moment is None else as_utc(moment).strftime("%d %b %Y")


class _NumberedCanvas(Canvas):  # type: ignore[misc]
    """Draws "page n of m" once the number of pages is known (a second pass over the pages)."""

    footer_text = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for page in self._pages:
            self.__dict__.update(page)
            self._footer(total)
            super().showPage()
        super().save()

    def _footer(self, total: int) -> None:
        width, _ = A4
        self.setFont("Helvetica", 7.5)
        self.setFillColor(colors.grey)
        self.drawString(18 * mm, 10 * mm, self.footer_text)
        self.drawRightString(width - 18 * mm, 10 * mm, f"Page {self._pageNumber} of {total}")


def render_statement_pdf(
    holder: Mapping[str, Any],
    account: Mapping[Any, Any],
    statement: Statement,
    *,
    period_start: datetime | None = None,
    period_end: datetime | None = None,
    generated_at: datetime | None = None,
) -> bytes:
    """The statement as PDF bytes.

    `holder` needs `full_name` (and may give `email`), `account` the account's row
    (`account_number`, `account_type`, `currency`), `statement` is the ledger's statement for
    the period (entries in minor units with their balance after).
    """
    generated = as_utc(generated_at or utcnow())
    currency = str(account["currency"])
    number = str(account["account_number"])
    styles = getSampleStyleSheet()
    small = ParagraphStyle("small", parent=styles["Normal"], fontSize=8, leading=10, textColor=INK)
    label = ParagraphStyle("label", parent=small, textColor=colors.grey)
    title = ParagraphStyle(
        "title", parent=styles["Title"], alignment=0, fontSize=18, textColor=ACCENT, spaceAfter=2
    )

    def money(minor: int) -> str:
        return _grouped(minor, currency)

    credits = sum(int(e["amount"]) for e in statement.entries if int(e["amount"]) > 0)
    debits = -sum(int(e["amount"]) for e in statement.entries if int(e["amount"]) < 0)
    period = (
        f"{_day(period_start) or 'account opening'} to "
        f"{_day(period_end) if period_end is not None else _day(generated)}"
    )
    letterhead = Table(
        [
            [
                Paragraph(BANK_NAME, title),
                Paragraph(
                    f"<b>Statement of account</b><br/>Issued {_day(generated)}<br/>"
                    f"{generated.strftime('%H:%M')} UTC",
                    ParagraphStyle("right", parent=small, alignment=2),
                ),
            ]
        ],
        colWidths=[110 * mm, 64 * mm],
    )
    letterhead.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 1.2, ACCENT),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    details = Table(
        [
            [Paragraph("Account holder", label), Paragraph("Account", label)],
            [
                Paragraph(
                    f"<b>{escape(str(holder.get('full_name') or ''))}</b>"
                    + (f"<br/>{escape(str(holder['email']))}" if holder.get("email") else ""),
                    small,
                ),
                Paragraph(
                    f"<b>{escape(_account_number(number))}</b><br/>"
                    f"{escape(str(account.get('account_type', '')).title())} account, {currency}",
                    small,
                ),
            ],
            [Paragraph("Statement period", label), ""],
            [Paragraph(f"<b>{escape(period)}</b>", small), ""],
        ],
        colWidths=[87 * mm, 87 * mm],
    )
    details.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    summary = Table(
        [
            ["Opening balance", "Money in", "Money out", "Closing balance"],
            [
                money(statement.opening_balance),
                money(credits),
                money(debits),
                money(statement.closing_balance),
            ],
        ],
        colWidths=[43.5 * mm] * 4,
    )
    summary.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), "Helvetica", 7.5),
                ("TEXTCOLOR", (0, 0), (-1, 0), colors.grey),
                ("FONT", (0, 1), (-1, 1), "Helvetica-Bold", 11),
                ("TEXTCOLOR", (0, 1), (-1, 1), INK),
                ("BOX", (0, 0), (-1, -1), 0.6, ACCENT),
                ("BACKGROUND", (0, 0), (-1, -1), STRIPE),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    rows: list[list[Any]] = [
        ["Date", "Description", "Reference", "Money out", "Money in", f"Balance ({currency})"]
    ]
    rows.append(
        [
            "",
            Paragraph("<i>Opening balance</i>", small),
            "",
            "",
            "",
            money(statement.opening_balance),
        ]
    )
    for entry in statement.entries:
        amount = int(entry["amount"])
        text = entry.get("description") or str(entry.get("type", "")).title()
        kind = str(entry.get("type", ""))
        if entry.get("status") == "reversed":
            kind += ", reversed"
        rows.append(
            [
                as_utc(entry["posted_at"]).strftime("%d %b %Y"),
                Paragraph(
                    f"{escape(str(text))}<br/><font color='grey'>{escape(kind)}</font>", small
                ),
                f"#{entry['transaction_id']}",
                money(-amount) if amount < 0 else "",
                money(amount) if amount > 0 else "",
                money(int(entry["balance_after"])),
            ]
        )
    if not statement.entries:
        rows.append(["", Paragraph("No entries in this period.", small), "", "", "", ""])
    rows.append(
        [
            "",
            Paragraph("<b>Closing balance</b>", small),
            "",
            "",
            "",
            money(statement.closing_balance),
        ]
    )
    entries_table = Table(
        rows,
        colWidths=[22 * mm, 68 * mm, 20 * mm, 21 * mm, 21 * mm, 22 * mm],
        repeatRows=1,
    )
    striping = [
        ("BACKGROUND", (0, i), (-1, i), STRIPE) for i in range(2, len(rows) - 1) if i % 2 == 0
    ]
    entries_table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
                ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
                ("BACKGROUND", (0, 0), (-1, 0), ACCENT),
                ("FONT", (0, 1), (-1, -1), "Helvetica", 8),
                ("TEXTCOLOR", (0, 1), (-1, -1), INK),
                ("ALIGN", (3, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("FONT", (5, -1), (5, -1), "Helvetica-Bold", 8),
                ("LINEABOVE", (0, -1), (-1, -1), 0.6, ACCENT),
                *striping,
            ]
        )
    )
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"Statement of account {number}",
        author=BANK_NAME,
        subject=f"{holder.get('full_name', '')}, {period}",
    )

    class Footed(_NumberedCanvas):
        footer_text = (
            f"{BANK_NAME} · statement of account {_account_number(number)} · "
            f"{period} · amounts in {currency}"
        )

    document.build(
        [
            letterhead,
            Spacer(1, 6 * mm),
            details,
            Spacer(1, 5 * mm),
            summary,
            Spacer(1, 6 * mm),
            entries_table,
        ],
        canvasmaker=Footed,
    )
    return buffer.getvalue()
