"""Industry chains: hand-checked tables, brute-force equality on random studies, bad firms."""

from __future__ import annotations

import math
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from geo._errors import InputError
from geo._types import Study
from geo.analysis import chains as ch
from geo.layers import load_study
from tests._layer_fixtures import CRS, X0, Y0, settings_for, write, write_study

ROLES4 = ("rd", "manufacturing", "terminal", "supporting")


def cfg(reach_m: float = 5000.0, language: str = "en"):
    return SimpleNamespace(chains=SimpleNamespace(reach_m=reach_m, reach_min=45.0),
                           core_periphery=SimpleNamespace(weights={"jobs": 1, "output": 1}),
                           study=SimpleNamespace(language=language))


def sq(x: float, y: float, side: float = 1000.0):
    return shapely.box(x, y, x + side, y + side)


# ---------------------------------------------------------------------------
# a study small enough to check by hand
#
# chain A: Z1 rd (0,0) strongest, Z2 manufacturing (3 km east), Z3 mixed (20 km east),
#          Z4 no role (10 km east); firm F1 leader (A, rd) in Z1, F2 sme (A, terminal) at 30 km
# chain B: Z5 terminal (0, 10 km north) only; no firms
# reach 5 km; zones 1 km squares, boundary distances below.

def hand_study() -> Study:
    zones = gpd.GeoDataFrame({
        "zone_id": ["Z1", "Z2", "Z3", "Z4", "Z5"],
        "name": ["a1", "a2", "a3", "a4", "b1"],
        "chain": ["A", "A", "A", "A", "B"],
        "role": ["rd", "manufacturing", "mixed", None, "terminal"],
        "jobs": [1000.0, 500.0, 100.0, 100.0, 300.0],
        "output": [10.0, 5.0, 1.0, 2.0, 3.0],
        "district_id": ["D1", "D1", "D2", "D2", "D1"],
    }, geometry=[sq(0, 0), sq(3000, 0), sq(20000, 0), sq(10000, 0), sq(0, 10000)], crs=CRS)
    firms = gpd.GeoDataFrame({
        "firm_id": ["F1", "F2"], "name": ["lead", "small"], "chain": ["A", "A"],
        "tier": ["leader", "sme"], "jobs": [800.0, 20.0], "role": ["rd", "terminal"],
        "zone_id": ["Z1", None], "district_id": ["D1", "D2"],
    }, geometry=[shapely.Point(500, 500), shapely.Point(30500, 500)], crs=CRS)
    innov = gpd.GeoDataFrame({"innov_id": ["I1"], "name": ["inno"], "chains": ["A;B"]},
                             geometry=[sq(0, 12000)], crs=CRS)
    return Study(crs=zones.crs, zones=zones, firms=firms, innovation_districts=innov)


