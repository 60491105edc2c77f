"""Maps and atlas page as a planner meets them when preparing a briefing (issue 22).

Runs the real CLI on the small sample (zh), then opens every page in headless
Chromium at 1400×900 and 390×844 with the network cut off. Screenshots are kept in
``tests/artifacts/briefing/`` (git-ignored) for a human to look at.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from geo import styles
from tests.conftest import ROOT, run_cli

ARTIFACTS = ROOT / "tests" / "artifacts" / "briefing"
VIEWPORTS = {"desktop": (1400, 900), "phone": (390, 844)}
MAPS = ("balance", "collaboration", "core_periphery")

#: Latin words a zh page may show: proper nouns, software and CRS names, tile attribution.
ALLOWED_LATIN = re.compile(
    r"zoneatlas|(?<![A-Za-z])(?:PNG|PDF)(?![A-Za-z])|Excel|tables\.xlsx|Leaflet|OpenStreetMap|contributors|CARTO|EPSG:\d+|WGS 84|CGCS2000|GCJ-02|Huff|"
    r"\b[ZDIW]\d{2,}\b|\bN\b|\bGS\b|\bkm\b|\d+(\.\d+)?", re.IGNORECASE)


def latin_words(text: str) -> list[str]:
    """Latin words of 2+ letters left after removing the allowed ones."""
    return re.findall(r"[A-Za-z]{2,}", ALLOWED_LATIN.sub(" ", text))


@pytest.fixture(scope="module")
def briefing_run(small_study, tmp_path_factory) -> Path:
    """The small sample run through the CLI (zh, no basemap); returns the output folder."""
    out = tmp_path_factory.mktemp("briefing") / "maps"
    done = run_cli("run", "-q", "-c", small_study, "-o", out)
    assert done.returncode == 0, done.stderr
    return out


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def test_pair_type_and_chain_palettes_never_collide():
    pair = [c.upper() for c in styles.PAIR_TYPE_COLORS.values()]
    for n in (1, 8, 16, 20, 40, 60):
        chains = styles.chain_colors([f"chain {i:02d}" for i in range(n)])
        colors = [c.upper() for c in chains.values()]
        assert len(set(colors)) == n  # every chain its own colour, also beyond the base palette
        assert not set(colors) & set(pair)
        # and never nearly the same: RGB distance of every pair-type/chain combination
        closest = min(math.dist(_rgb(a), _rgb(b)) for a in pair for b in colors)
        assert closest > 90, (n, closest)
    # generation is deterministic
    assert styles.distinct_colors(30) == styles.distinct_colors(30)
    assert len(set(styles.POLE_COLORS)) >= 15 and styles.OTHER_POLE_COLOR not in styles.POLE_COLORS


def test_strength_index_and_duplicate_names_by_hand():
    import geopandas as gpd
    from shapely.geometry import box

    from geo.webmap._briefing import display_names
    from geo.webmap.collaboration import strength_class, strength_index

    idx = strength_index(pd.Series([10.0, 100.0, 1000.0, None]))
    assert idx.tolist()[:3] == [0.0, 50.0, 100.0] and math.isnan(idx.iloc[3])
    assert strength_class(pd.Series([0, 33, 34, 66, 67, 100])).tolist() == [0, 0, 1, 1, 2, 2]
    districts = gpd.GeoDataFrame({"district_id": ["D1"], "name": ["东区"]}, geometry=[box(0, 0, 100, 100)])
    zones = gpd.GeoDataFrame({"zone_id": ["Z1", "Z2", "Z3"], "district_id": ["D1"] * 3,
                              "name": ["芯片园", "芯片园（2）", "物流园"]},
                             geometry=[box(80, 80, 90, 90), box(5, 5, 15, 15), box(40, 40, 60, 60)])
    assert display_names(zones, districts, "zh").tolist() == ["芯片园（东区东北部）", "芯片园（东区西南部）", "物流园"]


def test_every_map_names_duplicate_zones_the_same_way(briefing_run, small_study):
    """Zones sharing a name are told apart by their place on every map (the tables keep
    the name as given): the popups of one map must match those of the others."""
    import pyogrio

    zones = pyogrio.read_dataframe(small_study.parent / "layers" / "sample.gpkg", layer="zones",
                                   read_geometry=False)
    numbered = [n for n in zones["name"] if n.endswith("（2）")]
    assert numbered, "the sample is expected to hold duplicate zone names"
    for page in ("balance", "collaboration", "core_periphery", "chains", "commuting"):
        html = (briefing_run / f"{page}.html").read_text(encoding="utf-8")
        assert not [n for n in numbered if f'"{n}"' in html], page


def _visible_labels(page) -> list[dict]:
    return page.evaluate("""() => [...document.querySelectorAll('.za-label')]
        .filter(e => getComputedStyle(e).display !== 'none')
        .map(e => { const r = e.getBoundingClientRect();
                    return {text: e.textContent, x0: r.left, y0: r.top, x1: r.right, y1: r.bottom}; })""")


def _overlap(a: dict, b: dict) -> bool:
    return a["x0"] < b["x1"] - 0.5 and b["x0"] < a["x1"] - 0.5 and a["y0"] < b["y1"] - 0.5 and b["y0"] < a["y1"] - 0.5


#: The overlays each page fits its opening view to (id prefixes): the study's own features.
STUDY_LAYERS = {"balance": ("workplaces",), "collaboration": ("chain_",), "core_periphery": ("zones_by_core", "poles"),
                "chains": ("chain_zones",)}


def _features_under_panels(page, prefixes: tuple[str, ...]) -> list:
    """(overlay, feature name, panel class) for each drawn feature of the overlays ``prefixes``
    whose screen box meets a control panel, the title or the footer."""
    return page.evaluate("""(prefixes) => {
        const m = zoneatlas.map, hits = [];
        const panels = [...document.querySelectorAll('.leaflet-control, .za-title')].filter(e => e.offsetWidth)
            .map(e => ({cls: e.className, r: e.getBoundingClientRect()}));
        const base = m.getContainer().getBoundingClientRect();
        for (const [id, l] of Object.entries(zoneatlas.overlays)) {
            if (!prefixes.some(p => id.startsWith(p)) || !m.hasLayer(l) || !l.eachLayer) { continue; }
            l.eachLayer(f => {
                let b;
                if (f.getBounds) {
                    const lb = f.getBounds(), p0 = m.latLngToContainerPoint(lb.getNorthWest()),
                          p1 = m.latLngToContainerPoint(lb.getSouthEast());
                    b = [p0.x, p0.y, p1.x, p1.y];
                } else if (f.getLatLng) {
                    const p = m.latLngToContainerPoint(f.getLatLng()), r = (f.getRadius ? f.getRadius() : 4);
                    b = [p.x - r, p.y - r, p.x + r, p.y + r];
                } else { return; }
                b = [b[0] + base.left, b[1] + base.top, b[2] + base.left, b[3] + base.top];
                for (const p of panels) {
                    if (b[0] < p.r.right && p.r.left < b[2] && b[1] < p.r.bottom && p.r.top < b[3]) {
                        hits.push([id, f.feature.properties.name || null, p.cls]);
                    }
                }
            });
        }
        return hits;
    }""", list(prefixes))


@pytest.mark.browser
@pytest.mark.parametrize("view", list(VIEWPORTS))
@pytest.mark.parametrize("name", MAPS)
def test_map_as_a_reader_sees_it(browser, briefing_run, name, view):
    width, height = VIEWPORTS[view]
    with browser.open(briefing_run / f"{name}.html", viewport=(width, height)) as run:
        page = run.page
        page.wait_for_timeout(100)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}_{width}x{height}.png"))
        # drawn quickly (generous bound: the test machine is shared; budget on an idle machine is 3 s)
        assert run.load_s < 10.0
        assert run.page_errors == [] and run.console_errors == [] and run.blocked == []

        # labels exist and no two overlap
        labels = _visible_labels(page)
        assert len(labels) >= 3, labels
        for i, a in enumerate(labels):
            assert 0 <= a["x0"] and a["x1"] <= width and 0 <= a["y0"] and a["y1"] <= height, a
            for b in labels[i + 1:]:
                assert not _overlap(a, b), (a, b)
        # ... and none lies under a panel
        panels = page.evaluate("""() => [...document.querySelectorAll('.leaflet-control, .za-title')]
            .filter(e => e.offsetWidth).map(e => { const r = e.getBoundingClientRect();
                return {x0: r.left, y0: r.top, x1: r.right, y1: r.bottom}; })""")
        assert not [(a, p) for a in labels for p in panels if _overlap(a, p)]

        # one language: no English word on the zh page outside proper nouns and ids
        text = page.evaluate("document.title + '\\n' + document.body.innerText")
        assert latin_words(text) == [], latin_words(text)
        footer = page.locator(".leaflet-control-attribution").inner_text()
        assert "数据：" in footer and "制图：zoneatlas" in footer and "坐标系" in footer
        assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", footer)
        assert page.locator(".za-north").count() == 1
        assert "Leaflet" not in footer

        # the study fills most of the initial view (drawn overlays vs the window)
        fill = page.evaluate("""() => {
            const m = zoneatlas.map; let b = null;
            for (const [id, l] of Object.entries(zoneatlas.overlays)) {
                if (id === 'basemap' || id === 'districts' || !m.hasLayer(l) || !l.getBounds) { continue; }
                const lb = l.getBounds(); if (!lb.isValid()) { continue; }
                b = b ? b.extend(lb) : L.latLngBounds(lb.getSouthWest(), lb.getNorthEast());
            }
            const p0 = m.latLngToContainerPoint(b.getNorthWest()), p1 = m.latLngToContainerPoint(b.getSouthEast());
            const s = m.getSize();
            return [(p1.x - p0.x) / s.x, (p1.y - p0.y) / s.y, m.getZoom()];
        }""")
        assert max(fill[0], fill[1]) >= 0.6, fill
        assert page.evaluate("zoneatlas.map.options.zoomSnap") == 0.25

        # labels are placed again after zooming in: still none overlapping, none left behind
        page.evaluate("() => { zoneatlas.map.setZoom(zoneatlas.map.getZoom() + 1, {animate: false}); }")
        page.wait_for_timeout(150)
        zoomed = _visible_labels(page)
        assert zoomed and not [(a, b) for i, a in enumerate(zoomed) for b in zoomed[i + 1:] if _overlap(a, b)]
        assert all(0 <= a["x0"] and a["x1"] <= width for a in zoomed)
        page.evaluate("() => { zoneatlas.map.setZoom(zoneatlas.map.getZoom() - 1, {animate: false}); }")
        page.wait_for_timeout(150)

        if view == "desktop":  # no panel covers the study's own features in the opening view
            assert _features_under_panels(page, STUDY_LAYERS[name]) == []
        if view == "desktop":  # the legend fits without a scroll bar
            sh, ch = page.evaluate("(() => { const l = document.querySelector('.za-legend');"
                                   " return [l.scrollHeight, l.clientHeight]; })()")
            assert sh <= ch + 1, (sh, ch)
        else:  # the title does not cover the layer control on a phone
            t = page.locator(".za-title").bounding_box()
            lc = page.locator(".za-layers").bounding_box()
            assert t["y"] + t["height"] <= lc["y"], (t, lc)


@pytest.mark.browser
def test_core_periphery_poles_labels_and_links_on_click(browser, briefing_run):
    zones = pd.read_csv(briefing_run / "tables" / "core_periphery_zones.csv")
    links = pd.read_csv(briefing_run / "tables" / "core_periphery_links.csv")
    cores = zones[zones["role"] == "core"].sort_values("score", ascending=False)
    assert 1 <= len(cores) <= 15
    with browser.open(briefing_run / "core_periphery.html") as run:
        page = run.page
        counts = page.evaluate("Object.fromEntries(Object.entries(zoneatlas.overlays)"
                               ".map(([k, l]) => [k, l.getLayers ? l.getLayers().length : 0]))")
        assert counts["poles"] == len(cores)
        assert counts["territories"] == len(cores)
        # links are off at start: a pole's links appear when it is clicked
        assert not page.evaluate("zoneatlas.map.hasLayer(zoneatlas.overlays.links)")
        colors = page.evaluate("zoneatlas.overlays.territories.getLayers().map(l => l.options.color)")
        assert len(set(colors)) == len(cores)  # one colour per pole (its territory)
        labels = {x["text"] for x in _visible_labels(page)}
        top = cores.iloc[0]
        assert any(str(top["name"]) in t for t in labels), labels  # the strongest pole is labelled
        for _, core in cores.iterrows():
            page.evaluate("""(id) => { zoneatlas.overlays.poles.getLayers()
                .find(l => l.feature.properties.zone_id === id).fire('click'); }""", core["zone_id"])
            shown = page.evaluate("zoneatlas.selection.getLayers().length")
            assert shown == int((links["core_id"] == core["zone_id"]).sum())
        assert run.page_errors == []


@pytest.mark.browser
def test_collaboration_chain_filter_and_candidates_off(browser, briefing_run):
    pairs = pd.read_csv(briefing_run / "tables" / "collaboration_pairs.csv")
    rec = pairs[pairs["recommended"].astype(str).str.lower().isin(["true", "1"])]
    with browser.open(briefing_run / "collaboration.html") as run:
        page = run.page
        on = page.evaluate("Object.keys(zoneatlas.overlays).filter(k => zoneatlas.map.hasLayer(zoneatlas.overlays[k]))")
        assert "pairs_other" not in on
        options = page.locator(".za-chainfilter option")
        assert options.count() >= 3
        texts = [options.nth(i).inner_text() for i in range(options.count())]
        index = next(i for i, t in enumerate(texts) if i and (rec["chain"] == t).any())
        chain = texts[index]
        page.select_option(".za-chainfilter select", index=index)
        page.wait_for_timeout(50)
        drawn = page.evaluate("zoneatlas.overlays.pairs_recommended.getLayers().map(l => l.feature.properties.chain)")
        assert set(drawn) == {chain} and len(drawn) == int((rec["chain"] == chain).sum())
        # pair popup: a title naming both zones
        page.evaluate("zoneatlas.overlays.pairs_recommended.getLayers()[0].openPopup()")
        title = page.locator(".leaflet-popup-content .za-popup-title").inner_text()
        assert " — " in title
        th = page.locator(".leaflet-popup-content th").first.bounding_box()
        assert th["height"] < 24  # labels on one line, not two characters per line
        page.select_option(".za-chainfilter select", index=0)
        page.wait_for_timeout(50)
        assert page.evaluate("zoneatlas.overlays.pairs_recommended.getLayers().length") == len(rec)
        assert run.page_errors == []


@pytest.mark.browser
def test_approval_number_shown_while_the_basemap_is_on(browser, tmp_path):
    from geo.webmap import write_maps
    from tests.test_webmap import MANIFEST, make_fixture, make_settings

    study, results = make_fixture()
    settings = make_settings(basemap="osm", approval_number="GS(2024)0650号")
    paths = write_maps(tmp_path, study, {"balance": results["balance"]}, settings, MANIFEST)
    with browser.open(paths["balance"], viewport=(1400, 900)) as run:
        page = run.page
        footer = page.locator(".leaflet-control-attribution")
        assert "审图号：GS(2024)0650号" in footer.inner_text()
        assert "OpenStreetMap" in footer.inner_text()
        page.uncheck('input[data-layer="basemap"]')
        page.wait_for_timeout(50)
        assert "审图号" not in footer.inner_text()
    paths = write_maps(tmp_path / "none", study, {"balance": results["balance"]}, make_settings(), MANIFEST)
    assert "审图号" not in paths["balance"].read_text(encoding="utf-8")


@pytest.mark.browser
def test_atlas_page_is_a_briefing(browser, briefing_run, small_study):
    zones = pd.read_csv(briefing_run / "tables" / "core_periphery_zones.csv")
    scores = sorted(zones.loc[zones["role"] == "core", "score"], reverse=True)
    primacy = scores[0] / scores[1]
    wp = pd.read_csv(briefing_run / "tables" / "balance_workplaces.csv")
    area = wp["area_class"].value_counts()
    commuting = pd.read_csv(briefing_run / "tables" / "commuting_summary.csv").iloc[0]
    config = yaml.safe_load(small_study.read_text(encoding="utf-8"))
    minute = config["balance"]["minute"]
    for width, height in VIEWPORTS.values():
        with browser.open(briefing_run / "index.html", wait_ready=False, viewport=(width, height)) as run:
            page = run.page
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"index_{width}x{height}.png"), full_page=True)
            findings = page.locator("#findings li")
            assert 3 <= findings.count() <= 5
            text = page.evaluate("document.body.innerText")
            assert f"首位度 {primacy:.2f}" in text
            # the balance finding counts the classes the map colours by (area_class)
            assert (f"{len(wp)} 个就业地周边（道路网 {minute} 分钟范围内的全部岗位与居住就业人口相比）："
                    f"{area.get('jobs_rich', 0)} 个就业富余、{area.get('balanced', 0)} 个平衡、"
                    f"{area.get('housing_rich', 0)} 个居住富余。") in text
            methods = page.locator("#methods").inner_text()
            assert f"地域职住比 = 道路网 {minute} 分钟通勤范围内的全部就业岗位" in methods, methods
            # observed commuting counts in full, as the tables give them
            assert f"{int(commuting['commuters']):,}" in text and f"{int(commuting['flows']):,}" in text
            assert "主极核得分占比" in text  # the summary's other primacy has its own name
            assert "30 公里内有同链跨区伙伴的功能区数" in text and "全域内无同链跨区伙伴的功能区数" in text
            assert page.locator("#methods").count() == 1 and page.locator(".card svg.thumb").count() == 3
            assert page.evaluate("document.querySelector('#provenance details').open") is False
            assert latin_words(text) == [], latin_words(text)
            assert "（北京时间）" in text and "T0" not in text
            # names in the pole table stay on one line
            heights = page.evaluate("[...document.querySelectorAll('table.cores td:first-child')]"
                                    ".map(e => e.getBoundingClientRect().height)")
            assert heights and max(heights) < 30, heights
            assert run.page_errors == []
