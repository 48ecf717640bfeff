"""CPU time a server process spent, read from its own counters in /proc (Linux).

Unlike wall-clock rates, a process's utime+stime barely moves when other work shares
the machine's cores: the figure to compare when the machine is not ours alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICKS_PER_S = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


def _stat_fields(stat_file: Path) -> list[str]:
    # The name in field 2 may hold spaces and parentheses: split after the last ")".
    # The list starts at field 3 (state).
    return stat_file.read_text().rsplit(")", 1)[1].split()


def cpu_seconds(stat_file: Path) -> float:
    """utime+stime (fields 14 and 15) of a /proc stat file: a process or one thread."""
    fields = _stat_fields(stat_file)
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S


def descendants(pid: int) -> set[int]:
    """Every live process below `pid`: nginx's worker under its master, say."""
    parents: dict[int, int] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(_stat_fields(entry / "stat")[1])
            except (OSError, IndexError, ValueError):
                continue  # exited while we looked
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of `pid` and every live process below it, each with all its threads.

    A child's time is summed here rather than read from the parent's cutime/cstime,
    which count only children that have exited and been waited for.
    """
    total = 0.0
    for member in (pid, *descendants(pid)):
        try:
            total += cpu_seconds(PROC / str(member) / "stat")
        except OSError:
            continue  # a child that exited between the scan and the read
    return total


@dataclass(frozen=True)
class MachineTicks:
    """The machine's `cpu` line of /proc/stat: every CPU's time so far, in ticks, by use."""

    total: int
    idle: int  # idle and waiting for I/O
    # Time a virtual machine's CPUs were ready to run but the hypervisor ran
    # another guest: where a VM's noise comes from, invisible from inside otherwise.
    stolen: int

    @classmethod
    def read(cls, stat_file: Path = PROC / "stat") -> MachineTicks:
        # user nice system idle iowait irq softirq steal guest guest_nice
        ticks = [int(n) for n in stat_file.read_text().split("\n", 1)[0].split()[1:]]
        stolen = ticks[7] if len(ticks) > 7 else 0
        return cls(total=sum(ticks[:8]), idle=ticks[3] + ticks[4], stolen=stolen)

    def busy_share(self, later: MachineTicks) -> float:
        """The share of the CPUs' time spent running anything between the two readings."""
        return 1 - (later.idle - self.idle) / max(1, later.total - self.total)

    def stolen_share(self, later: MachineTicks) -> float:
        """The share of the CPUs' time taken by the hypervisor between the two readings."""
        return (later.stolen - self.stolen) / max(1, later.total - self.total)
