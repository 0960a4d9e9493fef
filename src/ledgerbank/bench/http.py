"""`ledgerbank bench http`: authenticated transfers through a real uvicorn server.

The benchmark migrates the database, creates its own customers (`bench_http_*`, each with one
funded account) through the services, starts `uvicorn ledgerbank.app:create_app` with the
configured number of workers, signs every customer in over HTTP, then drives
`POST /transactions/transfer` from client processes, each with many keep-alive connections,
every request with its own Idempotency-Key. After a warm-up it measures for a fixed time:
requests per second, latency percentiles, every status code, and the CPU the server, the
clients and the rest of the machine used. Afterwards the ledger must be sound and hold exactly
one transfer per 201 answered.

The bench customers are as a bank's: verified KYC, a transaction PIN sent with every transfer,
daily limits set high enough not to refuse the load. The risk screen runs on every transfer as
in production, with two thresholds widened for the server it starts: the synthetic traffic
(every account paying many others many times a minute) would otherwise trip `velocity_burst`
and `fan_in`/`fan_out` and be blocked. Refusals are answers too: they count in the rate and
are reported by problem code; only a 5xx, an error or an unsound ledger fails the run. On
PostgreSQL it measures pgbench-transfer (on SQLite a raw sqlite3 loop) in the same run and
prints each rate's ratio to it.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import math
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection, func, select

from ledgerbank.bench import cpu
from ledgerbank.bench import profile as profiling
from ledgerbank.bench.http_clients import ClientPool, ClientResult, Job, Sender
from ledgerbank.bench.ledger import (
    BENCH_LIMIT,
    BENCH_PASSWORD,
    BENCH_PIN,
    BENCH_PIN_KEYS,
    OPENING_BALANCE,
    bench_customer,
    check_database,
)
from ledgerbank.bench.reference import Reference
from ledgerbank.bench.reference import measure as measure_reference
from ledgerbank.bench.report import Measurement, results_table
from ledgerbank.bench.server import Server, running_server
from ledgerbank.config import get_settings
from ledgerbank.identity import passwords
from ledgerbank.identity.service import get_user
from ledgerbank.kit.db import Database
from ledgerbank.ledger import integrity, posting
from ledgerbank.ledger.accounts import open_account
from ledgerbank.ledger.tables import accounts, transactions
from ledgerbank.migrations import upgrade

console = Console()
# What the started server is told besides the database (see the module docstring).
SERVER_ENV = {
    "LEDGERBANK_RISK_ENABLED": "true",
    "LEDGERBANK_RISK_VELOCITY_MAX_COUNT": str(10**9),
    "LEDGERBANK_RISK_FAN_MIN_COUNT": str(10**9),
    "LEDGERBANK_PIN_KEYS": BENCH_PIN_KEYS,
    "LEDGERBANK_LIMIT_TRANSFER_DAILY": BENCH_LIMIT,
    "LEDGERBANK_LIMIT_WITHDRAWAL_DAILY": BENCH_LIMIT,
    "LEDGERBANK_LIMIT_DEPOSIT_DAILY": BENCH_LIMIT,
}


class ClientKind(enum.StrEnum):
    RAW = "raw"
    HTTPX = "httpx"


@dataclass(frozen=True)
class Customer:
    username: str
    account_ids: tuple[int, ...]


@dataclass(frozen=True)
class CpuSplit:
    """Cores busy on average over the measured window."""

    server: float
    clients: float
    database: float | None  # a local PostgreSQL/MariaDB's processes (SQLite: in the server)
    others: float | None  # everything else busy on the machine
    machine_cores: int | None


@dataclass(frozen=True)
class LevelResult:
    measurement: Measurement
    statuses: collections.Counter[str]
    examples: dict[str, str]
    cpu: CpuSplit
    created: int  # 201s over the whole scenario, warm-up included


# --- the customers --------------------------------------------------------------------------


def bench_customers(
    database: Database,
    count: int,
    accounts_each: int = 1,
    *,
    progress: Callable[[int], None] | None = None,
) -> list[Customer]:
    """`count` bench customers with `accounts_each` funded USD accounts; missing ones made."""

    def one(conn: Connection, index: int) -> Customer:
        user_id = bench_customer(conn, index)
        user = get_user(conn, user_id)
        ids = list(
            conn.execute(
                select(accounts.c.id)
                .where(accounts.c.owner_id == user["id"], accounts.c.currency == "USD")
                .order_by(accounts.c.id)
                .limit(accounts_each)
            ).scalars()
        )
        while len(ids) < accounts_each:
            opened = open_account(
                conn, owner_id=user["id"], account_type="checking", currency="USD"
            )
            posting.deposit(conn, account_id=opened["id"], amount=OPENING_BALANCE, actor_id=None)
            ids.append(int(opened["id"]))
        return Customer(str(user["username"]), tuple(int(i) for i in ids))

    found = []
    for index in range(count):
        found.append(database.write(lambda conn, i=index: one(conn, i)))  # type: ignore[misc]
        if progress is not None:
            progress(index + 1)
    return found


async def _sign_in_all(base_url: str, customers: Sequence[Customer]) -> list[Sender]:
    """One sender per account: the owner's token and the account."""
    limit = asyncio.Semaphore(8)  # argon2 is slow by design: a few at a time

    async def one(client: httpx.AsyncClient, customer: Customer) -> list[Sender]:
        async with limit:
            answer = await client.post(
                "/auth/login",
                json={"username": customer.username, "password": BENCH_PASSWORD},
            )
        if answer.status_code != 200:
            raise RuntimeError(
                f"signing in {customer.username}: {answer.status_code} {answer.text}"
            )
        token = str(answer.json()["access_token"])
        return [Sender(token, account_id, BENCH_PIN) for account_id in customer.account_ids]

    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        signed_in = await asyncio.gather(*(one(client, c) for c in customers))
    return [sender for senders in signed_in for sender in senders]


