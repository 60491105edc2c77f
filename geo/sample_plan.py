"""A plan scenario (规划方案) for a sample study: one new housing development, one new zone.

Derived from a study written by :func:`geo.sample.write_sample`, so that ``zoneatlas
compare`` has something to compare: the bundled ``layers/plan/plan.gpkg`` and
``config-plan.yaml`` were written by::

    python -c "from geo.sample_plan import write_plan; write_plan('config.yaml')"

The plan changes two things and leaves everything else as it is:

- **housing**: a new residential development of ``dwellings_total`` dwellings (points on a
  regular grid of 150 m, all with the same number of dwellings) next to the zone with the
  most jobs per resident worker within 5 km, i.e. where housing is scarcest;
- **zones**: one new industrial functional zone (a regular 16-gon of ``zone_radius_m``, minus
  any overlap with existing zones) in the chain with the fewest zones, at the representative
  point of the nearest district that has no zone of that chain yet (a new cross-district
  partner site), with a modest number of jobs and the role ``manufacturing``.

Districts, innovation districts and the rasters are the study's own (the plan config
points at them). Everything is fictional, like the sample.
"""

from __future__ import annotations

import logging
import math
import os
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml

log = logging.getLogger(__name__)

PLAN_FOLDER = Path("layers") / "plan"
PLAN_GPKG = "plan.gpkg"


def _next_id(ids: pd.Series, prefix: str, width: int) -> str:
    numbers = [int(m.group(1)) for m in (re.fullmatch(rf"{prefix}(\d+)", str(i)) for i in ids) if m]
    return f"{prefix}{(max(numbers) if numbers else 0) + 1:0{width}d}"


