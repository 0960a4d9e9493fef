"""`ledgerbank bench events`: what the outbox costs a posting, and how fast events leave.

1. The added cost per posting of the outbox rows: single transfers through the money service
   in-process (group commit on, risk screening on, PINs), once without the outbox rows and
   once with them; the difference in time per posting.
2. Commit to broker: the events those postings committed, published to NATS JetStream
   (`LEDGERBANK_EVENTS_URL` or `--events-url`), every acknowledgement awaited, marked
   published; events per second.
3. To a webhook receiver: the same events delivered, signed, to a receiver on 127.0.0.1 (a real
   HTTP server); deliveries per second.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select, update

from ledgerbank.bench import ledger
from ledgerbank.bench.receiver import Receiver
from ledgerbank.config import get_settings
from ledgerbank.events import outbox
from ledgerbank.events.addresses import Allowed
from ledgerbank.events.broker import Broker
from ledgerbank.events.delivery import Deliverer
from ledgerbank.events.publisher import Publisher
from ledgerbank.events.tables import events, webhook_deliveries, webhooks
from ledgerbank.events.webhooks import register
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.ledger import posting

console = Console()
LOCAL = Allowed.parse("127.0.0.1/32")


@contextmanager
def _without_outbox() -> Iterator[None]:
    """Postings as they were before the outbox: no event rows (the benchmark's baseline)."""
    names = vars(posting)
    original = names["posting_events"]
    names["posting_events"] = lambda *args: []
    try:
        yield
    finally:
        names["posting_events"] = original


def outbox_cost_per_posting(database: Database, *, group: int = 64, rounds: int = 20) -> float:
    """Microseconds per transfer of what the outbox adds to a group's transaction: building
    the two event rows of each of `group` transfers and their one bulk insert (median of
    `rounds` groups, each rolled back)."""
    body = {"transaction_id": 1, "amount": "0.42", "currency": "USD", "description": None}
    found = []
    for _ in range(rounds):
        with database.engine.connect() as conn, conn.begin() as transaction:
            started = time.perf_counter()
            now = utcnow()
            rows = [
                outbox.event(
                    "transaction.posted", body, at=now, account_id=n, owner_id=n,
                    audience="customer", mirror=side == 1,
                )
                for n in range(group)
                for side in (0, 1)
            ]  # fmt: skip
            outbox.write(conn, rows)
            found.append((time.perf_counter() - started) / group * 1e6)
            transaction.rollback()
    return statistics.median(found)


def _pending(database: Database) -> int:
    with database.read() as conn:
        return len(conn.execute(select(events.c.id).where(events.c.published_at.is_(None))).all())


def _timed(step: Callable[[], Any], done: Callable[[], bool]) -> float:
    started = time.perf_counter()
    while not done():
        step()
    return time.perf_counter() - started


def events_bench_command(
    seconds: Annotated[float, typer.Option(min=0.5, help="Duration of each posting run.")] = 5.0,
    clients: Annotated[int, typer.Option(min=1, help="Client threads submitting.")] = 16,
    accounts: Annotated[
        int, typer.Option(min=2, help="Accounts the transfers move between.")
    ] = 200,
    events_url: Annotated[
        str, typer.Option(help="NATS URL (default: LEDGERBANK_EVENTS_URL; none: skip the broker).")
    ] = "",
    database_url: Annotated[
        str, typer.Option(help="Database to run on (default: LEDGERBANK_DATABASE_URL).")
    ] = "",
    force: Annotated[
        bool, typer.Option("--force", help="Run even on a database with non-benchmark users.")
    ] = False,
) -> None:
    """Events: the outbox's cost per posting, events/s to NATS JetStream and to a webhook."""
    settings = get_settings()
    url = events_url or settings.events_url
    database = Database.from_url(
        database_url or settings.resolved_database_url, pool_size=clients + 4
    )
    try:
        ledger.check_database(database, force=force)
        opened = ledger.bench_accounts(database, accounts)
        # Only what this run commits is measured: older events count as published.
        database.write(
            lambda conn: conn.execute(
                update(events).where(events.c.published_at.is_(None)).values(published_at=utcnow())
            )
        )
        scenario = ledger.Scenario(f"single, {accounts} accounts", opened, seconds)
        direct = outbox_cost_per_posting(database)
        with _without_outbox():
            without = ledger.run_in_process(database, scenario, clients)
        database.write(lambda conn: conn.execute(update(webhooks).values(deleted_at=utcnow())))
        with Receiver.running() as receiver:
            owner = opened[0].owner_id
            database.write(
                lambda conn: register(
                    conn,
                    url=receiver.url,
                    kinds=["*"],
                    actor_id=owner,
                    allowed=LOCAL,
                    sealer=settings.sealer(),
                )
            )
            with_outbox = ledger.run_in_process(database, scenario, clients)
            produced = _pending(database)
            broker = Broker(url) if url else None
            publisher = Publisher(database, broker, batch=1000)
            try:
                to_broker = _timed(publisher.run_once, lambda: _pending(database) == 0)
            finally:
                publisher.release()
                if broker is not None:
                    broker.close()
            deliverer = Deliverer(database, LOCAL, sealer=settings.sealer(), batch=500)

            def delivered() -> bool:
                with database.read() as conn:
                    left = select(webhook_deliveries.c.id).where(
                        webhook_deliveries.c.status == "pending"
                    )
                    return not conn.execute(left.limit(1)).first()

            try:
                to_webhook = _timed(deliverer.run_once, delivered)
            finally:
                deliverer.close()
            received = receiver.count()
        database.write(lambda conn: conn.execute(update(webhooks).values(deleted_at=utcnow())))
    finally:
        database.dispose()

    per_without = 1e6 / without.rate if without.rate else 0.0
    per_with = 1e6 / with_outbox.rate if with_outbox.rate else 0.0
    table = Table(title=f"events benchmark on {database.dialect}", caption=_caption(url))
    table.add_column("measure")
    table.add_column("figure", justify="right")
    table.add_row("single transfers/s without outbox rows", f"{without.rate:,.0f}")
    table.add_row("single transfers/s with outbox rows", f"{with_outbox.rate:,.0f}")
    table.add_row(
        "difference per posting (µs, wall clock, noisy)", f"{per_with - per_without:,.0f}"
    )
    table.add_row("outbox rows per transfer: build + bulk insert (µs)", f"{direct:,.0f}")
    table.add_row("p99 ms without / with", f"{without.p99_ms:.1f} / {with_outbox.p99_ms:.1f}")
    table.add_row("events committed by the run with outbox", f"{produced:,}")
    broker_name = "NATS JetStream" if url else "no broker (deliveries queued only)"
    table.add_row(f"events/s commit → {broker_name}", f"{produced / to_broker:,.0f}")
    table.add_row("webhook deliveries received", f"{received:,}")
    table.add_row("deliveries/s to the webhook receiver", f"{received / to_webhook:,.0f}")
    console.print(table)


def _caption(url: str) -> str:
    broker = f"broker {url}" if url else "no broker"
    return (
        f"money service in-process, group commit, risk on, PINs; {broker}; one publisher, one "
        "deliverer; a receiver on 127.0.0.1"
    )
