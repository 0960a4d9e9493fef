"""An answer for a terminal: the columns that matter for the question, amounts and dates
written for people, and one record per block when a table would not fit the width.

Scripts ask for `csv` or `json` instead and get every column with its exact value.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ledgerbank.ledgergpt.plan import QueryPlan, Subject

# Columns a person rarely needs when others say the same, per subject (shown with --all-columns).
_SECONDARY = {
    "from_account_number", "to_account_number", "full_name", "entity_id", "before_state",
    "after_state", "email", "phone", "assigned_to", "resolution", "transaction_id",
}  # fmt: skip
_MONEY_WORDS = ("amount", "balance", "total", "average", "largest", "smallest", "overdraft")
_NAMES = {
    "created_at": "date", "from_username": "from", "to_username": "to",
    "from_account_number": "from account", "to_account_number": "to account",
    "account_number": "account", "account_type": "type", "risk_verdict": "verdict",
    "actor_username": "by", "subject_username": "about", "kyc_status": "kyc",
    "is_active": "active", "assets_minor": "assets", "liabilities_minor": "liabilities",
    "equity_minor": "equity", "difference_minor": "difference",
    "fx_position_minor": "fx position",
}  # fmt: skip
GAP = 2  # spaces between table columns


@dataclass(frozen=True)
class Shown:
    """The answer as it is shown: headers and text cells, and the columns left out."""

    headers: list[str]
    rows: list[list[str]]
    hidden: list[str]


def _money_column(name: str) -> bool:
    return any(word in name for word in _MONEY_WORDS) and name not in ("account_type",)


def _amount(text: str, currency: str | None) -> str:
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return text
    exponent = number.as_tuple().exponent
    places = max(-exponent, 0) if isinstance(exponent, int) else 2
    shown = f"{number:,.{places}f}"
    return f"{shown} {currency}" if currency else shown


def _when(text: str) -> str:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.hour == moment.minute == moment.second == 0 and moment.microsecond == 0:
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d %H:%M")


def cell(name: str, value: Any, currency: str | None) -> str:
    """One value for a person: amounts with thousands and their currency, dates to the minute."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if _money_column(name):
        return _amount(text, currency)
    if name.endswith("_at") or name in ("date_of_birth",):
        return _when(text)
    return text


def _constant(values: list[Any]) -> bool:
    return len(values) > 1 and all(v == values[0] for v in values)


def choose(columns: list[str], rows: list[list[Any]], plan: QueryPlan | None) -> list[int]:
    """The positions of the columns worth showing for this question."""
    keep = []
    grouped = plan is not None and plan.metric is not None
    asked_accounts = plan is not None and bool(plan.account_numbers)
    for position, name in enumerate(columns):
        values = [row[position] for row in rows]
        money_beside = any(_money_column(c) for c in columns)
        if grouped and not (name == "currency" and money_beside):
            keep.append(position)  # a figure's keys and values all matter
            continue
        if rows and all(v is None for v in values):
            continue  # nothing to say (a verdict column without scores)
        if name in _SECONDARY and not (asked_accounts and "account" in name):
            continue
        if name == "currency" and money_beside:
            continue  # written beside each amount
        if _constant(values) and name in ("type", "status", "currency", "account_type", "role"):
            continue  # the question already said it ("blocked transfers")
        keep.append(position)
    return keep or list(range(len(columns)))


def shown(
    columns: list[str], rows: list[list[Any]], plan: QueryPlan | None, *, every_column: bool = False
) -> Shown:
    positions = list(range(len(columns))) if every_column else choose(columns, rows, plan)
    currency_at = columns.index("currency") if "currency" in columns else None
    text_rows = []
    for row in rows:
        currency = row[currency_at] if currency_at is not None else None
        if plan is not None and plan.subject is Subject.BALANCE_SHEET and currency_at is not None:
            currency = row[currency_at]
        text_rows.append([cell(columns[p], row[p], currency) for p in positions])
    return Shown(
        headers=[_NAMES.get(columns[p], columns[p].replace("_", " ")) for p in positions],
        rows=text_rows,
        hidden=[c for i, c in enumerate(columns) if i not in positions],
    )


def fits(table: Shown, width: int) -> bool:
    """True when every value fits whole in a plain table of this width."""
    widths = [max([len(h), *(len(r[i]) for r in table.rows)]) for i, h in enumerate(table.headers)]
    return sum(widths) + GAP * max(len(widths) - 1, 0) <= width


def records(table: Shown, width: int) -> list[str]:
    """One block per row, "name: value" a line, long values wrapped under their name."""
    label = max((len(h) for h in table.headers), default=0)
    room = max(width - label - 2, 20)
    lines: list[str] = []
    for number, row in enumerate(table.rows, start=1):
        lines.append(f"— {number} " + "—" * max(width - len(str(number)) - 3, 0))
        for header, value in zip(table.headers, row, strict=True):
            chunks = [value[i : i + room] for i in range(0, len(value), room)] or [""]
            lines.append(f"{header.rjust(label)}  {chunks[0]}")
            lines.extend(f"{'':>{label}}  {chunk}" for chunk in chunks[1:])
    return lines


def as_csv(columns: list[str], rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()


def as_json(answer: Any) -> str:
    return json.dumps(
        {
            "question": answer.question,
            "sql": answer.sql,
            "parameters": answer.parameters,
            "explanation": answer.explanation,
            "columns": answer.columns,
            "rows": answer.rows,
            "row_count": answer.row_count,
            "truncated": answer.truncated,
            "engine": answer.engine,
        },
        indent=2,
        default=str,
    )
