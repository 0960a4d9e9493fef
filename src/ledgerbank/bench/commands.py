"""`ledgerbank bench ...`: the benchmarks, printing throughput and latency percentiles.

Each benchmark is a subcommand of this group. Another domain adds its own with one line here,
`app.command("http")(http_bench_command)`, and can print its figures with
`ledgerbank.bench.report` (`Measurement`, `results_table`). `ledgerbank bench` alone lists the
benchmarks and runs the ledger one with its defaults.
"""

from __future__ import annotations

import cProfile
import pstats
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ledgerbank.bench import ledger
from ledgerbank.bench.events import events_bench_command
from ledgerbank.bench.http import http_bench_command
from ledgerbank.bench.reference import Reference
from ledgerbank.bench.reference import measure as measure_reference
from ledgerbank.bench.report import Measurement, results_table
from ledgerbank.bench.reports import reports_bench_command
from ledgerbank.bench.risk import risk_bench_command
from ledgerbank.config import get_settings
from ledgerbank.kit.db import Database
from ledgerbank.ledger import integrity

app = typer.Typer(help="Benchmarks: throughput and latency percentiles.")
console = Console()
app.command("reports")(reports_bench_command)
app.command("risk")(risk_bench_command)
app.command("http")(http_bench_command)
app.command("events")(events_bench_command)


@app.callback(invoke_without_command=True)
def bench(context: typer.Context) -> None:
    """Run `ledgerbank bench <name> --help` for a benchmark's options."""
    if context.invoked_subcommand is not None:
        return
    listing = Table("benchmark", "what it measures", title="benchmarks")
    for command in app.registered_commands:
        doc = (command.callback.__doc__ or "").strip().splitlines() if command.callback else []
        listing.add_row(f"ledgerbank bench {command.name}", doc[0] if doc else "")
    console.print(listing)
    console.print("running `ledgerbank bench ledger` with its defaults\n")
    ledger_command()


@app.command("ledger")
def ledger_command(
    workers: Annotated[int, typer.Option(min=1, help="Worker processes posting.")] = 2,
    clients: Annotated[
        int, typer.Option(min=1, help="Client threads per worker submitting requests.")
    ] = 16,
    seconds: Annotated[float, typer.Option(min=0.1, help="Duration of each scenario.")] = 10.0,
    accounts: Annotated[
        int, typer.Option(min=2, help="Accounts of the uniform traffic (and of the batches).")
    ] = 1000,
    hot: Annotated[int, typer.Option(min=2, help="Accounts of the hot traffic.")] = 10,
    batch_size: Annotated[int, typer.Option(min=1, help="Transfers per batch.")] = 1000,
    database_url: Annotated[
        str, typer.Option(help="Database to run on (default: LEDGERBANK_DATABASE_URL).")
    ] = "",
    force: Annotated[
        bool, typer.Option("--force", help="Run even on a database with non-benchmark users.")
    ] = False,
    reference: Annotated[
        bool,
        typer.Option(
            help="Also measure the reference (pgbench-transfer on PostgreSQL, a raw sqlite3 "
            "loop on SQLite) and print each rate's ratio to it."
        ),
    ] = True,
    verify: Annotated[bool, typer.Option(help="Check the ledger's invariants afterwards.")] = True,
    profile: Annotated[
        Path | None,
        typer.Option(help="Also profile single transfers in-process; write pstats here."),
    ] = None,
) -> None:
    """Money requests through the money service in-process: single transfers, batches."""
    per_worker = ledger.ACCOUNTS_PER_CUSTOMER * workers
    if accounts < per_worker:
        raise typer.BadParameter(
            f"needs at least {per_worker} accounts (a customer's worth per worker)",
            param_hint="--accounts",
        )
    url = database_url or get_settings().resolved_database_url
    database = Database.from_url(url, pool_size=2)
    try:
        ledger.check_database(database, force=force)
        with console.status("opening and funding the benchmark accounts") as status:
            opened = ledger.bench_accounts(
                database,
                max(accounts, hot),
                progress=lambda done, total: status.update(f"bench accounts: {done}/{total}"),
            )
        scenarios = [
            ledger.Scenario(f"single, {accounts:,} accounts", opened[:accounts], seconds),
            ledger.Scenario(f"single, {hot:,} hot accounts", opened[:hot], seconds),
            ledger.Scenario(
                f"batch of {batch_size:,}, {accounts // workers:,} accounts/worker",
                opened[:accounts],
                seconds,
                batch_size,
                partitioned=True,
            ),
        ]
        found = None
        if reference:
            with console.status("measuring the reference"):
                found = measure_reference(url, clients=workers * clients, seconds=seconds)
            _print_reference(found, database.dialect)
        results: list[Measurement] = []
        details = Table("scenario", "requests per commit", "refused (by code)")
        with ledger.WorkerPool(url, workers, clients) as pool:
            for scenario in scenarios:
                with console.status(f"{scenario.name}: {workers} workers × {clients} clients"):
                    measured, refused, per_group = pool.run(scenario)
                results.append(measured)
                shown = ", ".join(f"{code}: {n:,}" for code, n in refused.most_common()) or "none"
                details.add_row(scenario.name, f"{per_group:.1f}", shown)
        console.print(
            results_table(
                f"ledger benchmark on {database.dialect}: money service in-process, "
                f"{workers} workers × {clients} client threads",
                results,
                caption="PINs set, KYC verified, Idempotency-Keys, risk screen on, group "
                "commit; latency per request (a batch is one)",
                reference=(found.name, found.rate) if found else None,
            )
        )
        console.print(details)
        if profile is not None:
            _profile(database, scenarios[0], profile, clients)
        if verify:
            _verify(database)
    finally:
        database.dispose()


def _print_reference(found: Reference | None, dialect: str) -> None:
    if found is None:
        console.print(f"no reference on {dialect} (pgbench missing, or not PostgreSQL/SQLite)")
        return
    console.print(f"reference: {found.name} {found.rate:,.0f} transfers/s ({found.detail})")


def _profile(database: Database, scenario: ledger.Scenario, path: Path, clients: int) -> None:
    profiler = cProfile.Profile()
    measured = profiler.runcall(ledger.run_in_process, database, scenario, clients)
    profiler.dump_stats(path)
    console.print(
        f"profiled {measured.operations:,} single transfers in-process "
        f"({measured.rate:,.0f}/s under the profiler); stats written to {path}"
    )
    stats = pstats.Stats(str(path))
    stats.sort_stats(pstats.SortKey.CUMULATIVE).print_stats(r"ledgerbank", 20)
    stats.sort_stats(pstats.SortKey.TIME).print_stats(15)  # where the time is spent, any code


def _verify(database: Database) -> None:
    with console.status("checking the ledger's invariants"), database.read() as conn:
        found = integrity.violations(conn, limit=10)
    if found:
        console.print(f"[red]ledger NOT sound after the benchmark[/red]: {found}")
        raise typer.Exit(1)
    console.print("[green]ledger sound[/green] after the benchmark")
