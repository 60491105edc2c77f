"""Random valid studies through the whole pipeline (issue 8, item 2).

Hypothesis draws the structure of a small study (a grid of districts, zones and
innovation districts as random rectangles inside it, housing points or small housing
polygons, attributes with zeros and missing optional fields); the geometry comes from a
``numpy.random.Generator`` seeded by hypothesis. Each study is written to a GeoPackage
with a config.yaml and run in-process with :func:`geo.pipeline.run`. The invariants are
checked against the written outputs and brute force.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
import yaml
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from geo.pipeline import run
from geo.settings import load_settings

CRS = "EPSG:4544"
ORIGIN = np.array([420_000.0, 3_380_000.0])      # inside the CGCS2000 zone of CM 105°E
ROLES = ["rd", "manufacturing", "terminal", "supporting", "mixed"]
OPTIONAL = ["output", "firms", "leader_firms", "rd_platforms", "role"]


@st.composite
def studies(draw):
    return {
        "seed": draw(st.integers(0, 2**32 - 1)),
        "nx": draw(st.integers(1, 3)),
        "ny": draw(st.integers(1, 2)),
        "cell_m": draw(st.sampled_from([4_000.0, 9_000.0, 15_000.0])),
        "n_zones": draw(st.integers(1, 8)),
        "n_innov": draw(st.integers(1, 3)),
        "n_housing": draw(st.integers(1, 60)),
        "housing_polygons": draw(st.booleans()),
        "n_chains": draw(st.integers(1, 3)),
        "all_jobs_zero": draw(st.booleans()),
        "dropped": draw(st.sets(st.sampled_from(OPTIONAL))),
        "nan_share": draw(st.sampled_from([0.0, 0.3])),
        "radius_m": draw(st.sampled_from([1_000.0, 3_000.0, 8_000.0])),
        "multipolygons": draw(st.booleans()),          # zones of two parts
        "innov_on_zone": draw(st.booleans()),          # an innovation district = a zone
        "housing_on_vertices": draw(st.booleans()),    # housing on zone corners (distance 0)
        "language": draw(st.sampled_from(["zh", "en"])),
    }


def _rects(rng, n, width, height, size_range):
    w = rng.uniform(*size_range, n)
    h = rng.uniform(*size_range, n)
    x = rng.uniform(0, width - w)
    y = rng.uniform(0, height - h)
    return shapely.box(ORIGIN[0] + x, ORIGIN[1] + y, ORIGIN[0] + x + w, ORIGIN[1] + y + h)


def write_study(spec: dict, folder: Path) -> Path:
    rng = np.random.default_rng(spec["seed"])
    cell, nx, ny = spec["cell_m"], spec["nx"], spec["ny"]
    width, height = cell * nx, cell * ny
    gx, gy = np.meshgrid(np.arange(nx), np.arange(ny))
    gx, gy = gx.ravel(), gy.ravel()
    districts = gpd.GeoDataFrame(
        {"code": [f"D{i}" for i in range(len(gx))], "name": [f"区{i}" for i in range(len(gx))]},
        geometry=shapely.box(ORIGIN[0] + gx * cell, ORIGIN[1] + gy * cell,
                             ORIGIN[0] + (gx + 1) * cell, ORIGIN[1] + (gy + 1) * cell), crs=CRS)
    chains = [f"链{c}" for c in range(spec["n_chains"])]
    nz = spec["n_zones"]
    size = (200.0, min(3_000.0, cell / 2))
    zones = gpd.GeoDataFrame({
        "id": [f"Z{i}" for i in range(nz)],
        "name": [f"园区{i}" for i in range(nz)],
        "chain": rng.choice(chains, nz),
        "jobs": np.zeros(nz) if spec["all_jobs_zero"] else rng.integers(0, 5, nz) * rng.integers(0, 3000, nz),
        "output": rng.uniform(0, 100, nz).round(1),
        "firms": rng.integers(0, 50, nz).astype(float),
        "leader_firms": rng.integers(0, 3, nz).astype(float),
        "rd_platforms": rng.integers(0, 4, nz).astype(float),
        "role": rng.choice(ROLES, nz).astype(object),
    }, geometry=_rects(rng, nz, width, height, size), crs=CRS)
    if spec["multipolygons"]:
        second = _rects(rng, nz, width, height, size)
        zones = zones.set_geometry(gpd.GeoSeries(shapely.multipolygons(
            [[a, b] for a, b in zip(zones.geometry.values.to_numpy(), second)]), crs=CRS))
    for col in OPTIONAL:
        holes = rng.random(nz) < spec["nan_share"]
        zones.loc[holes, col] = None if col == "role" else np.nan
    zones = zones.drop(columns=sorted(spec["dropped"]))
    ni = spec["n_innov"]
    innov = gpd.GeoDataFrame({
        "id": [f"I{i}" for i in range(ni)],
        "name": [f"街区{i}" for i in range(ni)],
        "chains": [";".join(rng.choice(chains, rng.integers(1, len(chains) + 1), replace=False))
                   for _ in range(ni)],
        "jobs": rng.integers(0, 2000, ni).astype(float),
    }, geometry=_rects(rng, ni, width, height, (100.0, 1_500.0)), crs=CRS)
    if spec["innov_on_zone"]:
        innov.loc[0, "geometry"] = zones.geometry.iloc[0]
    nh = spec["n_housing"]
    pts = ORIGIN + rng.uniform(0, 1, (nh, 2)) * [width, height]
    if spec["housing_on_vertices"]:
        corners = shapely.get_coordinates(zones.geometry.values.to_numpy())
        k = min(nh, len(corners))
        pts[:k] = corners[rng.choice(len(corners), k, replace=False)]
    geoms = shapely.points(pts)
    if spec["housing_polygons"]:
        geoms = shapely.buffer(geoms, 40.0, quad_segs=2)
    housing = gpd.GeoDataFrame({"id": [f"H{i}" for i in range(nh)],
                                "dwellings": rng.integers(0, 400, nh).astype(float)},
                               geometry=geoms, crs=CRS)
    gpkg = folder / "study.gpkg"
    for name, frame in [("districts", districts), ("zones", zones),
                        ("innovation_districts", innov), ("housing", housing)]:
        pyogrio.write_dataframe(frame, gpkg, layer=name, driver="GPKG")
    zone_fields = {"zone_id": "id", "name": "name", "district_id": None, "chain": "chain",
                   "jobs": "jobs", **{c: c for c in OPTIONAL if c not in spec["dropped"]}}
    zone_fields.pop("district_id")   # derived from the districts (largest overlap)
    config = {
        "study": {"name": "fuzz", "language": spec["language"]},
        "crs": {"working": CRS, "export": CRS},
        "layers": {
            "districts": {"path": "study.gpkg", "layer": "districts",
                          "fields": {"district_id": "code", "name": "name"}},
            "zones": {"path": "study.gpkg", "layer": "zones", "fields": zone_fields},
            "innovation_districts": {"path": "study.gpkg", "layer": "innovation_districts",
                                     "fields": {"innov_id": "id", "name": "name",
                                                "chains": "chains", "jobs": "jobs"}},
            "housing": {"path": "study.gpkg", "layer": "housing",
                        "fields": {"housing_id": "id", "dwellings": "dwellings"}},
        },
        "balance": {"radius_m": spec["radius_m"],
                    "radii_m": sorted({spec["radius_m"] / 2, spec["radius_m"], spec["radius_m"] * 2})},
        "map": {"basemap": "none"},
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def _csv(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / "tables" / f"{name}.csv", encoding="utf-8-sig",
                       dtype={"zone_id": str, "workplace_id": str, "core_id": str})


def _check(report, config: Path) -> None:
    out = report.output_dir
    gpkg = config.parent / "study.gpkg"
    zones = pyogrio.read_dataframe(gpkg, layer="zones")
    innov = pyogrio.read_dataframe(gpkg, layer="innovation_districts")
    housing = pyogrio.read_dataframe(gpkg, layer="housing")
    zone_ids = sorted(zones["id"])

    # every CSV has exactly the rows of its frame
    for result in report.results.values():
        for name, frame in result.tables.items():
            assert len(_csv(out, name)) == len(frame), name

    # every zone and workplace exactly once
    for name in ("zones", "core_periphery_zones", "collaboration_zones"):
        ids = _csv(out, name)["zone_id"].tolist()
        assert sorted(ids) == zone_ids, name
    work = _csv(out, "balance_workplaces")
    assert sorted(work["workplace_id"]) == sorted(zone_ids + list(innov["id"]))

    # distances are never negative (NaN where there is none)
    for name in report.results["collaboration"].tables | report.results["core_periphery"].tables:
        frame = _csv(out, name)
        for col in [c for c in frame.columns if c.endswith("_m")]:
            values = pd.to_numeric(frame[col], errors="coerce")
            assert (values.dropna() >= 0).all(), (name, col)

    # attachment probabilities are probabilities; cores attach to nothing else
    cp = _csv(out, "core_periphery_zones")
    prob = cp["attach_prob"].dropna()
    assert ((prob > 0) & (prob <= 1 + 1e-12)).all()
    periph = cp[cp["role"] == "periphery"]
    if (cp["role"] == "core").sum() == 1:   # one core takes all of the Huff probability
        assert (periph["attach_prob"].dropna() == 1).all()
    assert periph["core_id"].isin(cp.loc[cp["role"] == "core", "zone_id"]).where(
        periph["core_id"].notna(), True).all()

    # the reported probability is the Huff probability of the chosen core among ALL cores
    # (P_k = S_k d_k^-β / Σ_j S_j d_j^-β, scores as attraction, distances floored at 1 km),
    # so the probabilities of one zone over all cores sum to 1 by construction
    params = report.manifest["parameters"]["core_periphery"]
    cores = cp[cp["role"] == "core"]
    geom_of = dict(zip(zones["id"], zones.geometry.values.to_numpy()))
    core_geoms = np.array([geom_of[z] for z in cores["zone_id"]], dtype=object)
    strength = cores["score"].to_numpy(float)
    for _, row in periph[periph["attach_prob"].notna()].iterrows():
        d = np.maximum(shapely.distance(geom_of[row["zone_id"]], core_geoms), 1_000.0)
        w = strength * d ** -float(params["distance_decay"])
        if w.sum() > 0:
            huff = w / w.sum()
            chosen = list(cores["zone_id"]).index(row["core_id"])
            assert abs(row["attach_prob"] - huff[chosen]) < 1e-6, (row["zone_id"], huff)
            assert abs(huff.sum() - 1) < 1e-9

    # nearest cross-district partner of the same chain, by brute force
    cz = _csv(out, "collaboration_zones").set_index("zone_id")
    max_m = float(report.manifest["parameters"]["collaboration"]["max_distance_m"])
    ids = np.array(zone_ids, dtype=object)
    geoms = np.array([geom_of[z] for z in ids], dtype=object)
    chain = cz.loc[ids, "chain"].to_numpy(dtype=object)
    district = cz.loc[ids, "district_id"].to_numpy(dtype=object)
    dist_zz = shapely.distance(geoms[:, None], geoms[None, :])
    partner = (chain[:, None] == chain[None, :]) & (district[:, None] != district[None, :])
    for i, z in enumerate(ids):
        d = dist_zz[i, partner[i]]
        got = cz.loc[z, "nearest_partner_m"]
        if len(d) == 0:
            assert np.isnan(got), z
        else:
            assert abs(got - d.min()) <= 1e-8 * d.min() + 1e-6, (z, got, d.min())  # CSV: 10 digits
        assert int(cz.loc[z, "partners_within"]) == int((d <= max_m).sum()), z

    # workers by brute force: distance from the housing point to each workplace polygon
    settings = report.manifest["parameters"]["balance"]
    r = float(settings["radius_m"])
    per_dwelling = float(settings["workers_per_dwelling"])
    hgeoms = housing.geometry.values.to_numpy()
    is_point = shapely.get_type_id(hgeoms) == 0
    hpts = np.where(is_point, hgeoms, shapely.point_on_surface(hgeoms))
    workers = housing["dwellings"].to_numpy() * per_dwelling
    wp = pd.concat([zones[["id", "geometry"]], innov[["id", "geometry"]]], ignore_index=True)
    dist = shapely.distance(hpts[:, None], wp.geometry.values.to_numpy()[None, :])
    dist = np.where(shapely.contains(wp.geometry.values.to_numpy()[None, :], hpts[:, None]), 0.0, dist)
    ambiguous = np.abs(dist - r) < 1e-3        # right on the radius: either answer is fine
    tol = workers @ ambiguous.any(axis=1) + 1e-6 * max(1.0, workers.sum())
    by_id = work.set_index("workplace_id")
    expected = pd.Series(workers @ (dist <= r), index=wp["id"])
    got = by_id.loc[expected.index, "workers"].fillna(0).to_numpy()
    np.testing.assert_allclose(got, expected.to_numpy(), atol=tol)
    # conservation: the shared workers add up to the workers in reach of any workplace
    in_reach = workers @ (dist <= r).any(axis=1)
    assert abs(work["workers_shared"].fillna(0).sum() - in_reach) <= tol
    assert (work["workers_shared"].dropna() >= 0).all()


@hsettings(max_examples=10, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(spec=studies())
def test_random_valid_studies_run_and_keep_invariants(spec, tmp_path):
    folder = tmp_path / f"s{spec['seed']}"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    config = write_study(spec, folder)
    settings = load_settings(config)
    report = run(settings, output_dir=folder / "maps")
    _check(report, config)
    shutil.rmtree(folder)
