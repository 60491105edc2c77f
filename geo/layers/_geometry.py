"""Geometry checks and repairs of one vector layer.

Missing and empty geometries are dropped, Z/M dropped, invalid polygons repaired with
``make_valid`` (GEOS's "structure" method: overlapping parts are merged, not cut out), each
a counted warning; wrong or mixed geometry types and non-finite coordinates are errors. The
accepted types come from ``geo.schema`` (``LayerSchema.geometry``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geo import schema as sch
from geo.layers._report import _Layer, _Report

_TYPE_NAMES = {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint",
               5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}
_TYPE_IDS = {name: i for i, name in _TYPE_NAMES.items()}
_POINT_IDS = {0, 4}
_POLYGON_IDS = {3, 6}


def _type_names(ids) -> str:
    return " or ".join(_TYPE_NAMES.get(int(i), str(i)) for i in ids)


def _clean_geometry(layer: _Layer, geoms: np.ndarray, report: _Report) -> tuple[np.ndarray, np.ndarray]:
    """Check and repair geometries; returns ``(geoms, keep)``.

    Drops (with warnings) missing and empty geometries; drops Z/M; reports wrong and
    mixed types and non-finite coordinates; repairs invalid polygons.
    """
    ctx = layer.ctx
    schema = sch.LAYERS[ctx.name]
    polygonal = set(schema.geometry) <= {"Polygon", "MultiPolygon"}
    keep = np.ones(len(geoms), bool)

    missing = pd.isna(geoms)
    empty = ~missing
    empty[~missing] = shapely.is_empty(geoms[~missing])
    if missing.any() or empty.any():
        report.warn(f"{ctx.at()} {int(missing.sum() + empty.sum())} features without geometry "
                    f"(missing or empty) were dropped ({layer.rows_text(missing | empty)})")
        keep &= ~(missing | empty)

    zm = np.zeros(len(geoms), bool)
    zm[keep] = shapely.has_z(geoms[keep])
    if hasattr(shapely, "has_m"):   # shapely >= 2.1
        zm[keep] |= shapely.has_m(geoms[keep])
    if zm.any():
        geoms = geoms.copy()
        geoms[zm] = shapely.force_2d(geoms[zm])
        report.warn(f"{ctx.at()} {int(zm.sum())} geometries had Z or M values; they were dropped "
                    "(analyses are 2D)")

    coords = shapely.get_coordinates(geoms[keep])
    if len(coords):
        per = shapely.get_num_coordinates(geoms[keep])
        owner = np.repeat(np.flatnonzero(keep), per)
        bad_xy = ~np.isfinite(coords).all(axis=1)
        if bad_xy.any():
            bad = np.zeros(len(geoms), bool)
            bad[np.unique(owner[bad_xy])] = True
            report.error(f"{ctx.at()} NaN or infinite coordinates in {layer.rows_text(bad)}; fix or "
                         "delete these features")
            keep &= ~bad
            layer.geometry_ok = False

    geoms = _unpack_collections(layer, geoms, keep, polygonal, report)
    types = np.full(len(geoms), -1)
    types[keep] = shapely.get_type_id(geoms[keep])
    allowed = {_TYPE_IDS[kind] for kind in schema.geometry}
    if _TYPE_IDS.get("MultiPoint") not in allowed and _TYPE_IDS["Point"] in allowed:
        # a one-part MultiPoint (as many exports write every point) is that point
        single = keep & (types == 4)
        single[single] = shapely.get_num_geometries(geoms[single]) == 1
        if single.any():
            geoms = geoms.copy()
            geoms[single] = shapely.get_geometry(geoms[single], 0)
            types[single] = 0
    wrong = keep & ~np.isin(types, list(allowed))
    kinds_found, kind_counts = np.unique(types[keep], return_counts=True)
    found = {_TYPE_NAMES.get(int(t), str(t)): int(c) for t, c in zip(kinds_found, kind_counts)}
    if wrong.any():
        kinds = ", ".join(f"{k}: {v}" for k, v in sorted(found.items()))
        mixed = "mixed geometry types" if len(found) > 1 else "wrong geometry type"
        lines = polygonal and np.isin(types[wrong], [1, 2, 5]).any()
        hint = ("; lines are not areas: if they are closed boundaries, convert them first (QGIS: "
                "Vector > Geometry Tools > Lines to Polygons)" if lines else "")
        report.error(f"{ctx.at()} {mixed} ({kinds}); expected {' or '.join(schema.geometry)}; "
                     f"{_type_names(np.unique(types[wrong]))} in {layer.rows_text(wrong)}{hint}")
        keep &= ~wrong
        layer.geometry_ok = False
    elif not polygonal and np.isin(types[keep], list(_POINT_IDS)).any() and np.isin(types[keep], list(_POLYGON_IDS)).any():
        pts = keep & np.isin(types, list(_POINT_IDS))
        report.error(f"{ctx.at()} mixed geometry types: {int(pts.sum())} points and "
                     f"{int((keep & ~pts).sum())} polygons; use one kind per layer (e.g. polygon "
                     f"centroids), points in {layer.rows_text(pts)}")
        layer.geometry_ok = False

    poly = keep & np.isin(types, list(_POLYGON_IDS))
    invalid = np.zeros(len(geoms), bool)
    invalid[poly] = ~shapely.is_valid(geoms[poly])
    if invalid.any():
        geoms = geoms.copy()
        # "structure": overlapping parts of a multipolygon become their union (the "linework"
        # default would cut their overlap out as a hole); a hole reaching past its shell is trimmed
        geoms[invalid] = _polygonal(shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False))
        report.warn(f"{ctx.at()} {int(invalid.sum())} invalid polygons (self-intersections, bad "
                    f"rings) repaired with make_valid ({layer.rows_text(invalid)})")
        gone = invalid & shapely.is_empty(geoms)
        if gone.any():
            report.warn(f"{ctx.at()} {int(gone.sum())} polygons had no area left after repair and "
                        f"were dropped ({layer.rows_text(gone)})")
            keep &= ~gone
    return geoms, keep


def _unpack_collections(layer: _Layer, geoms: np.ndarray, keep: np.ndarray, polygonal: bool,
                        report: _Report) -> np.ndarray:
    """GeometryCollections read as their parts of the layer's kind (a counted warning).

    In a polygon layer the polygon parts are kept (lines and points in the collection are
    dropped, said in the warning); in the housing layer a collection of only points is a
    MultiPoint and one of only polygons a MultiPolygon. Other collections stay and are
    reported as a wrong geometry type.
    """
    coll = keep.copy()
    coll[keep] = shapely.get_type_id(geoms[keep]) == 7
    if not coll.any():
        return geoms
    idx = np.flatnonzero(coll)
    parts, owner = shapely.get_parts(geoms[idx], return_index=True)
    # nested collections and multi-geometries: flatten once more
    sub, sub_owner = shapely.get_parts(parts, return_index=True)
    owner = owner[sub_owner]
    sub_types = shapely.get_type_id(sub)
    solid = ~shapely.is_empty(sub)
    n_poly = np.bincount(owner, weights=(sub_types == 3) & solid, minlength=len(idx))
    n_point = np.bincount(owner, weights=(sub_types == 0) & solid, minlength=len(idx))
    n_all = np.bincount(owner, weights=solid, minlength=len(idx))
    geoms = geoms.copy()
    fixed = np.zeros(len(geoms), bool)
    lost = np.zeros(len(geoms), bool)
    as_poly = n_poly > 0 if polygonal else (n_poly > 0) & (n_poly == n_all)
    if as_poly.any():
        geoms[idx[as_poly]] = _polygonal(geoms[idx[as_poly]])
        fixed[idx[as_poly]] = True
        lost[idx[as_poly & (n_poly < n_all)]] = True
    as_points = (n_point > 0) & (n_point == n_all) & (not polygonal)
    if as_points.any():
        take = as_points[owner] & (sub_types == 0) & solid
        geoms[idx[as_points]] = shapely.multipoints(sub[take], indices=np.searchsorted(
            np.flatnonzero(as_points), owner[take]))
        fixed[idx[as_points]] = True
    if fixed.any():
        dropped = (f"; their line and point parts were dropped in {layer.rows_text(lost)}"
                   if lost.any() else "")
        report.warn(f"{layer.ctx.at()} {int(fixed.sum())} GeometryCollections were read as their "
                    f"{'polygon' if polygonal else 'point or polygon'} parts "
                    f"({layer.rows_text(fixed)}){dropped}")
    return geoms


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts of (possibly mixed) geometries, as (Multi)Polygons."""
    out = geoms.copy()
    types = shapely.get_type_id(geoms)
    other = ~np.isin(types, [3, 6])
    if not other.any():
        return out
    parts, idx = shapely.get_parts(geoms[other], return_index=True)
    # collections may nest multipolygons: flatten once more
    sub, sub_idx = shapely.get_parts(parts, return_index=True)
    owner = idx[sub_idx]
    is_poly = shapely.get_type_id(sub) == 3
    collected = np.full(int(other.sum()), None, dtype=object)
    if is_poly.any():
        collected = shapely.multipolygons(sub[is_poly], indices=owner[is_poly], out=collected)
    single = shapely.get_num_geometries(collected) == 1
    collected[single] = shapely.get_geometry(collected[single], 0)
    collected[pd.isna(collected)] = shapely.Polygon()
    out[other] = collected
    return out
