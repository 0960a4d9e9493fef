"""The outbox (`events`), the publishers' partition leases, webhooks and their deliveries.

An event row is written in the same database transaction as the change it tells of, so it
exists exactly when that change committed. `published_at` is the only column ever set
afterwards: the publisher reads the rows still unpublished (never "everything after the last
id it saw"), so an event whose transaction commits late is published late, never skipped.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from ledgerbank.kit.db import BigId, UTCDateTime, metadata

PARTITIONS = 8  # an account's events all fall in one partition: account id modulo this

events = Table(
    "events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),  # stable: consumers dedupe
    Column("type", String(40), nullable=False),
    Column("version", SmallInteger, nullable=False, server_default="1"),
    Column("partition_no", SmallInteger, nullable=False),
    Column("account_id", BigInteger, nullable=True),  # the account whose change it tells of
    Column("owner_id", BigInteger, nullable=True, index=True),  # the customer it is for
    Column("audience", String(8), nullable=False),  # customer: what the customer may see
    Column("mirror", Boolean, nullable=False, server_default="0"),  # the other account's copy
    Column("body", Text, nullable=False),  # JSON, no secrets
    Column("created_at", UTCDateTime, nullable=False),
    Column("published_at", UTCDateTime, nullable=True),
    Index("ix_events_pending", "partition_no", "published_at", "id"),
)

event_partitions = Table(
    "event_partitions",
    metadata,
    Column("partition_no", SmallInteger, primary_key=True, autoincrement=False),
    Column("holder", String(64), nullable=True),  # the publisher holding the lease
    Column("lease_until", UTCDateTime, nullable=True),
    Column("published", BigInteger, nullable=False, server_default="0"),  # events so far
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("url", String(2000), nullable=False),
    Column("events", Text, nullable=False),  # JSON list of event types ("*" for all)
    Column("secret", String(255), nullable=False),  # signs deliveries; shown once; sealed
    Column("created_by", BigInteger, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("deleted_at", UTCDateTime, nullable=True),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("webhook_id", BigInteger, ForeignKey("webhooks.id"), nullable=False),
    Column("event_id", BigInteger, ForeignKey("events.id"), nullable=False),
    Column("status", String(10), nullable=False),  # pending, delivered, dead
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("retry_until", UTCDateTime, nullable=False),  # then a dead letter
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_attempt_at", UTCDateTime, nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("delivered_at", UTCDateTime, nullable=True),
    UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_webhook_event"),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
)
