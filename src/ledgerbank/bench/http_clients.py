"""The HTTP benchmark's load: client processes, each running many keep-alive connections.

Each client process runs an asyncio loop (uvloop when installed) with one keep-alive
connection per concurrent sender. Every sender posts `POST /transactions/transfer` as a random
bench customer, from their own account to another bench account, with a fresh
Idempotency-Key, and waits for the answer before sending the next (a closed loop). The clock
decides when the warm-up ends and the measured window closes; only answers completed inside
the window count.

Two clients: `raw` (the default), a minimal HTTP/1.1 client on asyncio streams, and `httpx`
(`AsyncClient` with a keep-alive pool). On this project's 2-core machine httpx spent 1.6 to
5 ms of client CPU per request (more with more connections), the raw client 0.07 ms: with
httpx the client, not the server, is what gets measured.
"""

from __future__ import annotations

import asyncio
import collections
import json
import multiprocessing
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

TRANSFER_PATH = "/transactions/transfer"


@dataclass(frozen=True)
class Sender:
    """A bench customer as the clients see it: their token and their account."""

    token: str
    account_id: int
    pin: str = ""


@dataclass(frozen=True)
class Job:
    """One scenario for one client process."""

    base_url: str
    run_id: str
    process_index: int
    concurrency: int
    senders: Sequence[Sender]
    destinations: Sequence[int]
    start_at: float  # wall clock: first request
    measure_from: float  # wall clock: warm-up over
    measure_until: float  # wall clock: no new request after this
    client: str = "raw"  # or "httpx"


@dataclass
class ClientResult:
    latencies: list[float] = field(default_factory=list)  # seconds, answers inside the window
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    created: int = 0  # 201 answers over the whole run, warm-up included
    sent: int = 0  # requests sent over the whole run
    cpu_seconds: float = 0.0  # this process's CPU over the measured window
    error: str | None = None
    examples: dict[str, str] = field(default_factory=dict)  # one body per unexpected status


class RawConnection:
    """One keep-alive HTTP/1.1 connection: a request out, a Content-Length answer back."""

    def __init__(self, base_url: str) -> None:
        address = httpx.URL(base_url)
        self.host, self.port = address.host, address.port or 80
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{head}\r\n".encode("latin-1")
            + body
        )
        try:
            answer_head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.close()
            raise
        lines = answer_head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines[1:] if line)
        }
        if "content-length" not in fields:
            await self.close()
            raise ConnectionError(f"an answer without Content-Length: {lines[0]}")
        answer = await self.reader.readexactly(int(fields["content-length"]))
        if fields.get("connection", "").lower() == "close":
            await self.close()
        return status, answer

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class HttpxConnection:
    """The same through one shared `httpx.AsyncClient` (its pool holds the connections)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        answer = await self.client.post(
            path, content=body, headers={**headers, "Content-Type": "application/json"}
        )
        return answer.status_code, answer.content

    async def close(self) -> None:
        return None


async def _sleep_until(moment: float) -> None:
    delay = moment - time.time()
    if delay > 0:
        await asyncio.sleep(delay)


async def _drive(job: Job) -> ClientResult:
    result = ClientResult()
    limits = httpx.Limits(
        max_connections=job.concurrency, max_keepalive_connections=job.concurrency
    )
    cpu_at: dict[str, float] = {}

    async def clock() -> None:
        await _sleep_until(job.measure_from)
        cpu_at["from"] = time.process_time()
        await _sleep_until(job.measure_until)
        cpu_at["until"] = time.process_time()

    async def sender(connection: RawConnection | HttpxConnection, index: int) -> None:
        rng = random.Random(f"{job.run_id}-{job.process_index}-{index}")
        sequence = 0
        await _sleep_until(job.start_at)
        while time.time() < job.measure_until:
            who = rng.choice(job.senders)
            to_account = rng.choice(job.destinations)
            while to_account == who.account_id:
                to_account = rng.choice(job.destinations)
            sequence += 1
            headers = {
                "Authorization": f"Bearer {who.token}",
                "Idempotency-Key": f"{job.run_id}-{job.process_index}-{index}-{sequence}",
            }
            body = json.dumps(
                {
                    "from_account_id": who.account_id,
                    "to_account_id": to_account,
                    "amount": f"0.{rng.randint(1, 99):02d}",
                    "description": "bench http",
                    "pin": who.pin,
                }
            ).encode()
            started = time.perf_counter()
            try:
                code, answer = await connection.post(TRANSFER_PATH, body, headers)
                status = str(code)
                if code >= 400:  # a refusal is an answer too: counted by its problem code
                    status = f"{code} {_problem_code(answer)}"
            except (OSError, asyncio.IncompleteReadError, httpx.HTTPError) as exc:
                answer, status = b"", type(exc).__name__
            elapsed = time.perf_counter() - started
            result.sent += 1
            if status == "201":
                result.created += 1
            elif status not in result.examples:
                result.examples[status] = answer[:300].decode(errors="replace")
            ended = time.time()
            if job.measure_from <= ended <= job.measure_until:
                result.latencies.append(elapsed)
                result.statuses[status] += 1

    async with httpx.AsyncClient(base_url=job.base_url, limits=limits, timeout=60) as client:
        connections = [
            RawConnection(job.base_url) if job.client == "raw" else HttpxConnection(client)
            for _ in range(job.concurrency)
        ]
        try:
            await asyncio.gather(clock(), *(sender(c, i) for i, c in enumerate(connections)))
        finally:
            for connection in connections:
                await connection.close()
    result.cpu_seconds = cpu_at.get("until", 0.0) - cpu_at.get("from", 0.0)
    return result


def _problem_code(answer: bytes) -> str:
    try:
        return str(json.loads(answer).get("code", "?"))
    except (ValueError, AttributeError):
        return "?"


def run_job(job: Job) -> ClientResult:
    try:
        import uvloop  # a faster event loop: the clients must not be the bottleneck
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        return asyncio.run(_drive(job))
    return uvloop.run(_drive(job))


def _client_main(jobs: Any, results: Any) -> None:
    """A client process: runs each job it is handed, until it is handed None."""
    results.put("ready")  # imports done: the parent may set the start time
    while (job := jobs.get()) is not None:
        try:
            results.put(run_job(job))
        except Exception as exc:  # reported by the parent, which stops the run
            results.put(ClientResult(error=f"{type(exc).__name__}: {exc}"))


class ClientPool:
    """Client processes started once and handed one scenario after another."""

    def __init__(self, processes: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.jobs = [context.Queue() for _ in range(processes)]
        self.results = context.Queue()
        self.processes = [
            context.Process(target=_client_main, args=(jobs, self.results), daemon=True)
            for jobs in self.jobs
        ]
        for process in self.processes:
            process.start()
        for _ in self.processes:
            self.results.get(timeout=120)

    def __len__(self) -> int:
        return len(self.processes)

    def run(self, jobs: Sequence[Job]) -> list[ClientResult]:
        for queue, job in zip(self.jobs, jobs, strict=True):
            queue.put(job)
        timeout = max(job.measure_until for job in jobs) - time.time() + 120
        found: list[ClientResult] = [self.results.get(timeout=timeout) for _ in jobs]
        failed = [r.error for r in found if r.error]
        if failed:
            raise RuntimeError(f"a benchmark client failed: {failed[0]}")
        return found

    def close(self) -> None:
        for queue in self.jobs:
            queue.put(None)
        for process in self.processes:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()

    def __enter__(self) -> ClientPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