def test_hand_study_tables():
    res = ch.run(hand_study(), cfg(5000))
    t = res.tables
    roles = t["chain_roles"].set_index(["chain", "role"])
    assert roles.loc[("A", "rd"), "zones"] == 1 and roles.loc[("A", "rd"), "firms"] == 1
    assert roles.loc[("A", "terminal"), "zones"] == 0 and bool(roles.loc[("A", "terminal"), "present"])
    assert not roles.loc[("A", "supporting"), "present"]
    comp = t["chain_completeness"].set_index("chain")
    assert comp.loc["A", "role_coverage"] == 0.75
    # Z1 (rd): others present {manufacturing, terminal}; Z2 (3 km -> 2 km gap) in reach -> 1/2
    # Z2 (mfg): {rd, terminal}: Z1 in reach -> 1/2; Z3, Z4 (no specific role): {rd, mfg, terminal},
    # Z4 is 10 km east (gap 6 km to Z2's edge at 4 km) -> 0; Z3 -> 0
    assert comp.loc["A", "spatial_completeness"] == pytest.approx((0.5 + 0.5 + 0 + 0) / 4)
    # leader F1 at (500, 500): Z1 (0), Z2 (2.5 km) within 5 km; Z4 (9.5 km), Z3 out -> 2/4
    assert comp.loc["A", "leader_coverage"] == pytest.approx(0.5)
    assert comp.loc["A", "completeness"] == pytest.approx((0.75 * 0.25 * 0.5) ** (1 / 3))
    assert comp.loc["B", "role_coverage"] == 0.25
    assert np.isnan(comp.loc["B", "spatial_completeness"])      # no other present role
    assert comp.loc["B", "leader_coverage"] == 0.0
    assert comp.loc["B", "completeness"] == 0.0
    assert comp.loc["A", "top_zone_id"] == "Z1"
    gaps = t["chain_gaps"].set_index(["chain", "role"])
    assert set(gaps.index) == {("A", "supporting"), ("A", "terminal"), ("B", "rd"),
                               ("B", "manufacturing"), ("B", "supporting")}
    assert gaps.loc[("A", "supporting"), "kind"] == "missing"
    assert gaps.loc[("A", "terminal"), "kind"] == "distant"      # F2 is 29.5 km from Z1
    assert gaps.loc[("A", "terminal"), "nearest_m"] == pytest.approx(29500)
    assert gaps.loc[("A", "terminal"), "candidates"] == "Z4;Z3"  # 9 km, 19 km
    assert gaps.loc[("A", "terminal"), "candidates_m"] == "9000;19000"
    assert "Z4" in gaps.loc[("A", "terminal"), "reason"] or "a4" in gaps.loc[("A", "terminal"), "reason"]
    # B has no mixed zone; a missing rd role may go to an innovation district serving B
    assert gaps.loc[("B", "rd"), "candidates"] == "I1"
    assert pd.isna(gaps.loc[("B", "manufacturing"), "candidates"])
    lf = t["leader_firms"].set_index("firm_id")
    # F2 is 30 km from F1: outside 5 km
    assert lf.loc["F1", "firms_within"] == 0 and lf.loc["F1", "zones_within"] == 2
    lq = t["chain_lq"].set_index(["district_id", "chain"])
    # D1: A 1500, B 300 (1800); D2: A 200; all 2000; A share 1700/2000
    assert lq.loc[("D1", "A"), "lq"] == pytest.approx((1500 / 1800) / (1700 / 2000))
    assert lq.loc[("D2", "B"), "lq"] == 0
    spec = t["chain_specialisation"].set_index("district_id")
    assert spec.loc["D2", "krugman"] == pytest.approx(abs(1 - 0.85) + abs(0 - 0.15))
    assert spec.loc["D1", "top_chain"] == "B"


def test_reach_changes_distant_to_present():
    res = ch.run(hand_study(), cfg(30000))
    gaps = res.tables["chain_gaps"]
    assert not ((gaps["chain"] == "A") & (gaps["role"] == "terminal")).any()
    assert res.tables["leader_firms"].set_index("firm_id").loc["F1", "firms_within"] == 1


def test_chinese_reason():
    res = ch.run(hand_study(), cfg(5000, "zh"))
    gaps = res.tables["chain_gaps"].set_index(["chain", "role"])
    assert "缺少" in gaps.loc[("A", "supporting"), "reason"]
    assert "超过5公里" in gaps.loc[("A", "terminal"), "reason"]


# ---------------------------------------------------------------------------
# brute force on random studies (own loops, no product helpers)

def _bf_score(zones: pd.DataFrame) -> list[float]:
    cols = []
    for name in ("jobs", "output"):
        v = [float(x) for x in zones[name]]
        lo, hi = min(v), max(v)
        if hi > lo:
            cols.append([(x - lo) / (hi - lo) for x in v])
    if not cols:
        return [1.0] * len(zones)
    return [sum(c[i] for c in cols) / len(cols) for i in range(len(zones))]


