"""The ledger benchmark: money requests through the money service, in-process, as a bank runs it.

Every transfer is a `MoneyRequest` handed to `ledger.money.MoneyService` exactly as the HTTP
routes hand it: a verified customer with a PIN, the PIN checked, daily limits checked (set high
enough not to refuse the load), an Idempotency-Key claimed and answered, the risk screen on,
group commit on. Only HTTP is left out. Each worker is a process with its own engine and
service (threads would share one interpreter lock); inside it, client threads submit requests
concurrently, so the service coalesces them as a server process would. Scenarios: single
transfers over many accounts (`uniform`) or a few (`hot`), and batches of transfers, one batch
per request. The benchmark works on its own users and accounts (prefix `bench_`) and refuses a
database holding anything else.
"""

from __future__ import annotations

import functools
import multiprocessing
import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select, update

from ledgerbank import errors
from ledgerbank.bench.report import Measurement
from ledgerbank.config import Settings, get_settings
from ledgerbank.identity import pins
from ledgerbank.identity.service import create_user, find_user
from ledgerbank.identity.tables import users
from ledgerbank.kit.db import Database
from ledgerbank.kit.keys import Keyring
from ledgerbank.ledger import idempotency, posting
from ledgerbank.ledger.accounts import open_account
from ledgerbank.ledger.limits import DailyLimits
from ledgerbank.ledger.money import Caller, MoneyRequest, MoneyService
from ledgerbank.ledger.orders import Batch, Transfer
from ledgerbank.ledger.tables import accounts
from ledgerbank.migrations import is_current

BENCH_PREFIX = "bench_"
CUSTOMER_PREFIX = "bench_c"
ACCOUNTS_PER_CUSTOMER = 10
# Each bench account starts with this much: random transfers of at most 1.00 never drain it.
OPENING_BALANCE = "1000000.00"
BENCH_PIN = "1357"
# Only bench customers sign in with it, on a database the benchmark refuses to share.
BENCH_PASSWORD = "bench-customer-passphrase"
# Only bench customers' PINs are hashed with it, on a database the benchmark refuses to share.
BENCH_PIN_KEYS = "bench:" + "k" * 40
# Limits high enough never to refuse the load; everything else as a bank runs it.
BENCH_LIMIT = "1000000000000.00"
_SETUP_CHUNK = 100


@dataclass(frozen=True)
class BenchAccount:
    account_id: int
    owner_id: int


@dataclass(frozen=True)
class Scenario:
    name: str
    accounts: Sequence[BenchAccount]
    seconds: float
    batch_size: int = 1  # 1: single transfers; more: one batch of this many per request
    # Each worker keeps to its own share of the accounts, as batches from different clients
    # (payrolls of different companies) mostly do; shared, every batch would wait on the last.
    partitioned: bool = False


@dataclass
class WorkerResult:
    transfers: int = 0
    latencies: list[float] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)  # requests answered other than 201
    groups: int = 0  # transactions the worker's service committed, and the requests in them
    grouped: int = 0
    started: float = 0.0
    ended: float = 0.0
    error: str | None = None


def bench_keyring() -> Keyring:
    return Keyring.parse(BENCH_PIN_KEYS, setting="the benchmark's PIN key")


def bench_settings(settings: Settings) -> Settings:
    """The settings a benchmark posts with: risk on, with the two thresholds widened that
    synthetic traffic (every account paying many others many times a minute) would trip."""
    return settings.model_copy(
        update={
            "risk_enabled": True,
            "risk_velocity_max_count": 10**9,
            "risk_fan_min_count": 10**9,
            "pin_keys": BENCH_PIN_KEYS,
            "limit_deposit_daily": BENCH_LIMIT,
            "limit_withdrawal_daily": BENCH_LIMIT,
            "limit_transfer_daily": BENCH_LIMIT,
        }
    )


# --- the bench customers and accounts --------------------------------------------------------


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


def bench_customer(conn: Connection, index: int) -> int:
    """The bench customer number `index` (made when missing): verified, with the bench PIN."""
    username = f"{CUSTOMER_PREFIX}{index:05d}"
    user = find_user(conn, username)
    if user is None:
        user = create_user(
            conn,
            username=username,
            password=BENCH_PASSWORD,
            email=f"{username}@bench.example",
            full_name=f"Bench customer {index}",
            kyc_status="verified",
        )
    user_id = int(user["id"])
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(pin_hash=pins.hash_pin(bench_keyring(), user_id, BENCH_PIN), failed_pins=0)
    )
    return user_id


