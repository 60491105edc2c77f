"""Rasters (population, land use): read one band, check values, reproject to the working CRS."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pyproj import CRS

from geo._types import LayerSource, Raster
from geo.layers._read import _check_path
from geo.layers._report import _Ctx, _forward_warnings, _one_line, _Report, _shown_path

if TYPE_CHECKING:
    from geo.settings import RasterLayerSettings

logger = logging.getLogger(__name__)

#: cell values at or beyond this magnitude are nodata markers (float32 max, 1e38, inf)
_HUGE = 1e30


def _load_raster(name: str, cfg: RasterLayerSettings, working: CRS | None, study_bounds: np.ndarray | None,
                 base: Path | None, report: _Report) -> tuple[Raster | None, LayerSource | None]:
    import rasterio
    from rasterio.transform import array_bounds
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    ctx = _Ctx(name=name, path=Path(cfg.path), shown=_shown_path(Path(cfg.path), base))
    if not _check_path(ctx, report):
        return None, None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with rasterio.open(ctx.path) as src:
                files = [Path(f) for f in (src.files or [ctx.path])]
                if cfg.band > src.count:
                    report.error(f"{ctx.at()} band {cfg.band} requested but the raster has "
                                 f"{src.count}; fix layers.{name}.band")
                    return None, None
                data = src.read(cfg.band, masked=True).astype("float64").filled(np.nan)
                unit = (src.units[cfg.band - 1] or "").strip() if src.units else ""
                transform, src_crs = src.transform, src.crs
                georeferenced = not transform.is_identity
        caught = [w for w in caught if "NotGeoreferenced" not in type(w.message).__name__]
        _forward_warnings(ctx, caught, report)
    except Exception as exc:  # noqa: BLE001
        report.error(f"{ctx.at()} cannot read the raster ({_one_line(exc)}); it must be a "
                     "single-band GeoTIFF or another GDAL raster")
        return None, None
    limit = _HUGE if name == "population" else 2.0**31   # class codes are 32-bit integers
    huge = ~np.isnan(data) & ~(np.abs(data) < limit)   # inf, or an undeclared nodata such as -3.4e38
    if huge.any():
        values = ", ".join(f"{v:g}" for v in np.unique(data[huge])[:3])
        report.warn(f"{ctx.at()} {int(huge.sum())} cells hold {values}, not a real "
                    f"{'population' if name == 'population' else 'class code'} but a nodata value "
                    "the file does not declare; they were read as nodata (declare it, e.g. "
                    "gdal_edit -a_nodata VALUE, to make this explicit)")
        data[huge] = np.nan
    source = LayerSource(name=name, path=ctx.path, files=files, feature_count=int(np.isfinite(data).sum()))
    if not georeferenced:
        report.error(f"{ctx.at()} the raster is not georeferenced (no geotransform); "
                     "export it as a GeoTIFF with coordinates", crs=True)
        return None, source
    crs = CRS.from_user_input(src_crs.to_wkt()) if src_crs else None
    if crs is None:
        if cfg.crs is None:
            report.error(f"{ctx.at()} the raster has no CRS; add layers.{name}.crs to the "
                         "config (e.g. crs: EPSG:4544)", crs=True)
            return None, source
        crs = CRS.from_user_input(cfg.crs)
    if name == "population":
        neg = np.nan_to_num(data) < 0
        if neg.any():
            report.error(f"{ctx.at()} {int(neg.sum())} cells with negative population; persons "
                         f"per cell must be >= 0{_undeclared_nodata(data, neg)}")
    elif name == "employment":
        _check_jobs_raster(ctx, data, unit, report)
    else:
        finite = np.isfinite(data)
        frac = finite & (data != np.round(data))
        if frac.any():
            report.error(f"{ctx.at()} {int(frac.sum())} cells hold non-integer values; a landuse "
                         "raster holds integer class codes")
        else:
            codes = np.unique(data[finite]).astype(np.int64)
            unknown = [c for c in codes if c not in cfg.classes]
            if unknown:
                cells = int(np.isin(data, unknown).sum())
                report.warn(f"{ctx.at()} {cells} cells hold class codes not in "
                            f"layers.landuse.classes ({', '.join(map(str, unknown[:10]))}); they "
                            "count as unclassified")
    if working is None:
        return None, source
    h, w = data.shape
    same_crs = crs.equals(working, ignore_axis_order=True) or (
        crs.to_epsg() is not None and crs.to_epsg() == working.to_epsg())
    if not (same_crs and transform.b == 0 and transform.d == 0):
        from rasterio.crs import CRS as RioCRS

        src_rio, dst_rio = RioCRS.from_wkt(crs.to_wkt()), RioCRS.from_wkt(working.to_wkt())
        left, bottom, right, top = array_bounds(h, w, transform)
        resampling = Resampling.sum if name in ("population", "employment") else Resampling.nearest
        with warnings.catch_warnings():
            # rasterio's own use of affine's deprecated '*' operator
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            dst_transform, dw, dh = calculate_default_transform(src_rio, dst_rio, w, h, left,
                                                                bottom, right, top)
            out = np.full((dh, dw), np.nan)
            reproject(source=data, destination=out, src_transform=transform, src_crs=src_rio,
                      src_nodata=np.nan, dst_transform=dst_transform, dst_crs=dst_rio,
                      dst_nodata=np.nan, resampling=resampling)
        if name in ("population", "employment"):
            before, after = np.nansum(data), np.nansum(out)
            if before > 0 and abs(after - before) > 0.01 * before:
                report.warn(f"{ctx.at()} reprojecting to {working.to_string()} changed the total "
                            f"{'population' if name == 'population' else 'jobs'} from {before:,.0f} to {after:,.0f}")
        logger.info("%s reprojected from %s to %s", ctx.at(), crs.to_string(), working.to_string())
        data, transform = out, dst_transform
    raster = Raster(data=data, transform=transform, crs=working, path=ctx.path)
    if study_bounds is not None:
        left, bottom, right, top = array_bounds(*data.shape, transform)
        s = study_bounds
        if left > s[2] or right < s[0] or bottom > s[3] or top < s[1]:
            report.error(f"{ctx.at()} the raster does not overlap the study area (zones extent "
                         f"{s[0]:.0f}, {s[1]:.0f} .. {s[2]:.0f}, {s[3]:.0f} in "
                         f"{working.to_string()}); check its CRS and extent")
            return None, source
    return raster, source


#: Band units read as "jobs per cell" without comment (case-insensitive).
_JOB_UNITS = ("", "jobs", "job", "jobs/cell", "jobs per cell", "persons", "people", "人", "人/格",
              "就业岗位", "岗位", "就业人数")


def _undeclared_nodata(data: np.ndarray, neg: np.ndarray) -> str:
    """A hint when every negative cell holds one value (-9999, -32768, ...): a nodata value
    the file does not declare, as ArcGIS exports often leave it."""
    values = np.unique(data[neg])
    if len(values) != 1 or neg.sum() < 2 or values[0] != np.round(values[0]) or values[0] > -99:
        return ""    # a sentinel is one round value, written in many cells
    v = str(int(values[0]))
    return (f"; all of them are {v}, which looks like a nodata value the file does not declare: "
            f"declare it (gdal_edit -a_nodata {v} FILE, or in QGIS: Raster → Conversion → Translate "
            f"with nodata {v})")


def _check_jobs_raster(ctx: _Ctx, data: np.ndarray, unit: str, report: _Report) -> None:
    """Jobs per cell: no negative cells; say what is assumed when the unit is unknown."""
    neg = np.nan_to_num(data) < 0
    if neg.any():
        report.error(f"{ctx.at()} {int(neg.sum())} cells with negative jobs; jobs per cell "
                     f"must be >= 0{_undeclared_nodata(data, neg)}")
    if unit.lower() not in _JOB_UNITS:
        report.warn(f"{ctx.at()} band unit '{unit}' is not a count of jobs; zoneatlas reads every "
                    "cell value as jobs per cell (a density per km² or per hectare must be "
                    "multiplied by the cell area first)")
    elif not unit:
        finite = data[np.isfinite(data)]
        if len(finite) and float(finite.max()) < 1 and float(finite.sum()) > 0:
            report.warn(f"{ctx.at()} every cell holds less than one job (largest "
                        f"{float(finite.max()):.3g}); the band has no unit, and zoneatlas reads "
                        "values as jobs per cell: a density or a share must be converted first")
