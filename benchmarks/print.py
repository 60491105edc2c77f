"""Benchmark of the print figures and the workbook against plain geopandas / pandas.

Usage::

    python benchmarks/print.py [--scale metro|city|small] [--config CONFIG] [--state PICKLE] [--repeats N]

On the ``metro`` sample (about 2,000 zones, 2,150 workplaces, 18,000 candidate pairs,
1,000,000 housing points) it loads the study and runs the analyses once (not timed; with
``--state`` pickled once and reused, as the metro analyses with roads take minutes), then
times, in this process:

* **figures** – :func:`geo.figures.write_figures`, map by map: A3 landscape, PNG at 300 dpi
  and PDF, with legend, labels, scale bar and north arrow; the ratio compares the three maps
  the baseline draws, the next row is every map of the run (chains and commuting too) in
  one call, as a run draws them;
* **figures baseline** – the same layers (the same housing density cells, workplaces,
  zones, pairs, links, district outlines) drawn with plain ``GeoDataFrame.plot()`` on an
  A3 page and saved with ``savefig`` as PNG (300 dpi) and PDF: no legend, no labels;
* **workbook** – :func:`geo.workbook.write_workbook` of every table of the run;
* **workbook baseline** – ``DataFrame.to_excel`` (XlsxWriter engine) of the same tables
  that fit a sheet (the workbook leaves tables over 100,000 rows to their CSV files);
* **as a run** – the workbook in a :class:`geo._background.Background` job (a forked process on Linux) while the
  figures are drawn, then waiting for it: the wall time the two add to a run (where the
  QGIS package and the web maps overlap the workbook too) and the CPU of both processes.

Wall times (``time.perf_counter``, median of ``--repeats``) and CPU times
(``time.process_time``, all threads of this process; plus the workbook process's own in
the last row) are reported; the machine is shared, so CPU time is the steadier number.
Target: figures + workbook add ≤ 10 s to a metro run.

:func:`main` returns the numbers as a dict.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import cached_sample, format_table  # noqa: E402

TARGET_S = 10.0


def _load(scale: str, config: str | None, state: str | None = None):
    """Settings, study and analysis results; with ``state`` pickled there once and reused
    (the metro analyses take minutes; the print outputs are what is timed)."""
    import pickle

    if state and Path(state).is_file():
        with open(state, "rb") as fh:
            return pickle.load(fh)
    from geo.layers import load_study
    from geo.pipeline import run_analyses
    from geo.settings import load_settings

    settings = load_settings(config or cached_sample(scale, seed=0, fmt="gpkg"))
    study = load_study(settings)
    loaded = settings, study, run_analyses(study, settings)
    if state:
        with open(state, "wb") as fh:
            pickle.dump(loaded, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return loaded


def _measure(fn, repeats: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``repeats`` calls."""
    walls, cpus = [], []
    for _ in range(max(1, repeats)):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def baseline_figures(folder: Path, study, results, settings) -> None:
    """The same layers with plain GeoDataFrame.plot(), one A3 page per analysis, PNG + PDF."""
    import geopandas as gpd
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from geo import styles
    from geo.webmap.balance import housing_hexagons

    folder.mkdir(parents=True, exist_ok=True)
    districts = study.districts
    for name in ("balance", "collaboration", "core_periphery"):
        if name not in results:
            continue
        tables = results[name].tables
        fig, ax = plt.subplots(figsize=(420 / 25.4, 297 / 25.4))
        if name == "balance":
            cells, _ = housing_hexagons(study, settings)
            breaks = styles.graduated_breaks(cells["workers"])
            colors = np.array(styles.ramp(len(breaks) + 1))
            cells.plot(ax=ax, color=colors[styles.classify(cells["workers"], breaks)], alpha=0.55)
            wp = tables["balance_workplaces"]
            wp.plot(ax=ax, color=[styles.BALANCE_CLASS_COLORS.get(c, "#cccccc") for c in wp["balance_class"]],
                    edgecolor=styles.ZONE_OUTLINE, linewidth=0.5)
        elif name == "collaboration":
            zones = tables["collaboration_zones"]
            cc = styles.chain_colors(zones["chain"])
            zones.plot(ax=ax, color=[cc[c] for c in zones["chain"]], edgecolor=styles.ZONE_OUTLINE, linewidth=0.5)
            pairs = tables["collaboration_pairs"]
            rec = pairs[pairs["recommended"].fillna(False).astype(bool)]
            rec.plot(ax=ax, color=[styles.PAIR_TYPE_COLORS.get(t, "#999999") for t in rec["pair_type"]])
        else:
            zones = tables["core_periphery_zones"]
            zones.plot(ax=ax, color=[styles.ROLE_COLORS.get(r, "#cccccc") for r in zones["role"]],
                       edgecolor=styles.ZONE_OUTLINE, linewidth=0.5)
            tables["core_periphery_links"].plot(ax=ax, color="#555555", linewidth=0.6)
        if isinstance(districts, gpd.GeoDataFrame):
            districts.boundary.plot(ax=ax, color=styles.DISTRICT_OUTLINE, linestyle="--", linewidth=0.8)
        ax.set_axis_off()
        fig.savefig(folder / f"{name}.png", dpi=300)
        fig.savefig(folder / f"{name}.pdf")
        plt.close(fig)


def baseline_workbook(path: Path, tables, max_rows: int) -> None:
    import pandas as pd

    with pd.ExcelWriter(path, engine="xlsxwriter") as writer:
        for name, frame in tables.items():
            if len(frame) > max_rows:
                continue
            frame.drop(columns=[c for c in frame.columns if c == "geometry"]).to_excel(
                writer, sheet_name=name[:31], index=False)