def sign_in(base_url: str, customers: Sequence[Customer]) -> list[Sender]:
    """Every customer signed in over HTTP: a (token, account) sender per account."""
    return asyncio.run(_sign_in_all(base_url, customers))


# --- one scenario -------------------------------------------------------------------------


def _spread(total: int, parts: int) -> list[int]:
    """`total` concurrent senders over `parts` processes, as evenly as possible."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def run_scenario(
    pool: ClientPool,
    server: Server,
    senders: Sequence[Sender],
    *,
    concurrency: int,
    warmup: float,
    seconds: float,
    workers: int,
    client: str = "raw",
    profile_to: Path | None = None,
) -> LevelResult:
    """Drive transfers with `concurrency` connections; the measured window's figures.

    With `profile_to`, py-spy samples the server during the measured window.
    """
    run_id = secrets.token_hex(6)
    destinations = [sender.account_id for sender in senders]
    start_at = time.time() + 1.0
    measure_from = start_at + warmup
    measure_until = measure_from + seconds
    shares = [share for share in _spread(concurrency, len(pool)) if share]
    jobs = [
        Job(
            base_url=server.url,
            run_id=run_id,
            process_index=index,
            concurrency=share,
            # Each process sends as its own slice of the customers (all, when too few).
            senders=senders[index :: len(shares)] if len(senders) >= 2 * len(shares) else senders,
            destinations=destinations,
            start_at=start_at,
            measure_from=measure_from,
            measure_until=measure_until,
            client=client,
        )
        for index, share in enumerate(shares)
    ]
    handed = _Handed(pool, jobs)
    server_cpu, database_cpu, machine = _cpu_window(
        server.pid, measure_from, measure_until, profile_to=profile_to
    )
    found = handed.results()
    statuses: collections.Counter[str] = collections.Counter()
    examples: dict[str, str] = {}
    for result in found:
        statuses.update(result.statuses)
        examples.update(result.examples)
    latencies = sorted(latency for result in found for latency in result.latencies)
    clients = sum(result.cpu_seconds for result in found) / seconds
    others = None
    if machine is not None and server_cpu is not None:
        others = max(0.0, machine.busy / seconds - server_cpu - clients - (database_cpu or 0))
    return LevelResult(
        measurement=Measurement(
            scenario=f"transfer, {concurrency} connection{'s' if concurrency > 1 else ''}",
            workers=workers,
            operations=len(latencies),
            seconds=seconds,
            latencies=latencies,
            unit="requests",
        ),
        statuses=statuses,
        examples=examples,
        cpu=CpuSplit(
            server=server_cpu if server_cpu is not None else math.nan,
            clients=clients,
            database=database_cpu,
            others=others,
            machine_cores=machine.cores if machine else None,
        ),
        created=sum(result.created for result in found),
    )


class _Handed:
    """Jobs handed to the pool in the background, so this process can watch the clock."""

    def __init__(self, pool: ClientPool, jobs: list[Job]) -> None:
        self._found: list[ClientResult] = []
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._found = pool.run(jobs)
            except BaseException as exc:  # re-raised in results()
                self._error = exc

        self._thread = threading.Thread(target=run, name="bench-clients", daemon=True)
        self._thread.start()

    def results(self) -> list[ClientResult]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._found


def _cpu_window(
    server_pid: int, start: float, end: float, *, profile_to: Path | None = None
) -> tuple[float | None, float | None, cpu.MachineCpu | None]:
    """Average busy cores of the server tree and of the local database server, and the
    machine's busy CPU seconds, over [start, end]."""
    time.sleep(max(0.0, start - time.time()))
    spy = profiling.sample(server_pid, end - start, profile_to) if profile_to else None
    server_before, machine_before = cpu.tree_cpu_seconds(server_pid), cpu.machine_cpu()
    database_before = cpu.named_cpu_seconds()
    time.sleep(max(0.0, end - time.time()))
    server_after, machine_after = cpu.tree_cpu_seconds(server_pid), cpu.machine_cpu()
    database_after = cpu.named_cpu_seconds()
    if spy is not None:
        _, problems = spy.communicate(timeout=120)
        if spy.returncode != 0:
            console.print(f"[red]py-spy failed[/red]: {problems.decode(errors='replace')}")
    seconds = end - start
    server = database = None
    if server_before is not None and server_after is not None:
        server = (server_after - server_before) / seconds
    if database_before is not None and database_after is not None:
        # A backend that exits inside the window takes its CPU time with it: a lower bound.
        database = max(0.0, database_after - database_before) / seconds
    machine = None
    if machine_before is not None and machine_after is not None:
        machine = cpu.MachineCpu(machine_after.busy - machine_before.busy, machine_after.cores)
    return server, database, machine


