"""What a customer must never read (tipping off): checked field by field, anywhere in an answer."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

# Keys that carry risk screening or the bank's internal view. `risk` may appear only as null.
RISK_KEYS = {
    "score",
    "verdict",
    "reasons",
    "model_version",
    "scored_at",
    "rule",
    "rule_id",
    "alert_id",
    "severity",
    "features",
    "percentile",
    "frozen_by",
}
VERDICTS = ("SAFE", "SUSPICIOUS", "CRITICAL")


def _walk(value: Any, path: str) -> Iterable[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield f"{path}.{key}", (key, inner)
            yield from _walk(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _walk(inner, f"{path}[{index}]")


def tipping_off(
    answer: Any, *, words: Iterable[str] = (), allow: set[str] = frozenset()
) -> list[str]:
    """Every place in `answer` (JSON, or text) that tells a customer about risk: a risk key, a
    non-null `risk`, a verdict, or one of `words` (rule names, thresholds, staff notes)."""
    found: list[str] = []
    if isinstance(answer, dict | list):
        for where, (key, inner) in _walk(answer, "$"):
            if key == "risk" and inner is not None:
                found.append(f"{where} is {inner!r}")
            elif key in RISK_KEYS - allow and inner is not None:
                found.append(f"{where} = {inner!r}")
        text = json.dumps(answer)
    else:
        text = answer.decode() if isinstance(answer, bytes) else str(answer)
    for word in (*VERDICTS, *words):
        if word and word in text:
            found.append(f"mentions {word!r}")
    return found
