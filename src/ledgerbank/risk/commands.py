"""`ledgerbank risk ...`: train and version the model, (re)score history, measure the screen."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ledgerbank.config import get_settings
from ledgerbank.kit.commands import open_database
from ledgerbank.risk import model as anomaly
from ledgerbank.risk import training
from ledgerbank.risk.evaluate import Evaluation, Typology, evaluate
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
    """Train an Isolation Forest on the bank's history and save it as a new version."""
    settings = get_settings()
    database = open_database()
    with database.read() as conn:
        total = training.scorable_count(conn)
    with _bar("replaying history") as bar:
        task = bar.add_task("train", total=total)
        version = training.train_model(
            database,
            settings.data_dir,
            settings=settings,
            seed=seed,
            progress=lambda n: bar.advance(task, n),
        )
    if version is None:
        console.print(
            f"[yellow]not enough history to train[/yellow] (at least "
            f"{settings.risk_train_min_rows} postings needed): the rules keep deciding alone"
        )
        raise typer.Exit(1)
    console.print(f"risk model [bold]{version}[/bold] saved in {models_dir(settings)}")
    console.print("the server loads the newest model when it starts")


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
    scorer = Scorer(Params.from_settings(settings), model)
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


@app.command("evaluate")
def evaluate_command(
    seed: Annotated[int, typer.Option(help="Seed of the generated bank.")] = 7,
    customers: Annotated[int, typer.Option(min=50, help="Customers of the generated bank.")] = 1500,
    train_days: Annotated[int, typer.Option(min=14, help="Days of the training period.")] = 90,
    test_days: Annotated[int, typer.Option(min=7, help="Days of the test period after it.")] = 30,
    cases_per_month: Annotated[
        int, typer.Option(min=1, help="Injected cases of each typology per 30 days.")
    ] = 15,
) -> None:
    """Train on one period of a labelled synthetic bank, score the next, compare methods."""
    with console.status("generating the bank, replaying it, training and scoring"):
        result = evaluate(
            get_settings(),
            seed=seed,
            customers=customers,
            train_days=train_days,
            test_days=test_days,
            cases_per_month=cases_per_month,
        )
    print_evaluation(result)


def _caught(typology: Typology) -> str:
    return f"{typology.cases_caught:.0%} / {typology.transactions_caught:.0%}"


def print_evaluation(result: Evaluation) -> None:
    console.print(
        f"seed {result.seed}: {result.customers:,} customers, "
        f"{result.train_transactions:,} training and {result.test_transactions:,} test "
        f"transactions ({result.test_positives:,} of them injected)"
    )
    summary = Table("method", "PR-AUC", "recall @ 1% alerts", "alerts on normal", "blocked normal")
    for m in result.methods:
        summary.add_row(
            m.name,
            f"{m.pr_auc:.3f}",
            f"{m.recall_at_1pct:.1%}",
            f"{m.alert_rate_normal:.2%}",
            "" if m.block_rate_normal is None else f"{m.block_rate_normal:.3%}",
        )
    console.print(summary)
    detail = Table(
        "typology",
        "cases",
        "transactions",
        title="caught at each method's own alert threshold: cases / transactions",
    )
    for m in result.methods:
        detail.add_column(m.name.split(" (")[0])
    typologies = result.methods[0].typologies
    for name, base in typologies.items():
        detail.add_row(
            name,
            str(base.cases),
            str(base.transactions),
            *(_caught(m.typologies[name]) for m in result.methods),
        )
    console.print(detail)
