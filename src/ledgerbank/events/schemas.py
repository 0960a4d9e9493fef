"""Webhook requests and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000, examples=["https://hooks.example.com/bank"])
    events: list[str] = Field(
        min_length=1, max_length=50, examples=[["transaction.posted", "account.frozen"]]
    )


class Webhook(BaseModel):
    id: int
    url: str
    events: list[str]
    created_at: datetime


class WebhookCreated(Webhook):
    secret: str = Field(description="signs every delivery; shown once, keep it safe")


class WebhookList(BaseModel):
    items: list[Webhook]


DeliveryStatus = Literal["pending", "delivered", "dead"]


class WebhookDelivery(BaseModel):
    id: int
    webhook_id: int
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


class WebhookDeliveryList(BaseModel):
    items: list[WebhookDelivery]
