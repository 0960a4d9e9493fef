"""Events tests: the ledger tests' builders, and a real webhook receiver on 127.0.0.1."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "ledger"))

from events_helpers import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver.running() as found:
        yield found
