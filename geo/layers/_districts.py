"""Cross-layer steps in the working CRS: district derivation and the study extent.

``district_id`` of zones and innovation districts is checked against, or derived from,
the district of largest overlap; layers far from the zones are errors.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import shapely

from geo.layers._report import _Layer, _list, _Report

logger = logging.getLogger(__name__)

#: layers whose extent must overlap the zones' extent enlarged by this margin
_STUDY_MARGIN_M = 100_000.0


def largest_overlap(geoms: np.ndarray, districts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the district overlapping each geometry most (-1: none) and that area.

    Overlaps within a billionth of the largest (1e-6 m² at least) are equal, and the district
    listed first of them wins: a zone split in half by a border goes to the same district
    whatever the rounding of the two areas.
    """
    tree = shapely.STRtree(districts)
    gi, di = tree.query(geoms, predicate="intersects")
    best = np.full(len(geoms), -1)
    best_area = np.zeros(len(geoms))
    if len(gi) == 0:
        return best, best_area
    area = shapely.area(shapely.intersection(geoms[gi], districts[di]))
    most = np.zeros(len(geoms))
    np.maximum.at(most, gi, area)
    tie = np.maximum(most * 1e-9, 1e-6)[gi]
    near = (area > 0) & (area >= most[gi] - tie)
    gi, di, area = gi[near], di[near], area[near]
    order = np.lexsort((di, gi))               # per geometry: the district listed first
    gi, di, area = gi[order], di[order], area[order]
    first = np.ones(len(gi), bool)
    first[1:] = gi[1:] != gi[:-1]
    best[gi[first]] = di[first]
    best_area[gi[first]] = area[first]
    return best, best_area


def _derive_districts(layer: _Layer, districts: _Layer | None, configured: bool,
                      report: _Report) -> None:
    ctx, frame = layer.ctx, layer.frame
    given = "district_id" in layer.mapped
    col = layer.source.aliases.get("district_id")
    have = frame["district_id"].notna().to_numpy()
    if districts is None and configured:
        return  # the districts layer failed to load: already reported
    if districts is None:
        if ctx.name != "zones" and not have.all():
            # optional for innovation districts (docs/input-data.md): they still count as workplaces,
            # only the district totals of the balance analysis leave them out
            report.warn(f"{ctx.at('district_id', col if given else None)} no district for "
                        f"{int((~have).sum())} features and no districts layer configured to derive "
                        "it; they are left out of the district totals of the balance analysis")
            return
        if not given:
            report.error(f"{ctx.at('district_id')} district_id missing and no districts layer "
                         f"configured; map a district column with layers.{ctx.name}.fields."
                         "district_id, or configure layers.districts to derive it")
        elif not have.all():
            report.error(f"{ctx.at('district_id', col)} missing values in "
                         f"{layer.rows_text(~have)} and no districts layer configured to derive them")
        return
    if not (layer.geometry_ok and districts.geometry_ok):
        return
    d_ids = districts.frame["district_id"].to_numpy(dtype=object)
    best, _ = largest_overlap(frame.geometry.values.to_numpy(), districts.frame.geometry.values.to_numpy())
    outside = best < 0
    if outside.any():
        report.error(f"{ctx.at()} {int(outside.sum())} features lie outside every district "
                     f"({layer.rows_text(outside)}); check their location and the districts layer")
    derived = np.where(outside, None, d_ids[np.maximum(best, 0)])
    if not given:
        frame["district_id"] = pd.Series(derived, dtype="str")
        layer.source.aliases.pop("district_id", None)
        logger.info("%s district_id derived from the districts layer (largest overlap)", ctx.at())
        return
    known = frame["district_id"].isin(set(d_ids)).to_numpy()
    unknown = have & ~known
    if unknown.any():
        vals = _list(frame["district_id"][unknown].unique()[:6])
        report.error(f"{ctx.at('district_id', col)} district ids not in the districts layer: {vals} "
                     f"in {layer.rows_text(unknown)}; district ids there: {_list(pd.unique(d_ids), 12)}")
    fill = ~have & ~outside
    if fill.any():
        frame.loc[fill, "district_id"] = derived[fill]
        report.warn(f"{ctx.at('district_id', col)} {int(fill.sum())} missing district ids were "
                    f"filled from the district of largest overlap ({layer.rows_text(fill)})")
    differ = have & known & ~outside & (frame["district_id"].to_numpy(dtype=object) != derived)
    if differ.any():
        report.warn(f"{ctx.at('district_id', col)} {int(differ.sum())} features lie mostly in "
                    f"another district than their district_id says ({layer.rows_text(differ)}); "
                    "their district_id was kept")


def _far(b: np.ndarray, s: np.ndarray) -> bool:
    """Bounds ``b`` more than the margin away from bounds ``s``."""
    m = _STUDY_MARGIN_M
    return bool(b[0] > s[2] + m or b[2] < s[0] - m or b[1] > s[3] + m or b[3] < s[1] - m)


def check_extents(zones: _Layer, others: dict[str, _Layer], report: _Report) -> None:
    """Every layer within reach of the zones. When all the others lie far from the zones
    but together, the zones are the odd one out (their CRS, most often): one error for
    them, not one for each of the others."""
    study = zones.frame.total_bounds
    bounds = {name: layer.frame.total_bounds for name, layer in others.items()}
    far = [name for name, b in bounds.items() if _far(b, study)]
    together = all(not _far(bounds[a], bounds[b]) for a in far for b in far)
    if len(far) >= 2 and len(far) == len(bounds) and together:
        report.error(f"{zones.ctx.at()} the zones lie far from every other layer ({', '.join(far)}), which "
                     f"lie together (more than {_STUDY_MARGIN_M / 1000:g} km away); check the zones' CRS "
                     "first (layers.zones.crs), lat/lon order, or layers.zones.coordinates (if the zones "
                     "are right, the other layers share a wrong CRS)")
        zones.geometry_ok = False
        return
    for name in far:
        layer = others[name]
        report.error(f"{layer.ctx.at()} the layer lies far outside the study area of the zones "
                     f"layer (more than {_STUDY_MARGIN_M / 1000:g} km away); check its CRS "
                     f"(layers.{name}.crs), lat/lon order, or layers.{name}.coordinates")
        layer.geometry_ok = False
