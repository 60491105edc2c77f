"""Tiny hand-checkable study layers for the loading tests.

Everything is in EPSG:4544 (CGCS2000 / 3-degree Gauss-Krüger CM 105E, metres), near
Chengdu. Two 10 km x 10 km districts side by side:

    D1: x 500000..510000, D2: x 510000..520000, both y 3390000..3400000

Zones (1 km tall strips): Z1 fully in D1; Z2 from x 508000 to 513000 (2 km in D1,
3 km in D2 -> D2 by largest overlap); Z3 fully in D2.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from geo.settings import Settings, settings_from_dict

CRS = "EPSG:4544"
X0, Y0 = 500_000.0, 3_390_000.0


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(x0, y0, x1, y1)


def districts_gdf(crs: str = CRS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["D1", "D2"], "name": ["锦江区", "青羊区"]},
        geometry=[box(X0, Y0, X0 + 10_000, Y0 + 10_000), box(X0 + 10_000, Y0, X0 + 20_000, Y0 + 10_000)],
        crs=crs,
    )


def zones_gdf(crs: str = CRS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": ["Z1", "Z2", "Z3"],
            "name": ["电子信息产业园", "生物医药园", "航空产业园"],
            "chain": ["电子信息", "生物医药", "电子信息"],
            "jobs": [12000, 8000, 3000],
            "output": [50.5, 20.0, None],
            "role": ["rd", "manufacturing", "Terminal"],
        },
        geometry=[
            box(X0 + 1000, Y0 + 1000, X0 + 3000, Y0 + 2000),
            box(X0 + 8000, Y0 + 5000, X0 + 13000, Y0 + 6000),
            box(X0 + 15000, Y0 + 1000, X0 + 17000, Y0 + 2000),
        ],
        crs=crs,
    )


def innov_gdf(crs: str = CRS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["I1"], "name": ["天府创新街区"], "chains": ["电子信息；生物医药"], "jobs": [900]},
        geometry=[box(X0 + 4000, Y0 + 4000, X0 + 5000, Y0 + 5000)],
        crs=crs,
    )


def housing_gdf(crs: str = CRS) -> gpd.GeoDataFrame:
    xs = X0 + np.array([500.0, 2500.0, 9000.0, 14000.0, 19000.0])
    ys = Y0 + np.array([500.0, 3000.0, 7000.0, 2500.0, 9000.0])
    return gpd.GeoDataFrame(
        {"id": [f"H{i}" for i in range(1, 6)], "dwellings": [100, 250, 80, 400, 10]},
        geometry=shapely.points(xs, ys),
        crs=crs,
    )


def write(gdf: gpd.GeoDataFrame, path: Path, layer: str | None = None, **kwargs) -> Path:
    """Write with pyogrio (or GeoParquet by suffix); returns the path."""
    path = Path(path)
    if path.suffix == ".parquet":
        gdf.to_parquet(path)
    else:
        pyogrio.write_dataframe(gdf, path, layer=layer, **kwargs)
    return path


def write_study(tmp_path: Path, *, suffix: str = ".gpkg") -> dict:
    """Write the four layers (one file per layer) and return the config mapping."""
    frames = {"districts": districts_gdf(), "zones": zones_gdf(),
              "innovation_districts": innov_gdf(), "housing": housing_gdf()}
    fields = {
        "districts": {"district_id": "code"},
        "zones": {"zone_id": "id"},
        "innovation_districts": {"innov_id": "id"},
        "housing": {"housing_id": "id"},
    }
    layers = {}
    for name, gdf in frames.items():
        write(gdf, tmp_path / f"{name}{suffix}")
        layers[name] = {"path": f"{name}{suffix}", "fields": fields[name]}
    return {"layers": layers, "crs": {"working": CRS}}


def settings_for(tmp_path: Path, config: dict) -> Settings:
    settings = settings_from_dict(config, base_dir=tmp_path)
    settings.config_path = Path(tmp_path) / "config.yaml"
    return settings


def checksums(folder: Path) -> dict[str, str]:
    """sha256 of every file below ``folder`` (to prove inputs are untouched)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}