def brute_force(study: Study, reach_m: float) -> dict:
    zones, firms, inn = study.zones, study.firms, study.innovation_districts
    Z = list(zones.itertuples(index=False))
    F = list(firms.itertuples(index=False)) if firms is not None else []
    chains = sorted({z.chain for z in Z})
    present = {(c, r) for c in chains for r in ROLES4
               if any(z.chain == c and z.role == r for z in Z) or any(f.chain == c and f.role == r for f in F)}
    out = {"present": present}
    comp = {}
    score = _bf_score(zones)
    for c in chains:
        cz = [i for i, z in enumerate(Z) if z.chain == c]
        pr = [r for r in ROLES4 if (c, r) in present]
        shares = []
        for i in cz:
            others = [r for r in pr if r != Z[i].role]
            if not others:
                continue
            hit = sum(1 for r in others if any(Z[j].role == r and j != i and
                                               Z[i].geometry.distance(Z[j].geometry) <= reach_m for j in cz))
            shares.append(hit / len(others))
        spatial = sum(shares) / len(shares) if shares else None
        leaders = [f for f in F if f.chain == c and f.tier == "leader"]
        lcov = (sum(1 for i in cz if any(Z[i].geometry.distance(f.geometry) <= reach_m for f in leaders)) / len(cz)
                if firms is not None else None)
        parts = [len(pr) / 4] + [p for p in (spatial, lcov) if p is not None]
        completeness = 0.0 if min(parts) == 0 else math.prod(parts) ** (1 / len(parts))
        top = sorted(cz, key=lambda i: (-score[i], Z[i].zone_id))[0]
        gaps = {}
        for r in ROLES4:
            if (c, r) not in present:
                kind = "missing"
            else:
                near = [Z[j].geometry for j in cz if Z[j].role == r] + \
                       [f.geometry for f in F if f.chain == c and f.role == r]
                if any(Z[top].geometry.distance(g) <= reach_m for g in near):
                    continue
                kind = "distant"
            pool = [(Z[j].geometry.distance(Z[top].geometry), 0, Z[j].zone_id) for j in cz
                    if Z[j].role not in ROLES4]
            if kind == "missing" and r == "rd" and inn is not None:
                for k in inn.itertuples(index=False):
                    if c in [s.strip() for s in k.chains.split(";")]:
                        pool.append((k.geometry.distance(Z[top].geometry), 1, k.innov_id))
            gaps[r] = (kind, ";".join(p[2] for p in sorted(pool)[:3]))
        comp[c] = dict(role_coverage=len(pr) / 4, spatial=spatial, leader=lcov, completeness=completeness,
                       top=Z[top].zone_id, gaps=gaps)
    out["comp"] = comp
    lead = {}
    for f in F:
        if f.tier != "leader":
            continue
        within = [g for g in F if g.firm_id != f.firm_id and g.chain == f.chain
                  and f.geometry.distance(g.geometry) <= reach_m]
        lead[f.firm_id] = dict(
            firms=len(within), jobs=sum(0.0 if pd.isna(g.jobs) else g.jobs for g in within),
            # unknown (missing, not 0) when the leader's own district is
            other=None if pd.isna(f.district_id) else sum(1 for g in within if pd.notna(g.district_id)
                                                          and g.district_id != f.district_id),
            zones=sum(1 for z in Z if z.chain == f.chain and f.geometry.distance(z.geometry) <= reach_m))
    out["leaders"] = lead
    lq = {}
    dists = sorted({z.district_id for z in Z})
    total = sum(z.jobs for z in Z)
    for d in dists:
        dj = sum(z.jobs for z in Z if z.district_id == d)
        for c in chains:
            cj = sum(z.jobs for z in Z if z.chain == c)
            j = sum(z.jobs for z in Z if z.chain == c and z.district_id == d)
            lq[(d, c)] = (j / dj) / (cj / total) if dj > 0 and cj > 0 else None
    out["lq"] = lq
    return out


