"""`ledgerbank risk evaluate` and `ledgerbank ask --evaluate`: the risk screen and LedgerGPT
measured on generated banks with known answers."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ledgerbank import errors
from ledgerbank.config import get_settings
from ledgerbank.demo.service import has_users
from ledgerbank.evaluation import ledgergpt as evaluation
from ledgerbank.evaluation.risk import Evaluation, Typology, evaluate
from ledgerbank.kit.db import Database
from ledgerbank.migrations import upgrade

console = Console()


def risk_evaluate_command(
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
    return (
        f"{typology.cases_caught:.0%} / {typology.transactions_caught:.0%}"
        f" / {typology.visible_caught:.0%}"
    )


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
    if result.labels:
        console.print(
            "labels of the training period: "
            + ", ".join(f"{name} {count:,}" for name, count in result.labels.items())
        )
    detail = Table(
        "typology",
        "cases",
        "transactions",
        "visible",
        title="caught at each method's own alert threshold: cases / transactions / "
        "transactions from the point the pattern shows",
    )
    for m in result.methods:
        detail.add_column(m.name.split(" (")[0])
    typologies = result.methods[0].typologies
    for name, base in typologies.items():
        detail.add_row(
            name,
            str(base.cases),
            str(base.transactions),
            str(base.visible),
            *(_caught(m.typologies[name]) for m in result.methods),
        )
    console.print(detail)


def _print_outcome(outcome: evaluation.CaseResult) -> None:
    mark = "ok " if outcome.correct else "BAD"
    console.print(f"{mark} {outcome.milliseconds:6.1f} ms  {outcome.case.question}")


def ledgergpt_evaluation(database_url: str, *, verbose: bool, questions: str = "all") -> None:
    """Build the evaluation bank, ask every question of the chosen sets, print accuracy and
    latency per set."""
    settings = get_settings()
    names = list(evaluation.QUESTION_SETS) if questions == "all" else [questions]
    reports: dict[str, evaluation.Report] = {}
    with tempfile.TemporaryDirectory(prefix="ledgergpt-eval-") as scratch:
        url = database_url or f"sqlite:///{Path(scratch) / 'evaluation.db'}"
        database = Database.from_url(url)
        try:
            upgrade(database.engine)
            with database.read() as conn:
                if has_users(conn):
                    raise errors.Conflict("the evaluation needs an empty database")
            console.print(f"loading the evaluation bank into {database.dialect} …")
            evaluation.build_bank(database, settings)
            dialect = database.dialect
            for name in names:
                reports[name] = evaluation.evaluate(
                    database,
                    settings,
                    cases=evaluation.QUESTION_SETS[name],
                    progress=_print_outcome if verbose else None,
                )
        finally:
            database.dispose()
    summary = Table(
        "questions",
        "cases",
        "execution accuracy",
        "p50 ms",
        "p95 ms",
        "p95 ms with audit",
        title=f"LedgerGPT on {dialect}",
    )
    for name, report in reports.items():
        for outcome in report.failures:
            console.print(
                f"[red]wrong[/red] ({name}) {outcome.case.question}\n      {outcome.detail[:500]}"
            )
        summary.add_row(
            name,
            str(len(report.outcomes)),
            f"{report.accuracy:.1%}",
            f"{report.percentile(0.50):.1f}",
            f"{report.percentile(0.95):.1f}",
            f"{report.percentile(0.95, total=True):.1f}",
        )
    console.print(summary)
    if any(report.accuracy < 0.9 for report in reports.values()):
        raise typer.Exit(1)
