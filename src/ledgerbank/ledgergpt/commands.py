"""`ledgerbank ask`: LedgerGPT on the command line: one question, an interactive prompt with
history (`\\sql`, `\\help`), or `--evaluate` to measure accuracy and latency."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.syntax import Syntax

from ledgerbank import errors
from ledgerbank.config import get_settings
from ledgerbank.identity.permissions import Permission, Role, allows
from ledgerbank.identity.service import find_user
from ledgerbank.kit.commands import open_database
from ledgerbank.kit.db import Database
from ledgerbank.kit.files import private_dir, private_file
from ledgerbank.kit.read_database import open_read_database
from ledgerbank.ledgergpt import presentation
from ledgerbank.ledgergpt.service import Answer, Asker, LedgerGPT
from ledgerbank.ledgergpt.vocabulary import EXAMPLES

console = Console()
HELP = """Ask about the bank in plain English; every question becomes one read-only SELECT.
  \\sql    show the SQL of the last answer      \\help   this help and example questions
  \\q      quit (also: quit, exit, Ctrl-D)"""


def ask_command(
    question: Annotated[
        str | None, typer.Argument(help="The question; without one, an interactive prompt.")
    ] = None,
    evaluate: Annotated[
        bool,
        typer.Option(
            "--evaluate", help="Measure execution accuracy and latency over the demo bank."
        ),
    ] = False,
    database_url: Annotated[
        str,
        typer.Option(
            help="With --evaluate: an EMPTY database to load the evaluation bank into "
            "(default: a temporary SQLite file)."
        ),
    ] = "",
    user: Annotated[
        str, typer.Option(help="Ask as this user (their role decides what may be read).")
    ] = "",
    offline: Annotated[
        bool, typer.Option("--offline", help="Never ask the language model, even if configured.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="With --evaluate: every case.")
    ] = False,
    questions: Annotated[
        str,
        typer.Option(
            help="With --evaluate: the question set, tuning, heldout (written before the "
            "parser was tuned, never tuned on) or all."
        ),
    ] = "all",
    output: Annotated[
        str,
        typer.Option(
            "--format", help="table (for people), csv or json (every column, exact values)."
        ),
    ] = "table",
    all_columns: Annotated[
        bool, typer.Option("--all-columns", help="Show every column, not the ones that matter.")
    ] = False,
) -> None:
    """LedgerGPT: plain-English questions answered with read-only SQL."""
    if evaluate:
        from ledgerbank.evaluation.commands import ledgergpt_evaluation

        if questions not in ("all", "tuning", "heldout"):
            raise typer.BadParameter("--questions is tuning, heldout or all")
        ledgergpt_evaluation(database_url, verbose=verbose, questions=questions)
        return
    if output not in ("table", "csv", "json"):
        raise typer.BadParameter("--format is table, csv or json")
    database = open_database()
    settings = get_settings()
    read_database = open_read_database(settings.read_database_url, database, pool_size=2)
    engine = LedgerGPT(database, settings, read_database=read_database)
    try:
        asker = _asker(database, user)
        mode = "offline" if offline else "auto"
        if question:
            answer = engine.ask(question, asker, engine=mode)
            if output == "csv":
                sys.stdout.write(presentation.as_csv(answer.columns, answer.rows))
            elif output == "json":
                sys.stdout.write(presentation.as_json(answer) + "\n")
            else:
                show(answer, every_column=all_columns)
        else:
            repl(engine, asker, mode)
    finally:
        engine.close()
        if read_database is not database:
            read_database.dispose()


def _asker(database: Database, username: str) -> Asker:
    if not username:
        return Asker(None, "operator", Role.ADMIN, "cli")
    with database.read() as conn:
        found = find_user(conn, username)
    if found is None:
        raise errors.NotFound(f"user {username!r} not found")
    if not allows(found["role"], Permission.LEDGERGPT_ASK):
        raise errors.Forbidden(f"the {found['role']} role may not ask LedgerGPT")
    return Asker(int(found["id"]), str(found["username"]), Role(found["role"]), "cli")


def show(answer: Answer, *, every_column: bool = False, in_prompt: bool = False) -> None:
    """The answer for a person: the explanation, then a table that fits the terminal (or one
    record per block when it does not), with the columns that matter for the question."""
    width = console.width
    console.print(f"[italic]{answer.explanation}[/italic]", soft_wrap=False)
    shown = presentation.shown(answer.columns, answer.rows, answer.plan, every_column=every_column)
    if presentation.fits(shown, width):
        _plain_table(shown)
    else:
        for line in presentation.records(shown, width):
            console.print(line, highlight=False, markup=False)
    more = " (row limit reached)" if answer.truncated else ""
    hidden = f"; not shown: {', '.join(shown.hidden)} (--all-columns)" if shown.hidden else ""
    sql = "\\sql shows the SQL" if in_prompt else "--format json shows the SQL"
    counted = f"{answer.row_count} row(s){more}" if answer.rows else "no rows"
    console.print(f"[dim]{counted}, {answer.engine} engine{hidden}; {sql}[/dim]")


def _plain_table(shown: presentation.Shown) -> None:
    widths = [max([len(h), *(len(r[i]) for r in shown.rows)]) for i, h in enumerate(shown.headers)]
    gap = " " * presentation.GAP

    def line(values: list[str]) -> str:
        return gap.join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    console.print(line(shown.headers), style="bold", highlight=False, markup=False)
    console.print(gap.join("─" * w for w in widths), style="dim", highlight=False)
    for row in shown.rows:
        console.print(line(row), highlight=False, markup=False)


def show_sql(answer: Answer) -> None:
    console.print(Syntax(answer.sql, "sql", word_wrap=True))
    if answer.parameters:
        bound = ", ".join(f":{k} = {v!r}" for k, v in answer.parameters.items())
        console.print(f"[dim]{bound}[/dim]")


def repl(engine: LedgerGPT, asker: Asker, mode: str) -> None:
    history = _history(engine.settings.data_dir)
    console.print(HELP)
    last: Answer | None = None
    while True:
        try:
            line = input("ledgergpt> ").strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            break
        if not line:
            continue
        if line in ("\\q", "quit", "exit"):
            break
        if line == "\\help":
            console.print(HELP)
            for examples in EXAMPLES.values():
                for example in examples:
                    console.print(f"  • {example}")
            continue
        if line == "\\sql":
            if last:
                show_sql(last)
            else:
                console.print("no question asked yet")
            continue
        try:
            last = engine.ask(line, asker, engine=mode)
            show(last, in_prompt=True)
        except errors.LedgerbankError as exc:
            console.print(f"[red]{exc.code}[/red]: {exc.detail}")
            for suggestion in exc.extra.get("suggestions", []):
                console.print(f"  try: {suggestion}")
    if history is not None:
        history()


def _history(data_dir: Path) -> Callable[[], None] | None:
    """Line editing and a history file, where the platform has readline."""
    try:
        import readline
    except ImportError:  # pragma: no cover - Windows without pyreadline
        return None
    path = data_dir / ".ledgergpt_history"
    with contextlib.suppress(OSError):
        readline.read_history_file(path)

    def save() -> None:
        with contextlib.suppress(OSError):
            private_dir(data_dir)
            readline.set_history_length(1000)
            readline.write_history_file(private_file(path))

    return save
