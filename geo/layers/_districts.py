"""Cross-layer steps in the working CRS: district derivation and the study extent.

``district_id`` of zones and innovation districts is checked against, or derived from,
the district of largest overlap, and features lying substantially in two or more districts
are warned about; layers far from the zones are errors.
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


def _overlaps(geoms: np.ndarray, districts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (geometry, district) pair that overlaps with an area: their indices and that area (m²)."""
    tree = shapely.STRtree(districts)
    gi, di = tree.query(geoms, predicate="intersects")
    area = shapely.area(shapely.intersection(geoms[gi], districts[di])) if len(gi) else np.zeros(0)
    keep = area > 0
    return gi[keep], di[keep], area[keep]


def _largest(n: int, gi: np.ndarray, di: np.ndarray, area: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`largest_overlap` from the pairs of :func:`_overlaps`."""
    best = np.full(n, -1)
    best_area = np.zeros(n)
    if len(gi) == 0:
        return best, best_area
    most = np.zeros(n)
    np.maximum.at(most, gi, area)
    near = area >= most[gi] - _tie(most)[gi]
    gi, di, area = gi[near], di[near], area[near]
    order = np.lexsort((di, gi))               # per geometry: the district listed first
    gi, di, area = gi[order], di[order], area[order]
    first = np.ones(len(gi), bool)
    first[1:] = gi[1:] != gi[:-1]
    best[gi[first]] = di[first]
    best_area[gi[first]] = area[first]
    return best, best_area


def _tie(most: np.ndarray) -> np.ndarray:
    """Overlaps closer than this to the largest one are equal to it (m²)."""
    return np.maximum(most * 1e-9, 1e-6)


def largest_overlap(geoms: np.ndarray, districts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the district overlapping each geometry most (-1: none) and that area.

    Overlaps within a billionth of the largest (1e-6 m² at least) are equal, and the district
    listed first of them wins: a zone split in half by a border goes to the same district
    whatever the rounding of the two areas.
    """
    return _largest(len(geoms), *_overlaps(geoms, districts))


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
    pairs = _overlaps(frame.geometry.values.to_numpy(), districts.frame.geometry.values.to_numpy())
    best, best_area = _largest(len(frame), *pairs)
    outside = best < 0
    if outside.any():
        report.error(f"{ctx.at()} {int(outside.sum())} features lie outside every district "
                     f"({layer.rows_text(outside)}); check their location and the districts layer")
    derived = np.where(outside, None, d_ids[np.maximum(best, 0)])
    if not given:
        frame["district_id"] = pd.Series(derived, dtype="str")
        layer.source.aliases.pop("district_id", None)
        logger.info("%s district_id derived from the districts layer (largest overlap)", ctx.at())
        _warn_straddling(layer, districts, pairs, best, ~outside, np.ones(len(frame), bool), report)
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
    # the given district overlaps less than another one (an equal overlap is no sign of a wrong id)
    assigned = _positions(d_ids, frame["district_id"].to_numpy(dtype=object))
    gi, di, area = pairs
    own = di == assigned[gi]
    own_area = np.zeros(len(frame))
    np.add.at(own_area, gi[own], area[own])
    differ = have & known & ~outside & (own_area < best_area - _tie(best_area))
    if differ.any():
        report.warn(f"{ctx.at('district_id', col)} {int(differ.sum())} features lie mostly in "
                    f"another district than their district_id says ({layer.rows_text(differ)}); "
                    "their district_id was kept")
    _warn_straddling(layer, districts, pairs, assigned, ~outside & ~differ, fill, report)


#: a feature straddles districts when this share of it (or more) lies in one other district
#: (a border digitised from another source than the zones shifts a few percent, never this) ...
_STRADDLE_OTHER_SHARE = 0.25
#: ... or less than this share in its own
_STRADDLE_OWN_SHARE = 0.5
#: features named in the warning (the most split first)
_STRADDLE_EXAMPLES = 5


def _positions(d_ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Index of each value in the districts' ids (-1: missing or not there)."""
    first = pd.Series(np.arange(len(d_ids)), index=pd.Index(d_ids, dtype=object))
    first = first[~first.index.duplicated()]
    return first.reindex(pd.Index(values, dtype=object)).fillna(-1).to_numpy(dtype=np.int64)


def _warn_straddling(layer: _Layer, districts: _Layer, pairs: tuple[np.ndarray, np.ndarray, np.ndarray],
                     assigned: np.ndarray, check: np.ndarray, by_overlap: np.ndarray, report: _Report) -> None:
    """One warning for the features of ``check`` that lie substantially in another district than
    their ``assigned`` one (index in the districts layer): a quarter or more of their area inside
    the districts in one other district, or less than half in their own. The analyses count each
    feature in one district; slivers of a few percent along a border do not warn.

    ``by_overlap``: the features whose district is the one of largest overlap, not a given one.
    """
    gi, di, area = pairs
    n = len(layer.frame)
    inside = np.zeros(n)
    np.add.at(inside, gi, area)
    # shares of the part inside the districts (overlapping districts: of the whole feature)
    base = np.minimum(inside, shapely.area(layer.frame.geometry.values.to_numpy()))
    share = area / np.where(base > 0, base, 1.0)[gi]
    own = di == assigned[gi]
    own_share = np.zeros(n)
    np.add.at(own_share, gi[own], share[own])
    other_max = np.zeros(n)
    np.maximum.at(other_max, gi[~own], share[~own])
    eps = 1e-9
    flag = check & (assigned >= 0) & ((other_max >= _STRADDLE_OTHER_SHARE - eps)
                                      | (own_share < _STRADDLE_OWN_SHARE - eps))
    if not flag.any():
        return
    rows = np.flatnonzero(flag)
    rows = rows[np.argsort(own_share[rows], kind="stable")][:_STRADDLE_EXAMPLES]
    d_ids = districts.frame["district_id"].to_numpy(dtype=object)
    d_names = districts.frame["name"].to_numpy(dtype=object)

    def district(k: int) -> str:
        name = d_names[k]
        named = pd.notna(name) and str(name) != str(d_ids[k])
        return f"'{d_ids[k]}'" + (f" ({name})" if named else "")

    examples = []
    for row in rows:
        mine = np.flatnonzero(gi == row)
        mine = mine[np.lexsort((di[mine], -share[mine], ~own[mine]))]     # its own district first
        parts = [f"{share[k]:.0%} in {district(di[k])}" for k in mine if own[k] or share[k] >= 0.005]
        if len(parts) > 4:
            parts = parts[:4] + [f"+{len(parts) - 4} more districts"]
        label = (f"id '{layer.labels[row]}'" if layer.by_id else f"{layer.row_word} {layer.labels[row]}")
        examples.append(f"{label}: {', '.join(parts)}")
    count = int(flag.sum())
    more = f" (+{count - len(rows)} more)" if count > len(rows) else ""
    ctx = layer.ctx
    given = "district_id" in layer.mapped
    col = layer.source.aliases.get("district_id")
    if not (flag & ~by_overlap).any():
        how = "the district of largest overlap"
    elif (flag & by_overlap).any():
        how = "the district its district_id gives, or where that was empty the district of largest overlap"
    else:
        how = "the district its district_id gives"
    counted = ("the cross-district collaboration, the chain location quotients and the district "
               "totals" if ctx.name == "zones" else "the district totals of the balance analysis")
    fix = "split such a polygon at the district boundaries so that each part counts in its own district"
    if given:
        fix += ", or keep it if its district_id is the district meant"
    else:
        fix += f", or map a district_id column (layers.{ctx.name}.fields.district_id) if one district is meant"
    many = count > 1
    report.warn(f"{ctx.at('district_id', col if given else None)} {count} feature{'s' if many else ''} "
                f"lie{'' if many else 's'} substantially in more than one district (a quarter or more "
                f"of {'their' if many else 'its'} area in one other district, or less than half in "
                f"{'their' if many else 'its'} own): {'; '.join(examples)}{more}; {counted} count "
                f"{'each' if many else 'it'} in one district only ({how}); {fix}")


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
