"""Land-use mix of innovation districts: class shares of the cells whose centres lie in
each district, the residential share and the normalised Shannon entropy."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._errors import format_rows
from geo._types import Raster


def landuse_mix(polygons: gpd.GeoDataFrame, landuse: Raster, classes: dict[int, str], *,
                id_field: str = "innov_id", residential_class: int | None = None,
                ) -> tuple[pd.DataFrame, list[str]]:
    """Land-use class shares and mix of each polygon (cells whose centre lies in it).

    Parameters
    ----------
    polygons : GeoDataFrame
        E.g. innovation districts (``id_field``, ``name``).
    landuse : Raster
        Integer class codes (``nan`` = nodata), in the CRS of ``polygons``.
    classes : dict of int to str
        The configured classes. Cells of other codes are left out of the shares
        (with a warning).
    id_field : str
        Identifier column of ``polygons``.
    residential_class : int, optional
        Code counted as housing; default the class named ``residential``.

    Returns
    -------
    table : DataFrame
        ``<id_field>``, ``name``, ``cells``, ``share_<class name>`` for every
        configured class, ``landuse_entropy`` (Shannon entropy of the shares divided
        by ``ln(number of configured classes)``: 0 = one use, 1 = every configured
        use in equal shares) and ``residential_share``. Polygons containing no
        classified cell centre get empty values.
    warnings : list of str

    Examples
    --------
    Two equally common classes out of six configured: ``ln 2 / ln 6``.

    >>> from affine import Affine
    >>> from shapely import box
    >>> raster = Raster(np.array([[1.0, 2.0]]), Affine(1, 0, 0, 0, -1, 1), None)
    >>> polys = gpd.GeoDataFrame({"innov_id": ["i1"], "name": ["I"]}, geometry=[box(0, 0, 2, 1)])
    >>> table, _ = landuse_mix(polys, raster, {k: f"c{k}" for k in range(1, 7)})
    >>> bool(np.isclose(table.landuse_entropy[0], np.log(2) / np.log(6)))
    True
    """
    warnings: list[str] = []
    codes = [int(c) for c in classes]
    names = [str(classes[c]) for c in classes]
    if residential_class is None:
        residential_class = next((c for c, n in classes.items() if str(n).lower() == "residential"), None)
        if residential_class is None:
            warnings.append("landuse: no class is named 'residential'; residential_share is empty "
                            "(set layers.landuse.residential_class)")
    n = len(polygons)
    counts = np.zeros((n, len(codes)))
    geoms = polygons.geometry.to_numpy()
    pairs_poly, _, _, values = _cells_in(geoms, landuse)
    if len(pairs_poly):
        lookup = {c: k for k, c in enumerate(codes)}
        uniq, inverse = np.unique(values, return_inverse=True)
        code_pos = np.array([lookup.get(int(v), -1) for v in uniq], dtype=np.int64)
        pos = code_pos[inverse]
        known = pos >= 0
        np.add.at(counts, (pairs_poly[known], pos[known]), 1.0)
        if (~known).any():
            unknown = sorted({int(v) for v in uniq[code_pos < 0]})
            warnings.append(f"landuse: {int((~known).sum())} cells in innovation districts have "
                            f"codes {unknown} that are not configured classes and are left out "
                            "of the shares (add them to layers.landuse.classes)")
    total = counts.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = counts / total[:, None]
        plogp = np.where(shares > 0, shares * np.log(np.where(shares > 0, shares, 1.0)), 0.0)
    entropy = -plogp.sum(axis=1)
    if len(codes) > 1:
        entropy = entropy / np.log(len(codes))
    entropy = np.where(total > 0, np.clip(entropy, 0.0, 1.0), np.nan)
    shares[total == 0] = np.nan
    ids = polygons[id_field].astype(str).to_numpy() if id_field in polygons.columns \
        else np.arange(n).astype(str)
    table = pd.DataFrame({id_field: ids,
                          "name": polygons["name"].to_numpy(dtype=object)
                          if "name" in polygons.columns else ids,
                          "cells": total.astype(np.int64)})
    used = set()
    for k, name in enumerate(names):
        column = f"share_{_slug(name)}"
        while column in used:
            column += f"_{codes[k]}"
        used.add(column)
        table[column] = shares[:, k]
    table["landuse_entropy"] = entropy
    if residential_class is not None and int(residential_class) in codes:
        table["residential_share"] = shares[:, codes.index(int(residential_class))]
    else:
        table["residential_share"] = np.nan
    empty = total == 0
    if empty.any():
        warnings.append(f"landuse: {int(empty.sum())} innovation districts contain no classified "
                        f"land-use cell centre; their mix is empty ({format_rows(ids[empty])})")
    return table, warnings


def _slug(name: str) -> str:
    text = "".join(ch if ch.isalnum() else "_" for ch in str(name).strip().lower())
    return text.strip("_") or "class"


def _cells_in(geoms: np.ndarray, raster: Raster) -> tuple[np.ndarray, ...]:
    """(polygon position, x, y, value) of every finite cell whose centre is in a polygon."""
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not valid.any() or raster.data.size == 0:
        return (np.zeros(0, dtype=np.int64),) + (np.zeros(0),) * 3
    t = raster.transform
    inv = ~t
    bounds = shapely.bounds(geoms[valid])
    ids = np.flatnonzero(valid)
    corners_x = bounds[:, [0, 2, 0, 2]]
    corners_y = bounds[:, [1, 1, 3, 3]]
    cols = inv.a * corners_x + inv.b * corners_y + inv.c
    rows = inv.d * corners_x + inv.e * corners_y + inv.f
    n_rows, n_cols = raster.data.shape
    c0 = np.clip(np.floor(cols.min(axis=1)) - 1, 0, n_cols).astype(np.int64)
    c1 = np.clip(np.ceil(cols.max(axis=1)) + 1, 0, n_cols).astype(np.int64)
    r0 = np.clip(np.floor(rows.min(axis=1)) - 1, 0, n_rows).astype(np.int64)
    r1 = np.clip(np.ceil(rows.max(axis=1)) + 1, 0, n_rows).astype(np.int64)
    nc, nr = c1 - c0, r1 - r0
    per = nc * nr
    poly = np.repeat(ids, per)
    local = np.arange(per.sum()) - np.repeat(np.cumsum(per) - per, per)
    col = np.repeat(c0, per) + local % np.repeat(np.maximum(nc, 1), per)
    row = np.repeat(r0, per) + local // np.repeat(np.maximum(nc, 1), per)
    value = raster.data[row, col]
    finite = np.isfinite(value)
    poly, row, col, value = poly[finite], row[finite], col[finite], value[finite]
    x = t.c + (col + 0.5) * t.a + (row + 0.5) * t.b
    y = t.f + (col + 0.5) * t.d + (row + 0.5) * t.e
    shapely.prepare(geoms[ids])
    hit = shapely.intersects_xy(geoms[poly], x, y)
    return poly[hit], x[hit], y[hit], value[hit]
