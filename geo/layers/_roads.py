"""The optional ``roads`` layer: classes, speeds, one-way codes, the road graph and its report.

* ``class``, ``speed_kmh`` and ``oneway`` are parsed by :func:`geo.network.build_graph`
  (English and Chinese classes, ``network.class_speeds_kmh``; FT/TF codes); an unknown
  class, a speed that is not a positive number or an unknown one-way value is an
  **error** naming file, layer, field and rows.
* No road line within ``network.max_access_m`` of the zones' extent is an **error**.
* A ``oneway`` column holding only ``T`` and ``B`` in a layer that looks like a Geofabrik
  OpenStreetMap shapefile (``fclass`` / ``osm_id`` columns, a ``gis_osm_*`` file) is read
  with DESIGN's codes (``T`` = digitised direction) and a **warning** says that Geofabrik's
  ``T`` means the opposite (:func:`_warn_geofabrik_oneway`).
* The topology report (separate pieces and the share of road length outside the largest,
  zero-length segments, dead ends) becomes **warnings**; so do housing and workplaces
  that cannot reach the network (:func:`_connection_warnings`, once every layer is read).
* The frame is rewritten as the network as used: ``class`` canonical (English), the
  ``speed_kmh`` each road is driven at, ``oneway`` as ``yes`` / ``-1`` / ``no`` and the
  ``component`` it belongs to (0 = the largest, -1 = no segment left).
"""

from __future__ import annotations

import re

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from geo._errors import InputError
from geo.layers._report import _Layer, _Report

if TYPE_CHECKING:
    from geo._types import Study
    from geo.network import RoadGraph
    from geo.settings import NetworkSettings

_ONEWAY_TEXT = {1: "yes", -1: "-1", 0: "no"}


def _build_network(roads: _Layer, zones: _Layer | None, net: NetworkSettings,
                   report: _Report) -> RoadGraph | None:
    """Parse the roads, build the graph, report its topology; ``None`` after an error."""
    from geo.network import build_graph

    ctx, frame = roads.ctx, roads.frame
    if zones is not None and zones.geometry_ok:
        x0, y0, x1, y1 = zones.frame.total_bounds
        pad = float(net.max_access_m)
        box = shapely.box(x0 - pad, y0 - pad, x1 + pad, y1 + pad)
        if not shapely.intersects(frame.geometry.values.to_numpy(), box).any():
            report.error(f"{ctx.at()} no road line lies within {pad:g} m "
                         "(network.max_access_m) of the zones; check the layer's CRS or "
                         "give the roads of the study area")
            roads.geometry_ok = False
            return None
    _warn_geofabrik_oneway(roads, report)
    labelled = frame.set_axis(roads.labels)
    try:
        graph = build_graph(labelled, class_speeds_kmh=net.speeds_kmh,
                            default_speed_kmh=net.default_speed_kmh,
                            snap_tolerance_m=net.snap_tolerance_m, source=ctx.at()[:-1],
                            no_access_classes=net.no_access)
    except InputError as exc:
        numeric_ids = roads.by_id and all(str(v).isdigit() for v in roads.labels[:10])
        for problem in exc.problems:
            if numeric_ids:   # OpenStreetMap ids are numbers: not to be read as row numbers
                problem = re.sub(r"(in rows? \d[\d, ]*(?: \(\+\d+ more\))?)", r"\1 (road_id)", problem)
            report.error(_name_columns(problem, roads.source.aliases))
        roads.geometry_ok = False
        return None
    for message in graph.report.warnings(ctx.at()[:-1]):
        report.warn(message)
    out = frame.copy()
    out["class"] = graph.road_class
    out["speed_kmh"] = graph.road_speed_kmh
    out["oneway"] = np.vectorize(_ONEWAY_TEXT.get, otypes=[object])(graph.road_oneway)
    out["component"] = graph.road_component
    roads.frame = out[["road_id", "class", "speed_kmh", "oneway", "component", "geometry"]]
    return graph


#: Columns of Geofabrik's OpenStreetMap shapefiles (``gis_osm_roads_free_1.shp``) that
#: other road layers rarely have.
GEOFABRIK_COLUMNS = ("fclass", "osm_id")


