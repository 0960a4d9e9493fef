"""Where a server's request time goes: py-spy attached for a while, its stacks by component.

`sample(pid, seconds, path)` attaches `py-spy record --idle --subprocesses` to the running
server (uvicorn and its workers) for the measured window only. py-spy's raw format is one line
per distinct stack, root first, with how many samples saw it. `summarize` sets aside threads
with no request to work on (the thread pool waiting for work, the event loop waiting for
sockets) and the audit sealer; every other sample is attributed to the innermost ledgerbank
component on its stack (the risk screen's queries count to the risk screen), and marked as
"in the database driver" when its innermost frame is the driver or SQLAlchemy's call into it.
"""

from __future__ import annotations

import collections
import re
import shutil
import subprocess
import sys
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
# A stack with none of these frames has no request on it (idle pools, the event loop waiting).
REQUEST_MARKERS = ("ledgerbank/", "fastapi/", "starlette/", "uvicorn/protocols/")
BACKGROUND = ("_audit_sealer",)
_FRAME = re.compile(r"^(?P<name>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


@dataclass
class Breakdown:
    total: int = 0  # every sample
    request: int = 0  # samples of threads working on a request
    background: int = 0  # samples of the audit sealer
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
        if any(marker in frame for frame in frames for marker in BACKGROUND):
            if "threading.py" not in files[-1]:  # sealing, not sleeping between rounds
                result.background += count
            continue
        if not any(marker in path for path in files for marker in REQUEST_MARKERS):
            continue
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


def py_spy() -> str | None:
    """The py-spy executable beside this interpreter, or on the PATH; None when missing."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def sample(pid: int, seconds: float, path: Path) -> subprocess.Popen[bytes]:
    """Start sampling process `pid` and its children for `seconds`; wait() for the file."""
    spy = py_spy()
    if spy is None:
        raise RuntimeError("--profile needs py-spy: pip install py-spy")
    command = [
        spy,
        "record",
        "--pid",
        str(pid),
        "--subprocesses",  # the uvicorn workers
        "--idle",  # waiting on the database is request time too
        "--nonblocking",  # never pause the server to read its stacks
        "--format",
        "raw",
        "--rate",
        "200",
        "--duration",
        str(max(1, round(seconds))),
        "--output",
        str(path),
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
