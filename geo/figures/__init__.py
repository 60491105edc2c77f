"""Print-ready maps: ``figures/<analysis>.png`` (300 dpi) and ``figures/<analysis>.pdf``.

One figure per analysis map, drawn with matplotlib (through geopandas) without a browser: the
title of the web map, the same layers, colours and classes as its initial view, a legend
panel beside (landscape) or below (portrait) the map, a scale bar with the printed scale, a
north arrow, the data source and date, and collision-free labels of the most important
features. Paper and orientation come from ``print.paper`` / ``print.orientation``. Housing
is drawn as the web map's density cells, never point by point.

Examples
--------
>>> from geo.figures import write_figures  # doctest: +SKIP
>>> write_figures(out_dir / "figures", study, results, settings, manifest)  # doctest: +SKIP
{'balance': [PosixPath('.../balance.png'), PosixPath('.../balance.pdf')], ...}
"""

from __future__ import annotations

import logging
import warnings
from datetime import datetime, timezone
from pathlib import Path

from geo._types import AnalysisResult, Study
from geo.settings import Settings

__all__ = ["build_figure", "check_fonts", "write_figures"]

log = logging.getLogger(__name__)


def check_fonts(settings: Settings) -> None:
    """Fail early when figures are on, the study language is ``zh`` and no installed font has
    Chinese characters (``zoneatlas validate`` runs the same check).

    Raises
    ------
    geo._errors.ConfigError
        One line saying how to install a CJK font or how to switch figures off.
    """
    from geo._errors import ConfigError
    from geo.figures._fonts import font_families

    if not settings.print.figures or settings.study.language != "zh":
        return
    try:
        font_families("zh", required=True)
    except ConfigError as exc:
        source = f"{settings.config_path}: " if settings.config_path else ""
        raise ConfigError([source + p for p in exc.problems]) from None


def _source_line(settings: Settings, manifest: dict | None, crs_text: str) -> str:
    from geo import __version__
    from geo.figures._page import TEXT
    from geo.i18n import label

    lang = settings.study.language
    t = TEXT[lang]
    manifest = manifest or {}
    layers = (getattr(settings.layers, n) for n in ("districts", "zones", "innovation_districts", "housing",
                                                      "population", "landuse"))
    names = [layer.path.name for layer in layers if layer is not None]
    sep = "：" if lang == "zh" else ": "
    parts = [f"{t['source']}{sep}{t['list_sep'].join(dict.fromkeys(names))}"]
    if settings.study.synthetic:
        parts[0] += f" ({label('synthetic', lang)})"
    started = manifest.get("started")
    date = (started or datetime.now(timezone.utc).isoformat())[:10]
    parts += [f"{t['crs']} {crs_text}", f"{t['made']} zoneatlas {manifest.get('zoneatlas_version', __version__)}",
              date]
    return " · ".join(parts)


