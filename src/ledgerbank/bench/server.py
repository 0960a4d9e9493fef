"""A real `uvicorn ledgerbank.app:create_app` in a subprocess, for benchmarks and tests.

`running_server(...)` starts it on a free port with the given `LEDGERBANK_*` environment,
waits for `/health`, yields the base URL and stops it afterwards.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

STARTUP_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerFailed(RuntimeError):
    """The server exited or never answered /health; the message ends with its log."""


@dataclass(frozen=True)
class Server:
    url: str
    pid: int  # the uvicorn process (with --workers, their parent)
    log_path: Path

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def uvicorn_command(port: int, workers: int) -> list[str]:
    """What `ledgerbank serve` runs, minus the migration (callers migrate first)."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "ledgerbank.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",  # as `ledgerbank serve`: the app logs each request itself
    ]


@contextmanager
def running_server(
    env: Mapping[str, str],
    *,
    log_path: Path,
    workers: int = 1,
    cwd: Path | None = None,
    startup_seconds: float = STARTUP_SECONDS,
) -> Iterator[Server]:
    """A uvicorn serving ledgerbank with `env` added to this process's environment."""
    port = free_port()
    command = uvicorn_command(port, workers)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            env={**os.environ, **env},
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # our own process group: stopped together, never with us
        )
        server = Server(f"http://127.0.0.1:{port}", process.pid, log_path)
        try:
            _wait_for_health(process, server, startup_seconds)
            yield server
        finally:
            _stop(process)


def _wait_for_health(process: subprocess.Popen[bytes], server: Server, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise ServerFailed(f"the server exited ({process.returncode}):\n{server.log_tail()}")
        try:
            if httpx.get(f"{server.url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise ServerFailed(f"no /health after {seconds:g}s:\n{server.log_tail()}")
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGINT to the server's process group (uvicorn's graceful stop), then SIGKILL."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
