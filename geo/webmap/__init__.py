"""Interactive offline HTML maps: the atlas page and one folium map per analysis.

Every page opens from disk with no network: Leaflet is read from the installed
XStatic package and inlined, the controls (grouped layers, legend, zone search,
fullscreen, title) are our own small runtime, and the only outside address left is the
basemap tile template. Attribute text is rendered with ``textContent`` or escaped.

Examples
--------
>>> from geo.webmap import write_maps  # doctest: +SKIP
>>> write_maps(out_dir, study, results, settings, manifest)  # doctest: +SKIP
{'index': PosixPath('.../index.html'), 'balance': PosixPath('.../balance.html'), ...}
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import folium

from geo._types import AnalysisResult, Study
from geo.settings import Settings

__all__ = ["MAP_NAMES", "build_maps", "write_maps"]

log = logging.getLogger(__name__)

#: The analysis maps in atlas order (``<name>.html``).
MAP_NAMES = ("balance", "collaboration", "core_periphery", "chains", "commuting")


def _builders() -> dict[str, Callable]:
    from geo.webmap.balance import build_balance_map
    from geo.webmap.chains import build_chains_map
    from geo.webmap.collaboration import build_collaboration_map
    from geo.webmap.commuting import build_commuting_map
    from geo.webmap.core_periphery import build_core_periphery_map

    return {"balance": build_balance_map, "collaboration": build_collaboration_map,
            "core_periphery": build_core_periphery_map, "chains": build_chains_map,
            "commuting": build_commuting_map}


@contextmanager
def deterministic_ids() -> Iterator[None]:
    """Number folium/branca element ids 1, 2, 3, ... while maps are built, instead of
    random hex, so that two runs on the same data write byte-identical HTML."""
    from branca.element import Element

    counter = itertools.count(1)
    original = Element.__dict__["_generate_id"]
    Element._generate_id = classmethod(lambda cls: f"{next(counter):032x}")
    try:
        yield
    finally:
        Element._generate_id = original


def build_maps(study: Study, results: dict[str, AnalysisResult], settings: Settings) -> dict[str, folium.Map]:
    """The folium map of each analysis present in ``results`` (not written).

    Raises
    ------
    geo._errors.ConfigError
        A basemap problem (e.g. ``tianditu`` without a key).
    """
    from geo.basemaps import resolve_basemap
    from geo.webmap._base import MapContext

    basemap = resolve_basemap(settings.map, settings.study.language)
    ctx = MapContext(study, settings, basemap)
    builders = _builders()
    maps = {}
    for name in MAP_NAMES:
        if name in results:
            with deterministic_ids():
                maps[name] = builders[name](ctx, results[name])
    return maps


def write_maps(out_dir: Path, study: Study, results: dict[str, AnalysisResult], settings: Settings,
               manifest: dict) -> dict[str, Path]:
    """Write ``index.html`` and one ``<analysis>.html`` per analysis in ``results``.

    Parameters
    ----------
    out_dir : Path
        Output folder (created if missing).
    study : Study
        The run's inputs in the working CRS (reprojected to EPSG:4326 for display).
    results : dict of str to AnalysisResult
        ``balance``, ``collaboration``, ``core_periphery`` (any subset).
    settings : Settings
        ``study.language``/``name``/``synthetic`` and ``map.basemap``.
    manifest : dict
        The run.json content (provenance on the atlas page).

    Returns
    -------
    dict of str to Path
        ``{"index": ..., "<analysis>": ...}`` of the files written.

    Raises
    ------
    geo._errors.ConfigError
        A basemap problem (e.g. ``tianditu`` without a key).
    """
    from geo.webmap.atlas import write_atlas

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    maps = build_maps(study, results, settings)
    written: dict[str, Path] = {}
    for name, m in maps.items():
        path = out_dir / f"{name}.html"
        lang_attr = "zh-CN" if settings.study.language == "zh" else "en"
        html_text = m.get_root().render().replace("<html>", f'<html lang="{lang_attr}">', 1)
        path.write_text(html_text, encoding="utf-8")
        log.info("wrote %s (%.1f MB)", path, path.stat().st_size / 1e6)
        written[name] = path
    written = {"index": write_atlas(out_dir / "index.html", study, results, settings, manifest,
                                    maps=list(written)), **written}
    return written
