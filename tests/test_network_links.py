"""Travel times that link zones (collaboration, core attachment, chain reach) against a
networkx brute force applying DESIGN.md's definitions literally.

The brute force (tests/test_network.py ``BruteForce``) builds its own graph from the
vertices, its own entries (every node within ``max_access_m`` with its egress time) and
runs networkx Dijkstra; a point (a firm) joins at its nearest node like a home. Random
small studies have one-way streets, gaps (disconnected pieces), a flyover crossing the
grid without a shared vertex, an island and a workplace far from every road.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from shapely.geometry import Point

import geo.network as gn
from tests._reference import attachment_minutes_reference
from tests.test_network import BruteForce, random_study


def _bf_between(bf: BruteForce, ents_a: list[dict], ents_b: list[dict], pairs) -> np.ndarray:
    """min over entries of egress + directed network time + egress, the faster direction."""
    out = []
    for a, b in pairs:
        best = math.inf
        for src, dst in ((ents_a[a], ents_b[b]), (ents_b[b], ents_a[a])):
            for e, g in src.items():
                dist = nx.single_source_dijkstra_path_length(bf.g, e, weight="weight")
                for f, h in dst.items():
                    if f in dist:
                        best = min(best, g + dist[f] + h)
        out.append(best)
    return np.array(out)


def _bf_point_entries(bf: BruteForce, xy) -> dict:
    node, acc = bf.home(tuple(xy))
    return {} if node is None else {node: acc}


def _nan_inf(values):
    return np.where(np.isfinite(values), values, np.nan)


@pytest.mark.parametrize("seed", range(6))
def test_travel_matrix_both_ways_equals_brute_force(seed):
    roads, _, _, polys = random_study(200 + seed)
    bf = BruteForce(roads, max_access_m=300.0)
    graph = gn.build_graph(roads)
    zones, cores = polys, polys[:2]
    got = gn.travel_matrix(graph, zones, cores, max_access_m=300.0, both_ways=True)
    ents = [bf.entries(p) for p in polys]
    pairs = [(i, j) for i in range(len(zones)) for j in range(len(cores))]
    want = _bf_between(bf, ents, ents, pairs).reshape(len(zones), len(cores))
    np.testing.assert_allclose(got, _nan_inf(want), rtol=0, atol=1e-9)
    # one direction each way: the reversed graph gives the other direction exactly
    fwd = gn.travel_matrix(graph, zones, cores, max_access_m=300.0)
    bwd = gn.travel_matrix(gn.reversed_graph(graph), zones, cores, max_access_m=300.0)
    back = gn.travel_matrix(graph, cores, zones, max_access_m=300.0).T
    np.testing.assert_allclose(bwd, back, rtol=0, atol=1e-9)
    np.testing.assert_allclose(np.fmin(fwd, bwd), got, rtol=0, atol=0)


@pytest.mark.parametrize("seed", range(6))
def test_travel_between_sets_points_and_polygons(seed):
    roads, homes, _, polys = random_study(300 + seed)
    max_access = 250.0 if seed % 2 else 600.0
    bf = BruteForce(roads, max_access_m=max_access)
    graph = gn.build_graph(roads)
    points = [Point(xy) for xy in homes[:12]]
    feats_a = np.array(polys[:3] + points[:3], dtype=object)        # mixed
    feats_b = np.array(points + polys[3:], dtype=object)
    ea = gn.feature_entries(graph, feats_a, max_access_m=max_access)
    eb = gn.feature_entries(graph, feats_b, max_access_m=max_access)
    bf_a = [bf.entries(g) if g.geom_type != "Point" else _bf_point_entries(bf, g.coords[0]) for g in feats_a]
    bf_b = [bf.entries(g) if g.geom_type != "Point" else _bf_point_entries(bf, g.coords[0]) for g in feats_b]
    # the entries themselves (nodes as positions, egress minutes)
    for e, ref, g in ((ea, bf_a, feats_a), (eb, bf_b, feats_b)):
        for k in range(len(g)):
            s = slice(e.offsets[k], e.offsets[k + 1])
            got = {tuple(graph.node_xy[n]): m for n, m in zip(e.node[s], e.egress_min[s])}
            want = {bf.xy[n]: m for n, m in ref[k].items()}
            assert got.keys() == want.keys()
            for key in want:
                assert got[key] == pytest.approx(want[key], abs=1e-9)
    pairs = np.array([(i, j) for i in range(len(feats_a)) for j in range(len(feats_b))])
    want = _bf_between(bf, bf_a, bf_b, pairs)
    got = gn.travel_between_sets(graph, ea, eb, pairs)
    np.testing.assert_allclose(got, _nan_inf(want), rtol=0, atol=1e-9)
    # searches towards the other side give the same answer (few a's vs few b's)
    swapped = gn.travel_between_sets(graph, eb, ea, pairs[:, ::-1])
    np.testing.assert_allclose(swapped, got, rtol=0, atol=1e-9)
    # a limit: slower pairs come out empty, a pair exactly at the limit stays
    finite = np.sort(got[np.isfinite(got)])
    if len(finite):
        limit = float(finite[len(finite) // 2])
        lim = gn.travel_between_sets(graph, ea, eb, pairs, limit_min=limit)
        keep = got <= limit + 1e-9
        np.testing.assert_allclose(lim[keep], got[keep], rtol=0, atol=1e-9)
        assert np.isnan(lim[~keep]).all()


def test_straight_bound_never_cuts_a_connection():
    """No connection is faster than its straight line at the fastest speed (the bound's premise)."""
    for seed in range(4):
        roads, homes, _, polys = random_study(400 + seed)
        graph = gn.build_graph(roads)
        feats = np.array(polys + [Point(xy) for xy in homes[:10]], dtype=object)
        e = gn.feature_entries(graph, feats)
        pairs = np.array([(i, j) for i in range(len(feats)) for j in range(i + 1, len(feats))])
        t = gn.travel_between_sets(graph, e, e, pairs)
        d = np.array([feats[i].distance(feats[j]) for i, j in pairs])
        ok = np.isfinite(t)
        assert ok.sum() > 5
        vmax = max(float(graph.road_speed_kmh.max()), 5.0)
        covered = t[ok] / gn.minutes_per_metre(vmax)       # metres at the fastest speed
        assert (d[ok] <= covered + 2.0).all()               # 2 m: snapping (1 m tolerance)
        for minutes in (0.5, 1.0, 3.0):
            linked = ok & (t <= minutes)
            assert (d[linked] <= gn.straight_bound_m(graph, minutes)).all()


# ---------------------------------------------------------------- the analyses in minutes

import geopandas as gpd  # noqa: E402
import pandas as pd  # noqa: E402
from shapely.geometry import LineString, box  # noqa: E402

from geo._types import Study  # noqa: E402
from geo.analysis import chains as chains_analysis  # noqa: E402
from geo.analysis import collaboration, core_periphery  # noqa: E402
from geo.settings import settings_from_dict  # noqa: E402

CRS = "EPSG:3857"
TOL = 1e-6


def _settings(**sections):
    return settings_from_dict({"study": {"language": "en"}, "layers": {"zones": {"path": "zones.gpkg"}},
                               **sections}, base_dir=".")


def _links_study(seed: int):
    """Random roads (one-way streets, gaps, a flyover, an island) and zones of two chains in
    three districts, some on the island or far from every road."""
    roads, homes, _, polys = random_study(500 + seed)
    rng = np.random.default_rng(seed)
    extent = float(np.max(roads.total_bounds[2:]))
    extent = min(extent, 1500.0)
    for _ in range(int(rng.integers(5, 9))):
        cx, cy = rng.uniform(0, extent, 2)
        w, h = rng.uniform(20, 120, 2)
        polys.append(box(cx - w, cy - h, cx + w, cy + h))
    n = len(polys)
    chain = rng.choice(["ev", "bio"], n)
    chain[-1], chain[-2] = "ev", "ev"
    district = rng.choice(["D1", "D2", "D3"], n)
    zones = gpd.GeoDataFrame({
        "zone_id": [f"Z{i:02d}" for i in range(n)], "name": [f"zone {i}" for i in range(n)],
        "chain": chain, "district_id": district,
        "jobs": rng.integers(10, 1000, n).astype(float), "output": rng.uniform(1, 100, n),
    }, geometry=polys, crs=CRS)
    firms = gpd.GeoDataFrame({"chain": rng.choice(["ev", "bio"], len(homes))},
                             geometry=[Point(xy) for xy in homes], crs=CRS)
    return roads, zones, firms


def _bf_times(bf: BruteForce, geoms) -> np.ndarray:
    ents = [bf.entries(g) if g.geom_type != "Point" else _bf_point_entries(bf, g.coords[0]) for g in geoms]
    n = len(geoms)
    pairs = [(a, b) for a in range(n) for b in range(a, n)]
    vals = _bf_between(bf, ents, ents, pairs)
    t = np.full((n, n), np.inf)
    for (a, b), v in zip(pairs, vals):
        t[a, b] = t[b, a] = v
    return t


@pytest.mark.parametrize("seed", range(5))
def test_collaboration_minutes_equal_brute_force(seed):
    roads, zones, _ = _links_study(seed)
    max_access = 300.0 if seed % 2 else 800.0
    bf = BruteForce(roads, max_access_m=max_access)
    graph = gn.build_graph(roads)
    t = _bf_times(bf, list(zones.geometry))
    ids, ch, dist = zones["zone_id"].to_numpy(), zones["chain"].to_numpy(), zones["district_id"].to_numpy()
    partner = (ch[:, None] == ch[None, :]) & (dist[:, None] != dist[None, :])
    finite = np.sort(t[partner & np.isfinite(t)])
    assert len(finite) >= 3
    limit = float(finite[len(finite) // 2])          # a pair exactly at the limit counts
    s = _settings(collaboration={"max_distance_m": 1e6, "max_travel_min": limit, "top_pairs_per_chain": 3},
                  network={"max_access_m": max_access})
    res = collaboration.run(Study(crs=zones.crs, zones=zones, network=graph), s)
    pairs = res.tables["collaboration_pairs"]
    pos = {z: k for k, z in enumerate(ids)}
    assert len(pairs) == int(np.triu(partner).sum())
    for r in pairs.itertuples():
        want = t[pos[r.zone_a], pos[r.zone_b]]
        if want <= limit + TOL:
            assert r.travel_min == pytest.approx(want, abs=1e-9)
        else:
            assert np.isnan(r.travel_min)
    # slower pairs are never recommended and rank after every pair within the limit
    assert not pairs.loc[pairs["travel_min"].isna(), "recommended"].any()
    for _, g in pairs.groupby("chain"):
        ok = g["travel_min"].notna()
        if ok.any() and (~ok).any():
            assert g.loc[ok, "rank"].max() < g.loc[~ok, "rank"].min()
        assert g["recommended"].sum() == min(3, int(ok.sum()))
    zt = res.tables["collaboration_zones"]
    for k in range(len(zones)):
        within = partner[k] & (t[k] <= limit + TOL)
        row = zt.iloc[k]
        assert row["partners_within_min"] == int(within.sum())
        if within.any():
            best = t[k][within].min()
            assert row["nearest_partner_min"] == pytest.approx(best, abs=1e-9)
            tied = ids[within & (np.abs(t[k] - best) <= 1e-9)]
            assert row["fastest_partner_id"] == min(tied)
        else:
            assert np.isnan(row["nearest_partner_min"]) and pd.isna(row["fastest_partner_id"])
    chains_t = res.tables["collaboration_chains"].set_index("chain")
    for c in ("ev", "bio"):
        vals = zt.loc[zt["chain"] == c, "nearest_partner_min"]
        if vals.notna().any():
            assert chains_t.loc[c, "mean_nearest_partner_min"] == pytest.approx(vals.mean())
    assert res.summary["pairs_within_travel"] == int(pairs["travel_min"].notna().sum())


@pytest.mark.parametrize("seed", range(5))
def test_core_attachment_by_travel_time_equals_brute_force(seed):
    roads, zones, _ = _links_study(10 + seed)
    max_access = 300.0 if seed % 2 else 800.0
    bf = BruteForce(roads, max_access_m=max_access)
    graph = gn.build_graph(roads)
    t = _bf_times(bf, list(zones.geometry))
    attach_max = 2.5
    s = _settings(core_periphery={"core_share": 0.3, "attach_max_min": attach_max, "distance_decay": 1.5},
                  network={"max_access_m": max_access})
    study = Study(crs=zones.crs, zones=zones, network=graph)
    res = core_periphery.run(study, s)
    out = res.tables["core_periphery_zones"]
    ids = out["zone_id"].to_numpy()
    core = np.flatnonzero(out["role"].to_numpy() == "core")
    core = core[np.lexsort((ids[core], -out["score"].to_numpy()[core]))]       # by rank
    straight = core_periphery.run(Study(crs=zones.crs, zones=zones), s).tables["core_periphery_zones"]
    ref = attachment_minutes_reference(list(zones["chain"]), list(out["score"]), [int(c) for c in core],
                                       t[:, core].tolist(), attach_max_min=attach_max, decay=1.5)
    for z in range(len(zones)):
        row, want = out.iloc[z], ref[z]
        assert row["strategy"] == want["strategy"]
        if row["role"] == "core":
            assert row["core_travel_min"] == 0 and row["core_id"] == ids[z]
            continue
        if want["core"] is None:                                        # no road path to any core
            assert np.isnan(row["core_travel_min"])
            assert row["core_id"] == straight.iloc[z]["core_id"]         # the straight-line choice
            continue
        assert row["core_id"] == ids[want["core"]]
        assert row["core_travel_min"] == pytest.approx(want["minutes"], abs=1e-9)
        assert row["attach_prob"] == pytest.approx(want["prob"], rel=1e-9)
        assert row["core_distance_m"] == pytest.approx(zones.geometry.iloc[z].distance(zones.geometry.iloc[want["core"]]))
    links = res.tables["core_periphery_links"]
    merged = links.merge(out[["zone_id", "core_travel_min"]], on="zone_id")
    np.testing.assert_allclose(merged["travel_min"], merged["core_travel_min"], rtol=0, atol=0)


@pytest.mark.parametrize("seed", range(4))
def test_chains_network_reach_equals_brute_force(seed):
    roads, zones, firms = _links_study(20 + seed)
    bf = BruteForce(roads, max_access_m=400.0)
    graph = gn.build_graph(roads)
    feats = list(zones.geometry) + list(firms.geometry[:10])
    t = _bf_times(bf, feats)
    nz = len(zones)
    finite = np.sort(t[np.isfinite(t)])
    reach_min = float(finite[len(finite) // 2])          # a pair exactly at the reach counts
    s = _settings(chains={"reach_min": reach_min}, network={"max_access_m": 400.0})
    reach = chains_analysis.reach_from_settings(s, graph)
    assert reach.kind == "network"
    zg = zones.geometry.values.to_numpy()
    fg = firms.geometry.values.to_numpy()[:10]
    zc = pd.factorize(zones["chain"])[0]
    fc = np.where(firms["chain"].to_numpy()[:10] == zones["chain"].iloc[0], zc[0], 1 - zc[0])
    ia, ib = reach.pairs(zg, zg, zc, zc)      # a zone is within reach of itself (distance 0)
    want = {(i, j) for i in range(nz) for j in range(nz) if zc[i] == zc[j] and (i == j or t[i, j] <= reach_min + TOL)}
    assert set(zip(ia.tolist(), ib.tolist())) == want
    ia, ib = reach.pairs(zg, fg, zc, fc)
    want = {(i, j) for i in range(nz) for j in range(10) if zc[i] == fc[j] and t[i, nz + j] <= reach_min + TOL}
    assert set(zip(ia.tolist(), ib.tolist())) == want
    ia, ib = reach.pairs(fg, fg)
    want = {(i, j) for i in range(10) for j in range(10) if i == j or t[nz + i, nz + j] <= reach_min + TOL}
    assert set(zip(ia.tolist(), ib.tolist())) == want


def _line_study(gap_m: float):
    """Two zones joined by one straight road at 60 km/h (1 km per minute), nodes inside both."""
    roads = gpd.GeoDataFrame({"speed_kmh": [60.0]}, geometry=[LineString([(50, 0), (gap_m + 150, 0)])], crs=CRS)
    zones = gpd.GeoDataFrame({
        "zone_id": ["A", "B"], "name": ["a", "b"], "chain": ["ev", "ev"], "district_id": ["D1", "D2"],
        "jobs": [1000.0, 10.0], "output": [100.0, 1.0]},
        geometry=[box(0, -50, 100, 50), box(gap_m + 100, -50, gap_m + 200, 50)], crs=CRS)
    return zones, gn.build_graph(roads)


def test_a_pair_and_a_zone_exactly_at_the_limit():
    zones, graph = _line_study(5000.0)            # nodes 5,100 m apart: 5.1 minutes
    study = Study(crs=zones.crs, zones=zones, network=graph)
    for limit, inside in ((5.1, True), (5.0999, False)):
        res = collaboration.run(study, _settings(collaboration={"max_travel_min": limit}))
        pair = res.tables["collaboration_pairs"].iloc[0]
        assert bool(pair["recommended"]) is inside
        assert (pair["travel_min"] == pytest.approx(5.1, abs=1e-12)) if inside else np.isnan(pair["travel_min"])
        assert ("about 5 min by road" in pair["reason"]) is inside
        assert ("over" in pair["reason"]) is not inside
        cp = core_periphery.run(study, _settings(core_periphery={"core_share": 0.5, "attach_max_min": limit}))
        b = cp.tables["core_periphery_zones"].set_index("zone_id").loc["B"]
        assert b["core_id"] == "A" and b["core_travel_min"] == pytest.approx(5.1, abs=1e-12)
        assert b["strategy"] == ("collaborative_subordinate" if inside else "isolated")
        assert len(cp.tables["core_periphery_links"]) == int(inside)
    # a Huff time below 1 minute is floored: two cores at 0.3 and 0.9 minutes attract alike
    zones3 = gpd.GeoDataFrame({
        "zone_id": ["A", "B", "C"], "name": list("abc"), "chain": ["ev"] * 3, "district_id": ["D1", "D2", "D3"],
        "jobs": [100.0, 100.0, 1.0]},
        geometry=[box(0, -50, 100, 50), box(1000, -50, 1100, 50), box(400, -50, 500, 50)], crs=CRS)
    roads = gpd.GeoDataFrame({"speed_kmh": [60.0]}, geometry=[LineString([(50, 0), (450, 0), (1050, 0)])], crs=CRS)
    cp = core_periphery.run(Study(crs=CRS, zones=zones3, network=gn.build_graph(roads)),
                            _settings(core_periphery={"core_share": 0.5, "max_cores": 2,
                                                      "weights": {"jobs": 1}}))
    c = cp.tables["core_periphery_zones"].set_index("zone_id").loc["C"]
    assert c["attach_prob"] == pytest.approx(0.5) and c["core_id"] == "A"      # tie: the first core
    assert c["core_travel_min"] == pytest.approx(0.4, abs=1e-12)


def test_no_road_path_leaves_minutes_empty():
    """Two zones on separate pieces: no travel time, never recommended, isolated, warned."""
    zones, _ = _line_study(5000.0)
    roads = gpd.GeoDataFrame({"speed_kmh": [60.0, 60.0]},
                             geometry=[LineString([(10, 0), (90, 0)]), LineString([(5110, 0), (5190, 0)])], crs=CRS)
    study = Study(crs=zones.crs, zones=zones, network=gn.build_graph(roads))
    res = collaboration.run(study, _settings())
    pair = res.tables["collaboration_pairs"].iloc[0]
    assert np.isnan(pair["travel_min"]) and not pair["recommended"] and pair["distance_m"] == 5000.0
    assert res.summary["pairs_too_slow"] == 1 and res.summary["median_nearest_partner_min"] is None
    cp = core_periphery.run(study, _settings(core_periphery={"core_share": 0.5}))
    b = cp.tables["core_periphery_zones"].set_index("zone_id").loc["B"]
    assert b["strategy"] == "isolated" and np.isnan(b["core_travel_min"]) and b["core_id"] == "A"
    assert any("no road path to any core" in w for w in cp.warnings)
    assert cp.summary["n_without_road_path"] == 1


def test_linked_minutes_remembers_and_answers_like_a_fresh_search(monkeypatch):
    roads, zones, firms = _links_study(40)
    graph = gn.build_graph(roads)
    zg = zones.geometry.values.to_numpy()
    fg = firms.geometry.values.to_numpy()[:8]
    n = len(zg)
    pairs = np.array([(i, j) for i in range(n) for j in range(i + 1, n)])
    ez = gn.feature_entries(graph, zg)
    want = gn.travel_between_sets(graph, ez, ez, pairs, limit_min=3.0)
    got = gn.linked_minutes(graph, zg, zg, pairs, limit_min=3.0)
    np.testing.assert_allclose(got, want, rtol=0, atol=0)
    # from memory: reversed pairs, a smaller limit, a copy of the geometries (same content)
    import geo.network.links as links

    def boom(*args, **kwargs):
        raise AssertionError("searched again")

    monkeypatch.setattr(links, "travel_between_sets", boom)
    again = gn.linked_minutes(graph, np.array(list(zg), dtype=object), zg, pairs[:, ::-1], limit_min=2.0)
    np.testing.assert_allclose(again, np.where(want <= 2.0 + 1e-6, want, np.nan), rtol=0, atol=0)
    with pytest.raises(AssertionError, match="searched again"):
        gn.linked_minutes(graph, zg, zg, pairs, limit_min=4.0)          # a larger limit searches
    monkeypatch.undo()
    # two sets, asked either way round
    ef = gn.feature_entries(graph, fg)
    zf = np.array([(i, j) for i in range(n) for j in range(len(fg))])
    want2 = gn.travel_between_sets(graph, ez, ef, zf)
    np.testing.assert_allclose(gn.linked_minutes(graph, zg, fg, zf), want2, rtol=0, atol=0)
    monkeypatch.setattr(links, "travel_between_sets", boom)
    np.testing.assert_allclose(gn.linked_minutes(graph, fg, zg, zf[:, ::-1]), want2, rtol=0, atol=0)


def test_chain_reach_prefetch_answers_like_fresh_searches():
    roads, zones, firms = _links_study(50)
    zg, fg = zones.geometry.values.to_numpy(), firms.geometry.values.to_numpy()
    lead = fg[:6]
    zc = pd.factorize(zones["chain"])[0]
    codes = {c: k for k, c in enumerate(pd.unique(zones["chain"]))}
    fc = firms["chain"].map(codes).to_numpy()
    s = _settings(chains={"reach_min": 3.0})
    fresh = chains_analysis.reach_from_settings(s, gn.build_graph(roads))
    want = [fresh.pairs(zg, lead, zc, fc[:6]), fresh.pairs(lead, fg, fc[:6], fc), fresh.pairs(lead, zg, fc[:6], zc)]
    warm = chains_analysis.reach_from_settings(s, gn.build_graph(roads))
    warm.prefetch(lead, [zg, fg], fc[:6], [zc, fc])
    assert len(warm.graph._cache["links"]) == 2
    got = [warm.pairs(zg, lead, zc, fc[:6]), warm.pairs(lead, fg, fc[:6], fc), warm.pairs(lead, zg, fc[:6], zc)]
    assert len(warm.graph._cache["links"]) == 2          # answered from memory
    for (wa, wb), (ga, gb) in zip(want, got):
        assert wa.tolist() == ga.tolist() and wb.tolist() == gb.tolist()
    assert sum(len(w[0]) for w in want) > 10


# ---------------------------------------------------------------- end to end: CLI, tables, maps

@pytest.fixture(scope="module")
def links_run(small_study, tmp_path_factory):
    from tests.conftest import run_cli

    out = tmp_path_factory.mktemp("links_run") / "maps"
    proc = run_cli("run", "-c", small_study, "-o", out, "--only", "core_periphery,collaboration,chains", "-q")
    assert proc.returncode == 0, proc.stderr
    return out


def test_cli_writes_the_minutes(links_run):
    import json

    def table(name):
        return pd.read_csv(links_run / "tables" / f"{name}.csv", encoding="utf-8-sig")

    manifest = json.loads((links_run / "run.json").read_text(encoding="utf-8"))
    limit = manifest["parameters"]["collaboration"]["max_travel_min"]
    pairs = table("collaboration_pairs")
    assert pairs["travel_min"].notna().sum() > 0
    assert (pairs.loc[pairs["recommended"], "travel_min"] <= limit + 1e-6).all()
    assert pairs["reason"].str.contains("路网通行").all()
    zones = table("collaboration_zones")
    assert {"nearest_partner_min", "fastest_partner_id", "partners_within_min"} <= set(zones.columns)
    # a zone's fastest partner is never slower than the pairs it is in
    best = pd.concat([pairs[["zone_a", "travel_min"]].rename(columns={"zone_a": "zone_id"}),
                      pairs[["zone_b", "travel_min"]].rename(columns={"zone_b": "zone_id"})]).groupby("zone_id").min()
    both = zones.set_index("zone_id").join(best, how="inner").dropna(subset=["travel_min"])
    assert len(both) and (both["nearest_partner_min"] <= both["travel_min"] + 1e-9).all()
    cp = table("core_periphery_zones")
    attached = cp["strategy"] == "collaborative_subordinate"
    att_max = manifest["parameters"]["core_periphery"]["attach_max_min"]
    assert attached.any() and (cp.loc[attached, "core_travel_min"] <= att_max + 1e-6).all()
    assert (cp.loc[cp["role"] == "core", "core_travel_min"] == 0).all()
    links = table("core_periphery_links")
    assert links["travel_min"].notna().all() and len(links) == int(attached.sum())
    s = manifest["summary"]
    assert s["chains"]["reach_kind"] == "network" and s["chains"]["reach_min"] == 45
    assert s["core_periphery"]["attach_by"] == "travel_time"
    assert s["collaboration"]["pairs_within_travel"] + s["collaboration"]["pairs_too_slow"] == len(pairs)
    collab_html = (links_run / "collaboration.html").read_text(encoding="utf-8")
    assert '"travel_min"' in collab_html and "路网通行时间（分钟）" in collab_html
    assert "至极核通行时间（分钟）" in (links_run / "core_periphery.html").read_text(encoding="utf-8")
    assert "路网 45 分钟内" in (links_run / "chains.html").read_text(encoding="utf-8")
    index = (links_run / "index.html").read_text(encoding="utf-8")
    assert "分钟" in index and "路网通行时间" in index


@pytest.mark.browser
def test_popups_show_minutes_in_the_browser(browser, links_run):
    for page_name, layer, field, expect in (
            ("collaboration", "pairs_recommended", "travel_min", "路网通行时间（分钟）"),
            ("core_periphery", "zones_by_core", "core_travel_min", "至极核通行时间（分钟）")):
        with browser.open(links_run / f"{page_name}.html") as run:
            text, value = run.page.evaluate("""([id, field]) => {
                const l = window.zoneatlas.overlays[id].getLayers()[0];
                l.openPopup(l.getBounds ? l.getBounds().getCenter() : undefined);
                return [document.querySelector('.leaflet-popup-content').innerText, l.feature.properties[field]];
            }""", [layer, field])
            assert expect in text, text
            assert f"{round(float(value), 1):g} 分钟" in text.replace(",", ""), (value, text)
            assert run.console_errors == [] and run.page_errors == []


def test_attach_by_time_by_hand():
    """Huff on minutes: floor at 1 minute, unreachable cores weigh 0, extreme decay stays finite,
    same-chain preference within attach_max_min, a zone reaching no core has no core."""
    nan = np.nan
    minutes = np.array([
        [0.0, 5.0, nan],      # zone 0 = core A
        [5.0, 0.0, nan],      # zone 1 = core B
        [0.5, 0.2, nan],      # both under 1 minute: equal attraction, the first core wins
        [2.0, 4.0, nan],      # P(A) = (1/2²) / (1/2² + 1/4²) = 0.8
        [nan, nan, nan],      # no road path
        [10.0, 30.0, nan],    # own chain (B) within 40 min preferred over the more probable A
        [10.0, 50.0, nan],    # B beyond 40 min: A, the most probable
    ])
    chains = np.array(["a", "b", "x", "x", "x", "b", "b"], dtype=object)
    out = core_periphery.attach_by_time(minutes[:, :2], chains, np.array([0, 1]), np.array([1.0, 1.0]),
                                        attach_max_min=40.0, distance_decay=2.0)
    assert out["core_pos"].tolist() == [0, 1, 0, 0, -1, 1, 0]
    assert out.loc[2, "attach_prob"] == pytest.approx(0.5)
    assert out.loc[3, "attach_prob"] == pytest.approx(0.8)
    assert out.loc[5, "attach_prob"] == pytest.approx((1 / 900) / (1 / 100 + 1 / 900))
    assert out["strategy"].tolist() == ["independent_pole", "independent_pole", "collaborative_subordinate",
                                        "collaborative_subordinate", "isolated", "collaborative_subordinate",
                                        "collaborative_subordinate"]
    assert np.isnan(out.loc[4, "core_travel_min"]) and out.loc[6, "core_travel_min"] == 10.0
    steep = core_periphery.attach_by_time(minutes[:, :2], chains, np.array([0, 1]), np.array([1.0, 0.0]),
                                          attach_max_min=1.0, distance_decay=400.0)
    assert np.isfinite(steep.loc[[2, 3, 5, 6], "attach_prob"]).all()
    # a zone that reaches only a zero-strength core (another core has strength) still attaches to it
    only_b = core_periphery.attach_by_time(np.array([[0.0, nan], [nan, 0.0], [nan, 3.0]]),
                                           np.array(["a", "b", "c"], dtype=object), np.array([0, 1]),
                                           np.array([1.0, 0.0]), attach_max_min=60.0, distance_decay=2.0)
    assert only_b.loc[2, "core_pos"] == 1 and only_b.loc[2, "attach_prob"] == pytest.approx(1.0)