# --- checks ---------------------------------------------------------------------------------


def transfer_count(database: Database) -> int:
    with database.read() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(transactions)
                .where(transactions.c.type == "transfer", transactions.c.status == "posted")
            ).scalar_one()
        )


def ledger_violations(database: Database) -> list[object]:
    with database.read() as conn:
        return list(integrity.violations(conn, limit=10))


def prepare_database(url: str, *, force: bool) -> Database:
    """The benchmark's database, migrated, refused when it holds anyone else's users."""
    database = Database.from_url(url, pool_size=2)
    upgrade(database.engine)
    check_database(database, force=force)
    return database


def server_env(url: str, jwt_secret: str, data_dir: Path | None) -> dict[str, str]:
    """The started server's settings: this database, one signing secret for every worker."""
    env = {**SERVER_ENV, "LEDGERBANK_DATABASE_URL": url, "LEDGERBANK_JWT_SECRET": jwt_secret}
    if data_dir is not None:
        env["LEDGERBANK_DATA_DIR"] = str(data_dir)
    return env


# --- the command ----------------------------------------------------------------------------


def http_bench_command(
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes.")] = 1,
    clients: Annotated[
        list[int] | None,
        typer.Option(
            "--clients",
            min=1,
            help="Concurrent connections; repeat for several levels (default 32).",
        ),
    ] = None,
    client: Annotated[
        ClientKind,
        typer.Option(help="raw: a minimal HTTP/1.1 client (cheap); httpx: AsyncClient (costly)."),
    ] = ClientKind.RAW,
    client_processes: Annotated[
        int, typer.Option(min=1, help="Processes the connections are spread over.")
    ] = 1,
    seconds: Annotated[float, typer.Option(min=0.1, help="Measured time per level.")] = 10.0,
    warmup: Annotated[float, typer.Option(min=0.0, help="Unmeasured time before each.")] = 3.0,
    customers: Annotated[int, typer.Option(min=1, help="Bench customers (each signs in).")] = 100,
    accounts_each: Annotated[
        int, typer.Option("--accounts-per-customer", min=1, help="Funded accounts of each.")
    ] = 10,
    database_url: Annotated[
        str, typer.Option(help="Database to run on (default: LEDGERBANK_DATABASE_URL).")
    ] = "",
    force: Annotated[
        bool, typer.Option("--force", help="Run even on a database with non-benchmark users.")
    ] = False,
    verify: Annotated[bool, typer.Option(help="Check the ledger afterwards.")] = True,
    reference: Annotated[
        bool,
        typer.Option(
            help="Also measure the reference (pgbench-transfer on PostgreSQL, a raw sqlite3 "
            "loop on SQLite) and print each rate's ratio to it."
        ),
    ] = True,
    profile: Annotated[
        Path | None,
        typer.Option(
            help="Sample the server with py-spy during the first level's measured window; "
            "write its folded stacks here."
        ),
    ] = None,
) -> None:
    """Authenticated transfers over HTTP through a real uvicorn server."""
    if customers * accounts_each < 2:
        raise typer.BadParameter("needs at least two accounts in all", param_hint="--customers")
    settings = get_settings()
    passwords.configure(  # the customers' passwords hashed as the server would hash them
        time_cost=settings.password_hash_time_cost,
        memory_kib=settings.password_hash_memory_kib,
        parallelism=settings.password_hash_parallelism,
    )
    url = database_url or settings.resolved_database_url
    levels = clients or [32]
    logs = Path(tempfile.mkdtemp(prefix="ledgerbank-bench-http-"))
    database = prepare_database(url, force=force)
    try:
        with console.status("creating and funding the bench customers") as status:
            people = bench_customers(
                database,
                customers,
                accounts_each,
                progress=lambda done: status.update(f"bench customers: {done}/{customers}"),
            )
        transfers_before = transfer_count(database)
        found = None
        if reference:
            with console.status("measuring the reference"):
                found = measure_reference(url, clients=max(levels), seconds=seconds)
            if found is not None:
                console.print(
                    f"reference: {found.name} {found.rate:,.0f} transfers/s ({found.detail})"
                )
        env = server_env(url, settings.jwt_secret or secrets.token_urlsafe(32), None)
        load_before = cpu.load_average()
        outcomes: list[LevelResult] = []
        console.print(f"starting uvicorn with {workers} worker(s); its log: {logs / 'server.log'}")
        with running_server(env, log_path=logs / "server.log", workers=workers) as server:
            senders = sign_in(server.url, people)
            with ClientPool(min(client_processes, max(levels))) as pool:
                for level_index, level in enumerate(levels):
                    console.print(
                        f"{level} connection(s) from {len(pool)} {client.value} client "
                        f"process(es): {warmup:g}s warm-up, {seconds:g}s measured"
                    )
                    outcomes.append(
                        run_scenario(
                            pool,
                            server,
                            senders,
                            concurrency=level,
                            warmup=warmup,
                            seconds=seconds,
                            workers=workers,
                            client=client.value,
                            # the first level only: one profile, of one load
                            profile_to=profile if level_index == 0 else None,
                        )
                    )
        _print_results(database.dialect, outcomes, client_processes, load_before, logs, found)
        if profile is not None:
            _print_profile(profile)
        created = sum(outcome.created for outcome in outcomes)
        sound = _check(database, transfers_before, created) if verify else True
        failed = sum(
            count
            for o in outcomes
            for status, count in o.statuses.items()
            if not status[:1].isdigit() or status.startswith("5")
        )
        if failed or not sound:
            raise typer.Exit(1)
    finally:
        database.dispose()


