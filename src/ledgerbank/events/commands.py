"""`ledgerbank events ...`: publish the outbox and send webhook deliveries (until the worker
runs them as jobs)."""

from __future__ import annotations

import signal
import time

import typer
from rich.console import Console

from ledgerbank.config import get_settings
from ledgerbank.events.addresses import Allowed
from ledgerbank.events.broker import Broker
from ledgerbank.events.delivery import Deliverer
from ledgerbank.events.publisher import Publisher
from ledgerbank.kit.commands import open_database

app = typer.Typer(help="Events: the outbox, NATS JetStream and webhooks.", no_args_is_help=True)
console = Console()


class _Stop:
    """Set by SIGTERM or SIGINT: the loop ends after its round."""

    def __init__(self) -> None:
        self.asked = False
        signal.signal(signal.SIGTERM, self._ask)
        signal.signal(signal.SIGINT, self._ask)

    def _ask(self, *_: object) -> None:
        self.asked = True

    def __call__(self) -> bool:
        return self.asked


@app.command("publish")
def publish_command(
    once: bool = typer.Option(False, help="Publish what is pending, then exit."),
    batch: int = typer.Option(500, min=1, max=10_000, help="Events per broker round trip."),
    lease_seconds: float = typer.Option(30.0, min=1, help="How long a partition lease lasts."),
) -> None:
    """Publish pending events to NATS JetStream (LEDGERBANK_EVENTS_URL) and queue webhook
    deliveries; without the setting, only the deliveries."""
    settings = get_settings()
    database = open_database()
    broker = Broker(settings.events_url) if settings.events_url else None
    publisher = Publisher(database, broker, batch=batch, lease_seconds=lease_seconds)
    try:
        if once:
            total = publisher.run_once()
            publisher.release()
            console.print(f"published {total} events")
        else:
            console.print(f"publishing as {publisher.holder}")
            publisher.run(stop=_Stop())
    finally:
        if broker is not None:
            broker.close()
        database.dispose()


@app.command("deliver")
def deliver_command(
    once: bool = typer.Option(False, help="Send what is due, then exit."),
) -> None:
    """Send due webhook deliveries (signed; retried with backoff; dead letters after a day)."""
    settings = get_settings()
    database = open_database()
    deliverer = Deliverer(
        database, Allowed.parse(settings.webhook_allowed_hosts), sealer=settings.sealer()
    )
    stop = None if once else _Stop()
    try:
        while True:
            outcome = deliverer.run_once()
            if once:
                console.print(
                    f"delivered {outcome.delivered}, to retry {outcome.failed}, dead {outcome.dead}"
                )
                return
            if stop is not None and stop():
                return
            if not (outcome.delivered or outcome.failed or outcome.dead):
                time.sleep(0.2)
    finally:
        deliverer.close()
        database.dispose()
