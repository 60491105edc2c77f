"""Benchmark of the print figures and the workbook against plain geopandas / pandas.

Usage::

    python benchmarks/print.py [--scale metro|city|small] [--config CONFIG] [--repeats N]

On the ``metro`` sample (about 2,000 zones, 2,150 workplaces, 18,000 candidate pairs,
1,000,000 housing points) it loads the study and runs the analyses once (not timed), then
times, in this process:

* **figures** – :func:`geo.figures.write_figures`: the three print maps, A3 landscape,
  PNG at 300 dpi and PDF, with legend, labels, scale bar and north arrow;
* **figures baseline** – the same layers (the same housing density cells, workplaces,
  zones, pairs, links, district outlines) drawn with plain ``GeoDataFrame.plot()`` on an
  A3 page and saved with ``savefig`` as PNG (300 dpi) and PDF: no legend, no labels;
* **workbook** – :func:`geo.workbook.write_workbook` of every table of the run;
* **workbook baseline** – ``DataFrame.to_excel`` (XlsxWriter engine) of the same tables
  that fit a sheet (the workbook leaves tables over 100,000 rows to their CSV files).

Wall times (``time.perf_counter``, median of ``--repeats``) and CPU times
(``time.process_time``, all threads of this process) are reported; the machine is shared,
so CPU time is the steadier number. Target: figures + workbook ≤ 10 s on metro.

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


def _load(scale: str, config: str | None):
    from geo.layers import load_study
    from geo.pipeline import run_analyses
    from geo.settings import load_settings

    settings = load_settings(config or cached_sample(scale, seed=0, fmt="gpkg"))
    study = load_study(settings)
    return settings, study, run_analyses(study, settings)


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


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="metro", choices=["small", "city", "metro"])
    parser.add_argument("--config", help="an existing study's config.yaml instead of the cached sample")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)

    from geo.figures import write_figures
    from geo.workbook import MAX_SHEET_ROWS, run_tables, write_workbook

    settings, study, results = _load(args.scale, args.config)
    tables = run_tables(study, results)
    out: dict = {"scale": args.scale, "zones": len(study.zones),
                 "housing": 0 if study.housing is None else len(study.housing)}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # warm-up: imports and font discovery happen once per run, not per figure
        import matplotlib.pyplot  # noqa: F401

        from geo.figures._fonts import find_cjk_font
        find_cjk_font()
        rows = []
        fig_wall, fig_cpu = _measure(lambda: write_figures(tmp / "figures", study, results, settings), args.repeats)
        base_wall, base_cpu = _measure(lambda: baseline_figures(tmp / "baseline", study, results, settings),
                                       args.repeats)
        rows.append({"what": "figures (3 maps, PNG 300 dpi + PDF)", "ours": fig_wall, "ours_cpu": fig_cpu,
                     "base": base_wall, "base_cpu": base_cpu, "ratio": fig_cpu / base_cpu})
        wb_wall, wb_cpu = _measure(lambda: write_workbook(tmp / "tables.xlsx", tables, settings.study.language),
                                   args.repeats)
        bw_wall, bw_cpu = _measure(lambda: baseline_workbook(tmp / "base.xlsx", tables, MAX_SHEET_ROWS),
                                   args.repeats)
        rows.append({"what": "workbook (every table)", "ours": wb_wall, "ours_cpu": wb_cpu,
                     "base": bw_wall, "base_cpu": bw_cpu, "ratio": wb_cpu / bw_cpu})
        sizes = {p.name: p.stat().st_size / 1e6 for p in sorted((tmp / "figures").iterdir())}
        sizes["tables.xlsx"] = (tmp / "tables.xlsx").stat().st_size / 1e6
    total_wall, total_cpu = fig_wall + wb_wall, fig_cpu + wb_cpu
    rows.append({"what": "added to a run", "ours": total_wall, "ours_cpu": total_cpu})
    out.update({"rows": rows, "sizes_mb": sizes, "total_wall_s": total_wall, "total_cpu_s": total_cpu,
                "target_s": TARGET_S})
    print(f"print outputs on the {args.scale} sample ({out['zones']:,} zones, {out['housing']:,} housing features)")
    print(format_table(rows, [("what", "step", ""), ("ours", "ours wall s", ".2f"), ("ours_cpu", "ours cpu s", ".2f"),
                              ("base", "baseline wall s", ".2f"), ("base_cpu", "baseline cpu s", ".2f"),
                              ("ratio", "cpu ratio", ".2f")]))
    print("file sizes (MB): " + ", ".join(f"{k} {v:.1f}" for k, v in sizes.items()))
    verdict = "within" if total_cpu <= TARGET_S else "OVER"
    print(f"figures + workbook: {total_cpu:.1f} s CPU ({total_wall:.1f} s wall): {verdict} the {TARGET_S:g} s target")
    return out


if __name__ == "__main__":
    main()
