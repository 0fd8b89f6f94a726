"""Schedule engine throughput against numpy-financial's amortization table.

For 24- and 360-installment monthly EMI loans (₹25,00,000 at 9.5%), measured in one run on one machine:

* ``engine``        — ``domain.schedule.generate``: the exact schedule (principal, interest, balance per
                      installment in integer paise; due dates worked out when first read);
* ``engine + rows`` — the same, then every row object with its due date and days read out;
* ``numpy-financial`` — ``npf.ipmt`` + ``npf.ppmt`` over all periods: the float amortization table.

Prints schedules/s for each and the ratio engine / numpy-financial (target ≥ 1.0), and checks the
engine's exactness (principal parts sum to the principal to the paisa; numpy's floats rounded to the
paisa generally do not).

    python bench/schedule.py [--seconds 1.5] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import numpy_financial as npf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain import schedule as engine  # noqa: E402
from domain.money import format_inr  # noqa: E402
from domain.product import LoanTerms  # noqa: E402

PRINCIPAL = 25_00_000_00  # paise
RATE = Decimal("9.5")


def rate_of(fn, seconds: float) -> float:  # noqa: ANN001
    """Calls per second of ``fn`` over about ``seconds`` (best of 3 rounds)."""
    best = 0.0
    for _ in range(3):
        count, start = 0, time.perf_counter()
        deadline = start + seconds / 3
        while True:
            for _ in range(20):
                fn()
            count += 20
            now = time.perf_counter()
            if now >= deadline:
                break
        best = max(best, count / (now - start))
    return best


def measure(n: int, seconds: float) -> dict:
    terms = LoanTerms(principal=PRINCIPAL, annual_rate=RATE, installments=n, disbursed_on=date(2026, 1, 5))
    r = float(RATE) / 1200
    periods = np.arange(1, n + 1)
    rupees = PRINCIPAL / 100

    def ours() -> object:
        return engine.generate(terms)

    def ours_rows() -> object:
        s = engine.generate(terms)
        return [(row.due_date, row.days, row.total) for row in s.rows]

    def numpy_table() -> object:
        return npf.ipmt(r, periods, n, -rupees), npf.ppmt(r, periods, n, -rupees)

    s = engine.generate(terms)
    interest, principal = numpy_table()
    numpy_paise = np.round(np.asarray(principal) * 100).astype(np.int64)
    result = {
        "installments": n,
        "engine_per_s": rate_of(ours, seconds),
        "engine_rows_per_s": rate_of(ours_rows, seconds),
        "numpy_financial_per_s": rate_of(numpy_table, seconds),
        "engine_principal_sum_exact": s.total_principal == PRINCIPAL,
        "numpy_principal_sum_error_paise": int(numpy_paise.sum()) - PRINCIPAL,
        "max_interest_gap_paise_vs_numpy": int(
            np.max(
                np.abs(
                    np.asarray(s.rows.interest if hasattr(s.rows, "interest") else [x.interest for x in s.rows])
                    - np.asarray(interest) * 100
                )
            )
        ),
    }
    result["ratio_engine_vs_numpy"] = result["engine_per_s"] / result["numpy_financial_per_s"]
    result["ratio_engine_rows_vs_numpy"] = result["engine_rows_per_s"] / result["numpy_financial_per_s"]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="time per measurement")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = [measure(n, args.seconds) for n in (24, 360)]
    if args.json:
        print(json.dumps({"results": results}, indent=2))
        return 0
    print(f"Schedules/s, {format_inr(PRINCIPAL)} at {RATE}% monthly EMI (one run, same machine)\n")
    print(
        f"{'installments':>12} {'engine':>12} {'engine+rows':>12} {'numpy-fin.':>12} {'ratio':>7} "
        f"{'ratio(rows)':>11}  exact sum  numpy sum error"
    )
    for r in results:
        print(
            f"{r['installments']:>12} {r['engine_per_s']:>12,.0f} {r['engine_rows_per_s']:>12,.0f} "
            f"{r['numpy_financial_per_s']:>12,.0f} {r['ratio_engine_vs_numpy']:>6.2f}x "
            f"{r['ratio_engine_rows_vs_numpy']:>10.2f}x  {str(r['engine_principal_sum_exact']):>9}  "
            f"{r['numpy_principal_sum_error_paise']:+d} paise"
        )
    print(
        "\nratio = engine schedules/s ÷ numpy-financial tables/s (target ≥ 1.0x); interest parts agree with "
        "numpy within "
        + ", ".join(f"{r['max_interest_gap_paise_vs_numpy']} paise (n={r['installments']})" for r in results)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
