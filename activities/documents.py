"""HTML documents from jinja2 templates, printed to PDF by Chromium's headless shell (Playwright)."""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from activities.providers.heartbeat import keep_alive

TEMPLATES = Path(__file__).parent / "templates"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]

_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


def render_html(template: str, context: dict[str, Any]) -> str:
    return _env.get_template(template).render(**context)


HEADLESS_SHELL = "/usr/lib/chromium/chromium-headless-shell"
"""Debian's ``chromium-headless-shell`` (the binary itself: the package's ``/usr/bin`` command is a shell script that
runs it as a child, one process more): Chromium's headless shell (the "old" headless mode), the build Playwright
itself launches for headless runs (https://playwright.dev/docs/browsers#chromium-headless-shell). The same Blink
layout and Skia PDF printer as the full browser, without the browser's user interface: the same agreement and
certificate (fonts, page size, pages) for about a third of the CPU per document (``bench/pdf.py``)."""


def chromium_executable(configured: str | None = None) -> str | None:
    """The browser that prints PDFs: the configured one (``configured``, else ``LOS_CHROMIUM_PATH``), else Debian's
    headless shell (:data:`HEADLESS_SHELL`), else Debian's full chromium, else Playwright's own (None)."""
    for candidate in (
        configured,
        os.environ.get("LOS_CHROMIUM_PATH"),
        HEADLESS_SHELL,
        "/usr/bin/chromium-headless-shell",
        shutil.which("chromium-headless-shell"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def _lower_priority(executable: str, nice: int) -> str:
    """A launcher that starts ``executable`` under ``nice`` (the browser's renderer processes inherit it)."""
    nice_bin = shutil.which("nice")
    if nice <= 0 or nice_bin is None or not Path(executable).exists():
        return executable
    folder = Path(tempfile.mkdtemp(prefix="los-chromium-"))  # private to this process (mode 0700)
    launcher = folder / "chromium"
    launcher.write_text(f'#!/bin/sh\nexec {shlex.quote(nice_bin)} -n {nice} {shlex.quote(executable)} "$@"\n')
    launcher.chmod(0o700)
    return str(launcher)


PAGE_RENDERS = 200  # documents a page prints before it is replaced


class PdfRenderer:
    """One browser per process and a few pages kept open, each printing one document after another (a new
    page per document costs a renderer process: about four times the CPU of the print itself). A page that
    fails is thrown away; the browser is restarted if it dies."""

    def __init__(self, executable: str | None = None, concurrency: int = 1, nice: int = 10):
        self.executable = chromium_executable(executable)
        # Chromium runs at a lower CPU priority: a PDF can wait a moment, a credit decision or a payment not.
        self.nice = nice
        self._playwright: Any = None
        self._browser: Any = None
        self._lock = asyncio.Lock()
        # Rendering is CPU-heavy; one at a time per worker keeps it from starving decisions and payments.
        self._renders = asyncio.Semaphore(concurrency)
        self._pages: list[Any] = []  # idle pages, ready for the next document
        self._launcher: str | None = None
        self._printed: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()

    async def _ensure(self) -> Any:
        async with self._lock:
            if self._browser is None or not self._browser.is_connected():
                from playwright.async_api import async_playwright

                if self._playwright is None:
                    self._playwright = await async_playwright().start()
                if self._launcher is None:
                    executable = self.executable or self._playwright.chromium.executable_path
                    self._launcher = _lower_priority(executable, self.nice)
                self._browser = await self._playwright.chromium.launch(
                    executable_path=self._launcher, args=CHROMIUM_ARGS, headless=True
                )
            return self._browser

    async def pdf(self, html: str) -> bytes:
        """The document printed to an A4 PDF (bytes). In an activity it heartbeats while it waits for its turn and
        while the browser prints, so a worker that dies meanwhile is noticed within the call's heartbeat timeout."""
        async with keep_alive("printing a PDF"), self._renders:
            return await self._pdf(html)

    async def _pdf(self, html: str) -> bytes:
        browser = await self._ensure()
        page = None
        while self._pages and page is None:
            candidate = self._pages.pop()
            page = candidate if not candidate.is_closed() and candidate.context.browser is browser else None
        if page is None:
            page = await browser.new_page()
            page.on("crash", lambda crashed: self._pages.remove(crashed) if crashed in self._pages else None)
            self._printed[page] = 0
        try:
            await page.set_content(html, wait_until="load")  # replaces the previous document entirely
            pdf = await page.pdf(
                format="A4",
                print_background=True,
                margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"},
            )
        except BaseException:
            await _close_quietly(page)
            raise
        self._printed[page] = self._printed.get(page, 0) + 1
        if self._printed[page] < PAGE_RENDERS:
            self._pages.append(page)
        else:  # a fresh page now and then: whatever a long-lived renderer accumulates goes with it
            del self._printed[page]
            await _close_quietly(page)
        return pdf

    async def close(self) -> None:
        self._pages.clear()
        if self._browser is not None:
            await self._browser.close()
        if self._playwright is not None:
            await self._playwright.stop()
        self._browser = self._playwright = None


async def _close_quietly(page: Any) -> None:
    try:
        await page.close()
    except Exception:  # noqa: BLE001 - the render's own error is the one to report
        pass
