"""bench/portfolio.py on a book of 20 loans: it runs its storm end to end and prints every figure it promises."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def run_bench(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    """bench/portfolio.py with ``args``; past ``timeout`` it is stopped with SIGTERM, so it stops its stack."""
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "portfolio.py"), *args],
        env=os.environ | {"PYTHONDONTWRITEBYTECODE": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        raise AssertionError(f"the bench took over {timeout:.0f}s: {err[-3000:]}") from None
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_portfolio_bench_prints_every_figure() -> None:
    out = run_bench(["--sizes", "20", "--pay", "0.8", "--lead", "5"], timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout
    for heading in ("clear s", "loans/s", "wf tasks", "events", "wkr cpu ms", "temporal MB", "pg MB", "null/s"):
        assert heading in text, heading
    row = next(line for line in text.splitlines() if re.match(r"\s+20\s+1\s", line)).split()
    n, workers, clear, per_s, tasks, events, acts, wkr_cpu, all_cpu, temporal, pg, null, ratio = row
    assert float(clear) > 0 and float(per_s) > 0
    assert float(tasks) >= 2 and float(events) > float(tasks) and float(acts) >= 1  # the month's work was read
    assert int(wkr_cpu) > 0 and int(all_cpu) >= int(wkr_cpu)
    assert float(temporal) > 0 and float(pg) > 0 and float(null) > 0 and 0 < float(ratio)
    # every loan done, counted in PostgreSQL: 16 paid and settled, 4 overdue with a link for the new amount
    assert "complete {'overdue': 4, 'credits': 16, 'settled': 16} (paying 16)" in text
    assert "['200 delivered']" in text
    memory = re.search(r"memory after the storm \{.*\} MiB \(worker ([\d.]+) KiB a loan each, Temporal ([\d.]+)", text)
    assert memory and float(memory[1]) > 0 and float(memory[2]) > 0, text
    assert "no flatness verdict" in text
