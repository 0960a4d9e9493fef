"""CPU time of a process tree, of the local database server and of the whole machine (/proc).

The HTTP benchmark uses it to say where the cores went during its window: the server, the
clients, the database server (when it runs here), and whoever else shares the machine.
Elsewhere each reading is None and the benchmark prints no split.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: split after its closing parenthesis.
    return text[text.rindex(")") + 2 :].split()


def _children(pid: int) -> list[int]:
    found = []
    for task in (PROC / str(pid) / "task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def tree_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of `pid` and its live descendants; None without /proc."""
    if not (PROC / str(pid)).exists():
        return None
    total, pending, seen = 0.0, [pid], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        fields = _stat_fields(current)
        if fields is None:
            continue
        # Fields 14 and 15 (utime, stime) are at 11 and 12 once pid and name are dropped.
        total += (int(fields[11]) + int(fields[12])) / TICKS
        pending += _children(current)
    return total


DATABASE_SERVERS = ("postgres", "mariadbd", "mysqld")


def named_cpu_seconds(names: tuple[str, ...] = DATABASE_SERVERS) -> float | None:
    """User + system CPU seconds of every live process whose command is one of `names`
    (on this machine: the local database server's backends); None without /proc."""
    if not PROC.exists():
        return None
    total = 0.0
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        if text[text.index("(") + 1 : text.rindex(")")] not in names:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


@dataclass(frozen=True)
class MachineCpu:
    busy: float  # CPU seconds spent on anything but idle and I/O wait, all cores
    cores: int


def machine_cpu() -> MachineCpu | None:
    try:
        first = (PROC / "stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    # user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
    ticks = [int(v) for v in first[1:9]]
    busy = sum(ticks[:3]) + sum(ticks[5:8])
    return MachineCpu(busy / TICKS, os.cpu_count() or 1)


def load_average() -> tuple[float, float, float] | None:
    try:
        return os.getloadavg()
    except OSError:
        return None