def _cores(value: float | None) -> str:
    return "?" if value is None or math.isnan(value) else f"{value:.2f}"


def _print_results(
    dialect: str,
    outcomes: Sequence[LevelResult],
    client_processes: int,
    load_before: tuple[float, float, float] | None,
    logs: Path,
    found: Reference | None,
) -> None:
    measurements = [outcome.measurement for outcome in outcomes]
    console.print(
        results_table(
            f"HTTP transfer benchmark on {dialect}",
            measurements,
            caption="latency: per request, as the client saw it (closed loop); every answer "
            "counts, refusals included",
            reference=(found.name, found.rate) if found else None,
        )
    )
    statuses = Table("scenario", "status", "answers", title="status codes (measured window)")
    for outcome in outcomes:
        for status, count in sorted(outcome.statuses.items()):
            shown = status if status == "201" else f"[red]{status}[/red]"
            statuses.add_row(outcome.measurement.scenario, shown, f"{count:,}")
    console.print(statuses)
    for outcome in outcomes:
        for status, body in outcome.examples.items():
            console.print(f"[red]{status}[/red] for example: {body}")
    split = Table(
        "scenario",
        "server cores",
        "client cores",
        "database cores",
        "others",
        "machine cores",
        "CPU ms per request",
        title=f"CPU during the measured window ({client_processes} client process(es))",
        caption="database: local postgres/mariadbd processes (a lower bound: backends that "
        "exit take their CPU time with them); others: whatever else runs here; CPU per "
        "request: server + database",
    )
    for outcome in outcomes:
        rate = outcome.measurement.rate
        busy = outcome.cpu.server + (outcome.cpu.database or 0.0)
        split.add_row(
            outcome.measurement.scenario,
            _cores(outcome.cpu.server),
            _cores(outcome.cpu.clients),
            _cores(outcome.cpu.database),
            _cores(outcome.cpu.others),
            str(outcome.cpu.machine_cores or "?"),
            f"{1000 * busy / rate:.1f}" if rate and not math.isnan(busy) else "?",
        )
    console.print(split)
    load_after = cpu.load_average()
    if load_before is not None and load_after is not None:
        console.print(
            f"load average before: {load_before[0]:.2f}, after: {load_after[0]:.2f} "
            f"(1 min); server log: {logs / 'server.log'}"
        )