@st.composite
def random_study(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    nz = draw(st.integers(1, 12))
    nf = draw(st.integers(0, 25))
    chains = ["A", "B", "C"][: draw(st.integers(1, 3))]
    roles = [*ROLES4, "mixed", None]
    xy = rng.uniform(0, 20000, (nz, 2))
    side = rng.uniform(200, 2000, nz)
    zones = gpd.GeoDataFrame({
        "zone_id": [f"Z{i:02d}" for i in range(nz)], "name": [f"z{i}" for i in range(nz)],
        "chain": rng.choice(chains, nz), "role": [roles[k] for k in rng.integers(0, len(roles), nz)],
        "jobs": rng.integers(0, 5, nz) * 100.0, "output": rng.integers(0, 4, nz) * 1.0,
        "district_id": rng.choice(["D1", "D2", "D3"], nz),
    }, geometry=[sq(x, y, s) for (x, y), s in zip(xy, side)], crs=CRS)
    firms = None
    if nf or draw(st.booleans()):
        fxy = rng.uniform(0, 20000, (nf, 2))
        firms = gpd.GeoDataFrame({
            "firm_id": [f"F{i:02d}" for i in range(nf)], "name": [f"f{i}" for i in range(nf)],
            "chain": rng.choice(chains, nf), "tier": rng.choice(["leader", "key", "sme"], nf),
            "jobs": np.where(rng.random(nf) < 0.2, np.nan, rng.integers(1, 100, nf) * 1.0),
            "role": [roles[k] for k in rng.integers(0, len(roles), nf)],
            "zone_id": [None] * nf,
            "district_id": [[None, "D1", "D2", "D3"][k] for k in rng.integers(0, 4, nf)],
        }, geometry=shapely.points(fxy), crs=CRS)
    ni = int(rng.integers(0, 3))
    inn = gpd.GeoDataFrame({"innov_id": [f"I{i}" for i in range(ni)], "name": [f"i{i}" for i in range(ni)],
                            "chains": [";".join(rng.choice(chains, 2)) for _ in range(ni)]},
                           geometry=[sq(*rng.uniform(0, 20000, 2)) for _ in range(ni)], crs=CRS)
    reach = draw(st.sampled_from([1500.0, 4000.0, 9000.0]))
    return Study(crs=zones.crs, zones=zones, firms=firms, innovation_districts=inn if ni else None), reach


def _same(a, b) -> bool:
    if a is None or (isinstance(a, float) and np.isnan(a)):
        return b is None or (isinstance(b, float) and np.isnan(b))
    return b is not None and not (isinstance(b, float) and np.isnan(b)) and math.isclose(a, b, abs_tol=1e-9)


@hsettings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(random_study())
def test_tables_equal_brute_force(case):
    study, reach = case
    res = ch.run(study, cfg(reach))
    bf = brute_force(study, reach)
    t = res.tables
    roles = t["chain_roles"]
    assert {(c, r) for c, r, p in zip(roles["chain"], roles["role"], roles["present"]) if p} == bf["present"]
    comp = t["chain_completeness"].set_index("chain")
    assert set(comp.index) == set(bf["comp"])
    gaps = t["chain_gaps"]
    for c, want in bf["comp"].items():
        row = comp.loc[c]
        assert _same(row["role_coverage"], want["role_coverage"])
        assert _same(row["spatial_completeness"], want["spatial"]), c
        assert _same(row["leader_coverage"], want["leader"]), c
        assert _same(row["completeness"], want["completeness"]), c
        assert row["top_zone_id"] == want["top"]
        g = gaps[gaps["chain"] == c]
        got = {r: (k, cand if isinstance(cand, str) else "")
               for r, k, cand in zip(g["role"], g["kind"], g["candidates"])}
        assert got == want["gaps"], c
    if study.firms is not None:
        lf = t["leader_firms"].set_index("firm_id")
        assert set(lf.index) == set(bf["leaders"])
        for fid, want in bf["leaders"].items():
            assert lf.loc[fid, "firms_within"] == want["firms"]
            assert lf.loc[fid, "jobs_within"] == pytest.approx(want["jobs"])
            got = lf.loc[fid, "firms_other_district"]
            assert (pd.isna(got) and want["other"] is None) or got == want["other"], (fid, got, want["other"])
            assert lf.loc[fid, "zones_within"] == want["zones"]
    else:
        assert "leader_firms" not in t
    lq = t["chain_lq"].set_index(["district_id", "chain"])["lq"]
    assert len(lq) == len(bf["lq"])
    for key, want in bf["lq"].items():
        assert _same(lq.loc[key], want), key


def test_reach_pairs_points_include_equal_and_coincident():
    r = ch.Reach(reach_m=1000.0)
    a = shapely.points([[0, 0], [-5, 0]])
    b = shapely.points([[0, 0], [1000, 0], [1000.001, 0]])
    ia, ib = r.pairs(a, b)
    assert sorted(zip(ia.tolist(), ib.tolist())) == [(0, 0), (0, 1), (1, 0)]


# ---------------------------------------------------------------------------
# loading the firms layer: derived fields and bad input

def firms_gdf(**over) -> gpd.GeoDataFrame:
    data = {"id": ["F1", "F2", "F3"], "name": ["龙头", "配套", "小企业"],
            "chain": ["电子信息", "电子信息", "生物医药"], "tier": ["链主", "骨干", "sme"],
            "jobs": [1200, 300, 15], "role": ["rd", "制造", None]}
    data.update(over)
    pts = [shapely.Point(X0 + 2000, Y0 + 1500), shapely.Point(X0 + 9000, Y0 + 5500),
           shapely.Point(X0 + 15000, Y0 + 8000)]
    return gpd.GeoDataFrame(data, geometry=pts[: len(data["id"])], crs=CRS)


def _config(tmp_path, firms):
    config = write_study(tmp_path)
    write(firms, tmp_path / "firms.gpkg")
    config["layers"]["firms"] = {"path": "firms.gpkg", "fields": {"firm_id": "id"}}
    return config


def test_firms_loaded_with_zone_and_district(tmp_path):
    study = load_study(settings_for(tmp_path, _config(tmp_path, firms_gdf())))
    f = study.firms.set_index("firm_id")
    assert f["tier"].tolist() == ["leader", "key", "sme"]
    assert f["role"].tolist()[:2] == ["rd", "manufacturing"]
    assert f.loc["F1", "zone_id"] == "Z1" and f.loc["F2", "zone_id"] == "Z2"
    assert pd.isna(f.loc["F3", "zone_id"])
    assert f["district_id"].tolist() == ["D1", "D1", "D2"]


def test_bad_firms_one_line_each(tmp_path):
    bad = firms_gdf(id=["F1", "F1", "F3"], tier=["boss", "骨干", "中小"], role=["rd", "chef", None])
    with pytest.raises(InputError) as exc:
        load_study(settings_for(tmp_path, _config(tmp_path, bad)))
    problems = exc.value.problems
    tier = [p for p in problems if "'tier'" in p]
    role = [p for p in problems if "'role'" in p]
    dup = [p for p in problems if "duplicate ids" in p]
    assert len(tier) == 1 and "'boss'" in tier[0] and "leader, key, sme" in tier[0] and "layers.firms" in tier[0]
    assert len(role) == 1 and "'chef'" in role[0] and "rd, manufacturing" in role[0]
    assert len(dup) == 1 and "'F1'" in dup[0]
    assert all("\n" not in p for p in problems)


def test_firms_outside_districts_and_unknown_chain_warn(tmp_path):
    firms = firms_gdf(chain=["电子信息", "新能源", "生物医药"])
    firms.geometry = [shapely.Point(X0 + 2000, Y0 + 1500), shapely.Point(X0 + 9000, Y0 + 5500),
                      shapely.Point(X0 + 30000, Y0 + 5000)]
    study = load_study(settings_for(tmp_path, _config(tmp_path, firms)))
    out = [w for w in study.warnings if "outside every district" in w]
    stray = [w for w in study.warnings if "chains that no zone has" in w]
    assert len(out) == 1 and "F3" in out[0]
    assert len(stray) == 1 and "'新能源'" in stray[0] and "F2" in stray[0]
    assert len(study.firms) == 3      # nothing lost
    assert pd.isna(study.firms.set_index("firm_id").loc["F3", "district_id"])


def test_unknown_settings_key_and_reach(tmp_path):
    from geo._errors import ConfigError
    from geo.settings import settings_from_dict

    config = _config(tmp_path, firms_gdf())
    s = settings_from_dict({**config, "chains": {"reach_m": 12000}}, base_dir=tmp_path)
    assert s.chains.reach_m == 12000 and s.chains.reach_min == 45
    with pytest.raises(ConfigError):
        settings_from_dict({**config, "chains": {"reach_km": 12}}, base_dir=tmp_path)



# ---------------------------------------------------------------------------
# the whole analysis on the small sample: CLI outputs and chains.html in Chromium

@pytest.fixture(scope="module")
def chains_run(small_study, tmp_path_factory):
    from tests.conftest import run_cli

    out = tmp_path_factory.mktemp("chains_run") / "maps"
    proc = run_cli("run", "-c", small_study, "-o", out, "--only", "chains", "-q")
    assert proc.returncode == 0, proc.stderr
    return out


def test_cli_chains_outputs(chains_run):
    import json

    import pyogrio

    manifest = json.loads((chains_run / "run.json").read_text(encoding="utf-8"))
    assert manifest["analyses"] == ["chains"]
    s = manifest["summary"]["chains"]
    assert s["chains"] == 4 and s["gaps_missing"] >= 1 and s["firms"] > 100
    gaps = pd.read_csv(chains_run / "tables" / "chain_gaps.csv", encoding="utf-8-sig")
    assert (gaps["kind"] == "missing").any()
    comp = pd.read_csv(chains_run / "tables" / "chain_completeness.csv", encoding="utf-8-sig")
    assert sorted(comp["rank"]) == list(range(1, len(comp) + 1))
    layers = {name for name, _ in pyogrio.list_layers(chains_run / "qgis" / "zoneatlas.gpkg")}
    assert {"firms", "leader_firms", "chain_gap_candidates", "chain_completeness", "chain_lq"} <= layers
    lf = pyogrio.read_dataframe(chains_run / "qgis" / "zoneatlas.gpkg", layer="leader_firms")
    assert lf.geom_type.eq("Point").all() and len(lf) == s["leader_firms_n"]
    html_text = (chains_run / "index.html").read_text(encoding="utf-8")
    assert "chains.html" in html_text and "产业链完整度排名" in html_text


@pytest.mark.browser
def test_chains_map_in_browser(browser, chains_run):
    from tests._browser import overlay_counts
    from tests.test_briefing_maps import STUDY_LAYERS, _features_under_panels

    with browser.open(chains_run / "chains.html", viewport=(1400, 900)) as run:
        page = run.page
        # the view is fitted again once the chain picker and the LQ matrix are added: neither covers a zone
        assert _features_under_panels(page, STUDY_LAYERS["chains"]) == []
        select = page.locator("#za-chain-select")
        assert select.count() == 1
        options = page.evaluate("Array.from(document.querySelectorAll('#za-chain-select option')).map(o => o.value)")
        assert options[0] == "" and len(options) == 5
        lf = pd.read_csv(chains_run / "tables" / "leader_firms.csv", encoding="utf-8-sig")
        zones = pd.read_csv(chains_run / "tables" / "zones.csv", encoding="utf-8-sig")
        for chain in options[1:]:
            select.select_option(chain)
            counts = overlay_counts(page)
            assert counts["chain_zones"] == int((zones["chain"] == chain).sum())
            assert counts["leaders"] == int((lf["chain"] == chain).sum())
            assert counts["leader_reach"] == counts["leaders"]
            assert chain == page.evaluate("document.documentElement.getAttribute('data-za-chain')")
        select.select_option("")
        assert overlay_counts(page)["chain_zones"] == len(zones)
        cells = page.locator(".za-lq-table td")
        lq = pd.read_csv(chains_run / "tables" / "chain_lq.csv", encoding="utf-8-sig")
        assert cells.count() == len(lq)
        assert page.locator(".za-legend").inner_text().strip() != ""
        assert run.console_errors == [] and run.page_errors == [] and run.blocked == []


def test_sample_firms_keep_a_missing_role():
    from geo.sample import generate_study

    s = generate_study("small", seed=0)
    f, z = s.firms, s.zones
    assert 250 <= len(f) <= 300 and f["id"].is_unique
    assert set(f["tier"]) == {"链主", "骨干", "中小"}
    specific = set(ROLES4)
    missing_somewhere = False
    for chain, zc in z.groupby("chain"):
        zone_roles = set(zc["role"]) & specific
        firm_roles = set(f.loc[f["chain"] == chain, "role"]) & specific
        assert firm_roles <= zone_roles, chain          # firms never fill a missing role
        missing_somewhere |= zone_roles != specific
    assert missing_somewhere


def test_cli_validate_bad_firms_exits_2_one_line_each(tmp_path):
    import yaml

    from tests.conftest import run_cli

    bad = firms_gdf(id=["F1", "F1", "F3"], tier=["boss", "骨干", "中小"])
    config = _config(tmp_path, bad)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    proc = run_cli("validate", "-c", tmp_path / "config.yaml")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr and all(line.startswith("error:") for line in lines)
    assert sum("'boss'" in line and "leader, key, sme" in line for line in lines) == 1
    assert sum("duplicate ids" in line and "layers.firms" in line for line in lines) == 1
