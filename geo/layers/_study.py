"""Study assembly: every configured layer read, checked, reprojected; one Study out.

One vector layer goes read -> fields -> CRS -> geometry -> datum (:func:`_load_vector`);
then the cross-layer steps (working CRS, reprojection, extent, districts), the rasters and,
last, the road graph (``load_study(on_layers=...)`` may start work on the other layers first).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely

from geo import schema as sch
from geo._errors import InputError
from geo._types import LayerSource, Raster, Study
from geo.layers._crs import (_check_coordinate_range, _convert_datum, _resolve_crs, _unwrap_antimeridian,
                             _working_crs)
from geo.layers._commuting import finish_flows, load_flows
from geo.layers._csvlines import DATA_ROW
from geo.layers._districts import _derive_districts, check_extents
from geo.layers._fields import _attributes
from geo.layers._firms import _check_firms
from geo.layers._geometry import _clean_geometry
from geo.layers._raster import _load_raster
from geo.layers._roads import _build_network, _connection_warnings
from geo.layers._names import _unify_chains, _warn_glued_chains
from geo.layers._read import _check_path, _files_of, _read_table
from geo.layers._report import _Ctx, _Layer, _one_line, _Report, _shown_path

if TYPE_CHECKING:
    from geo.settings import Settings, VectorLayerSettings

logger = logging.getLogger(__name__)


def _load_vector(name: str, cfg: VectorLayerSettings, base: Path | None,
                 report: _Report) -> _Layer | None:
    ctx = _Ctx(name=name, path=Path(cfg.path), shown=_shown_path(Path(cfg.path), base))
    if not _check_path(ctx, report):
        return None
    read = _read_table(ctx, cfg, report)
    if read is None:
        return None
    attrs, geoms, file_crs, columns = read
    n = len(attrs)
    source = LayerSource(name=name, path=ctx.path, layer=ctx.read_layer, files=_files_of(ctx.path),
                         aliases=dict(attrs.attrs.get("mapping", {})))
    if n == 0:
        report.error(f"{ctx.at()} the layer has no features (0 rows)")
        return None
    rows = np.arange(1, n + 1)
    word = "row"
    if "lines" in attrs.attrs:   # a CSV: its rows named by their line in the file
        lines = attrs.attrs.pop("lines")
        rows, word = (rows, DATA_ROW) if lines is None else (lines, "line")
    elif "fids" in attrs.attrs:  # a GeoPackage (FileGDB, SQLite): by their fid, as QGIS shows it
        rows, word = np.asarray(attrs.attrs.pop("fids")), "fid"
    layer = _Layer(ctx=ctx, source=source, frame=None, rows=rows, crs=None,  # type: ignore[arg-type]
                   labels=np.array(list(map(str, rows.tolist())), dtype=object), by_id=False, row_word=word)
    layer.mapped = set(attrs.columns)
    layer.columns = list(columns)
    canon = _attributes(layer, attrs, report)
    layer.crs = _resolve_crs(ctx, file_crs, cfg, report)
    if layer.crs is None:
        layer.geometry_ok = False
    geoms = _unwrap_antimeridian(layer, np.asarray(geoms, dtype=object), report)
    geoms, keep = _clean_geometry(layer, geoms, report)
    _check_coordinate_range(layer, geoms, keep, report)

    geoms = _convert_datum(layer, geoms, keep, cfg, report)

    frame = gpd.GeoDataFrame(canon, geometry=gpd.GeoSeries(geoms, crs=layer.crs), crs=layer.crs)
    frame = frame.loc[keep].reset_index(drop=True)
    layer.rows = rows[keep]
    layer.labels = layer.labels[keep]
    layer.frame = frame
    source.feature_count = len(frame)
    if len(frame) == 0:
        if layer.geometry_ok:   # otherwise the geometry problem is already reported
            report.error(f"{ctx.at()} no usable features left (all were empty or invalid)")
        layer.geometry_ok = False
    return layer


#: Polygons smaller than this (m², working CRS) are named: a digitising slip, as a rule.
SLIVER_M2 = 1.0


def _warn_slivers(layer: _Layer, report: _Report) -> None:
    """Valid polygons with next to no area (a rectangle a hair wide): their figures (jobs,
    output) sit on a polygon no distance or overlap can tell apart from a point."""
    geoms = layer.frame.geometry.values.to_numpy()
    polygons = np.isin(shapely.get_type_id(geoms), (3, 6))
    if not polygons.any():
        return
    sliver = polygons & (shapely.area(geoms) < SLIVER_M2)
    if sliver.any():
        report.warn(f"{layer.ctx.at()} {int(sliver.sum())} polygons have an area under {SLIVER_M2:g} m² "
                    f"({layer.rows_text(sliver)}): a digitising slip? check their outline")


def load_study(settings: Settings, *, progress: bool = False,
               on_layers: Callable[[Study], None] | None = None) -> Study:
    """Read, check, normalise and reproject every configured layer and raster.

    Parameters
    ----------
    settings : geo.settings.Settings
        Validated settings; paths are absolute.
    progress : bool, default False
        Show a progress bar (one step per layer).
    on_layers : callable, optional
        Called once with the study when every layer and raster is read and checked without
        a problem, before the road graph is built (e.g. to start writing the input layers
        meanwhile): the same study as returned, except that ``roads`` and ``network`` are
        still ``None`` and ``warnings`` lacks the road network's. Not called when a problem
        was found by then; the load may still fail afterwards (a problem of the roads).

    Returns
    -------
    geo._types.Study
        Every layer in the working CRS (projected, metres) with canonical columns:
        ids and text as ``str`` (stripped), counts as float64 (NaN where missing), a
        RangeIndex. ``zones`` and ``innovation_districts`` always carry ``district_id``.
        Repairs are listed (with counts) in ``Study.warnings``.

    Raises
    ------
    geo._errors.InputError
        With every problem of every layer, each naming config key, file, layer, field,
        rows, what was found and the fix. :class:`~geo._errors.CRSError` (a subclass)
        when all problems concern CRSs.

    Notes
    -----
    Input files are only read, never written.
    """
    from tqdm import tqdm

    report = _Report()
    cfg_layers = settings.layers
    base = settings.config_path.parent if getattr(settings, "config_path", None) else None
    names = [n for n in sch.VECTOR_LAYERS if getattr(cfg_layers, n) is not None
             and not (n == "employment" and cfg_layers.employment.is_raster)]
    rasters = [n for n in sch.RASTER_LAYERS if getattr(cfg_layers, n) is not None]
    if cfg_layers.employment is not None and cfg_layers.employment.is_raster:
        rasters.append("employment")
    bar = tqdm(total=len(names) + len(rasters) + 1, disable=not progress, desc="loading layers",
               unit="layer", leave=False)
    layers: dict[str, _Layer] = {}
    try:
        for name in names:
            bar.set_postfix_str(name)
            layer = _load_vector(name, getattr(cfg_layers, name), base, report)
            if layer is not None:
                layers[name] = layer
            bar.update()
        flows = None
        if cfg_layers.commuting is not None:
            bar.set_postfix_str("commuting")
            flows = load_flows(cfg_layers.commuting, base, report)

        working = _working_crs(settings, layers, report)
        if working is None and not settings.crs.working and "zones" in layers and not report.problems:
            report.error("the working CRS cannot be chosen: no layer with usable geometry; set "
                         "crs.working in the config", crs=True)
        if working is not None:
            for layer in layers.values():
                if layer.crs is not None and layer.geometry_ok:
                    try:
                        if layer.frame.crs is not None and layer.frame.crs.equals(working, ignore_axis_order=True):
                            # already there (e.g. GeoParquet's PROJJSON of the same CRS): no transform
                            layer.frame = layer.frame.set_crs(working, allow_override=True)
                        else:
                            layer.frame = layer.frame.to_crs(working)
                    except Exception as exc:  # noqa: BLE001 - e.g. a local engineering CRS
                        report.error(f"{layer.ctx.at()} cannot reproject from "
                                     f"{layer.crs.to_string()} to {working.to_string()} "
                                     f"({_one_line(exc)}); check the layer's CRS", crs=True)
                        layer.geometry_ok = False
                        continue
                    finite = np.isfinite(shapely.bounds(layer.frame.geometry.values.to_numpy())).all(1)
                    if not finite.all():
                        report.error(f"{layer.ctx.at()} {int((~finite).sum())} features cannot be "
                                     f"projected to the working CRS {working.to_string()} "
                                     f"({layer.rows_text(~finite)}); check the layer's CRS")
                        layer.geometry_ok = False
                    else:
                        _warn_slivers(layer, report)
                else:
                    layer.geometry_ok = False
        study_bounds = None
        zones = layers.get("zones")
        if working is not None and zones is not None and zones.geometry_ok:
            check_extents(zones, {name: layer for name, layer in layers.items()
                                  if name != "zones" and layer.geometry_ok}, report)
            study_bounds = zones.frame.total_bounds if zones.geometry_ok else None
        for name in ("zones", "innovation_districts"):
            if name in layers and (working is not None or "districts" not in layers):
                _derive_districts(layers[name], layers.get("districts"),
                                  cfg_layers.districts is not None, report)
        commuting = None
        if flows is not None and working is not None:
            commuting = finish_flows(flows, working, study_bounds, report)
        _unify_chains(layers, report)
        _warn_glued_chains(layers, report)
        if "firms" in layers and working is not None:
            _check_firms(layers["firms"], layers.get("zones"), layers.get("districts"), report)
        # the road graph is built last, after ``on_layers`` (below); its problems and warnings
        # take their place here, before the rasters' (as when it was built here)
        graph_at = (len(report.problems), len(report.warnings))
        raster_out: dict[str, Raster | None] = {}
        sources = {name: layer.source for name, layer in layers.items()}
        if flows is not None:
            sources["commuting"] = flows.source
        for name in rasters:
            bar.set_postfix_str(name)
            raster, source = _load_raster(name, getattr(cfg_layers, name), working, study_bounds,
                                          base, report)
            raster_out[name] = raster
            if source is not None:
                sources[name] = source
            bar.update()

        study = None
        if not report.problems and working is not None and zones is not None:
            landuse_cfg = cfg_layers.landuse
            study = Study(
                crs=working,   # the roads once the graph is built (it rewrites them)
                **{name: layers[name].frame if name in layers and name != "roads" else None
                   for name in sch.VECTOR_LAYERS},
                **{name: raster_out.get(name) for name in sch.RASTER_LAYERS},
                employment_raster=raster_out.get("employment"),
                commuting=commuting,
                landuse_classes=dict(landuse_cfg.classes) if landuse_cfg is not None else {},
                sources=sources,
                warnings=list(report.warnings),
            )
            if on_layers is not None:
                on_layers(study)
        graph = None
        if "roads" in layers and layers["roads"].geometry_ok and working is not None:
            bar.set_postfix_str("roads")
            with _reported_at(report, graph_at):
                graph = _build_network(layers["roads"], layers.get("zones"), settings.network, report)
        bar.update()
    finally:
        bar.close()

    report.raise_if_any()
    if study is None:  # pragma: no cover - a problem, always reported above
        raise InputError("layers.zones: no usable zones layer")
    study.warnings = list(report.warnings)
    if graph is not None:
        study.roads = layers["roads"].frame   # as the network uses it (rewritten by the graph build)
        study.network = graph
        study.warnings.extend(_connection_warnings(study, settings.network, layers["roads"].ctx.at()[:-1]))
    return study


@contextmanager
def _reported_at(report: _Report, at: tuple[int, int]) -> Iterator[None]:
    """Problems and warnings reported inside the block take their place at ``at`` (the
    numbers of problems and warnings there were then), as if reported at that point."""
    since = (len(report.problems), len(report.warnings))
    try:
        yield
    finally:
        for items, start, end in ((report.problems, at[0], since[0]), (report.crs_only, at[0], since[0]),
                                  (report.warnings, at[1], since[1])):
            new = items[end:]
            del items[end:]
            items[start:start] = new
