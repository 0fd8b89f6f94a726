"""HTML documents from jinja2 templates, printed to PDF by headless Chromium (Playwright)."""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import tempfile
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

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


def chromium_executable(configured: str | None = None) -> str | None:
    """The configured browser, else Debian's chromium, else Playwright's own (None)."""
    for candidate in (
        configured,
        os.environ.get("LOS_CHROMIUM_PATH"),
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
    folder = Path(tempfile.gettempdir()) / f"los-chromium-{os.getuid()}"
    folder.mkdir(exist_ok=True)
    launcher = folder / f"chromium-nice{nice}"
    script = f'#!/bin/sh\nexec {shlex.quote(nice_bin)} -n {nice} {shlex.quote(executable)} "$@"\n'
    if not launcher.exists() or launcher.read_text() != script:
        tmp = folder / f".{launcher.name}.{os.getpid()}"
        tmp.write_text(script)
        tmp.chmod(0o755)
        tmp.replace(launcher)
    return str(launcher)


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

    async def _ensure(self) -> Any:
        async with self._lock:
            if self._browser is None or not self._browser.is_connected():
                from playwright.async_api import async_playwright

                if self._playwright is None:
                    self._playwright = await async_playwright().start()
                executable = self.executable or self._playwright.chromium.executable_path
                self._browser = await self._playwright.chromium.launch(
                    executable_path=_lower_priority(executable, self.nice), args=CHROMIUM_ARGS, headless=True
                )
            return self._browser

    async def pdf(self, html: str) -> bytes:
        async with self._renders:
            return await self._pdf(html)

    async def _pdf(self, html: str) -> bytes:
        browser = await self._ensure()
        page = None
        while self._pages and page is None:
            candidate = self._pages.pop()
            page = candidate if not candidate.is_closed() and candidate.context.browser is browser else None
        page = page or await browser.new_page()
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
        self._pages.append(page)
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
