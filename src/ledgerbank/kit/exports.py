"""CSV and XLSX writers for tabular exports, with typed columns any domain can describe.

A report names its columns and their kinds once; both writers honour them: counts are integers,
amounts exact decimals with their currency's places (numbers with a number format in XLSX, not
text), days and months real dates, timestamps ISO 8601 in UTC. Text that a spreadsheet would run
as a formula (=, +, -, @ first) is written so that it stays text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ledgerbank.kit.clock import as_utc
from ledgerbank.kit.money import exponent

ColumnKind = Literal["text", "integer", "decimal", "date", "month", "datetime"]

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportColumn:
    """One column of an export: its key in the rows, its kind and its header."""

    name: str
    kind: ColumnKind = "text"
    title: str | None = None
    # For decimals: fixed places, or the column holding each row's currency (its exponent wins).
    places: int | None = None
    currency_column: str | None = None

    @property
    def header(self) -> str:
        return self.title or self.name

    def places_for(self, row: Mapping[str, Any]) -> int | None:
        if self.currency_column is not None and row.get(self.currency_column):
            return exponent(str(row[self.currency_column]))
        return self.places


def _decimal(value: Any, places: int | None) -> Decimal:
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return number.quantize(Decimal(1).scaleb(-places)) if places is not None else number


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return as_utc(value).date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _month(value: Any) -> date:
    if isinstance(value, date):
        return value.replace(day=1)
    year, month = str(value)[:7].split("-")
    return date(int(year), int(month), 1)


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return as_utc(value)
    return as_utc(datetime.fromisoformat(str(value)))


def _safe_text(value: Any) -> str:
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_value(column: ExportColumn, row: Mapping[str, Any]) -> str:
    """A cell as CSV text: exact decimals, ISO dates, formula-safe text; None is empty."""
    value = row.get(column.name)
    if value is None:
        return ""
    if column.kind == "integer":
        return str(int(value))
    if column.kind == "decimal":
        return str(_decimal(value, column.places_for(row)))
    if column.kind == "date":
        return _date(value).isoformat()
    if column.kind == "month":
        return _month(value).isoformat()[:7]
    if column.kind == "datetime":
        return _moment(value).isoformat()
    return _safe_text(value)


def to_csv(columns: Sequence[ExportColumn], rows: Iterable[Mapping[str, Any]]) -> bytes:
    """RFC 4180 CSV (UTF-8, CRLF) with a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.header for column in columns])
    for row in rows:
        writer.writerow([csv_value(column, row) for column in columns])
    return buffer.getvalue().encode("utf-8")


def _number_format(places: int | None) -> str:
    if places is None:
        return "General"
    return "#,##0" + ("." + "0" * places if places else "")


def _xlsx_cell(sheet: Any, column: ExportColumn, row: Mapping[str, Any]) -> WriteOnlyCell:
    value = row.get(column.name)
    if value is None:
        return WriteOnlyCell(sheet, value=None)
    if column.kind == "integer":
        cell = WriteOnlyCell(sheet, value=int(value))
        cell.number_format = "0"
    elif column.kind == "decimal":
        places = column.places_for(row)
        cell = WriteOnlyCell(sheet, value=_decimal(value, places))
        cell.number_format = _number_format(places)
    elif column.kind == "date":
        cell = WriteOnlyCell(sheet, value=_date(value))
        cell.number_format = "yyyy-mm-dd"
    elif column.kind == "month":
        cell = WriteOnlyCell(sheet, value=_month(value))
        cell.number_format = "yyyy-mm"
    elif column.kind == "datetime":
        # Excel has no time zones: the cell holds UTC, as its header says.
        cell = WriteOnlyCell(sheet, value=_moment(value).astimezone(UTC).replace(tzinfo=None))
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
    else:
        cell = WriteOnlyCell(sheet, value=str(value))
        cell.data_type = "s"  # never a formula, whatever the text starts with
    return cell


def to_xlsx(
    columns: Sequence[ExportColumn], rows: Iterable[Mapping[str, Any]], *, sheet: str = "Report"
) -> bytes:
    """An XLSX workbook with one sheet: a bold, frozen header row and typed cells."""
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=sheet[:31])
    worksheet.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        width = max(12, len(column.header) + 2, 22 if column.kind == "datetime" else 0)
        worksheet.column_dimensions[get_column_letter(index)].width = width
    header = []
    for column in columns:
        title = column.header + (" (UTC)" if column.kind == "datetime" else "")
        cell = WriteOnlyCell(worksheet, value=title)
        cell.font = Font(bold=True)
        header.append(cell)
    worksheet.append(header)
    for row in rows:
        worksheet.append([_xlsx_cell(worksheet, column, row) for column in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
