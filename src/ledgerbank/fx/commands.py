"""`ledgerbank fx ...`: load the bank's exchange rates from a CSV file and list them."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from sqlalchemy import Connection, select

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.fx import rates
from ledgerbank.fx.tables import fx_rates
from ledgerbank.kit.clock import as_utc
from ledgerbank.kit.commands import open_database
from ledgerbank.kit.money import normalize_currency
from ledgerbank.kit.rates import parse_rate, rate_text

app = typer.Typer(help="Exchange rates (the bank supplies its own).", no_args_is_help=True)
console = Console()
COLUMNS = ("base", "quote", "rate", "valid_from")


def _parse(text: str) -> list[tuple[int, dict[str, object]]]:
    """Every row checked before anything is written: (line, values); one bad row refuses all."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or set(COLUMNS) - set(reader.fieldnames):
        raise errors.ValidationFailed(f"the file needs the columns {', '.join(COLUMNS)}")
    found = []
    for line, row in enumerate(reader, start=2):
        try:
            values: dict[str, object] = {
                "base": normalize_currency(row["base"] or ""),
                "quote": normalize_currency(row["quote"] or ""),
                "rate": parse_rate(row["rate"] or ""),
                "valid_from": as_utc(datetime.fromisoformat((row["valid_from"] or "").strip())),
            }
        except (errors.LedgerbankError, ValueError) as exc:
            detail = exc.detail if isinstance(exc, errors.LedgerbankError) else str(exc)
            raise errors.ValidationFailed(f"line {line}: {detail}") from None
        found.append((line, values))
    return found


@app.command("import")
def import_command(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="CSV: " + ",".join(COLUMNS)
        ),
    ],
) -> None:
    """Load rates in one transaction (all or none). A rate already loaded (same pair, moment and
    rate) is skipped, so a file can be loaded again; the same moment with another rate fails."""
    rows = _parse(file.read_text(encoding="utf-8"))
    database = open_database()
    added = skipped = 0

    def load(conn: Connection) -> None:
        nonlocal added, skipped
        with Progress(
            TextColumn("[bold]rates"), BarColumn(), MofNCompleteColumn(), console=console
        ) as bar:
            task = bar.add_task("rates", total=len(rows))
            for line, values in rows:
                existing = conn.execute(
                    select(fx_rates.c.rate).where(
                        fx_rates.c.base == values["base"],
                        fx_rates.c.quote == values["quote"],
                        fx_rates.c.valid_from == values["valid_from"],
                    )
                ).scalar()
                if existing is not None and int(existing) == values["rate"]:
                    skipped += 1
                else:
                    try:
                        rates.set_rate(
                            conn,
                            base=str(values["base"]),
                            quote=str(values["quote"]),
                            rate=rate_text(int(str(values["rate"]))),
                            valid_from=values["valid_from"],  # type: ignore[arg-type]
                            actor_id=None,
                        )
                    except errors.LedgerbankError as exc:
                        raise errors.ValidationFailed(f"line {line}: {exc.detail}") from None
                    added += 1
                bar.advance(task)

    database.write(load)
    audit.try_seal(database.write)
    console.print(f"{added} rates added, {skipped} already loaded")


@app.command("rates")
def rates_command(
    base: Annotated[str | None, typer.Option(help="only this base currency")] = None,
) -> None:
    """Every rate with its history, newest first per pair."""
    database = open_database()
    with database.read() as conn:
        found = rates.list_rates(conn, base=base)
    table = Table("base", "quote", "rate", "valid from", title="exchange rates")
    for rate in found:
        table.add_row(rate["base"], rate["quote"], rate["rate"], rate["valid_from"])
    console.print(table)