def _children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="metro", choices=["small", "city", "metro"])
    parser.add_argument("--config", help="an existing study's config.yaml instead of the cached sample")
    parser.add_argument("--state", help="pickle of the loaded study and results: written on the first run, "
                                        "reused after (skips the analyses)")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)

    from geo.figures import write_figures
    from geo._background import Background
    from geo.workbook import MAX_SHEET_ROWS, run_tables, write_workbook

    settings, study, results = _load(args.scale, args.config, args.state)
    tables = run_tables(study, results)
    cells = sum(len(f) * len([c for c in f.columns if c != "geometry"]) for f in tables.values()
                if len(f) <= MAX_SHEET_ROWS)
    out: dict = {"scale": args.scale, "zones": len(study.zones), "cells": cells,
                 "housing": 0 if study.housing is None else len(study.housing)}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # warm-up: imports and font discovery happen once per run (the web maps import the
        # same modules), not per figure
        import matplotlib.pyplot  # noqa: F401

        import geo.figures._maps  # noqa: F401
        import geo.webmap  # noqa: F401
        from geo.figures._fonts import find_cjk_font
        find_cjk_font()
        rows = []
        # the baseline draws the three maps it knows; ours is timed per map so that the
        # ratio compares the same maps and the total covers every map of the run
        base_maps = [n for n in ("balance", "collaboration", "core_periphery") if n in results]
        per_map = {}
        for name in results:
            wall, cpu = _measure(lambda n=name: write_figures(tmp / "figures", study, {n: results[n]}, settings),
                                 args.repeats)
            if (tmp / "figures" / f"{name}.png").is_file():
                per_map[name] = (wall, cpu)
        base_wall, base_cpu = _measure(lambda: baseline_figures(tmp / "baseline", study, results, settings),
                                       args.repeats)
        same_wall = sum(per_map[n][0] for n in base_maps)
        same_cpu = sum(per_map[n][1] for n in base_maps)
        rows.append({"what": f"figures: the {len(base_maps)} maps of the baseline", "ours": same_wall,
                     "ours_cpu": same_cpu, "base": base_wall, "base_cpu": base_cpu, "ratio": same_cpu / base_cpu})
        # every map in one call, as a run draws them (the pages share one page buffer)
        fig_wall, fig_cpu = _measure(lambda: write_figures(tmp / "figures", study, results, settings), args.repeats)
        rows.append({"what": f"figures: all {len(per_map)} maps in one call (PNG 300 dpi + PDF)", "ours": fig_wall,
                     "ours_cpu": fig_cpu})
        wb_wall, wb_cpu = _measure(lambda: write_workbook(tmp / "tables.xlsx", tables, settings.study.language),
                                   args.repeats)
        bw_wall, bw_cpu = _measure(lambda: baseline_workbook(tmp / "base.xlsx", tables, MAX_SHEET_ROWS),
                                   args.repeats)
        rows.append({"what": f"workbook ({len(tables)} tables, {cells:,} cells)", "ours": wb_wall, "ours_cpu": wb_cpu,
                     "base": bw_wall, "base_cpu": bw_cpu, "ratio": wb_cpu / bw_cpu})
        rows.append({"what": "figures + workbook, one after the other", "ours": fig_wall + wb_wall,
                     "ours_cpu": fig_cpu + wb_cpu})
        # as a run does it: the workbook in its own process while the figures are drawn
        # (in a run the QGIS package and the web maps overlap it too)
        child0, c0, t0 = _children_cpu(), time.process_time(), time.perf_counter()
        with Background() as background:
            job = background.start("workbook", write_workbook, tmp / "bg" / "tables.xlsx", tables,
                                   settings.study.language)
            write_figures(tmp / "bg" / "figures", study, results, settings)
            background.wait()
        both_wall, both_cpu = time.perf_counter() - t0, time.process_time() - c0 + _children_cpu() - child0
        rows.append({"what": "figures while the workbook is written (as a run)", "ours": both_wall,
                     "ours_cpu": both_cpu})
        sizes = {p.name: p.stat().st_size / 1e6 for p in sorted((tmp / "figures").iterdir())}
        sizes["tables.xlsx"] = (tmp / "tables.xlsx").stat().st_size / 1e6
    out.update({"rows": rows, "sizes_mb": sizes, "total_wall_s": fig_wall + wb_wall, "total_cpu_s": fig_cpu + wb_cpu,
                "overlapped_wall_s": both_wall, "overlapped_cpu_s": both_cpu, "target_s": TARGET_S,
                "background": job.background})
    print(f"print outputs on the {args.scale} sample ({out['zones']:,} zones, {out['housing']:,} housing features)")
    print(format_table(rows, [("what", "step", ""), ("ours", "ours wall s", ".2f"), ("ours_cpu", "ours cpu s", ".2f"),
                              ("base", "baseline wall s", ".2f"), ("base_cpu", "baseline cpu s", ".2f"),
                              ("ratio", "cpu ratio", ".2f")]))
    print("file sizes (MB): " + ", ".join(f"{k} {v:.1f}" for k, v in sizes.items()))
    total = fig_cpu + wb_cpu
    verdict = "within" if total <= TARGET_S else "OVER"
    print(f"figures + workbook: {total:.1f} s CPU ({fig_wall + wb_wall:.1f} s wall) one after the other: "
          f"{verdict} the {TARGET_S:g} s target in CPU")
    verdict = "within" if both_wall <= TARGET_S else "OVER"
    print(f"with the workbook in its own process{'' if job.background else ' (not available here: inline)'}: "
          f"{both_wall:.1f} s wall added ({both_cpu:.1f} s CPU on two cores): {verdict} the {TARGET_S:g} s target "
          f"in wall time")
    return out


if __name__ == "__main__":
    main()
