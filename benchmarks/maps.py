"""Benchmark of the HTML maps on the metro sample (about 2,000 zones, 1,000,000 housing points).

For each page: file size, the time to write the maps, and in headless Chromium (Debian
``chromium``, network cut off) the time from navigation until the map reports
``zoneatlas.ready`` (initial overlays drawn) and until every overlay is drawn
(``zoneatlas.showAll()`` plus one frame). Targets: each map < 10 MB, loaded < 3 s.

Run: ``.venv/bin/python benchmarks/maps.py [--scale metro] [--repeat 3]``.
The sample is cached under ``benchmarks/.cache/``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "benchmarks" / ".cache"
TARGET_MB = 10.0
TARGET_S = 3.0


def _results(scale: str):
    from geo.pipeline import run_analyses
    from geo.layers import load_study
    from geo.settings import load_settings

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from _common import cached_sample

    config = cached_sample(scale, seed=0, fmt="gpkg")
    settings = load_settings(config)
    study = load_study(settings)
    results = run_analyses(study, settings)
    return study, results, settings


def _all_overlays_s(page) -> float:
    return page.evaluate("""() => new Promise(resolve => {
        const t0 = performance.now();
        zoneatlas.showAll();
        requestAnimationFrame(() => setTimeout(() => resolve((performance.now() - t0) / 1000), 0));
    })""")


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark; returns ``{page: {mb, load_s, all_overlays_s, ...}, "_write_s": s}``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="metro", choices=["small", "city", "metro"])
    parser.add_argument("--repeat", type=int, default=3, help="browser loads per page (median reported)")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT / "tests"))
    sys.path.insert(0, str(ROOT))
    from _browser import Browser, browser_available, overlay_counts

    from geo.webmap import write_maps

    study, results, settings = _results(args.scale)
    out = CACHE / f"maps_{args.scale}"
    t0 = time.perf_counter()
    written = write_maps(out, study, results, settings, {"inputs": [], "versions": {}, "parameters": {}})
    write_s = time.perf_counter() - t0

    report: dict = {"_write_s": round(write_s, 2), "_scale": args.scale}
    ok, why = browser_available()
    browser = Browser() if ok else None
    try:
        for name, path in written.items():
            row = {"mb": round(path.stat().st_size / 1e6, 2)}
            if browser is not None and name != "index":
                loads, alls, counts = [], [], {}
                for _ in range(args.repeat):
                    with browser.open(path, timeout_s=60) as run:
                        loads.append(run.load_s)
                        alls.append(run.load_s + _all_overlays_s(run.page))
                        counts = overlay_counts(run.page)
                        errors = run.console_errors + run.page_errors
                row.update(load_s=round(statistics.median(loads), 2),
                           all_overlays_s=round(statistics.median(alls), 2),
                           features=sum(counts.values()), errors=len(errors))
            row["ok"] = row["mb"] < TARGET_MB and row.get("load_s", 0) < TARGET_S
            report[name] = row
    finally:
        if browser is not None:
            browser.close()

    print(f"maps benchmark ({args.scale} sample; write_maps {write_s:.1f} s"
          f"{'' if ok else '; browser skipped: ' + why})")
    print(f"{'page':<16}{'MB':>8}{'load s':>9}{'all s':>8}{'features':>10}  target")
    for name, row in report.items():
        if name.startswith("_"):
            continue
        print(f"{name:<16}{row['mb']:>8.2f}{row.get('load_s', float('nan')):>9.2f}"
              f"{row.get('all_overlays_s', float('nan')):>8.2f}{row.get('features', 0):>10}  "
              f"{'ok' if row['ok'] else 'MISSED'} (<{TARGET_MB:g} MB, <{TARGET_S:g} s)")
    return report


if __name__ == "__main__":
    main()
