"""Headless Chromium for the map tests and the benchmark (Playwright driving Debian chromium).

The browser runs with its network cut off: every request that is not ``file://`` or
``data:`` is aborted and recorded, so a page that tries to reach a CDN is caught.
Chromium comes from the Debian package (``/usr/bin/chromium``); Playwright's own
browser download is never used.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 "--disable-dev-shm-usage"]


def chromium_path() -> str | None:
    """Path of a Chromium binary (env ``ZONEATLAS_CHROMIUM`` first), or None."""
    env = os.environ.get("ZONEATLAS_CHROMIUM")
    if env and Path(env).exists():
        return env
    for c in CHROMIUM_CANDIDATES:
        if Path(c).exists():
            return c
    found = shutil.which("chromium")
    return found


def browser_available() -> tuple[bool, str]:
    """(available, reason) — Chromium binary and the playwright package."""
    if chromium_path() is None:
        return False, "chromium not installed (apt-get install chromium fonts-noto-cjk)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False, "python package playwright not installed (pip install playwright)"
    return True, ""


@dataclass
class PageRun:
    """What happened while a page was open."""

    page: Any
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    load_s: float | None = None


class Browser:
    """One headless Chromium; :meth:`open` loads a file with the network cut off."""

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self._browser = self._pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)

    def close(self) -> None:
        try:
            self._browser.close()
        finally:
            self._pw.stop()

    @contextmanager
    def open(self, path: Path, *, wait_ready: bool = True, timeout_s: float = 30.0,
             viewport: tuple[int, int] = (1280, 820)) -> Iterator[PageRun]:
        """Open ``path`` (a local HTML file); yields a :class:`PageRun`.

        With ``wait_ready`` waits until ``window.zoneatlas.ready`` and records the time
        from navigation start in ``load_s``.
        """
        context = self._browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                            service_workers="block")
        run = PageRun(page=None)

        def route(r):
            url = r.request.url
            if url.startswith(("file://", "data:", "about:")):
                r.continue_()
            else:
                run.blocked.append(url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        run.page = page
        page.on("console", lambda m: run.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: run.page_errors.append(str(e)))

        def on_dialog(d):
            run.dialogs.append(f"{d.type}: {d.message}")
            d.dismiss()

        page.on("dialog", on_dialog)
        try:
            t0 = time.perf_counter()
            page.goto(Path(path).resolve().as_uri(), wait_until="load", timeout=timeout_s * 1000)
            if wait_ready:
                page.wait_for_function("window.zoneatlas && window.zoneatlas.ready === true",
                                       timeout=timeout_s * 1000)
                run.load_s = time.perf_counter() - t0
            yield run
        finally:
            context.close()


def overlay_counts(page) -> dict[str, int]:
    """Number of Leaflet layers in each registered overlay (features drawn)."""
    return page.evaluate("""() => {
        const out = {};
        for (const [id, l] of Object.entries(window.zoneatlas.overlays)) {
            out[id] = l.getLayers ? l.getLayers().length : 0;
        }
        return out;
    }""")


def overlays_on_map(page) -> list[str]:
    return page.evaluate("""() => Object.keys(window.zoneatlas.overlays)
        .filter(id => window.zoneatlas.map.hasLayer(window.zoneatlas.overlays[id]))""")
