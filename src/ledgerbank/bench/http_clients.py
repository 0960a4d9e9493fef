"""The HTTP benchmark's load: client processes, each running many keep-alive connections.

Each client process runs an asyncio loop (uvloop when installed) with one `httpx.AsyncClient`
whose connection pool holds exactly as many keep-alive connections as the process has
concurrent senders. Every sender posts `POST /transactions/transfer` as a random bench
customer, from their own account to another bench account, with a fresh Idempotency-Key,
and waits for the answer before sending the next (a closed loop). The clock decides when the
warm-up ends and the measured window closes; only answers completed inside the window count.
"""

from __future__ import annotations

import asyncio
import collections
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


@dataclass
class ClientResult:
    latencies: list[float] = field(default_factory=list)  # seconds, answers inside the window
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    created: int = 0  # 201 answers over the whole run, warm-up included
    sent: int = 0  # requests sent over the whole run
    cpu_seconds: float = 0.0  # this process's CPU over the measured window
    error: str | None = None
    examples: dict[str, str] = field(default_factory=dict)  # one body per unexpected status


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

    async def sender(client: httpx.AsyncClient, index: int) -> None:
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
            body = {
                "from_account_id": who.account_id,
                "to_account_id": to_account,
                "amount": f"0.{rng.randint(1, 99):02d}",
                "description": "bench http",
            }
            started = time.perf_counter()
            try:
                answer = await client.post(TRANSFER_PATH, json=body, headers=headers)
                status = str(answer.status_code)
            except httpx.HTTPError as exc:
                answer, status = None, type(exc).__name__
            elapsed = time.perf_counter() - started
            result.sent += 1
            if status == "201":
                result.created += 1
            elif answer is not None and status not in result.examples:
                result.examples[status] = answer.text[:300]
            ended = time.time()
            if job.measure_from <= ended <= job.measure_until:
                result.latencies.append(elapsed)
                result.statuses[status] += 1

    async with httpx.AsyncClient(base_url=job.base_url, limits=limits, timeout=60) as client:
        await asyncio.gather(clock(), *(sender(client, i) for i in range(job.concurrency)))
    result.cpu_seconds = cpu_at.get("until", 0.0) - cpu_at.get("from", 0.0)
    return result


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
