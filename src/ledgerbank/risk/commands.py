"""`ledgerbank risk ...`: train and version the model, (re)score history.

`risk evaluate` lives with the rest of the evaluation code (`ledgerbank.evaluation`) and is
added to this group by the CLI."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ledgerbank.config import get_settings
from ledgerbank.kit.commands import open_database
from ledgerbank.risk import model as anomaly
from ledgerbank.risk import sanctions, supervised, training
from ledgerbank.risk.features import FEATURES
from ledgerbank.risk.params import Params
from ledgerbank.risk.scoring import Scorer
from ledgerbank.risk.screen import models_dir

app = typer.Typer(
    help="Fraud and AML scoring: the model, history, evaluation.", no_args_is_help=True
)
console = Console()


def _bar(label: str) -> Progress:
    return Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


@app.command("train")
def train_command(
    seed: Annotated[int, typer.Option(help="Random seed of the forest.")] = 0,
) -> None:
    """Train an Isolation Forest on the bank's history and, with enough analyst labels, the
    supervised model beside it; save them as new versions."""
    settings = get_settings()
    database = open_database()
    with database.read() as conn:
        total = training.scorable_count(conn)
    learned = training.SupervisedOutcome()
    with _bar("replaying history") as bar:
        task = bar.add_task("train", total=total)
        version = training.train_model(
            database,
            settings.data_dir,
            settings=settings,
            seed=seed,
            progress=lambda n: bar.advance(task, n),
            outcome=learned,
        )
    if version is None:
        console.print(
            f"[yellow]not enough history to train[/yellow] (at least "
            f"{settings.risk_train_min_rows} postings needed): the rules keep deciding alone"
        )
        raise typer.Exit(1)
    console.print(f"risk model [bold]{version}[/bold] saved in {models_dir(settings)}")
    labels = Table("labels", "transactions", title="what analysts and customers said")
    labels.add_row("fraud (resolved fraud, customer reports)", f"{learned.fraud:,}")
    labels.add_row("false positive", f"{learned.false_positive:,}")
    labels.add_row("unquestioned (sampled as normal)", f"{learned.unquestioned:,}")
    console.print(labels)
    if learned.version is not None:
        console.print(f"supervised model [bold]{learned.version}[/bold] saved beside it")
    else:
        console.print(f"[yellow]no supervised model[/yellow]: {learned.reason}")
    console.print("the server loads the newest models when it starts")


@app.command("score")
def score_command(
    everything: Annotated[
        bool, typer.Option("--all", help="Rescore every transaction, not only unscored ones.")
    ] = False,
    rebuild_stats: Annotated[
        bool,
        typer.Option(
            "--rebuild-stats",
            help="Also rebuild the accounts' rolling statistics (run while nothing posts).",
        ),
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1, help="Transactions per write.")] = 2000,
) -> None:
    """Score transactions with the newest model; new scores raise alerts like live ones."""
    settings = get_settings()
    database = open_database()
    model = anomaly.load_newest(models_dir(settings), FEATURES)
    learned = supervised.load_for(models_dir(settings), model.version, FEATURES) if model else None
    scorer = Scorer(Params.from_settings(settings), model, learned)
    with database.read() as conn:
        total = training.scorable_count(conn)
    with _bar("scoring") as bar:
        task = bar.add_task("score", total=total)
        report = training.rescore(
            database,
            scorer,
            everything=everything,
            rebuild_stats=rebuild_stats,
            batch=batch_size,
            progress=lambda n: bar.advance(task, n),
        )
    table = Table(
        "verdict",
        "transactions",
        title=f"scored with {model.version if model else 'the rules alone'}",
    )
    for verdict, count in sorted(report.by_verdict.items()):
        table.add_row(verdict, f"{count:,}")
    console.print(table)
    console.print(
        f"{report.scanned:,} transactions replayed, {report.scored:,} scored "
        f"({report.newly_scored:,} for the first time)"
        + (f", statistics of {report.stats_rebuilt:,} accounts rebuilt" if rebuild_stats else "")
    )


@app.command("models")
def models_command() -> None:
    """The saved model versions, newest last."""
    settings = get_settings()
    table = Table("version", "postings", "history", "trees", title=str(models_dir(settings)))
    for path in anomaly.model_paths(models_dir(settings)):
        try:
            info = anomaly.load(path).info
        except Exception as exc:
            table.add_row(path.name, f"[red]unreadable: {exc}[/red]", "", "")
            continue
        table.add_row(
            str(info.get("version")),
            f"{info.get('postings', info.get('rows', 0)):,}",
            f"{_day(info.get('history_from'))} to {_day(info.get('history_to'))}",
            str(info.get("trees", "")),
        )
    console.print(table)


def _day(epoch: object) -> str:
    if not isinstance(epoch, int):
        return "?"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d")


sanctions_app = typer.Typer(
    help="Sanctions lists: import them, look a name up.", no_args_is_help=True
)


@sanctions_app.command("import")
def sanctions_import_command(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV: name, aliases, ...")
    ],
    list_name: Annotated[
        str, typer.Option("--list", help="The list's name; an import replaces its entries.")
    ] = "",
) -> None:
    """Import a sanctions list (CSV with name, aliases, date_of_birth, country, programme,
    reference); customers and new payees are screened against it from now on."""
    database = open_database()
    name = list_name or file.stem
    report = database.write(lambda conn: sanctions.import_list(conn, file, list_name=name))
    table = Table("list", "version", "entries", "aliases", title="sanctions list imported")
    table.add_row(
        report.list_name, str(report.list_id), f"{report.entries:,}", f"{report.aliases:,}"
    )
    console.print(table)


@sanctions_app.command("check")
def sanctions_check_command(
    name: Annotated[str, typer.Argument(help="A name to look up.")],
    date_of_birth: Annotated[str, typer.Option(help="YYYY-MM-DD, if known.")] = "",
) -> None:
    """Look a name up in the current sanctions lists (nothing is recorded)."""
    settings = get_settings()
    database = open_database()
    with database.read() as conn:
        index = sanctions.current_index(conn)
        matches = index.search(
            name, date_of_birth=date_of_birth or None, threshold=settings.risk_sanctions_threshold
        )
    table = Table("score", "listed name", "entry", "list", "born", "country", title=name)
    for match in matches:
        listed = match.listed
        table.add_row(
            f"{match.score:.0f}",
            listed.matched,
            listed.name if listed.name != listed.matched else "",
            f"{listed.list_name} {listed.reference or ''}".strip(),
            listed.date_of_birth or "",
            listed.country or "",
        )
    console.print(table)
    console.print(f"{len(matches)} match(es) among {len(index):,} listed names")
