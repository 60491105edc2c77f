"""``zoneatlas compare``: deltas and statuses checked against plain pandas, refusals, the page.

The plan scenario is the small sample plus one new zone and one housing development
(:func:`geo.sample_plan.write_plan`), run through the real CLI once per module.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo._errors import ConfigError, InputError, ZoneAtlasError
from geo.comparison import compare, compare_table
from tests.conftest import run_cli, tree_digest


def _csv(path: Path) -> pd.DataFrame:
    """A table as a user would read it (plain pandas defaults, ids as text)."""
    return pd.read_csv(path, encoding="utf-8-sig", dtype={c: str for c in (
        "zone_id", "workplace_id", "housing_id", "district_id", "zone_a", "zone_b", "core_id")})


@pytest.fixture(scope="module")
def plan_compare(small_study, tmp_path_factory):
    """``zoneatlas compare config.yaml config-plan.yaml -o DIR`` on a copy of the small study."""
    from geo.sample_plan import write_plan

    study = tmp_path_factory.mktemp("plan_study") / "study"
    shutil.copytree(small_study.parent, study)
    plan_config = write_plan(study / small_study.name)
    before = tree_digest(study)
    out = tmp_path_factory.mktemp("plan_compare") / "cmp"
    done = run_cli("compare", study / small_study.name, plan_config, "-o", out)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert tree_digest(study) == before, "the study's inputs must not change"
    return out


@pytest.fixture
def base_run(plan_compare) -> Path:
    return plan_compare / "base"


@pytest.fixture
def plan_run(plan_compare) -> Path:
    return plan_compare / "plan"


# ---------------------------------------------------------------------------
# a run with itself


def test_run_with_itself_every_delta_zero_every_status_same(small_run, tmp_path):
    run_dir = small_run[1].output_dir
    twin = tmp_path / "twin"
    shutil.copytree(run_dir, twin)
    before = (tree_digest(run_dir), tree_digest(twin))
    out = tmp_path / "cmp"
    result = compare(run_dir, twin, out)
    assert (tree_digest(run_dir), tree_digest(twin)) == before
    written = sorted(p.name for p in (out / "tables").glob("compare_*.csv"))
    assert written == sorted(f"compare_{p.stem}.csv" for p in (run_dir / "tables").glob("*.csv"))
    for path in (out / "tables").glob("compare_*.csv"):
        frame = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False, dtype=str)
        assert len(frame) == len(pd.read_csv(run_dir / "tables" / path.name.removeprefix("compare_"),
                                             encoding="utf-8-sig")), path.name
        assert set(frame["status"]) <= {"same"}, path.name
        for col in frame.columns:
            if col.endswith("_delta"):
                base_col = col.removesuffix("_delta") + "_base"
                # 0 wherever the value exists, empty where it is missing in both runs
                assert all((d == "0") if b != "" else (d == "") for d, b in zip(frame[col], frame[base_col])), \
                    (path.name, col)
            if col.endswith("_changed"):
                assert set(frame[col]) <= {"False"}, (path.name, col)
    summary = pd.read_csv(out / "compare_summary.csv", encoding="utf-8-sig")
    assert list(summary.columns[:5]) == ["indicator", "base", "plan", "delta", "pct_delta"]
    assert (summary["delta"].fillna(0) == 0).all()
    assert "balance.overall_jhr" in set(summary["indicator"]) and "counts.zones" in set(summary["indicator"])
    manifest = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    assert manifest["comparable"] is True and manifest["parameter_differences"] == []
    assert all(t["same"] == t["rows"] for t in manifest["tables"].values())
    assert set(result.tables) == {p.stem for p in (run_dir / "tables").glob("*.csv")}


# ---------------------------------------------------------------------------
# a plan against today, checked with plain pandas


def test_plan_deltas_equal_plain_pandas_difference(plan_compare, base_run, plan_run):
    checks = {"balance_workplaces": ["jhr", "jobs", "workers", "workers_shared", "jhr_shared"],
              "core_periphery_zones": ["score", "core_distance_m", "attach_prob"],
              "zones": ["jobs", "output"], "housing": ["dwellings"],
              "collaboration_zones": ["nearest_partner_m", "partners_within"]}
    keys = {"balance_workplaces": "workplace_id", "core_periphery_zones": "zone_id", "zones": "zone_id",
            "housing": "housing_id", "collaboration_zones": "zone_id"}
    for table, columns in checks.items():
        b = _csv(base_run / "tables" / f"{table}.csv").set_index(keys[table])
        p = _csv(plan_run / "tables" / f"{table}.csv").set_index(keys[table])
        got = _csv(plan_compare / "tables" / f"compare_{table}.csv").set_index(keys[table])
        common = b.index.intersection(p.index)
        assert len(common) > 0
        for col in columns:
            expected = (p.loc[common, col] - b.loc[common, col]).astype(float)
            actual = got.loc[common, f"{col}_delta"].astype(float)
            np.testing.assert_allclose(actual.to_numpy(), expected.to_numpy(), rtol=1e-8, atol=1e-9,
                                       err_msg=f"{table}.{col}")
            np.testing.assert_allclose(got.loc[common, f"{col}_base"].astype(float), b.loc[common, col],
                                       rtol=1e-9, err_msg=f"{table}.{col}_base")


def test_plan_added_and_removed_are_exactly_the_ids_of_one_run(plan_compare, base_run, plan_run):
    for table, key in (("zones", "zone_id"), ("balance_workplaces", "workplace_id"), ("housing", "housing_id"),
                       ("core_periphery_zones", "zone_id")):
        b = set(_csv(base_run / "tables" / f"{table}.csv")[key])
        p = set(_csv(plan_run / "tables" / f"{table}.csv")[key])
        got = _csv(plan_compare / "tables" / f"compare_{table}.csv")
        assert set(got.loc[got["status"] == "added", key]) == p - b, table
        assert set(got.loc[got["status"] == "removed", key]) == b - p, table
        assert set(got[key]) == b | p, table
    zones = _csv(plan_compare / "tables" / "compare_zones.csv")
    assert (zones["status"] == "added").sum() == 1, "the plan adds exactly one zone"
    housing = _csv(plan_compare / "tables" / "compare_housing.csv")
    added = housing[housing["status"] == "added"]
    assert len(added) > 0 and added["dwellings_delta"].isna().all() and added["dwellings_base"].isna().all()
    assert (housing.loc[housing["status"] != "added", "status"] == "same").all(), "existing housing unchanged"


def test_plan_pairs_match_whatever_their_direction(plan_compare, base_run, plan_run):
    def pairs(path: Path) -> set[frozenset]:
        f = _csv(path)
        return {frozenset(x) for x in zip(f["zone_a"], f["zone_b"])}

    b, p = pairs(base_run / "tables" / "collaboration_pairs.csv"), pairs(plan_run / "tables" / "collaboration_pairs.csv")
    got = _csv(plan_compare / "tables" / "compare_collaboration_pairs.csv")
    status = {frozenset(x): s for x, s in zip(zip(got["zone_a"], got["zone_b"]), got["status"])}
    assert set(status) == b | p
    assert {k for k, s in status.items() if s == "added"} == p - b
    assert {k for k, s in status.items() if s == "removed"} == b - p
    assert (got["zone_a"] < got["zone_b"]).all()


def test_reversed_comparison_swaps_added_and_removed(base_run, plan_run, tmp_path):
    forward = compare(base_run, plan_run)
    backward = compare(plan_run, base_run)
    for table in ("zones", "balance_workplaces", "collaboration_pairs"):
        f, r = forward.tables[table], backward.tables[table]
        key = forward.keys[table]
        fa = set(map(tuple, f.loc[f["status"] == "added", key].to_numpy()))
        rr = set(map(tuple, r.loc[r["status"] == "removed", key].to_numpy()))
        assert fa == rr and fa, table
    fw = forward.tables["balance_workplaces"].set_index("workplace_id")["jhr_delta"]
    bw = backward.tables["balance_workplaces"].set_index("workplace_id")["jhr_delta"]
    common = fw.index.intersection(bw.index)
    np.testing.assert_allclose(fw[common].to_numpy(), -bw[common].to_numpy())
    assert forward.output_dir is None


def test_summary_deltas_are_run_json_differences(plan_compare, base_run, plan_run):
    mb = json.loads((base_run / "run.json").read_text(encoding="utf-8"))
    mp = json.loads((plan_run / "run.json").read_text(encoding="utf-8"))
    summary = pd.read_csv(plan_compare / "compare_summary.csv", encoding="utf-8-sig").set_index("indicator")
    for analysis, key in (("balance", "jobs"), ("balance", "resident_workers"), ("balance", "overall_jhr"),
                          ("core_periphery", "n_zones"), ("collaboration", "pairs")):
        b, p = mb["summary"][analysis][key], mp["summary"][analysis][key]
        row = summary.loc[f"{analysis}.{key}"]
        assert row["base"] == pytest.approx(b) and row["plan"] == pytest.approx(p)
        assert row["delta"] == pytest.approx(p - b)
        assert row["pct_delta"] == pytest.approx(100 * (p - b) / abs(b))
    assert summary.loc["counts.zones", "delta"] == 1
    assert summary.loc["balance.jobs", "delta"] > 0, "the new zone brings jobs"
    # settings the summaries echo are not indicators (the settings are compared on their own)
    from geo.settings import Settings

    echoed = set()
    for analysis in ("balance", "core_periphery", "collaboration", "chains", "commuting"):
        section = getattr(Settings.model_fields.get(analysis), "annotation", None)
        keys = set(getattr(section, "model_fields", {}))
        echoed |= {f"{analysis}.{k}" for k in keys}
    assert not echoed & set(summary.index), sorted(echoed & set(summary.index))


# ---------------------------------------------------------------------------
# pure function


def test_compare_table_by_hand():
    base = pd.DataFrame({"zone_a": ["Z2", "Z1", "Z4"], "zone_b": ["Z1", "Z3", "Z5"], "name_a": ["b", "a", "d"],
                         "name_b": ["a", "c", "e"], "strength": ["10", "5", "1"], "type": ["peer", "peer", "peer"]})
    plan = pd.DataFrame({"zone_a": ["Z1", "Z3", "Z6"], "zone_b": ["Z2", "Z1", "Z1"], "name_a": ["a", "c", "f"],
                         "name_b": ["b", "a", "a"], "strength": ["12", "5", "2"], "type": ["peer", "main", "peer"]})
    out = compare_table(base, plan, ["zone_a", "zone_b"], unordered=True)
    rows = {(a, b): r for a, b, r in zip(out["zone_a"], out["zone_b"], out.to_dict("records"))}
    assert set(rows) == {("Z1", "Z2"), ("Z1", "Z3"), ("Z4", "Z5"), ("Z1", "Z6")}
    assert rows[("Z1", "Z2")]["status"] == "changed" and rows[("Z1", "Z2")]["strength_delta"] == 2.0
    assert rows[("Z1", "Z2")]["name_a_base"] == "a" and rows[("Z1", "Z2")]["name_b_base"] == "b"
    assert rows[("Z1", "Z2")]["name_a_changed"] is False or not rows[("Z1", "Z2")]["name_a_changed"]
    assert rows[("Z1", "Z3")]["status"] == "changed" and rows[("Z1", "Z3")]["strength_delta"] == 0.0
    assert bool(rows[("Z1", "Z3")]["type_changed"]) is True
    assert rows[("Z4", "Z5")]["status"] == "removed" and np.isnan(rows[("Z4", "Z5")]["strength_delta"])
    assert rows[("Z1", "Z6")]["status"] == "added" and rows[("Z1", "Z6")]["strength_plan"] == 2.0
    assert list(out["status"]) == ["changed", "changed", "removed", "added"]  # base order, then added


def test_compare_table_missing_values_and_one_row_tables():
    base = pd.DataFrame({"id": ["a", "b", "c"], "jhr": ["1.5", np.nan, np.nan], "cls": ["x", np.nan, "y"]})
    plan = pd.DataFrame({"id": ["a", "b", "c"], "jhr": ["1.5", np.nan, "2"], "cls": ["x", np.nan, np.nan]})
    out = compare_table(base, plan, ["id"]).set_index("id")
    assert list(out["status"]) == ["same", "same", "changed"]
    assert out.loc["a", "jhr_delta"] == 0 and np.isnan(out.loc["b", "jhr_delta"]) and np.isnan(out.loc["c", "jhr_delta"])
    one = compare_table(pd.DataFrame({"n": ["3"]}), pd.DataFrame({"n": ["5"]}), [])
    assert list(one["row"]) == ["1"] and one.loc[0, "n_delta"] == 2


# ---------------------------------------------------------------------------
# refusals: one error line per problem, neither run touched


def _edited_copy(run_dir: Path, dest: Path, edit) -> Path:
    shutil.copytree(run_dir, dest)
    manifest = json.loads((dest / "run.json").read_text(encoding="utf-8"))
    edit(manifest)
    (dest / "run.json").write_text(json.dumps(manifest), encoding="utf-8")
    return dest


def _refused(tmp_path, *args) -> list[str]:
    done = run_cli("compare", *args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines and all(line.startswith("error: ") for line in lines), done.stderr
    return lines


def test_a_run_of_the_previous_version_without_a_resolved_reach_is_comparable():
    """run.json of earlier versions left balance.reach null; the reach used is the top-level one."""
    from geo._compare_tables import config_differences

    old = {"reach": "network", "parameters": {"balance": {"reach": None, "radius_m": 5000}}}
    new = {"reach": "network", "parameters": {"balance": {"reach": "network", "radius_m": 5000}}}
    assert config_differences(old, new) == ([], [])
    straight = {"reach": "euclidean", "parameters": {"balance": {"reach": None, "radius_m": 5000}}}
    analysis, _ = config_differences(straight, new)
    assert [d["key"] for d in analysis] == ["balance.reach"]


def test_refuses_different_parameters_and_crs_unless_allowed(small_run, tmp_path):
    run_dir = small_run[1].output_dir

    def edit(m):
        m["parameters"]["balance"]["radius_m"] = 3000.0
        m["parameters"]["core_periphery"]["core_share"] = 0.3
        m["working_crs"] = "EPSG:32648"
        m["parameters"]["study"]["name"] = "another name"  # not an analysis parameter

    other = _edited_copy(run_dir, tmp_path / "other", edit)
    before = (tree_digest(run_dir), tree_digest(other))
    out = tmp_path / "cmp"
    lines = _refused(tmp_path, run_dir, other, "-o", out)
    assert len(lines) == 3, lines
    for key in ("balance.radius_m", "core_periphery.core_share", "crs.working"):
        assert sum(key in line for line in lines) == 1, (key, lines)
    assert not any("study.name" in line for line in lines)
    assert not out.exists()
    with pytest.raises(ConfigError) as err:
        compare(run_dir, other)
    assert len(err.value.problems) == 3

    done = run_cli("compare", run_dir, other, "-o", out, "--allow-parameter-changes")
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    assert manifest["comparable"] is False and manifest["allow_parameter_changes"] is True
    assert {d["key"] for d in manifest["parameter_differences"]} == {"balance.radius_m", "core_periphery.core_share",
                                                                       "crs.working"}
    assert "study.name" in {d["key"] for d in manifest["config_differences"]}
    page = (out / "compare.html").read_text(encoding="utf-8")
    assert 'id="parameter-differences"' in page and "balance.radius_m" in page
    assert (tree_digest(run_dir), tree_digest(other)) == before


def test_refuses_bad_inputs_without_touching_the_runs(small_run, tmp_path):
    run_dir = small_run[1].output_dir
    twin = tmp_path / "twin"
    shutil.copytree(run_dir, twin)
    before = (tree_digest(run_dir), tree_digest(twin))
    not_a_run = tmp_path / "empty"
    not_a_run.mkdir()
    old = _edited_copy(run_dir, tmp_path / "old", lambda m: m.update(zoneatlas_version="0.0.1"))

    line, = _refused(tmp_path, run_dir, not_a_run, "-o", tmp_path / "o1")
    assert "no run.json" in line and "PLAN" in line and str(not_a_run) in line
    line, = _refused(tmp_path, tmp_path / "missing", twin, "-o", tmp_path / "o2")
    assert "BASE" in line and "missing" in line
    line, = _refused(tmp_path, run_dir, old, "-o", tmp_path / "o3")
    assert "table version" in line and "0.0.1" in line
    line, = _refused(tmp_path, run_dir, run_dir, "-o", tmp_path / "o4")
    assert "same path" in line
    line, = _refused(tmp_path, run_dir, twin, "-o", twin)
    assert "PLAN" in line and "output folder" in line
    line, = _refused(tmp_path, run_dir, twin, "-o", twin / "cmp")
    assert "inside" in line and "PLAN" in line
    line, = _refused(tmp_path, twin, run_dir, "-o", tmp_path)
    assert "holds the BASE run" in line
    for bad in ("o1", "o2", "o3", "o4"):
        assert not (tmp_path / bad).exists()
    assert not (twin / "cmp").exists() and not (twin / "compare.html").exists()
    assert (tree_digest(run_dir), tree_digest(twin)) == before
    with pytest.raises(InputError):
        compare(run_dir, not_a_run)


def test_a_config_that_fails_is_named(small_study_copy, tmp_path):
    """Both configs name the same layer files: the error says which of them failed."""
    import yaml

    data = yaml.safe_load(small_study_copy.read_text(encoding="utf-8"))
    data["layers"]["housing"]["fields"]["dwellings"] = "nope"
    bad = small_study_copy.with_name("plan-bad.yaml")
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    done = run_cli("compare", small_study_copy, bad, "-o", tmp_path / "cmp", "-q")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines and all(line.startswith(f"error: PLAN {bad}: layers.housing") for line in lines), lines
    assert "nope" in lines[0]
    # a problem that names the config itself (relative to the current folder) is not named twice
    data["layers"]["housing"]["fields"]["dwellings"] = "dwellings"
    data["map"]["basemap"] = "tianditu"
    tdt = small_study_copy.with_name("plan-tdt.yaml")
    tdt.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    done = run_cli("compare", small_study_copy, tdt, "-o", tmp_path / "cmp2", "-q",
                   cwd=small_study_copy.parent, env={"TIANDITU_KEY": ""})
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: PLAN plan-tdt.yaml: map.basemap is tianditu") and line.count("plan-tdt") == 1, line
    # found before either config runs: a BASE whose layers would fail to load is not loaded
    done = run_cli("compare", bad, tdt, "-o", tmp_path / "cmp3", "-q", env={"TIANDITU_KEY": ""})
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"error: PLAN {tdt}: map.basemap is tianditu"), line


def test_failed_compare_leaves_previous_output_intact(small_run, tmp_path, monkeypatch):
    import geo.webmap.compare as page

    run_dir = small_run[1].output_dir
    twin = tmp_path / "twin"
    shutil.copytree(run_dir, twin)
    out = tmp_path / "cmp"
    compare(run_dir, twin, out)
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    before = tree_digest(out)

    def boom(*args, **kwargs):
        raise ZoneAtlasError("simulated failure while writing the page")

    monkeypatch.setattr(page, "write_compare_page", boom)
    with pytest.raises(ZoneAtlasError):
        compare(run_dir, twin, out)
    assert tree_digest(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".cmp.tmp")]


def test_study_name_is_escaped_on_the_page(small_run, tmp_path):
    run_dir = small_run[1].output_dir
    evil = "</script><img src=x onerror=alert(1)>&"
    other = _edited_copy(run_dir, tmp_path / "other", lambda m: m["study"].update(name=evil))
    compare(other, run_dir, tmp_path / "cmp")
    page = (tmp_path / "cmp" / "compare.html").read_text(encoding="utf-8")
    assert "<img src=x" not in page and "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&amp;" in page


# ---------------------------------------------------------------------------
# the page in a real browser, offline


@pytest.mark.browser
def test_compare_page_in_headless_chromium(plan_compare, base_run, browser):
    from tests._browser import overlay_counts

    with browser.open(plan_compare / "compare.html") as run:
        page = run.page
        assert page.evaluate("typeof L === 'object' && typeof L.map === 'function'")
        assert run.console_errors == [] and run.page_errors == [] and run.blocked == []
        counts = overlay_counts(page)
        for side in ("base", "plan"):
            assert counts[f"{side}:strategy"] > 0 and counts[f"{side}:pairs"] > 0
            assert page.locator(f"#map-{side} svg path").count() > 0, f"{side} map drew nothing"
        assert counts["plan:strategy"] == counts["base:strategy"] + 1, "the plan's new zone is drawn"
        # district boundaries: the package's lines holding each shared edge once, not the
        # polygons' outlines (drawn twice where districts meet, dashes out of step look solid)
        import pyogrio

        lines = pyogrio.read_info(base_run / "qgis" / "zoneatlas.gpkg", layer="district_boundaries")["features"]
        for side in ("base", "plan"):
            kinds = page.evaluate(f"""() => window.zoneatlas.overlays['{side}:districts'].toGeoJSON()
                                         .features.map(f => f.geometry.type)""")
            assert len(kinds) == lines > 0 and set(kinds) <= {"LineString", "MultiLineString"}, kinds
            # the layer control counts the districts, not their boundary lines
            n_districts = pyogrio.read_info(base_run / "qgis" / "zoneatlas.gpkg", layer="districts")["features"]
            labels = page.locator(f"#map-{side} .leaflet-control-layers-overlays label").all_inner_texts()
            assert any(t.strip().endswith(f"({n_districts})") and "行政区" in t for t in labels), labels
        assert counts["delta:jhr"] == counts["plan:jhr"]
        assert page.locator("#map-delta svg path").count() > 0
        # synchronised: panning the BASE map moves the PLAN map and the change map
        page.evaluate("() => window.zoneatlas.maps.base.panBy([120, 80], {animate: false})")
        centres = page.evaluate("""() => ['base', 'plan', 'delta'].map(k => {
            const c = window.zoneatlas.maps[k].getCenter(); return [c.lat, c.lng, window.zoneatlas.maps[k].getZoom()]; })""")
        assert centres[0][:2] == pytest.approx(centres[1][:2], abs=1e-9)
        assert centres[0][:2] == pytest.approx(centres[2][:2], abs=1e-9)
        # a layer switched on in BASE is switched on in PLAN
        assert not page.evaluate("() => window.zoneatlas.maps.plan.hasLayer(window.zoneatlas.overlays['plan:jhr'])")
        page.locator("#map-base .leaflet-control-layers-overlays input").nth(2).check()
        assert page.evaluate("() => window.zoneatlas.maps.plan.hasLayer(window.zoneatlas.overlays['plan:jhr'])")
        # one change map at a time, each with its legend
        radios = page.locator("#map-delta .leaflet-control-layers-base input")
        assert radios.count() == 3
        radios.nth(1).check()
        assert page.evaluate("""() => window.zoneatlas.maps.delta.hasLayer(window.zoneatlas.overlays['delta:pairs'])
                                   && !window.zoneatlas.maps.delta.hasLayer(window.zoneatlas.overlays['delta:jhr'])""")
        legend = page.locator("#map-delta .za-legend-section:visible").all_inner_texts()
        assert any("新增" in text for text in legend)
        rows = page.locator("table.summary tr").count()
        assert rows > 20
        assert run.console_errors == [] and run.page_errors == []


def test_compare_table_row_order_and_duplicates_do_not_change_the_answer():
    rng = np.random.default_rng(7)
    ids = [f"H{i:04d}" for i in range(300)]
    base = pd.DataFrame({"housing_id": ids, "dwellings": rng.integers(0, 50, 300).astype(float)})
    plan = pd.concat([base.iloc[10:], pd.DataFrame({"housing_id": ["N1", "N2"], "dwellings": [5.0, 6.0]})])
    plan.loc[plan["housing_id"] == "H0100", "dwellings"] += 3
    appended = compare_table(base, plan.reset_index(drop=True), ["housing_id"])
    shuffled = compare_table(base, plan.sample(frac=1, random_state=1).reset_index(drop=True), ["housing_id"])
    for out in (appended, shuffled):
        status = dict(zip(out["housing_id"], out["status"]))
        assert {k for k, v in status.items() if v == "removed"} == set(ids[:10])
        assert {k for k, v in status.items() if v == "added"} == {"N1", "N2"}
        assert {k for k, v in status.items() if v == "changed"} == {"H0100"}
        assert out.loc[out["housing_id"] == "H0100", "dwellings_delta"].item() == 3
    assert list(appended["housing_id"][:300]) == ids == list(shuffled["housing_id"][:300]), "base order first"
    # duplicated keys (not written by zoneatlas) are matched in order of occurrence
    dup_b = pd.DataFrame({"chain": ["a", "a", "b"], "n": [1.0, 2.0, 3.0]})
    dup_p = pd.DataFrame({"chain": ["a", "b", "a"], "n": [1.0, 3.0, 5.0]})
    out = compare_table(dup_b, dup_p, ["chain"])
    assert list(out["status"]) == ["same", "changed", "same"] and list(out["n_delta"]) == [0.0, 3.0, 0.0]


def test_unknown_table_key_from_its_columns():
    from geo.comparison import table_key

    b = pd.DataFrame({"label": ["x", "x"], "firm_id": ["F1", "F2"], "v": [1, 2]})
    assert table_key("firms_new_analysis", b, b) == ["firm_id"]
    assert table_key("zones", b.rename(columns={"firm_id": "zone_id"}), b.rename(columns={"firm_id": "zone_id"})) == ["zone_id"]
    single = pd.DataFrame({"n_cores": [3], "gini": [0.5]})
    assert table_key("something_summary", single, single) == ["n_cores"]  # first column, unique in both


@pytest.mark.browser
def test_compare_page_without_geopackages_shows_the_tables(small_run, tmp_path, browser):
    run_dir = small_run[1].output_dir
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        shutil.copytree(run_dir, folder, ignore=shutil.ignore_patterns("qgis"))
    compare(a, b, tmp_path / "cmp")
    with browser.open(tmp_path / "cmp" / "compare.html") as run:
        page = run.page
        assert run.console_errors == [] and run.page_errors == [] and run.blocked == []
        assert page.evaluate("Object.keys(window.zoneatlas.maps).length") == 0
        assert page.locator("#map-base").count() == 0
        assert "qgis/zoneatlas.gpkg" in page.locator("#side-by-side").inner_text()
        assert page.locator("table.summary tr").count() > 20


def test_bundled_plan_scenario_is_comparable_with_the_sample():
    """config-plan.yaml: the sample's parameters; plan.gpkg: the sample plus one zone and new housing."""
    import pyogrio

    from geo.comparison import config_differences
    from geo.settings import load_settings
    from tests.conftest import ROOT

    today, plan = load_settings(ROOT / "config.yaml"), load_settings(ROOT / "config-plan.yaml")
    analysis, every = config_differences({"parameters": today.as_config()}, {"parameters": plan.as_config()})
    assert analysis == []
    assert {d["key"] for d in every} == {"study.name", "layers.zones.path", "layers.housing.path", "output.dir"}
    assert plan.output.dir.name == "maps_plan"
    for layer, key, added in (("zones", "id", 1), ("housing", "id", None)):
        base = pyogrio.read_dataframe(ROOT / "layers" / "sample.gpkg", layer=layer, read_geometry=False)
        new = pyogrio.read_dataframe(ROOT / "layers" / "plan" / "plan.gpkg", layer=layer, read_geometry=False)
        assert set(base[key]) <= set(new[key]), f"the plan keeps every {layer} feature"
        extra = len(set(new[key]) - set(base[key]))
        assert extra == added if added is not None else extra > 0
        kept = new[new[key].isin(base[key])].set_index(key).sort_index()
        pd.testing.assert_frame_equal(kept, base.set_index(key).sort_index(), check_dtype=False)


