"""What the entry points (the app factory, the CLI) hand to the domains they compose.

Domains below do not import each other's internals (the ledger imports nothing from risk): the
composition root fills a `Composition` with the pieces that cross them, and commands read it
from their Typer context.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import typer

from ledgerbank import errors


@dataclass(frozen=True)
class Composition:
    screen: Callable[[Any], Any]  # settings -> the risk screen postings are scored with


def composed(context: typer.Context) -> Composition:
    found = context.find_object(Composition)
    if found is None:
        raise errors.ServiceUnavailable("this command runs under `ledgerbank`, which composes it")
    return found
