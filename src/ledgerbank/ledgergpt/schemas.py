"""Request and response models of /ledgergpt."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

MAX_QUESTION = 2000


class AskRequest(BaseModel):
    question: str = Field(
        min_length=1, max_length=MAX_QUESTION, examples=["which accounts are frozen"]
    )
    engine: Literal["auto", "offline"] = Field(
        default="auto",
        description="`offline` skips the language model even when one is configured.",
    )


class AskAnswer(BaseModel):
    question: str
    sql: str = Field(description="The statement that ran, as the safety gate let it through.")
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="Values bound to the statement's :placeholders."
    )
    columns: list[str]
    rows: list[list[Any]] = Field(
        description="Money as exact decimal strings, timestamps as ISO 8601 UTC."
    )
    row_count: int
    truncated: bool = Field(description="True when the row limit cut the answer short.")
    engine: Literal["offline", "llm"]
    explanation: str


class Examples(BaseModel):
    examples: list[str]


class AskedQuestion(BaseModel):
    id: int
    question: str
    decision: str = Field(description="answered, not_understood, refused, ...")
    row_count: int | None
    asked_at: datetime


class QuestionHistory(BaseModel):
    items: list[AskedQuestion]