def _warn_geofabrik_oneway(roads: _Layer, report: _Report) -> None:
    """One warning when ``oneway`` holds only ``T`` / ``B`` (valid codes: ``T`` = the
    digitised direction) but the layer looks like a Geofabrik export, whose ``T`` is the
    opposite direction (F forward, T backward, B both). With an ``F`` as well the codes
    are refused by :func:`geo.network.build_graph` (error naming Geofabrik)."""
    if "oneway" not in roads.frame.columns:
        return
    codes, uniques = pd.factorize(roads.frame["oneway"], use_na_sentinel=True)
    texts = [str(u).strip().lower() for u in uniques]
    letters = {t for t in texts if t}
    if "t" not in letters or not letters <= {"t", "b"}:
        return
    present = {str(c).lower(): str(c) for c in roads.columns}
    found = [present[c] for c in GEOFABRIK_COLUMNS if c in present]
    evidence = [f"columns {', '.join(repr(c) for c in found)}"] if found else []
    if roads.ctx.path.name.lower().startswith("gis_osm_"):
        evidence.append(f"file name '{roads.ctx.path.name}'")
    if not evidence:
        return
    n_t = int(np.isin(codes, [k for k, t in enumerate(texts) if t == "t"]).sum())
    column = roads.source.aliases.get("oneway")
    report.warn(f"{roads.ctx.at('oneway', column)} {n_t} of {len(codes)} roads have the one-way code 'T' "
                "and were read as one-way in the digitised direction (T = FT), but the layer looks like a "
                f"Geofabrik OpenStreetMap export ({'; '.join(evidence)}), where 'T' means one-way against "
                "the digitised direction (F forward, T backward, B both); if T means backward in this "
                "file, recode T as TF before the run (B stays: both ways)")


def _name_columns(problem: str, aliases: dict[str, str]) -> str:
    """``field 'speed_kmh':`` -> ``field 'speed_kmh' (column 'speed'):`` when the user's
    column has another name (as every other layer's messages say)."""
    for canon in ("class", "speed_kmh", "oneway"):
        column = aliases.get(canon)
        if column and column != canon:
            problem = problem.replace(f"field '{canon}':", f"field '{canon}' (column '{column}'):")
    return problem


def _housing_points(study: Study) -> np.ndarray:
    """(H, 2) points where homes join the network: housing features (a polygon's
    representative point), else the population raster's cell centres."""
    if study.housing is not None:
        geoms = study.housing.geometry.values.to_numpy()
        other = shapely.get_type_id(geoms) != 0
        if other.any():  # only polygons need a representative point (1M points: no copy)
            geoms = geoms.copy()
            geoms[other] = shapely.point_on_surface(geoms[other])
        return shapely.get_coordinates(geoms)
    if study.population is not None:
        x, y, _ = study.population.cell_centres()
        return np.column_stack([x, y])
    return np.zeros((0, 2))


def _connection_warnings(study: Study, net: NetworkSettings, source: str) -> list[str]:
    """Housing and workplaces that cannot join the network (DESIGN.md "Access")."""
    from geo.network import housing_access, workplace_entries

    graph = study.network
    out: list[str] = []
    closed = list(net.no_access)
    # roads homes and workplaces may not join: the likely reason when many are not connected
    unjoinable = (f"; roads of the classes {', '.join(closed)} (network.no_access_classes) are not joined "
                  "except at nodes other roads share" if closed else "")
    xy = _housing_points(study)
    if len(xy):
        access = housing_access(graph, xy, access_speed_kmh=net.access_speed_kmh,
                                max_access_m=net.max_access_m)
        off = access.node < 0
        if off.any():
            share = float(off.mean())
            what = "housing features" if study.housing is not None else "population cells"
            line = (f"{source}: {int(off.sum())} of {len(xy)} {what} ({share:.1%}) are farther than "
                    f"{net.max_access_m:g} m (network.max_access_m) from every road node they may join and "
                    f"are not connected: they count for no travel-time horizon{unjoinable}")
            if share > 0.5:
                line += "; the network reaches under half of the housing: check that it covers the study area"
            out.append(line)
    for name in ("zones", "innovation_districts"):
        frame = getattr(study, name)
        if frame is None or len(frame) == 0:
            continue
        entries = workplace_entries(graph, frame.geometry.values, access_speed_kmh=net.access_speed_kmh,
                                    max_access_m=net.max_access_m)
        none = np.diff(entries.offsets) == 0
        if none.any():
            id_field = "zone_id" if name == "zones" else "innov_id"
            ids = frame[id_field].astype(str).to_numpy()[none]
            shown = ", ".join(ids[:10]) + (f" (+{len(ids) - 10} more)" if len(ids) > 10 else "")
            out.append(f"{source}: {int(none.sum())} {name.replace('_', ' ')} have no road node inside or "
                       f"within {net.max_access_m:g} m (network.max_access_m): {shown}; their travel-time "
                       f"columns are empty{unjoinable}")
    return out