def _print_profile(path: Path) -> None:
    if not path.exists():
        console.print(f"[red]no profile was written to {path}[/red]")
        return
    found = profiling.summarize(path)
    if not found.request:
        console.print(f"the profile at {path} holds no request samples")
        return
    table = Table(
        "component",
        "% of request time",
        "of which in the DB driver",
        title=f"server profile: {found.request:,} samples of threads serving requests "
        f"(audit sealer: {found.background:,})",
        caption="innermost ledgerbank component on each sampled stack (py-spy --idle)",
    )
    for name, count in found.by_component.most_common():
        table.add_row(
            name,
            f"{100 * count / found.request:.1f}",
            f"{100 * found.in_driver[name] / found.request:.1f}",
        )
    console.print(table)
    functions = Table("ledgerbank function (inclusive)", "% of request time")
    for name, count in found.functions.most_common(20):
        functions.add_row(name, f"{100 * count / found.request:.1f}")
    console.print(functions)
    console.print(f"folded stacks: {path} (speedscope.app or flamegraph.pl read them)")


def _check(database: Database, transfers_before: int, created: int) -> bool:
    """The ledger is sound and holds exactly one posted transfer per 201 answered."""
    violations = ledger_violations(database)
    posted = transfer_count(database) - transfers_before
    if violations:
        console.print(f"[red]ledger NOT sound after the benchmark[/red]: {violations}")
    if posted != created:
        console.print(f"[red]{posted:,} transfers posted, but {created:,} answered 201[/red]")
    if violations or posted != created:
        return False
    console.print(
        f"[green]ledger sound[/green] after the benchmark; {posted:,} transfers posted, one per 201"
    )
    return True