def plan_layers(zones: gpd.GeoDataFrame, housing: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, *,
                zone_fields: dict[str, str], housing_fields: dict[str, str], district_fields: dict[str, str],
                dwellings_total: int = 6000, zone_radius_m: float = 700.0, zone_jobs: int = 6000
                ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The plan's zones and housing layers (the inputs with the new features appended).

    Parameters
    ----------
    zones, housing, districts : GeoDataFrame
        The study's layers as stored (file column names), in a projected CRS in metres.
    zone_fields, housing_fields, district_fields : dict
        The config's ``fields:`` mappings (canonical name → column).
    dwellings_total : int
        Dwellings of the new development (spread over grid points of 150 dwellings).
    zone_radius_m : float
        Circumradius of the new zone polygon.
    zone_jobs : int
        Jobs of the new zone.

    Returns
    -------
    (zones, housing) : GeoDataFrame, GeoDataFrame
        New frames; the inputs are not modified. New features come last.
    """
    zf, hf, df = zone_fields, housing_fields, district_fields
    # where housing is scarcest: jobs per dwelling within 5 km of each zone (plain sums)
    tree = shapely.STRtree(housing.geometry.values)
    zi, hi = tree.query(zones.geometry.values, predicate="dwithin", distance=5000.0)
    dwellings = np.bincount(zi, weights=housing[hf["dwellings"]].to_numpy(dtype=float)[hi], minlength=len(zones))
    ratio = zones[zf["jobs"]].to_numpy(dtype=float) / np.maximum(dwellings, 1.0)
    target = zones.geometry.values[int(np.argmax(ratio))]
    # the development: a square grid of 150 m beside the zone, inside the districts, outside every zone
    per_point = 150
    n = max(1, round(dwellings_total / per_point))
    side = math.ceil(math.sqrt(n))
    span = (side - 1) * 150.0
    minx, miny, maxx, maxy = shapely.bounds(target)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    land = shapely.union_all(districts.geometry.values)
    occupied = shapely.union_all(zones.geometry.values)
    origins = [(maxx + 300.0, cy - span / 2), (minx - 300.0 - span, cy - span / 2),
               (cx - span / 2, maxy + 300.0), (cx - span / 2, miny - 300.0 - span),
               (maxx + 300.0, maxy + 300.0), (minx - 300.0 - span, maxy + 300.0),
               (maxx + 300.0, miny - 300.0 - span), (minx - 300.0 - span, miny - 300.0 - span)]
    best, best_ok = None, -1
    for x0, y0 in origins:
        gx, gy = np.meshgrid(np.arange(side) * 150.0 + x0, np.arange(side) * 150.0 + y0)
        cand = shapely.points(gx.ravel()[:n], gy.ravel()[:n])
        ok = int((shapely.within(cand, land) & ~shapely.intersects(cand, occupied)).sum())
        if ok > best_ok:
            best, best_ok = cand, ok
        if ok == n:
            break
    pts = best[shapely.within(best, land) & ~shapely.intersects(best, occupied)]
    n = len(pts)
    new_housing = gpd.GeoDataFrame({hf["housing_id"]: [f"HP{i + 1:05d}" for i in range(n)],
                                    hf["dwellings"]: np.full(n, per_point, dtype=housing[hf["dwellings"]].dtype)},
                                   geometry=pts, crs=housing.crs)
    # the new zone: chain with the fewest zones, district farthest from that chain's zones
    counts = zones[zf["chain"]].value_counts()
    chain = min(counts[counts == counts.min()].index)
    chain_zones = shapely.union_all(zones.geometry.values[(zones[zf["chain"]] == chain).to_numpy()])
    anchors = shapely.point_on_surface(districts.geometry.values)
    gap = shapely.distance(anchors, chain_zones)
    without = ~shapely.intersects(districts.geometry.values, chain_zones)
    # nearest district without a zone of the chain: a new cross-district partner site
    far = int(np.argmin(np.where(without, gap, np.inf))) if without.any() else int(np.argmax(gap))
    centre = anchors[far]
    angles = np.linspace(0, 2 * np.pi, 17)[:-1]
    ring = np.column_stack([shapely.get_x(centre) + zone_radius_m * np.cos(angles),
                            shapely.get_y(centre) + zone_radius_m * np.sin(angles)])
    polygon = shapely.polygons(ring)
    others = shapely.union_all(zones.geometry.values)
    polygon = shapely.difference(polygon, others) if shapely.intersects(polygon, others) else polygon
    district_id = districts[df["district_id"]].iloc[far]
    row: dict[str, Any] = {zf["zone_id"]: _next_id(zones[zf["zone_id"]], "Z", 3),
                           zf["name"]: f"示例规划{chain}产业功能区", zf["chain"]: chain, zf["jobs"]: zone_jobs}
    optional = {"district_id": district_id, "output": round(zone_jobs * 0.012, 1), "firms": 40,
                "leader_firms": 0, "rd_platforms": 1, "role": "manufacturing"}
    row.update({zf[k]: v for k, v in optional.items() if k in zf})
    new_zone = gpd.GeoDataFrame([row], geometry=[polygon], crs=zones.crs)
    out_zones = pd.concat([zones, new_zone[zones.columns]], ignore_index=True)
    out_housing = pd.concat([housing, new_housing[housing.columns]], ignore_index=True)
    return gpd.GeoDataFrame(out_zones, crs=zones.crs), gpd.GeoDataFrame(out_housing, crs=housing.crs)


def write_plan(config: str | os.PathLike, *, plan_config: str | os.PathLike | None = None,
               output_dir: str = "maps_plan") -> Path:
    """Write the plan scenario of the study run by ``config``.

    Writes ``layers/plan/plan.gpkg`` (layers ``zones`` and ``housing``) beside the study
    and ``config-plan.yaml`` next to ``config`` (same parameters; zones and housing from the
    plan, output into ``output_dir``). Returns the plan config path.
    """
    config = Path(config)
    root = config.parent
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    layers = data["layers"]

    def read(name: str) -> gpd.GeoDataFrame:
        import pyogrio

        spec = layers[name]
        return pyogrio.read_dataframe(root / spec["path"], layer=spec.get("layer"))

    zones, housing = plan_layers(read("zones"), read("housing"), read("districts"),
                                 zone_fields=layers["zones"]["fields"], housing_fields=layers["housing"]["fields"],
                                 district_fields=layers["districts"]["fields"])
    folder = root / PLAN_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    gpkg = folder / PLAN_GPKG
    if gpkg.exists():
        gpkg.unlink()
    import pyogrio

    meta = {"SYNTHETIC": "yes", "PROVENANCE": "plan scenario derived from the sample study by "
                                              "geo.sample_plan.write_plan (fictional)"}
    for name, frame in (("zones", zones), ("housing", housing)):
        pyogrio.write_dataframe(frame, gpkg, layer=name, layer_options={"SPATIAL_INDEX": "NO"},
                                layer_metadata=meta)
    plan = dict(data)
    plan["study"] = {**data.get("study", {}), "name": f"{data.get('study', {}).get('name', 'study')}（规划方案）"}
    plan["layers"] = {**layers}
    for name in ("zones", "housing"):
        plan["layers"][name] = {**layers[name], "path": (PLAN_FOLDER / PLAN_GPKG).as_posix(), "layer": name}
    plan["output"] = {**data.get("output", {}), "dir": output_dir}
    target = Path(plan_config) if plan_config else root / "config-plan.yaml"
    header = ("# zoneatlas PLAN SCENARIO (规划方案) of the bundled sample study: FICTIONAL.\n"
              f"# Same parameters as {config.name}; zones and housing come from {PLAN_FOLDER.as_posix()}/{PLAN_GPKG}\n"
              "# (one new zone, one new housing development; see layers/plan/README.md).\n"
              f"# Written by: python -c \"from geo.sample_plan import write_plan; write_plan('{config.name}')\"\n"
              f"# Compare with today:  zoneatlas run && zoneatlas run -c {target.name} && "
              f"zoneatlas compare maps {output_dir} -o maps_compare\n\n")
    target.write_text(header + yaml.safe_dump(plan, allow_unicode=True, sort_keys=False, width=100),
                      encoding="utf-8")
    log.info("wrote %s and %s", gpkg, target)
    return target
