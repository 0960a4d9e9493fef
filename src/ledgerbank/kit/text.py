"""Text search in SQL: a case-insensitive "contains" that treats the user's text literally."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """`column` holds `text` anywhere, ignoring case; % and _ in `text` match only themselves."""
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")
