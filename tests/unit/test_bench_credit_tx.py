"""``bench/credit_tx.py`` runs end to end on its own embedded PostgreSQL: every payment and every status move is
written once (the bench checks the rows and exits non-zero otherwise), and it prints a figure for each step."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_credit_transactions_bench_prints_its_figures() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "credit_tx.py"), "--loans", "84", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["loans"] == 84
    for step in ("record_payment", "record_payment_with_move", "record_status"):
        assert report[step]["cpu_ms"] > 0 and report[step]["wall_ms"] >= report[step]["cpu_ms"] * 0.2
    expected = report["record_payment_with_move"]["cpu_ms"] / (
        report["record_payment"]["cpu_ms"] + report["record_status"]["cpu_ms"]
    )
    assert abs(report["ratio_cpu"] - expected) < 1e-9
