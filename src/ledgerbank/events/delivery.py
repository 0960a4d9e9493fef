"""Sending webhook deliveries: signed POSTs, retried with exponential backoff and jitter.

Each delivery is a POST of the event's JSON with `Ledgerbank-Signature: t=<unix time>,v1=<hex
HMAC-SHA256 of "t.body" under the webhook's secret>`. A 2xx answer delivers it; anything else
(an error status, a refused or slow connection, an address that became private) is retried
after 10 s, 20 s, 40 s, ... (at most an hour, each with random jitter) until its day of retries
is over: then it is a dead letter that an admin sees and may redeliver. Due deliveries are
claimed with `FOR UPDATE SKIP LOCKED` (several workers share them) and pushed a minute ahead
while they are being sent, so a worker that dies mid-send leaves them to be sent again.
Each send checks the URL's addresses and connects to exactly those (events.pinning), so a DNS
answer that changes between the check and the connection is never used.
Claiming also seals again, under the current key, a webhook secret still in plain text (from
before secrets were sealed) or sealed under an older key.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import Connection, select, update

from ledgerbank import errors
from ledgerbank.events.addresses import Allowed, check_url
from ledgerbank.events.outbox import envelope
from ledgerbank.events.pinning import PinnedTransport, pinned
from ledgerbank.events.tables import events, webhook_deliveries, webhooks
from ledgerbank.events.webhooks import SECRET_PURPOSE
from ledgerbank.kit.bulk import update_rows
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.kit.sealed import Sealer

SIGNATURE_HEADER = "Ledgerbank-Signature"
FIRST_DELAY = 10.0  # seconds before the first retry
MAX_DELAY = 3600.0
CLAIM_SECONDS = 60  # a claimed delivery is not due again for this long
SENDERS = 8  # deliveries in flight at once (different accounts or webhooks)


def sign(secret: str, body: bytes, at: int) -> str:
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def verify(secret: str, body: bytes, header: str, *, now: float, tolerance: float = 300) -> bool:
    """The receiver's check (the README shows the same): a v1 signature of "t.body" that
    matches, with t within `tolerance` seconds of now (a replayed old delivery fails)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        at = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - at) > tolerance:
        return False
    expected = sign(secret, body, at).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def backoff(attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones: doubling, capped, jittered."""
    delay = min(FIRST_DELAY * 2.0 ** max(attempts - 1, 0), MAX_DELAY)
    return delay * random.uniform(0.5, 1.0)


@dataclass
class DeliveryRound:
    """What one round of sending did."""

    delivered: int = 0
    failed: int = 0
    dead: int = 0


class Deliverer:
    """Sends the due deliveries."""

    def __init__(
        self,
        database: Database,
        allowed: Allowed,
        *,
        sealer: Sealer,
        timeout: float = 10.0,
        batch: int = 50,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        """`verify`: the certificates https receivers are checked against (the default
        trust store unless given, as the tests give their own authority)."""
        self.database = database
        self.allowed = allowed
        self.sealer = sealer
        self.batch = batch
        self.client = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            transport=PinnedTransport(limits=httpx.Limits(max_connections=SENDERS), verify=verify),
        )
        self.pool = ThreadPoolExecutor(SENDERS, thread_name_prefix="webhooks")

    def close(self) -> None:
        self.pool.shutdown()
        self.client.close()

    def _claim(self, conn: Connection) -> list[dict[str, Any]]:
        now = utcnow()
        due = (
            select(webhook_deliveries.c.id)
            .where(
                webhook_deliveries.c.status == "pending",
                webhook_deliveries.c.next_attempt_at <= now,
            )
            .order_by(webhook_deliveries.c.next_attempt_at, webhook_deliveries.c.id)
            .limit(self.batch)
            .with_for_update(skip_locked=True)
        )
        ids = [int(i) for i in conn.execute(due).scalars()]
        if not ids:
            return []
        conn.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id.in_(ids))
            .values(next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
        )
        query = (
            select(
                webhook_deliveries.c.id.label("delivery_id"),
                webhook_deliveries.c.attempts,
                webhook_deliveries.c.retry_until,
                webhook_deliveries.c.webhook_id,
                webhooks.c.url,
                webhooks.c.secret,
                events,
            )
            .join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id)
            .join(events, events.c.id == webhook_deliveries.c.event_id)
            .where(webhook_deliveries.c.id.in_(ids))
            .order_by(events.c.id)  # one webhook hears an account's events in their order
        )
        claimed = [dict(row) for row in conn.execute(query).mappings()]
        self._open_secrets(conn, claimed)
        return claimed

    def _open_secrets(self, conn: Connection, claimed: list[dict[str, Any]]) -> None:
        """Each claimed row's secret in clear; plain or old-key secrets are sealed anew."""
        resealed: dict[int, str] = {}
        for row in claimed:
            stored = str(row["secret"])
            try:
                row["secret"] = self.sealer.open(stored, purpose=SECRET_PURPOSE)
            except errors.SealedSecretUnreadable as exc:
                row["secret"], row["unreadable"] = None, str(exc)  # retried; a key came back?
                continue
            if self.sealer.needs_sealing(stored):
                resealed[int(row["webhook_id"])] = row["secret"]
        for webhook_id, secret in sorted(resealed.items()):
            conn.execute(
                update(webhooks)
                .where(webhooks.c.id == webhook_id)
                .values(secret=self.sealer.seal(secret, purpose=SECRET_PURPOSE))
            )

    def run_once(self) -> DeliveryRound:
        claimed = self.database.write(self._claim)
        outcome = DeliveryRound()
        if not claimed:
            return outcome
        # Deliveries of different accounts (and webhooks) go out side by side; each
        # account's, to one webhook, one after another in their order.
        lanes: dict[tuple[int, int | None], list[dict[str, Any]]] = {}
        for row in claimed:
            lanes.setdefault((int(row["webhook_id"]), row["account_id"]), []).append(row)
        sent = list(self.pool.map(lambda lane: [(r, *self._send(r)) for r in lane], lanes.values()))
        results = [result for lane in sent for result in lane]
        self.database.write(lambda conn: self._record(conn, results, outcome))
        return outcome

    def _send(self, row: dict[str, Any]) -> tuple[int | None, str | None]:
        if row["secret"] is None:
            return None, str(row["unreadable"])[:500]
        body = orjson.dumps(envelope(row))
        try:
            target = check_url(row["url"], self.allowed)
            with pinned(target):
                answer = self.client.post(
                    row["url"],
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        SIGNATURE_HEADER: sign(row["secret"], body, int(time.time())),
                        "User-Agent": "ledgerbank-webhooks/1",
                    },
                )
        except errors.WebhookUrlRefused as exc:
            return None, exc.detail[:500]
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:500]
        if 200 <= answer.status_code < 300:
            return answer.status_code, None
        return answer.status_code, f"answered {answer.status_code}"

    @staticmethod
    def _record(
        conn: Connection,
        results: list[tuple[dict[str, Any], int | None, str | None]],
        outcome: DeliveryRound,
    ) -> None:
        """Every result in one statement (a redelivery or delete in between is not undone:
        only deliveries still pending change)."""
        now = utcnow()
        rows = []
        for row, status_code, error in results:
            attempts = int(row["attempts"]) + 1
            status, delivered_at, next_at = "pending", None, now
            if error is None:
                status, delivered_at = "delivered", now
                outcome.delivered += 1
            elif now >= row["retry_until"]:
                status = "dead"
                outcome.dead += 1
            else:
                next_at = now + timedelta(seconds=backoff(attempts))
                outcome.failed += 1
            rows.append(
                {
                    "id": row["delivery_id"],
                    "status": status,
                    "attempts": attempts,
                    "next_attempt_at": next_at,
                    "last_attempt_at": now,
                    "last_status_code": status_code,
                    "last_error": error,
                    "delivered_at": delivered_at,
                }
            )
        pending = select(webhook_deliveries.c.id).where(
            webhook_deliveries.c.id.in_([r["id"] for r in rows]),
            webhook_deliveries.c.status == "pending",
        )
        still = set(conn.execute(pending.with_for_update()).scalars())
        update_rows(conn, webhook_deliveries, "id", [r for r in rows if r["id"] in still])
