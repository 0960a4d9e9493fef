"""Group commit: concurrent requests of one process share one database transaction.

Request threads (or coroutines) `submit` an item and wait for its answer. A few committer
threads each take the first waiting item, gather whatever else is waiting (up to `max_group`
items, optionally waiting up to `window` seconds for more), and run the whole group through
`run_group`, which owns one database transaction and returns one answer per item. Under light
load a request goes alone and waits for nothing; under heavy load the requests that queue up
while a transaction commits go together in the next one, so a commit (and its round trips and
fsync) is shared by many.

Each item keeps its own outcome: `run_group` answers refusals per item. Only an unexpected
failure of the whole transaction reaches the group; the group is then run again one item at a
time, so a request that trips a bug fails alone. Nothing is answered before its transaction
committed.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
Item = TypeVar("Item")
Answer = TypeVar("Answer")


@dataclass
class _Waiting(Generic[Item, Answer]):
    item: Item
    future: Future[Answer]


_STOP = object()


class GroupCommitter(Generic[Item, Answer]):
    def __init__(
        self,
        run_group: Callable[[Sequence[Item]], Sequence[Answer]],
        *,
        max_group: int = 64,
        window: float = 0.0,
        committers: int = 2,
        name: str = "group-commit",
    ) -> None:
        self.run_group = run_group
        self.max_group = max_group
        self.window = window
        self._queue: queue.SimpleQueue[_Waiting[Item, Answer] | object] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._commit_loop, name=f"{name}-{i}", daemon=True)
            for i in range(committers)
        ]
        self.groups = 0  # transactions run, and items they carried (for benchmarks)
        self.items = 0
        for thread in self._threads:
            thread.start()

    def submit(self, item: Item) -> Future[Answer]:
        future: Future[Answer] = Future()
        self._queue.put(_Waiting(item, future))
        return future

    def close(self, timeout: float = 10.0) -> None:
        for _ in self._threads:
            self._queue.put(_STOP)
        for thread in self._threads:
            thread.join(timeout)

    def _gather(self, first: _Waiting[Item, Answer]) -> tuple[list[_Waiting[Item, Answer]], bool]:
        group, stop = [first], False
        deadline = time.monotonic() + self.window
        while len(group) < self.max_group:
            try:
                found = self._queue.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    found = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
            if found is _STOP:
                stop = True
                break
            group.append(found)  # type: ignore[arg-type]
        return group, stop

    def _commit_loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            group, stop = self._gather(first)  # type: ignore[arg-type]
            self._run(group)
            if stop:
                return

    def _run(self, group: list[_Waiting[Item, Answer]]) -> None:
        self.groups += 1
        self.items += len(group)
        try:
            answers = self.run_group([w.item for w in group])
        except Exception as exc:
            if len(group) == 1:
                group[0].future.set_exception(exc)
                return
            log.warning("a group of %d failed (%r); running its items one by one", len(group), exc)
            for waiting in group:
                self._run([waiting])
            return
        for waiting, answer in zip(group, answers, strict=True):
            waiting.future.set_result(answer)