def test_rerun_keeps_user_files_and_drops_stale_outputs(small_run, tmp_path):
    run_dir = small_run[1].output_dir
    twin = tmp_path / "twin"
    shutil.copytree(run_dir, twin)
    out = tmp_path / "cmp"
    compare(run_dir, twin, out)
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "tables" / "compare_old_table.csv").write_text("stale", encoding="utf-8")
    (out / "base").mkdir()
    (out / "base" / "run.json").write_text("{}", encoding="utf-8")  # a run of an earlier config input
    compare(run_dir, twin, out)
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert not (out / "tables" / "compare_old_table.csv").exists()
    assert not (out / "base").exists()
    listed = json.loads((out / "compare.json").read_text(encoding="utf-8"))["outputs"]
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.name != "notes.txt") \
        == sorted(listed)


def test_refuses_an_output_folder_that_is_another_run(small_run, tmp_path):
    run_dir = small_run[1].output_dir
    twin, third = tmp_path / "twin", tmp_path / "third"
    shutil.copytree(run_dir, twin)
    shutil.copytree(run_dir, third)
    before = tree_digest(third)
    line, = _refused(tmp_path, run_dir, twin, "-o", third)
    assert "holds a zoneatlas run" in line
    assert tree_digest(third) == before


@pytest.mark.parametrize(("frame", "fast"), [
    (pd.DataFrame({"housing_id": ["H1", "H2", "H3"], "status": pd.Series(["same", "added", "removed"], dtype=object),
                   "d_base": [3.0, np.nan, -7.0], "d_delta": [0.0, np.nan, np.nan], "p": [np.nan] * 3}), True),
    (pd.DataFrame({"id": ["a", None, "c"], "name": ["x, y", "z", "w"], "n": [1.0, 2.0, 3.0]}), False),  # quotes
    (pd.DataFrame({"id": ["a", "b", "c"], "v": [0.5, 1.0, 2.25], "f": [True, False, True]}), False),
    (pd.DataFrame({"id": ["a", "b"], "v": [-0.0, 1.0]}), False),
    (pd.DataFrame({"id": ["a", "b"], "v": [1e12, 2.0]}), False),
])
def test_fast_table_writer_writes_the_same_bytes(frame, fast, tmp_path, monkeypatch):
    from geo import comparison
    from geo._io import write_csv

    frame = frame.astype({c: object for c in frame.columns if frame[c].dtype != float and c != "f"})
    assert (comparison._plain_columns(frame) is not None) == fast
    monkeypatch.setattr(comparison, "FAST_CSV_ROWS", 0)
    write_csv(frame, tmp_path / "reference.csv")
    comparison.write_table(frame, tmp_path / "fast.csv")
    assert (tmp_path / "fast.csv").read_bytes() == (tmp_path / "reference.csv").read_bytes()
