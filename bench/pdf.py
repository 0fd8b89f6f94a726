"""CPU per PDF printed by each Chromium build found: Debian's headless shell (what the renderer prefers) against the
full browser, in the same run.

Prints, for each build, the CPU its processes used per document (the browser and its renderers, summed from /proc),
the Python side's CPU, the wall time, the PDF's size, and the ratio of the two builds' CPU. The document is the
closure certificate (``activities/templates/noc.html``) with a sample context, printed through
:class:`activities.documents.PdfRenderer` as the worker does (one page kept open, one document after another).

    python bench/pdf.py [--documents 40] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from activities.documents import HEADLESS_SHELL, PdfRenderer, render_html  # noqa: E402
from bench.cpu import cpu_by_process  # noqa: E402

SAMPLE = {
    "certificate_no": "NOC/DEMO/2026-27/000001",
    "version": 1,
    "issued_on": "2026-12-06",
    "lender": "Demo Finance Private Limited",
    "brand_name": "Demo",
    "kind": "NO_DUES",
    "borrower_name": "Demo Customer",
    "loan_id": "0b7f3c1e-5d1a-4f6e-9a53-3c2d8e4f1a20",
    "loan_ref": "DEMO-000001",
    "amount_inr": "₹50,000.00",
    "net_disbursed_inr": "₹48,230.00",
    "disbursed_on": "2026-09-01",
    "repaid_inr": "₹52,412.00",
    "closed_on": "2026-12-01",
    "closed_as": "REPAID",
    "logo_url": None,
}


def chromium_cpu() -> float:
    """CPU seconds used so far by the Chromium processes this process started (the browser and its renderers)."""
    return cpu_by_process().get("chromium (agreements)", 0.0)


async def measure(executable: str, documents: int) -> dict[str, float | int | str]:
    """Print the sample ``documents`` times (after one unmeasured print) with ``executable``."""
    renderer = PdfRenderer(executable)
    html = render_html("noc.html", SAMPLE)
    try:
        await renderer.pdf(html)  # the browser's start and the page's first document
        browser, python, wall = chromium_cpu(), time.process_time(), time.perf_counter()
        for _ in range(documents):
            pdf = await renderer.pdf(html)
        return {
            "executable": executable,
            "chromium_cpu_ms": round((chromium_cpu() - browser) * 1000 / documents, 1),
            "python_cpu_ms": round((time.process_time() - python) * 1000 / documents, 1),
            "wall_ms": round((time.perf_counter() - wall) * 1000 / documents, 1),
            "pdf_bytes": len(pdf),
        }
    finally:
        await renderer.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=40, help="documents printed per build (default 40)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)
    if args.documents < 1:
        parser.error("--documents must be at least 1")
    builds = [
        path
        for path in (HEADLESS_SHELL, shutil.which("chromium") or "/usr/bin/chromium")
        if path and Path(path).exists()
    ]
    if not builds:
        parser.error("no Chromium found (bash scripts/install)")
    # the nice launcher is kept (as the worker runs it): CPU is counted the same either way
    results = [asyncio.run(measure(path, args.documents)) for path in builds]
    report: dict = {"documents": args.documents, "builds": results}
    if len(results) == 2:
        report["headless_shell_cpu_ratio"] = round(
            float(results[0]["chromium_cpu_ms"]) / float(results[1]["chromium_cpu_ms"]), 3
        )
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{'build':40} {'Chromium CPU ms':>16} {'Python CPU ms':>14} {'wall ms':>8} {'bytes':>7}  (per document)")
    for r in results:
        print(
            f"{r['executable']:40} {r['chromium_cpu_ms']:>16} {r['python_cpu_ms']:>14} {r['wall_ms']:>8} "
            f"{r['pdf_bytes']:>7}"
        )
    if "headless_shell_cpu_ratio" in report:
        print(f"\nheadless shell ÷ full browser, Chromium CPU per document: {report['headless_shell_cpu_ratio']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
