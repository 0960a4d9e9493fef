"""Where a profiled server's request time goes: py-spy's folded stacks, summed by component.

py-spy (`record --format raw --idle`) writes one line per distinct stack, root first, with
how many samples saw it. Stacks of threads with no request to work on (the thread pool
waiting for work, the event loop waiting for sockets, the audit sealer sleeping) are set
aside; every other sample is attributed to the innermost ledgerbank component on its stack
(the risk screen's queries count to the risk screen), and marked as "in the database driver"
when its innermost frame is the driver or SQLAlchemy's call into it.
"""

from __future__ import annotations

import collections
import re
from dataclasses import dataclass, field
from pathlib import Path

# (component, what a frame's "file" must contain); the first rule a frame matches names it.
COMPONENTS: list[tuple[str, tuple[str, ...]]] = [
    ("risk screen", ("ledgerbank/risk/",)),
    ("audit record", ("ledgerbank/audit/",)),
    ("PIN check (reads the user)", ("ledgerbank/identity/auth.py",)),
    ("auth: token + user lookup", ("ledgerbank/identity/", "jwt/")),
    ("idempotency key (read, claim, store)", ("ledgerbank/ledger/idempotency.py",)),
    ("own-account check", ("ledgerbank/ledger/policy.py",)),
    ("posting engine", ("ledgerbank/ledger/posting.py", "ledgerbank/ledger/accounts.py")),
    ("connection, begin, commit", ("ledgerbank/kit/db.py",)),
    ("transfer route: body, answer JSON", ("ledgerbank/ledger/", "ledgerbank/kit/money.py")),
    ("metrics", ("ledgerbank/kit/metrics.py", "prometheus_client/")),
    ("access log, request id, headers", ("ledgerbank/kit/", "logging/")),
    ("FastAPI: validation, dependencies, JSON", ("fastapi/", "pydantic")),
    ("Starlette, anyio thread hand-off", ("starlette/", "anyio/")),
    ("uvicorn: HTTP parsing, sockets", ("uvicorn/", "httptools", "h11/")),
]
DRIVER = ("psycopg/", "pymysql/", "sqlite3", "sqlalchemy/engine/default.py")
# A stack with none of these frames has no request on it (idle pools, loops, the sealer).
REQUEST_MARKERS = ("ledgerbank/", "fastapi/", "starlette/", "uvicorn/protocols/")
IDLE_LEAVES = ("select (selectors.py", "wait (threading.py", "_worker (concurrent")
_FRAME = re.compile(r"^(?P<name>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


@dataclass
class Breakdown:
    total: int = 0  # every sample
    request: int = 0  # samples of threads working on a request
    by_component: collections.Counter[str] = field(default_factory=collections.Counter)
    in_driver: collections.Counter[str] = field(default_factory=collections.Counter)
    functions: collections.Counter[str] = field(default_factory=collections.Counter)


def _file(frame: str) -> str:
    found = _FRAME.match(frame)
    return found.group("file") if found else frame


def _component(files: list[str]) -> str:
    for path in reversed(files):  # innermost first
        for name, needles in COMPONENTS:
            if any(needle in path for needle in needles):
                return name
    return "other"


def summarize(folded: Path) -> Breakdown:
    result = Breakdown()
    for line in folded.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        files = [_file(frame) for frame in frames]
        result.total += count
        if not any(marker in path for path in files for marker in REQUEST_MARKERS):
            continue
        if frames[-1].startswith(IDLE_LEAVES) and not any("ledgerbank/" in p for p in files):
            continue  # the event loop between requests
        result.request += count
        component = _component(files)
        result.by_component[component] += count
        if any(needle in files[-1] for needle in DRIVER):
            result.in_driver[component] += count
        functions = {
            re.sub(r":\d+\)$", ")", frame)
            for frame, path in zip(frames, files, strict=True)
            if "ledgerbank/" in path
        }
        for function in functions:  # once per sample, however deep the recursion
            result.functions[function] += count
    return result
