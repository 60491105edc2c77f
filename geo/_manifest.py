"""What run.json records besides the results: the versions of the packages, the files a run
read, the road graph's size (see :func:`geo.pipeline.build_manifest`)."""

from __future__ import annotations

import logging
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from geo._types import Study
from geo.settings import Settings

log = logging.getLogger(__name__)

#: Packages whose versions run.json records.
PACKAGES = ("geopandas", "shapely", "pyogrio", "pyproj", "pandas", "numpy", "scipy", "folium",
            "rasterio", "pydantic", "libpysal", "esda", "matplotlib", "xlsxwriter")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    try:
        import pyogrio

        out["gdal"] = pyogrio.__gdal_version_string__
    except (ImportError, AttributeError):  # pragma: no cover - informational only
        log.debug("GDAL version not available")
    return out


def configured_paths(settings: Settings) -> list[Path]:
    """The config file and every configured layer path (before anything is read)."""
    paths = [settings.config_path] if settings.config_path else []
    for name in type(settings.layers).model_fields:   # every layer, vector or raster
        layer = getattr(settings.layers, name)
        if layer is not None:
            paths.append(layer.path)
    return paths


def input_files(study: Study, settings: Settings) -> list[Path]:
    """Every file a run read: the config and each layer's files (shapefile sidecars too)."""
    files: list[Path] = []
    if settings.config_path is not None:
        files.append(settings.config_path)
    for source in study.sources.values():
        files.extend(source.files or [source.path])
    for name in ("population", "landuse", "employment"):
        layer = getattr(settings.layers, name)
        if layer is not None and not any(Path(f) == layer.path for f in files):
            files.append(layer.path)
    seen: dict[Path, None] = {}
    for f in files:
        seen.setdefault(Path(f).resolve(), None)
    return [f for f in seen if f.is_file()]


def network_counts(graph: Any) -> dict[str, Any] | None:
    """Size and topology of the road graph for run.json (``None`` without roads)."""
    if graph is None:
        return None
    rep = graph.report
    return {"nodes": rep.nodes, "edges": rep.edges, "components": rep.components,
            "largest_component_nodes": rep.largest_component_nodes,
            "share_length_outside_largest": round(rep.share_length_outside_largest, 6),
            "dangling_ends": rep.dangling_ends, "zero_length_edges": rep.zero_length_edges,
            "road_length_m": round(rep.road_length_m, 1),
            "simplified_nodes": int(graph.contraction.n_kept),
            "simplified_edges": int(graph.contraction.times.nnz),
            "joinable_nodes": int(len(graph.joinable()))}
