"""The ledger benchmark: transfers posted through the posting engine by concurrent processes.

Each worker is a process with its own engine (threads would share one interpreter lock and
measure it instead of the database). Scenarios: single transfers, one per database
transaction, spread over many accounts (`uniform`) or crowded onto a few (`hot`), and batches
of transfers posted by `transfer_batch`, one batch per transaction. The benchmark works on its
own users and accounts (prefix `bench_`) and refuses a database holding anything else.
"""

from __future__ import annotations

import functools
import multiprocessing
import random
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from ledgerbank import errors
from ledgerbank.bench.report import Measurement
from ledgerbank.identity.service import create_user, find_user
from ledgerbank.identity.tables import users
from ledgerbank.kit.db import Database
from ledgerbank.ledger import posting
from ledgerbank.ledger.accounts import open_account
from ledgerbank.ledger.tables import accounts
from ledgerbank.migrations import is_current

BENCH_PREFIX = "bench_"
BENCH_OWNER = "bench_owner"
# Each bench account starts with this much: random transfers of at most 1.00 never drain it.
OPENING_BALANCE = "1000000.00"
_SETUP_CHUNK = 250


@dataclass(frozen=True)
class Scenario:
    name: str
    account_ids: Sequence[int]
    seconds: float
    batch_size: int = 1  # 1: `transfer`; more: `transfer_batch` of this many orders
    # Each worker keeps to its own share of the accounts, as batches from different clients
    # (payrolls of different companies) mostly do; shared, every batch would wait on the last.
    partitioned: bool = False


@dataclass
class WorkerResult:
    transfers: int = 0
    latencies: list[float] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0
    error: str | None = None


# --- the bench accounts ---------------------------------------------------------------------


def check_database(database: Database, *, force: bool) -> None:
    """Refuse an unmigrated database, and one with users other than the benchmark's own."""
    if not is_current(database.engine):
        raise errors.ServiceUnavailable("the database is not migrated: run `ledgerbank db upgrade`")
    with database.read() as conn:
        others = conn.execute(
            select(func.count())
            .select_from(users)
            .where(~users.c.username.startswith(BENCH_PREFIX, autoescape=True))
        ).scalar_one()
    if others and not force:
        raise errors.Conflict(
            f"the database holds {others} user(s) besides the benchmark's: point "
            "LEDGERBANK_DATABASE_URL at a database of its own, or pass --force"
        )


def bench_accounts(
    database: Database, count: int, *, progress: Callable[[int, int], None] | None = None
) -> list[int]:
    """The ids of `count` funded bench accounts, opening and funding the missing ones."""

    def owner(conn: Connection) -> int:
        found = find_user(conn, BENCH_OWNER)
        if found is not None:
            return int(found["id"])
        user = create_user(
            conn,
            username=BENCH_OWNER,
            password=secrets.token_urlsafe(24),  # nobody signs in as the benchmark
            email="bench_owner@example.com",
            full_name="Benchmark owner",
        )
        return int(user["id"])

    owner_id = database.write(owner)
    with database.read() as conn:
        ids = list(
            conn.execute(
                select(accounts.c.id)
                .where(accounts.c.owner_id == owner_id, accounts.c.currency == "USD")
                .order_by(accounts.c.id)
                .limit(count)
            ).scalars()
        )

    def open_funded(conn: Connection, how_many: int) -> list[int]:
        opened = []
        for _ in range(how_many):
            account_id = int(
                open_account(conn, owner_id=owner_id, account_type="checking", currency="USD")["id"]
            )
            posting.deposit(conn, account_id=account_id, amount=OPENING_BALANCE, actor_id=None)
            opened.append(account_id)
        return opened

    while len(ids) < count:
        missing = min(_SETUP_CHUNK, count - len(ids))
        ids += database.write(functools.partial(open_funded, how_many=missing))
        if progress is not None:
            progress(len(ids), count)
    return ids


# --- the workers ----------------------------------------------------------------------------


def _post_for(database: Database, scenario: Scenario, worker: int, workers: int) -> WorkerResult:
    """Post transfers until the scenario's time is up; latency is measured per transaction."""
    rng = random.Random(worker)
    ids = scenario.account_ids[worker::workers] if scenario.partitioned else scenario.account_ids
    result = WorkerResult(started=time.time())
    deadline = time.perf_counter() + scenario.seconds

    def amount() -> str:
        return f"0.{rng.randint(1, 99):02d}"

    while time.perf_counter() < deadline:
        work: Callable[[Connection], posting.Posting]
        if scenario.batch_size == 1:
            source, destination = rng.sample(ids, 2)
            work = functools.partial(
                posting.transfer,
                from_account_id=source,
                to_account_id=destination,
                amount=amount(),
                actor_id=None,
            )
        else:
            orders = []
            for _ in range(scenario.batch_size):
                source, destination = rng.sample(ids, 2)
                orders.append(posting.TransferOrder(source, destination, amount()))
            work = functools.partial(posting.transfer_batch, orders=orders, actor_id=None)
        started = time.perf_counter()
        database.write(work)
        result.latencies.append(time.perf_counter() - started)
        result.transfers += scenario.batch_size
    result.ended = time.time()
    return result


def worker_main(url: str, worker: int, workers: int, tasks: Any, results: Any, start: Any) -> None:
    """A worker process: its own engine; runs each scenario it is handed, after the others."""
    database = Database.from_url(url, pool_size=1)
    with database.read() as conn:  # connect before the clock starts
        conn.execute(select(1))
    while (scenario := tasks.get()) is not None:
        start.wait()
        try:
            results.put(_post_for(database, scenario, worker, workers))
        except Exception as exc:  # reported by the parent, which stops the run
            results.put(WorkerResult(error=f"{type(exc).__name__}: {exc}"))
    database.dispose()


class WorkerPool:
    """Worker processes started once and handed one scenario after another."""

    def __init__(self, url: str, workers: int) -> None:
        context = multiprocessing.get_context("spawn")  # no engine state inherited by fork
        self.workers = workers
        self.start = context.Barrier(workers + 1)
        self.results = context.Queue()
        self.tasks = [context.Queue() for _ in range(workers)]
        self.processes = [
            context.Process(
                target=worker_main,
                args=(url, index, workers, self.tasks[index], self.results, self.start),
                daemon=True,
            )
            for index in range(workers)
        ]
        for process in self.processes:
            process.start()

    def run(self, scenario: Scenario) -> Measurement:
        for queue in self.tasks:
            queue.put(scenario)
        self.start.wait(timeout=300)  # spawning and importing can take a while
        found = [self.results.get(timeout=scenario.seconds + 300) for _ in range(self.workers)]
        failed = [r.error for r in found if r.error]
        if failed:
            raise RuntimeError(f"a benchmark worker failed: {failed[0]}")
        return measurement(scenario, self.workers, found)

    def close(self) -> None:
        for queue in self.tasks:
            queue.put(None)
        for process in self.processes:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def measurement(scenario: Scenario, workers: int, found: Sequence[WorkerResult]) -> Measurement:
    """The scenario's figures over the window from the first worker's start to the last's end."""
    window = max(r.ended for r in found) - min(r.started for r in found)
    return Measurement(
        scenario=scenario.name,
        workers=workers,
        operations=sum(r.transfers for r in found),
        seconds=window,
        latencies=sorted(latency for r in found for latency in r.latencies),
    )


def run_in_process(database: Database, scenario: Scenario) -> Measurement:
    """Run a scenario in this process (one worker): what `--profile` looks at."""
    return measurement(scenario, 1, [_post_for(database, scenario, 0, 1)])
