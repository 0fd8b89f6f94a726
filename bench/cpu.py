"""CPU used per process of the stack, grouped by role (used by ``bench/decision.py`` and ``bench/lifecycle.py``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def cpu_by_process(home: Path | None = None) -> dict[str, float]:
    """CPU seconds (user + system) used so far by this process and each process it started, grouped by the
    direct child's role (a worker's Chromium counts as the worker's), and with ``home`` (the stack's LOS_HOME)
    the embedded PostgreSQL running from it and its backends. Linux /proc; empty elsewhere."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    return _by_role(home, lambda f: (int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])) / tick)


def resident_mb(home: Path | None = None) -> dict[str, float]:
    """Resident memory (RSS, MiB) now, grouped by role as in ``cpu_by_process`` (a role's processes summed)."""
    page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
    mb = _by_role(home, lambda f: int(f[21]) * page / 2**20)
    return {role: round(v, 1) for role, v in mb.items()}


def _by_role(home: Path | None, value: Callable[[list[str]], float]) -> dict[str, float]:
    """``value`` of each process's /proc stat fields (after the command name) summed by role."""
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
        used[int(entry.name)] = value(fields)
    me = os.getpid()
    postmasters = set()
    if home is not None:
        for pid in used:
            try:
                cmd = (Path("/proc") / str(pid) / "cmdline").read_bytes()
            except OSError:
                continue
            if b"postgres" in cmd and str(home).encode() in cmd:
                postmasters.add(pid)

    def in_postgres(pid: int) -> bool:
        while pid in parents:
            if pid in postmasters:
                return True
            pid = parents[pid]
        return False

    def label(pid: int) -> str | None:
        if in_postgres(pid):
            return "postgres"
        try:
            if b"chrom" in (Path("/proc") / str(pid) / "comm").read_bytes():
                return "chromium (agreements)" if _descends(pid) else None
        except OSError:
            pass
        while pid in parents:
            parent = parents[pid]
            if parent == me:
                try:
                    cmd = (Path("/proc") / str(pid) / "cmdline").read_bytes().split(b"\0")
                except OSError:
                    return "other"
                words = [w.decode(errors="replace") for w in cmd if w]
                for role in ("worker", "api", "sandbox"):
                    if role in words:
                        return role
                return "temporal" if any("temporal" in w for w in words) else "postgres"
            pid = parent
        return None

    def _descends(pid: int) -> bool:
        while pid in parents:
            if parents[pid] == me:
                return True
            pid = parents[pid]
        return False

    out: dict[str, float] = {"load generator": used.get(me, 0.0)}
    for pid in used:
        if pid != me and (role := label(pid)) is not None:
            out[role] = out.get(role, 0.0) + used[pid]
    return out


def per_loan(
    before: dict[str, float], after: dict[str, float], loans: int, digits: int | None = None
) -> dict[str, float]:
    """CPU ms per lifecycle by process role, largest first; whole ms, or ``digits`` decimals (a short window's
    few ms a credit, where a whole ms is a tenth of the figure; /proc counts in 10 ms ticks)."""
    used = {role: round((seconds - before.get(role, 0.0)) / loans * 1000, digits) for role, seconds in after.items()}
    return dict(sorted(used.items(), key=lambda kv: -kv[1]))
