"""The worker's events jobs: publish the outbox (to NATS JetStream when LEDGERBANK_EVENTS_URL
is set, and into webhook deliveries) and send due webhook deliveries. Each run works until
nothing is pending (or the worker stops), so one run a second keeps the lag short."""

from __future__ import annotations

import threading
from datetime import timedelta

from ledgerbank.events.addresses import Allowed
from ledgerbank.events.broker import Broker
from ledgerbank.events.delivery import Deliverer
from ledgerbank.events.publisher import Publisher
from ledgerbank.worker.registry import Job, JobContext, JobResult

_brokers: dict[str, Broker] = {}  # one connection per worker process, kept between runs
_lock = threading.Lock()


def _broker(url: str) -> Broker | None:
    if not url:
        return None
    with _lock:
        if url not in _brokers:
            _brokers[url] = Broker(url)
        return _brokers[url]


def _publish(context: JobContext) -> JobResult:
    publisher = Publisher(context.database, _broker(context.settings.events_url))
    total = 0
    try:
        while not context.stopping():
            done = publisher.run_once()
            total += done
            if not done:
                break
    except Exception:
        with _lock:  # a broken connection: the next run connects again
            broken = _brokers.pop(context.settings.events_url, None)
        if broken is not None:
            broken.close()
        raise
    finally:
        publisher.release()
    return JobResult(total, f"{total} events published" if total else "")


def _deliver(context: JobContext) -> JobResult:
    deliverer = Deliverer(
        context.database,
        Allowed.parse(context.settings.webhook_allowed_hosts),
        sealer=context.settings.sealer(),
    )
    delivered = failed = dead = 0
    try:
        while not context.stopping():
            round_ = deliverer.run_once()
            delivered, failed, dead = (
                delivered + round_.delivered, failed + round_.failed, dead + round_.dead
            )  # fmt: skip
            if not (round_.delivered or round_.failed or round_.dead):
                break
    finally:
        deliverer.close()
    summary = (
        f"{delivered} delivered, {failed} to retry, {dead} dead"
        if delivered + failed + dead
        else ""
    )
    return JobResult(delivered + failed + dead, summary)


PUBLISH_EVENTS = Job(
    "events.publish",
    timedelta(seconds=1),
    _publish,
    "the outbox to NATS JetStream and into webhook deliveries, in each account's order",
)
DELIVER_WEBHOOKS = Job(
    "events.deliver",
    timedelta(seconds=1),
    _deliver,
    "signed webhook deliveries; retries with backoff for a day, then dead letters",
)