def bench_accounts(
    database: Database,
    count: int,
    *,
    per_customer: int = ACCOUNTS_PER_CUSTOMER,
    progress: Callable[[int, int], None] | None = None,
) -> list[BenchAccount]:
    """`count` funded bench accounts, `per_customer` to a customer; missing ones made."""

    def chunk(conn: Connection, first: int, last: int) -> list[BenchAccount]:
        made = []
        for customer in range(first // per_customer, (last - 1) // per_customer + 1):
            owner_id = bench_customer(conn, customer)
            have = list(
                conn.execute(
                    select(accounts.c.id)
                    .where(accounts.c.owner_id == owner_id, accounts.c.currency == "USD")
                    .order_by(accounts.c.id)
                ).scalars()
            )
            wanted = min(per_customer, last - customer * per_customer)
            while len(have) < wanted:
                opened = open_account(
                    conn, owner_id=owner_id, account_type="checking", currency="USD"
                )
                posting.deposit(
                    conn, account_id=opened["id"], amount=OPENING_BALANCE, actor_id=None
                )
                have.append(int(opened["id"]))
            start = max(first - customer * per_customer, 0)
            made += [BenchAccount(int(i), owner_id) for i in have[start:wanted]]
        return made

    found: list[BenchAccount] = []
    while len(found) < count:
        last = min(count, len(found) + _SETUP_CHUNK)
        found += database.write(functools.partial(chunk, first=len(found), last=last))
        if progress is not None:
            progress(len(found), count)
    return found


# --- the workers ----------------------------------------------------------------------------


def money_service(database: Database, settings: Settings) -> MoneyService:
    """The service as the app builds it, with the benchmark's settings and group commit on."""
    from ledgerbank.risk.screen import build_screen  # the composition sits above both domains

    tuned = bench_settings(settings)
    screen = build_screen(tuned)
    service = MoneyService(
        database,
        lambda: screen,
        keyring=bench_keyring(),
        limits=DailyLimits.from_settings(tuned),
        max_major=Decimal(tuned.max_amount),
        pin_max_failures=tuned.pin_max_failures,
        pin_lock_minutes=tuned.pin_lock_minutes,
    )
    committers = tuned.group_commit_committers or (1 if database.dialect == "sqlite" else 4)
    service.start_group_commit(
        max_group=tuned.group_commit_max,
        window=tuned.group_commit_window_ms / 1000,
        committers=committers,
    )
    return service


def _request(
    rng: random.Random,
    scenario: Scenario,
    mine: Sequence[BenchAccount],
    pool: Sequence[BenchAccount],
    key: str,
) -> MoneyRequest:
    def amount() -> str:
        return f"0.{rng.randint(1, 99):02d}"

    if scenario.batch_size == 1:
        source, destination = rng.sample(pool, 2)
        order: Transfer | Batch = Transfer(source.account_id, destination.account_id, amount())
        owner = source.owner_id
    else:
        owner = mine[0].owner_id
        orders = []
        for _ in range(scenario.batch_size):
            source = rng.choice(mine)
            destination = rng.choice(pool)
            while destination.account_id == source.account_id:
                destination = rng.choice(pool)
            orders.append(
                posting.TransferOrder(source.account_id, destination.account_id, amount())
            )
        order = Batch(tuple(orders))
    return MoneyRequest(
        caller=Caller(owner, "customer"),
        order=order,
        pin=BENCH_PIN,
        key=key,
        fingerprint=idempotency.fingerprint("POST", f"/bench/{order.kind}", key),
    )


def _client(
    service: MoneyService,
    scenario: Scenario,
    pool: Sequence[BenchAccount],
    mine: Sequence[BenchAccount],
    seed: str,
    deadline: float,
    result: WorkerResult,
    lock: threading.Lock,
) -> None:
    rng = random.Random(seed)
    sequence = 0
    while time.perf_counter() < deadline:
        sequence += 1
        request = _request(rng, scenario, mine, pool, f"{seed}-{sequence}")
        started = time.perf_counter()
        answer = service.run(request)
        elapsed = time.perf_counter() - started
        with lock:
            result.latencies.append(elapsed)
            if answer.status == 201:
                result.transfers += scenario.batch_size
            else:
                result.refused[f"{answer.status} {answer.code}"] += 1


def _post_for(
    service: MoneyService, scenario: Scenario, worker: int, workers: int, clients: int
) -> WorkerResult:
    """Client threads submit requests until the scenario's time is up."""
    pool = scenario.accounts[worker::workers] if scenario.partitioned else scenario.accounts
    owners: dict[int, list[BenchAccount]] = {}
    for account in pool:
        owners.setdefault(account.owner_id, []).append(account)
    owned = [accounts for accounts in owners.values() if accounts]
    run = secrets.token_hex(4)
    result = WorkerResult(started=time.time())
    committer = service.committer
    groups_before = (committer.groups, committer.items) if committer else (0, 0)
    lock = threading.Lock()
    deadline = time.perf_counter() + scenario.seconds
    threads = [
        threading.Thread(
            target=_client,
            args=(
                service,
                scenario,
                pool,
                owned[index % len(owned)],
                f"{run}-{worker}-{index}",
                deadline,
                result,
                lock,
            ),
        )
        for index in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.ended = time.time()
    if committer:
        result.groups = committer.groups - groups_before[0]
        result.grouped = committer.items - groups_before[1]
    result.latencies.sort()
    return result


def worker_main(
    url: str, worker: int, workers: int, clients: int, tasks: Any, results: Any, start: Any
) -> None:
    """A worker process: its own engine and money service; runs each scenario it is handed."""
    database = Database.from_url(url, pool_size=clients + 4)
    service = money_service(database, get_settings())
    with database.read() as conn:  # connect before the clock starts
        conn.execute(select(1))
    while (scenario := tasks.get()) is not None:
        start.wait()
        try:
            results.put(_post_for(service, scenario, worker, workers, clients))
        except Exception as exc:  # reported by the parent, which stops the run
            results.put(WorkerResult(error=f"{type(exc).__name__}: {exc}"))
    service.close()
    database.dispose()


class WorkerPool:
    """Worker processes started once and handed one scenario after another."""

    def __init__(self, url: str, workers: int, clients: int) -> None:
        context = multiprocessing.get_context("spawn")  # no engine state inherited by fork
        self.workers = workers
        self.start = context.Barrier(workers + 1)
        self.results = context.Queue()
        self.tasks = [context.Queue() for _ in range(workers)]
        self.processes = [
            context.Process(
                target=worker_main,
                args=(url, index, workers, clients, self.tasks[index], self.results, self.start),
                daemon=True,
            )
            for index in range(workers)
        ]
        for process in self.processes:
            process.start()

    def run(self, scenario: Scenario) -> tuple[Measurement, Counter[str], float]:
        """The scenario's figures, the refusals by code, and the mean requests per commit."""
        for queue in self.tasks:
            queue.put(scenario)
        self.start.wait(timeout=300)  # spawning and importing can take a while
        found = [self.results.get(timeout=scenario.seconds + 300) for _ in range(self.workers)]
        failed = [r.error for r in found if r.error]
        if failed:
            raise RuntimeError(f"a benchmark worker failed: {failed[0]}")
        refused: Counter[str] = Counter()
        for r in found:
            refused.update(r.refused)
        groups = sum(r.groups for r in found)
        per_group = sum(r.grouped for r in found) / groups if groups else 0.0
        return measurement(scenario, self.workers, found), refused, per_group

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
    """The scenario's figures over the window from the first worker's start to the last's end;
    latency per request (a whole batch is one)."""
    window = max(r.ended for r in found) - min(r.started for r in found)
    return Measurement(
        scenario=scenario.name,
        workers=workers,
        operations=sum(r.transfers for r in found),
        seconds=window,
        latencies=sorted(latency for r in found for latency in r.latencies),
    )


def run_in_process(database: Database, scenario: Scenario, clients: int) -> Measurement:
    """Run a scenario in this process (one worker): what `--profile` looks at."""
    service = money_service(database, get_settings())
    try:
        return measurement(scenario, 1, [_post_for(service, scenario, 0, 1, clients)])
    finally:
        service.close()