def build_figure(name: str, study: Study, result: AnalysisResult, settings: Settings,
                 manifest: dict | None = None, *, paper: str | None = None, orientation: str | None = None):
    """The print map of analysis ``name`` as a matplotlib Figure (not written).

    Parameters
    ----------
    name : str
        ``balance``, ``collaboration`` or ``core_periphery``.
    study, result, settings
        The run's inputs, the analysis result and the settings (``print:``, ``study:``).
    manifest : dict, optional
        run.json content: input files and the run date for the source line.
    paper, orientation : str, optional
        Override ``print.paper`` / ``print.orientation``.

    Returns
    -------
    matplotlib.figure.Figure
        With the title (gid ``title``), legend texts (gids ``legend_*``) and map labels
        (gid ``map_label``) findable by gid.
    """
    import matplotlib

    from geo.figures import _page
    from geo.figures._fonts import font_families
    from geo.figures._maps import BUILDERS, FigureContext

    lang = settings.study.language
    paper = paper or settings.print.paper
    orientation = orientation or settings.print.orientation
    families = font_families(lang, required=lang == "zh")
    ctx = FigureContext(study, settings)
    spec = BUILDERS[name](ctx, result)
    # Type 3 fonts: the PDF embeds only the glyphs used (Type 42 subsetting of a CJK .ttc
    # takes seconds); names print literally (no $math$)
    rc = {"font.family": families, "text.parse_math": False, "pdf.fonttype": 3, "axes.unicode_minus": False,
          "path.simplify": True,
          "svg.fonttype": "none"}
    with matplotlib.rc_context(rc):
        fig, page = _page.new_page(paper, orientation)
        ax = page["map"]
        if spec.bounds is not None:
            _page.fit_extent(ax, spec.bounds)
        s = page["scale"]
        for draw in spec.draw:
            draw(ax, s)
        if spec.bounds is not None:  # geopandas may autoscale; restore the page extent
            _page.fit_extent(ax, spec.bounds)
        ax.set_xlabel("")
        ax.set_ylabel("")
        subtitle = None
        if settings.study.synthetic:
            from geo.i18n import label

            subtitle = label("synthetic", lang)
        _page.draw_header(fig, page, spec.title, subtitle)
        _page.draw_footer(fig, page, _source_line(settings, manifest, study.crs.to_string()))
        avoid = [_page.draw_scale_bar(ax, page, lang), _page.draw_north_arrow(ax, page, lang)]
        _page.draw_legend(page["legend"], page, spec.legend, lang, orientation)
        _page.place_labels(ax, spec.labels, page, avoid=avoid)
    fig._zoneatlas_rc = rc  # savefig needs the same fonts
    return fig


def save_figure(fig, folder: Path, name: str) -> list[Path]:
    """Write ``<name>.png`` (300 dpi) and ``<name>.pdf`` of a built figure.

    The page is rendered once for the PNG; its compression runs in a thread while the PDF
    is rendered.
    """
    from concurrent.futures import ThreadPoolExecutor

    import matplotlib
    import numpy as np

    from geo.figures._page import DPI, shared_buffer
    from geo.figures._png import png_rows, write_png

    folder.mkdir(parents=True, exist_ok=True)
    png, pdf = folder / f"{name}.png", folder / f"{name}.pdf"
    title = next((t.get_text() for t in fig.texts if t.get_gid() == "title"), name)
    with matplotlib.rc_context(getattr(fig, "_zoneatlas_rc", {})), ThreadPoolExecutor(1) as pool:
        fig.canvas.draw()
        rgba = np.asarray(fig.canvas.buffer_rgba())
        # the scanlines are the one copy of the page (the PDF renders next); compressed in the thread
        rows = png_rows(rgba, shared_buffer((rgba.shape[0], rgba.shape[1] * 3 + 1)))
        done = pool.submit(write_png, None, png, DPI, rows=rows)
        fig.savefig(pdf, metadata={"Title": title, "Creator": "zoneatlas", "CreationDate": None})
        done.result()
    return [png, pdf]


def write_figures(folder: Path, study: Study, results: dict[str, AnalysisResult], settings: Settings,
                  manifest: dict | None = None) -> dict[str, list[Path]]:
    """Write the print map of every analysis in ``results`` into ``folder``.

    Returns
    -------
    dict of str to list of Path
        ``{analysis: [png, pdf]}``.

    Raises
    ------
    geo._errors.ConfigError
        ``study.language: zh`` and no CJK font installed.
    """
    from geo.figures._maps import BUILDERS
    from geo.figures._page import shared_renderers

    folder = Path(folder)
    written: dict[str, list[Path]] = {}
    with shared_renderers():   # one page buffer for all pages
        for name in BUILDERS:
            if name not in results:
                continue
            with warnings.catch_warnings():
                # a character no installed font has (an emoji in a zone name) prints as a box,
                # as it would in any other program; matplotlib's warning for it is noise here
                warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font", category=UserWarning)
                fig = build_figure(name, study, results[name], settings, manifest)
                written[name] = save_figure(fig, folder, name)
            log.info("wrote %s", ", ".join(str(p) for p in written[name]))
    return written
