"""The QGIS package shows the same maps as the web pages (issue 19), checked in real QGIS.

One complete run of the small sample study (``small_run``: web pages and package from the
same inputs) is opened with PyQGIS (tests/_pyqgis_check.py). For every web page:

* its map theme shows exactly the package layers of the page's initial view;
* every feature the page draws at start has, in QGIS, the fill colour and opacity (and,
  for outlines and lines, the stroke colour) the page gives it — read from the written
  HTML, independent of geo/styles.py;
* its print layout has a map following the theme, title, legend of the theme's layers,
  a kilometre scale bar, a north arrow and a source line, and exports to PDF.

The project measures true lengths and areas: checked in EPSG:4490 (degrees) against
geodesic computations by pyproj.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import CRS

from geo.i18n import label
from tests.test_map_geometry import drawn_layers
from geo.qgis import write_qgis_package
from tests.test_qgis import MM_PER_WEB_PX, require_pyqgis, run_pyqgis_check

pytestmark = pytest.mark.qgis

PAGES = {"balance": "balance", "collaboration": "collaboration", "core_periphery": "core_periphery",
         "chains": "chains_analysis", "commuting": "commuting"}

#: web overlay id (prefix for chain_<i>) → (package layer, key field matching a web property,
#: or None: features in the same order; a filter column of the package layer).
WEB_TO_PACKAGE = {
    # the district boundaries, each edge once, dashed: the web draws them simplified for display,
    # QGIS as written (test_district_boundaries_are_drawn_once_dashed_as_on_the_web), and the
    # districts for their names (WEB_ALSO_SHOWN)
    "districts": ("district_boundaries", None, None),
    "workplaces": ("balance_workplaces", "workplace_id", None),
    "housing_density": ("balance_housing_density", None, None),
    "innovation_districts": ("innovation_districts", "innov_id", None),
    "chain_": ("collaboration_zones", "zone_id", None),
    "pairs_recommended": ("collaboration_pairs", None, "recommended"),
    "zones_by_core": ("core_periphery_zones", "zone_id", None),
    "territories": ("core_periphery_territories", None, None),
    "poles": ("core_periphery_poles", "zone_id", None),
    "isolated": ("core_periphery_zones", "zone_id", None),
    "chain_zones": ("chain_zones", "zone_id", None),
    "leaders": ("leader_firms", "firm_id", None),
    "gap_candidates": ("chain_gap_candidates", "candidate_id", None),
    "gaps": ("chain_gap_points", "chain", None),
    # the web merges roads of one class end to end (fewer, longer lines): the same layer,
    # not the same features; colours by class are compared in tests/test_qgis.py
    "roads": ("roads", None, None),
    "leader_reach": ("chain_leader_reach", None, None),
    "commuting_workplaces": ("commuting_workplaces", "workplace_id", None),
    "commuting_flows": ("commuting_flows", "rank", None),
}
#: web overlays shown at start that the package does not carry (none at present)
NOT_IN_PACKAGE: set[tuple[str, str]] = set()
#: web overlay → the other package layers a theme shows for it
WEB_ALSO_SHOWN = {"districts": {"districts"}}


def _package_key(web_id: str) -> str | None:
    if web_id in WEB_TO_PACKAGE:
        return web_id
    if web_id.startswith("chain_") and web_id[6:].isdigit():
        return "chain_"
    return None


@pytest.fixture(scope="module")
def web_and_qgis(small_run, tmp_path_factory):
    python = require_pyqgis()
    settings, report = small_run
    maps = Path(report.output_dir)
    tmp = tmp_path_factory.mktemp("qgis_web")
    qgis = run_pyqgis_check(python, tmp, maps / "qgis" / "zoneatlas.qgz", maps / "qgis" / "zoneatlas.gpkg", tmp)
    pages = {page: _as_opened(page, (maps / f"{page}.html").read_text(encoding="utf-8")) for page in PAGES}
    return settings, maps, qgis, pages


#: page -> (the chain it opens on, the web layers its script filters by chain), read from the page
OPENING_CHAIN: dict[str, tuple[str, list[str]]] = {}


def _as_opened(page: str, html: str) -> dict:
    """:func:`drawn_layers` as the page opens: chains.html's script shows only the features of
    its opening chain (``cfg.initial``) in the layers it filters (``cfg.layers``)."""
    import json

    layers = drawn_layers(html)
    picker = html.find('"za-box za-chain-picker"')
    at = html.rfind("cfg = ", 0, picker)   # the picker script's configuration, before its controls
    if picker < 0 or at < 0:
        return layers
    cfg, _ = json.JSONDecoder().raw_decode(html, at + len("cfg = "))
    assert cfg["initial"] and cfg["layers"], cfg.keys()
    OPENING_CHAIN[page] = (cfg["initial"], list(cfg["layers"]))
    for web_id in cfg["layers"]:
        if web_id in layers:
            spec, data = layers[web_id]
            kept = [f for f in data["features"] if f["properties"].get("chain") == cfg["initial"]]
            assert 0 < len(kept) < len(data["features"]) or web_id != "chain_zones", web_id
            layers[web_id] = (spec, {**data, "features": kept})
    return layers


def _theme_name(page: str, language: str) -> str:
    return label(PAGES[page], language)


def _web_colours(spec: dict, feature: dict, kind: str) -> dict:
    """Leaflet's colours of one feature: fill (colour, opacity) unless unfilled; stroke colour."""
    style = spec["styles"][feature["properties"].get("_s", 0)]
    if spec.get("marker") == "star":      # the runtime's star icon: opaque fill, black outline
        return {"fill": (style["fillColor"].lower(), 1.0), "stroke": "#000000"}
    out = {}
    if kind != "line" and style.get("fill", True) and "fillColor" in style:
        out["fill"] = (style["fillColor"].lower(), float(style.get("fillOpacity", 0.2)))   # Leaflet's default
    if style.get("stroke", True) and "color" in style:
        out["stroke"] = style["color"].lower()
    return out


def _kind(data: dict) -> str:
    types = {f["geometry"]["type"] for f in data["features"]}
    if types <= {"Point", "MultiPoint"}:
        return "point"
    if types <= {"LineString", "MultiLineString"}:
        return "line"
    return "polygon"


def test_each_page_has_a_theme_showing_the_package_layers_of_its_initial_view(web_and_qgis):
    settings, _, qgis, pages = web_and_qgis
    lang = settings.study.language
    assert lang == "zh"
    for page, layers in pages.items():
        theme = qgis["themes"][_theme_name(page, lang)]
        shown = {web_id for web_id, (spec, data) in layers.items() if spec["show"] and data["features"]}
        unmapped = {w for w in shown if _package_key(w) is None and (page, w) not in NOT_IN_PACKAGE}
        assert not unmapped, f"{page}.html shows {unmapped} at start: map them to a package layer"
        want = {WEB_TO_PACKAGE[_package_key(w)][0] for w in shown if _package_key(w)}
        want |= {name for w in shown for name in WEB_ALSO_SHOWN.get(w, ())}
        # an empty layer (no gap candidate in this run) is in the theme; the page leaves it out
        empty = {l["layername"] for l in qgis["project"]["layers"] if l.get("features") == 0}
        assert set(theme["visible"]) - empty == want, page


def _web_layers_in_qgis(web_and_qgis):
    """For each page and web layer its page draws at start that the package carries: (page,
    web id, package layer, the web spec and features, the package fid of each feature)."""
    settings, maps, qgis, pages = web_and_qgis
    gpkg = maps / "qgis" / "zoneatlas.gpkg"
    for page, layers in pages.items():
        for web_id, (spec, data) in layers.items():
            key = _package_key(web_id)
            if not spec["show"] or key in (None, "roads", "districts") or not data["features"]:
                continue
            layer, id_field, flag = WEB_TO_PACKAGE[key]
            table = pyogrio.read_dataframe(gpkg, layer=layer, read_geometry=False, fid_as_index=True)
            if flag:
                table = table[table[flag].astype(bool)]
            chain, filtered = OPENING_CHAIN.get(page, ("", []))
            if web_id in filtered:      # the page shows one chain: so does the theme
                table = table[table["chain"] == chain]
            if id_field:
                fid_of = {str(v): str(fid) for fid, v in zip(table.index, table[id_field])}
                fids = [fid_of[str(f["properties"][id_field])] for f in data["features"]]
            else:
                assert len(table) == len(data["features"]), (page, web_id)
                fids = [str(fid) for fid in table.index]
                if "workers" in table:       # housing density cells: same cells, same order
                    web = [f["properties"]["workers"] for f in data["features"]]
                    np.testing.assert_allclose(table["workers"].to_numpy(float), web, rtol=1e-3)
            yield page, web_id, layer, spec, data, fids


def test_every_feature_has_the_web_colour_in_qgis(web_and_qgis):
    settings, _, qgis, _ = web_and_qgis
    compared, pixels, drawn = {}, {}, {}
    for page, web_id, layer, spec, data, fids in _web_layers_in_qgis(web_and_qgis):
        theme = qgis["themes"][_theme_name(page, settings.study.language)]
        colours = theme["layers"][layer]["colours"]
        id_field = WEB_TO_PACKAGE[_package_key(web_id)][1]
        kind = _kind(data)
        for f, fid in zip(data["features"], fids):
            want = _web_colours(spec, f, kind)
            got = colours[fid]
            assert got is not None, (page, web_id, fid, "QGIS draws no symbol")
            where = (page, web_id, f["properties"].get(id_field) if id_field else fid)
            if "fill" in want and web_id != "isolated":
                assert got["fill"][0] == want["fill"][0], where
                assert got["fill"][1] == pytest.approx(want["fill"][1], abs=1 / 255 + 1e-3), where
            if "stroke" in want:
                assert got["stroke"][0] == want["stroke"], where
        rendered = theme["layers"][layer].get("rendered", {})
        for f, fid in zip(data["features"], fids):
            want = _web_colours(spec, f, kind).get("fill")
            if fid in rendered and want and web_id not in ("isolated", "territories", "leader_reach"):  # overlapping
                # the pixel QGIS renders inside the polygon: the web fill at its opacity over white
                rgb = np.array([int(want[0][i:i + 2], 16) for i in (1, 3, 5)], float)
                expect = rgb * want[1] + 255 * (1 - want[1])
                got_rgb = np.array([int(rendered[fid][i:i + 2], 16) for i in (1, 3, 5)], float)
                assert np.abs(got_rgb - expect).max() <= 3, (page, web_id, fid, rendered[fid], want)
                pixels[(page, web_id)] = pixels.get((page, web_id), 0) + 1
        compared[(page, web_id)] = len(fids)
        drawn.setdefault((page, layer), set()).update(fids)
    # feature for feature: each theme layer draws the features its page draws at start, no more
    # (the web pages open on part of some tables: the recommended pairs, the top flows)
    for (page, layer), fids in drawn.items():
        theme = qgis["themes"][_theme_name(page, settings.study.language)]
        assert set(theme["layers"][layer]["colours"]) == fids, (page, layer)
    # every page compared, each with its main layer
    for must in [("balance", "workplaces"), ("balance", "housing_density"), ("collaboration", "pairs_recommended"),
                 ("core_periphery", "zones_by_core"), ("core_periphery", "poles"), ("core_periphery", "territories"),
                 ("chains", "chain_zones"), ("chains", "gaps"), ("chains", "leader_reach"), ("chains", "leaders"),
                 ("commuting", "commuting_workplaces"), ("commuting", "commuting_flows")]:
        assert compared.get(must), (must, compared)
    assert sum(n for (_, w), n in compared.items() if w.startswith("chain_") and w[6:].isdigit()) == 15
    # and rendered: most zones of each zone page sampled as pixels
    for must in [("balance", "workplaces"), ("core_periphery", "zones_by_core"), ("chains", "chain_zones")]:
        assert pixels.get(must, 0) >= 0.6 * compared[must], (must, pixels)


def _star_span(html: str) -> float:
    """The outer diameter (the circle through its five tips) of the runtime's star icon path,
    as a share of its 24-unit icon: read from the page."""
    import re

    d = re.search(r"var star = '<path d=\"([^\"]+)\"", html).group(1)
    points, here, command = [], np.zeros(2), "M"
    tokens = re.findall(r"[MLlz]|-?\d*\.?\d+", d)
    k = 0
    while k < len(tokens):
        if tokens[k] in "MLlz":
            command = tokens[k]
            k += 1
            continue
        step = np.array([float(tokens[k]), float(tokens[k + 1])])
        k += 2
        here = step if command in "ML" else here + step
        points.append(here)
    xy = np.array(points)
    tips = xy[np.argsort(np.hypot(*(xy - xy.mean(axis=0)).T))[-5:]]
    return 2 * float(np.hypot(*(tips - tips.mean(axis=0)).T).mean()) / 24


def test_markers_are_as_large_as_on_the_web_one_conversion(web_and_qgis):
    """Point markers at the line widths' print scale (0.55 pt per px): a web circle of radius
    r px is a QGIS circle 2r px across, its outline as wide; a web star icon of s px a QGIS
    star whose tips span the star path's share of the icon (QGIS sized them by hand in mm:
    the pole stars 7 mm against the web's 4.6)."""
    settings, maps, qgis, _ = web_and_qgis
    lang = settings.study.language
    seen = set()
    for page, web_id, layer, spec, data, fids in _web_layers_in_qgis(web_and_qgis):
        if _kind(data) != "point":
            continue
        colours = qgis["themes"][_theme_name(page, lang)]["layers"][layer]["colours"]
        span = _star_span((maps / f"{page}.html").read_text(encoding="utf-8"))
        assert 0.85 < span < 0.95
        for f, fid in zip(data["features"], fids):
            style = spec["styles"][f["properties"].get("_s", 0)]
            got = colours[fid]
            if spec.get("marker") == "star":
                want = style["size"] * span * MM_PER_WEB_PX
            else:
                want = 2 * style["radius"] * MM_PER_WEB_PX
                assert got["stroke_mm"] == pytest.approx(style["weight"] * MM_PER_WEB_PX, abs=1e-3), (web_id, fid)
            assert got["size_mm"] == pytest.approx(want, rel=0.01), (page, web_id, fid, style)
            seen.add(web_id)
    assert {"poles", "leaders"} <= seen, seen


def test_outlines_and_lines_are_as_wide_as_on_the_web_one_conversion(web_and_qgis):
    """Every outline and line QGIS draws at a theme's start is the web's width in pixels at the
    print figures' scale (0.55 pt per px on A4): the same 1 px zone outline and 2.5 px
    innovation-district outline on the balance and commuting maps (they were 0.26 / 0.66 mm
    and 0.5 / 1.25 mm), the flows and pairs (px / 2 mm before); and so are the legend rows."""
    settings, maps, qgis, _ = web_and_qgis
    lang = settings.study.language
    widths: dict[tuple[str, float], set] = {}
    for page, web_id, layer, spec, data, fids in _web_layers_in_qgis(web_and_qgis):
        colours = qgis["themes"][_theme_name(page, lang)]["layers"][layer]["colours"]
        if _kind(data) == "point":        # markers: sizes, not widths
            continue
        for f, fid in zip(data["features"], fids):
            style = spec["styles"][f["properties"].get("_s", 0)]
            if not style.get("stroke", True) or "weight" not in style:
                continue
            got = colours[fid]["width_mm"]
            assert got == pytest.approx(style["weight"] * MM_PER_WEB_PX, abs=1e-3), (page, web_id, fid, style)
            widths.setdefault((page, float(style["weight"])), set()).add(round(got, 4))
    for page in ("balance", "commuting"):     # the zones' and innovation districts' outlines both seen
        assert widths.get((page, 1.0)) and widths.get((page, 2.5)), (page, widths)
    assert widths[("balance", 1.0)] == widths[("commuting", 1.0)]
    assert widths[("balance", 2.5)] == widths[("commuting", 2.5)]
    # the print layouts' legend rows: as wide as the web legends' rows
    for page, web_id, layer in (("balance", "workplaces", "balance_workplaces"),
                                ("commuting", "commuting_workplaces", "commuting_workplaces"),
                                ("commuting", "commuting_flows", "commuting_flows")):
        web = {w["label"]: w for w in _web_legend_rows((maps / f"{page}.html").read_text(encoding="utf-8"), web_id)}
        rows = qgis["layouts"][_theme_name(page, lang)]["legend_rows"][_layer_title(qgis, layer)]
        assert any(text in web for text, _ in rows), (page, rows, web)
        for text, symbol in rows:
            if text in web:
                assert symbol["width_mm"] == pytest.approx(web[text]["width_px"] * MM_PER_WEB_PX, abs=1e-3), \
                    (page, text, symbol)


def test_each_theme_has_a_print_layout_that_exports_to_pdf(web_and_qgis):
    settings, _, qgis, _ = web_and_qgis
    lang = settings.study.language
    # one layout per theme; a theme per page (and per analysis without a page here, e.g. commuting)
    assert set(qgis["layouts"]) == set(qgis["themes"]) >= {_theme_name(p, lang) for p in PAGES}
    for name, layout in qgis["layouts"].items():
        items = layout["items"]
        assert items["map"]["theme"] == name
        theme_titles = {l["title"] for l in qgis["project"]["layers"] if l["id"] in qgis["themes"][name]["ids"]}
        # the legend: every layer but the districts drawn for their names; the boundaries under
        # the districts' name, as the web legend's row
        districts, boundaries = _layer_title(qgis, "districts"), _layer_title(qgis, "district_boundaries")
        legend = [districts if t == boundaries else t for t in theme_titles - {districts}]
        assert sorted(items["legend"]["layers"]) == sorted(legend) and items["legend"]["linked"]
        assert items["legend"]["title"] == "图例"
        assert items["scalebar"]["linked"] and items["scalebar"]["units"] == "km"
        assert items["scalebar"]["label"] == "公里"
        assert items["north_arrow"]["linked"] and not items["north_arrow"]["missing"]
        # the chains layout names the chain its theme shows, as the print figure's title does
        part = f" — {OPENING_CHAIN['chains'][0]}" if name == _theme_name("chains", lang) else ""
        assert items["title"]["text"].endswith(f" — {name}{part}") and "示例都市区" in items["title"]["text"]
        assert items["source"]["text"].startswith("数据：") and "EPSG:4544" in items["source"]["text"]
        # the map shows the theme's layers, at a scale that fits the study on A4
        assert set(items["map"]["layers"]) == theme_titles
        assert 20_000 < items["map"]["scale"] < 500_000
        pdf = Path(layout["pdf"]["path"])
        assert layout["pdf"]["result"] == 0 and pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 20_000
        assert layout["png"]["result"] == 0
    bad = [m for m in qgis["messages"] if m["level"] >= 1]
    assert not bad, bad


def _layout_png_colours(path: Path) -> set:
    from PIL import Image

    with Image.open(path) as img:
        return {c for _, c in img.convert("RGB").getcolors(maxcolors=1 << 20)}


def test_layout_image_shows_the_theme_colours(web_and_qgis):
    """The exported balance page really is drawn: the workplace class colours blended at
    their opacity over the white page appear among the pixels."""
    settings, _, qgis, _ = web_and_qgis
    name = _theme_name("balance", settings.study.language)
    colours = _layout_png_colours(Path(qgis["layouts"][name]["png"]["path"]))
    fills = {tuple(c["fill"]) for c in qgis["themes"][name]["layers"]["balance_workplaces"]["colours"].values()}
    for hex_colour, alpha in fills:
        rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)], float)
        blended = rgb * alpha + 255 * (1 - alpha)
        assert any(np.abs(np.array(c) - blended).max() <= 4 for c in colours), hex_colour


def test_each_layout_frames_the_district_outlines_it_draws(web_and_qgis):
    """The print layouts frame the whole districts they draw, as the print figures do: the
    outermost dashed outlines stay on the page, with a margin (they framed the zones only)."""
    _, maps, qgis, _ = web_and_qgis
    districts = pyogrio.read_dataframe(maps / "qgis" / "zoneatlas.gpkg", layer="districts")
    assert districts.crs.to_epsg() == 4544 and qgis["project"]["crs"] == "EPSG:4544"   # one CRS: compare boxes
    xmin, ymin, xmax, ymax = districts.total_bounds
    margin = 0.01 * max(xmax - xmin, ymax - ymin)
    title = _layer_title(qgis, "district_boundaries")
    for name, layout in qgis["layouts"].items():
        item = layout["items"]["map"]
        assert title in item["layers"], name          # every theme draws the district outlines
        x0, y0, x1, y1 = item["extent"]
        inside = x0 <= xmin - margin and y0 <= ymin - margin and x1 >= xmax + margin and y1 >= ymax + margin
        assert inside, (name, item["extent"], districts.total_bounds)


def test_district_boundaries_are_drawn_once_dashed_as_on_the_web(web_and_qgis):
    """Where two districts meet, QGIS drew both polygons' dashed outlines over each other, out
    of step: the shared edges looked solid. As the print figures, every theme now draws the
    boundaries as lines holding each edge once (a layer of the GeoPackage), dashed in the web's
    colour, width and dash (1.6 px, "6 4"), and the districts only for their names; the print
    legend has the web's one row for them."""
    settings, maps, qgis, pages = web_and_qgis
    lang = settings.study.language
    gpkg = maps / "qgis" / "zoneatlas.gpkg"
    districts = pyogrio.read_dataframe(gpkg, layer="districts")
    lines = pyogrio.read_dataframe(gpkg, layer="district_boundaries", fid_as_index=True)
    # each edge once: the perimeters count a shared edge twice, the outer edge once
    perimeters = float(shapely.length(districts.geometry.values).sum())
    outer = float(shapely.length(shapely.boundary(shapely.union_all(districts.geometry.values))))
    assert lines.length.sum() == pytest.approx((perimeters + outer) / 2, rel=1e-6)
    assert lines.length.sum() == pytest.approx(shapely.union_all(lines.geometry.values).length, rel=1e-9)
    assert lines.length.sum() < 0.75 * perimeters      # the sample's districts share most edges
    assert lines["shared"].any() and not lines["shared"].all()
    assert lines.loc[~lines["shared"], "geometry"].length.sum() == pytest.approx(outer, rel=1e-6)
    # QGIS measures the same lines (ellipsoid of EPSG:4544, near its scale)
    measured = qgis["measured"]["district_boundaries"]
    assert sum(measured.values()) == pytest.approx(lines.length.sum(), rel=2e-3)
    style = pages["balance"]["districts"][0]["styles"][0]       # the web's district outline
    assert (style["weight"], style["dashArray"], style["opacity"]) == (1.6, "6 4", 0.9), style
    for page in PAGES:
        theme = qgis["themes"][_theme_name(page, lang)]
        drawn = theme["layers"]["district_boundaries"]["colours"]
        assert set(drawn) == {str(fid) for fid in lines.index}, page
        for colours in drawn.values():
            assert colours["stroke"] == [style["color"].lower(), style["opacity"]], page
            assert colours["width_mm"] == pytest.approx(1.6 * MM_PER_WEB_PX, abs=1e-3)
            assert colours["dash_mm"] == pytest.approx([6 * MM_PER_WEB_PX, 4 * MM_PER_WEB_PX], abs=1e-3)
        # the districts drawn for their names only: no symbol, labelled
        assert set(theme["layers"]["districts"]["colours"].values()) == {None} and theme["layers"]["districts"]
        web = _web_legend_rows((maps / f"{page}.html").read_text(encoding="utf-8"), "districts")
        rows = qgis["layouts"][_theme_name(page, lang)]["legend_rows"][_layer_title(qgis, "districts")]
        assert [text for text, _ in rows] == [w["label"] for w in web] and len(rows) == 1, page
        assert rows[0][1]["stroke"][0] == web[0]["stroke"] and rows[0][1]["fill"] is None, page
        assert rows[0][1]["width_mm"] == pytest.approx(web[0]["width_px"] * MM_PER_WEB_PX, abs=1e-3), page
    tree = _tree_layer(qgis, "districts")
    assert tree["current_style"] == "names" and tree["labels"] and tree["renderer"] == "nullSymbol"


def _web_legend_rows(html_text: str, layer_id: str) -> list[dict]:
    """The rows of the page's legend section of ``layer_id`` (geo/webmap/_controls.py rows):
    label, and the swatch's fill, outline and width (px) or the line's colour and width."""
    import html as html_lib
    import json
    import re

    start = html_text.index("new zoneatlas.Legend(") + len("new zoneatlas.Legend(")
    sections, _ = json.JSONDecoder().raw_decode(html_text, start)
    section = next(s for s in sections if layer_id in s["layers"])
    rows = []
    for row in re.findall(r'<div class="za-legend-row">(.*?)</div>', section["html"]):
        text = html_lib.unescape(re.findall(r"<span>([^<]*)</span>", row)[-1])
        line = re.search(r'<line [^>]*stroke="([^"]+)" stroke-width="([\d.]+)"', row)
        swatch = re.search(r'background:([^;]+);opacity:[^;]+;border:([\d.]+)px \w+ ([^"]+)"', row)
        if line:
            rows.append({"label": text, "stroke": line[1].lower(), "width_px": float(line[2])})
        elif swatch:
            fill = None if swatch[1] == "transparent" else swatch[1].lower()
            rows.append({"label": text, "fill": fill, "stroke": swatch[3].lower(), "width_px": float(swatch[2])})
        else:
            rows.append({"label": text})
    return rows


def _layer_title(qgis: dict, name: str) -> str:
    return next(l["title"] for l in qgis["project"]["layers"] if l.get("layername") == name and not l["view"])


def test_layout_flow_legend_reads_as_the_web_legend(web_and_qgis):
    """The commuting layout's legend labels the flow classes as commuting.html's legend does
    (the fewest – most commuters of the flows drawn in each width class, widest first), each
    row's line as wide as the web's (it gave the class bounds over all flows: "0 – 1,403")."""
    settings, maps, qgis, _ = web_and_qgis
    web = _web_legend_rows((maps / "commuting.html").read_text(encoding="utf-8"), "commuting_flows")
    layout = qgis["layouts"][_theme_name("commuting", settings.study.language)]
    rows = layout["legend_rows"][_layer_title(qgis, "commuting_flows")]
    assert [text for text, _ in rows] == [w["label"] for w in web] and len(web) >= 2, (rows, web)
    for (text, symbol), w in zip(rows, web):
        assert symbol["stroke"][0] == w["stroke"], text
        assert symbol["width_mm"] == pytest.approx(w["width_px"] * MM_PER_WEB_PX, abs=1e-3), text


def test_layout_legends_have_the_web_row_for_the_innovation_districts_outline(web_and_qgis):
    """Workplaces are drawn with the innovation districts outlined in their colour (balance.html,
    commuting.html): the web legends have a row for that outline, and so do the print layouts'
    legends and the layer tree's (it had none): the same label, after the classes, unfilled, in
    the web's colour, as wide as the map draws the outline."""
    settings, maps, qgis, _ = web_and_qgis
    lang = settings.study.language
    gpkg = maps / "qgis" / "zoneatlas.gpkg"
    for page, web_id, layer in (("balance", "workplaces", "balance_workplaces"),
                                ("commuting", "commuting_workplaces", "commuting_workplaces")):
        web = _web_legend_rows((maps / f"{page}.html").read_text(encoding="utf-8"), web_id)
        outline = [w for w in web if "fill" in w and w["fill"] is None]
        assert len(outline) == 1 and outline[0]["label"] == label("innovation_district", lang), web
        want = outline[0]
        rows = qgis["layouts"][_theme_name(page, lang)]["legend_rows"][_layer_title(qgis, layer)]
        assert [text for text, _ in rows].count(want["label"]) == 1 and rows[-1][0] == want["label"], (page, rows)
        symbol = rows[-1][1]
        assert symbol["fill"] is None and symbol["stroke"][0] == want["stroke"], (page, symbol, want)
        kinds = pyogrio.read_dataframe(gpkg, layer=layer, read_geometry=False, fid_as_index=True)["kind"]
        drawn = qgis["themes"][_theme_name(page, lang)]["layers"][layer]["colours"]
        innovation = [drawn[str(fid)] for fid in kinds.index[kinds == "innovation_district"]]
        assert innovation and {(c["stroke"][0], c["width_mm"]) for c in innovation} == \
            {(want["stroke"], symbol["width_mm"])}, (page, innovation, symbol)
        assert len(rows) >= 2 and all(s["fill"] is not None for _, s in rows[:-1]), rows   # the classes first
        tree = next(l for l in qgis["project"]["layers"] if l.get("layername") == layer and not l["view"])
        assert tree["legend"][-1] == want["label"], tree["legend"]


@pytest.fixture(scope="module")
def no_share(small_study, tmp_path_factory):
    """The small sample's commuting analysis with three workplaces (one an innovation district)
    without a share within 5 km (as a workplace no commuter reaches) and a district without a
    self-containment: its web page (drawn layers, legend) and its QGIS package opened in PyQGIS."""
    import geopandas as gpd

    from geo.layers import load_study
    from geo.pipeline import run_analyses
    from geo.settings import load_settings
    from geo.webmap import build_maps

    python = require_pyqgis()
    settings = load_settings(small_study)
    study = load_study(settings)
    result = run_analyses(study, settings, only=["commuting"])["commuting"]
    wp = result.tables["commuting_workplaces"].copy()
    innovation = wp.index[wp["kind"] == "innovation_district"][:1]
    gone = [*innovation, *wp.index[wp["kind"] == "zone"][:2]]
    wp.loc[gone, "share_within_5km"] = np.nan
    cd = result.tables["commuting_districts"].copy()
    cd.loc[cd.index[:1], "self_containment"] = np.nan
    assert isinstance(wp, gpd.GeoDataFrame) and len(innovation) == 1
    result.tables.update(commuting_workplaces=wp, commuting_districts=cd)
    html = build_maps(study, {"commuting": result}, settings)["commuting"].get_root().render()
    out = tmp_path_factory.mktemp("no_share")
    gpkg, qgz = write_qgis_package(out / "qgis", study, {"commuting": result}, settings)
    report = run_pyqgis_check(python, out, qgz, gpkg, out)
    table = pyogrio.read_dataframe(gpkg, layer="commuting_workplaces", read_geometry=False, fid_as_index=True)
    assert table["share_within_5km"].isna().sum() == 3
    return settings, table, html, report


def test_commuting_share_classes_and_no_share_grey_as_on_the_web(no_share):
    """commuting.html classes the shares between the data's minimum and maximum ("3.3% – 30.0%",
    the districts' self-containment alike) and draws a workplace without a share grey, outlined
    as the others, with no legend row for it. QGIS ran the classes 0 % – 100 % and left such
    workplaces (and districts) undrawn. Now: the same class labels in the layer tree and the
    print legend, the same fill, opacity, outline colour and width for every workplace, the grey
    ones among them; the grey's legend row ("—") in the layer tree only, not in the layout."""
    settings, wp, html, qgis = no_share
    lang = settings.study.language
    spec, data = drawn_layers(html)["commuting_workplaces"]
    colours = qgis["themes"][_theme_name("commuting", lang)]["layers"]["commuting_workplaces"]["colours"]
    fid_of = {str(w): str(fid) for fid, w in zip(wp.index, wp["workplace_id"])}
    grey_fids = {str(fid) for fid in wp.index[wp["share_within_5km"].isna()]}
    greys = 0
    for f in data["features"]:
        fid = fid_of[str(f["properties"]["workplace_id"])]
        style = spec["styles"][f["properties"].get("_s", 0)]
        got = colours[fid]
        assert got is not None, (fid, "QGIS draws no symbol")
        assert (got["fill"][0], got["stroke"][0]) == (style["fillColor"].lower(), style["color"].lower()), fid
        assert got["fill"][1] == pytest.approx(style["fillOpacity"], abs=1 / 255 + 1e-3), fid
        assert got["width_mm"] == pytest.approx(style["weight"] * MM_PER_WEB_PX, abs=1e-3), fid
        if fid in grey_fids:
            assert style["fillColor"].lower() == "#cccccc", style
            greys += 1
    assert greys == 3 and set(colours) == set(fid_of.values())
    kinds = dict(zip(fid_of.values(), wp["kind"]))
    assert any(kinds[fid] == "innovation_district" and colours[fid]["stroke"][0] == "#cc79a7" for fid in grey_fids)
    # the legends: the web's class rows (data min to max); QGIS' "—" row in the layer tree only
    for web_id, layer in (("commuting_workplaces", "commuting_workplaces"),
                          ("commuting_districts", "commuting_districts")):
        web = [w["label"] for w in _web_legend_rows(html, web_id) if w.get("fill") not in (None, "#cccccc")
               and "%" in w["label"]]
        values = wp["share_within_5km"] if layer == "commuting_workplaces" else None
        tree = _tree_layer(qgis, layer)
        classes = [text for text in tree["legend"] if "%" in text]
        assert classes == web and len(web) == 5, (layer, classes, web)
        assert "—" in tree["legend"], tree["legend"]
        if values is not None:   # the ends: the data's minimum and maximum, as the web computes them
            assert web[0].startswith(f"{values.min() * 100:.1f}%") and web[-1].endswith(f"{values.max() * 100:.1f}%")
    printed = qgis["layouts"][_theme_name("commuting", lang)]["legend_rows"][_layer_title(qgis, "commuting_workplaces")]
    web = [w["label"] for w in _web_legend_rows(html, "commuting_workplaces")]
    assert "—" not in [text for text, _ in printed] and {text for text, _ in printed} <= set(web), (printed, web)
    assert printed[-1][0] == label("innovation_district", lang) and len(printed) >= 3
    # the district without a self-containment grey too (commuting.html: #cccccc at 0.55)
    districts = _tree_layer(qgis, "commuting_districts")["style_colours"]["self_containment"]
    assert all(districts.values()) and [c["fill"] for c in districts.values()].count(["#cccccc", 0.549]) == 1


def _tree_layer(qgis: dict, name: str) -> dict:
    return next(l for l in qgis["project"]["layers"] if l.get("layername") == name and not l["view"])


def test_balance_classes_are_labelled_with_their_ratios_as_on_the_web(web_and_qgis):
    """balance.html labels each class with the jobs–housing ratios it stands for ("就业富余 (> 1.25)",
    from ``balance.balanced_range``); so do the QGIS styles of both class measures of the
    workplaces and of the districts' classes, and the balance layout's legend (they gave the
    class name only)."""
    settings, maps, qgis, _ = web_and_qgis
    lang = settings.study.language
    web = [w["label"] for w in _web_legend_rows((maps / "balance.html").read_text(encoding="utf-8"), "workplaces")]
    classes = [text for text in web if text != label("innovation_district", lang)]
    lo, hi = settings.balance.balanced_range
    assert [label(c, lang) for c in ("jobs_rich", "balanced", "housing_rich", "no_housing")] == \
        [text.split(" (")[0] for text in classes]
    assert (classes[0], classes[1], classes[2]) == (f"{label('jobs_rich', lang)} (> {hi:g})",
                                                    f"{label('balanced', lang)} ({lo:g}–{hi:g})",
                                                    f"{label('housing_rich', lang)} (< {lo:g})")
    workplaces = _tree_layer(qgis, "balance_workplaces")
    for style in ("area_class", "balance_class"):
        assert workplaces["style_legends"][style][:len(classes)] == classes, style
    assert _tree_layer(qgis, "balance_districts")["style_legends"]["balance_class"][:len(classes)] == classes
    printed = [text for text, _ in qgis["layouts"][_theme_name("balance", lang)]["legend_rows"][
        _layer_title(qgis, "balance_workplaces")]]
    assert printed[0] in classes and set(printed) <= set(web), (printed, web)


def test_balance_jhr_style_outlines_the_innovation_districts_as_the_default_style(web_and_qgis):
    """The ``jhr`` style of the balance workplaces outlines the innovation districts as the
    default style does (2.5 px in their colour, the zones 1 px, a legend row of its own); it
    drew them as zones."""
    settings, maps, qgis, _ = web_and_qgis
    lang = settings.study.language
    layer = _tree_layer(qgis, "balance_workplaces")
    kinds = pyogrio.read_dataframe(maps / "qgis" / "zoneatlas.gpkg", layer="balance_workplaces",
                                   read_geometry=False, fid_as_index=True)["kind"]
    innovation = {str(fid) for fid in kinds.index[kinds == "innovation_district"]}
    default, jhr = layer["style_colours"][layer["current_style"]], layer["style_colours"]["jhr"]
    assert innovation and set(jhr) == set(default) == {str(fid) for fid in kinds.index}
    web = _web_legend_rows((maps / "balance.html").read_text(encoding="utf-8"), "workplaces")[-1]
    for fid, colours in jhr.items():
        want = (web["stroke"], 2.5 * MM_PER_WEB_PX) if fid in innovation else ("#333333", MM_PER_WEB_PX)
        assert colours["stroke"][0] == want[0] and colours["width_mm"] == pytest.approx(want[1], abs=1e-3), fid
        assert (colours["stroke"], colours["width_mm"]) == (default[fid]["stroke"], default[fid]["width_mm"]), fid
    assert layer["style_legends"]["jhr"][-1] == web["label"] == label("innovation_district", lang)


# ---------------------------------------------------------------------------
# true measurements in a geographic export CRS


@pytest.fixture(scope="module")
def geographic_package(small_study, tmp_path_factory):
    from geo.layers import load_study
    from geo.pipeline import run_analyses
    from geo.qgis import write_qgis_package
    from geo.settings import load_settings

    settings = load_settings(small_study)
    settings.crs.export = "EPSG:4490"
    study = load_study(settings)
    results = {k: v for k, v in run_analyses(study, settings).items() if k == "core_periphery"}
    out = tmp_path_factory.mktemp("geo_qgis") / "qgis"
    gpkg, qgz = write_qgis_package(out, study, results, settings)
    return study, gpkg, qgz


def test_project_measures_true_areas_and_lengths_in_epsg_4490(geographic_package, tmp_path):
    study, gpkg, qgz = geographic_package
    report = run_pyqgis_check(require_pyqgis(), tmp_path, qgz, gpkg)
    # the layers in EPSG:4490, the project drawn in the metric working CRS (not stretched
    # east-west as plate carrée would be), measured on the CGCS2000 ellipsoid
    assert {l["crs"] for l in report["project"]["layers"] if l["provider"] == "ogr"} - {""} == {"EPSG:4490"}
    assert report["project"]["crs"] == "EPSG:4544"
    assert report["project"]["ellipsoid"] == "EPSG:1024"          # CGCS2000
    geod = CRS.from_epsg(4490).get_geod()
    zones = pyogrio.read_dataframe(gpkg, layer="zones", fid_as_index=True)
    measured = report["measured"]["zones"]
    for fid, geom in zip(zones.index, zones.geometry):
        true_area = abs(geod.geometry_area_perimeter(geom)[0])
        assert measured[str(fid)] == pytest.approx(true_area, rel=1e-4), fid
    # and the same zones measured in the metric working CRS (EPSG:4544) agree to 0.1 %
    working = study.zones.geometry.area.to_numpy()
    got = np.array([measured[str(fid)] for fid in zones.index])
    np.testing.assert_allclose(got, working, rtol=2e-3)
    links = pyogrio.read_dataframe(gpkg, layer="core_periphery_links", fid_as_index=True)
    lengths = report["measured"]["core_periphery_links"]
    assert len(links) > 3
    for fid, geom in zip(links.index, links.geometry):
        (x0, y0), (x1, y1) = shapely.get_coordinates(geom)[[0, -1]]
        true_length = geod.inv(x0, y0, x1, y1)[2]
        assert lengths[str(fid)] == pytest.approx(true_length, rel=1e-4), fid
    assert math.isclose(sum(lengths.values()), sum(geod.geometry_length(g) for g in links.geometry), rel_tol=1e-4)


# ---------------------------------------------------------------------------
# attribute tables as an analyst reads them


def test_counts_are_integers_and_codes_show_their_labels(web_and_qgis):
    settings, maps, qgis, _ = web_and_qgis
    layers = {l["layername"]: l for l in qgis["project"]["layers"] if l["provider"] == "ogr" and not l["view"]}
    # whole counts are INTEGER in QGIS (they were REAL); ratios stay REAL
    zones = layers["zones"]["field_types"]
    assert {zones[f] for f in ("jobs", "firms", "leader_firms", "rd_platforms")} == {"Integer64"}
    assert layers["housing"]["field_types"]["dwellings"] == "Integer64"
    assert layers["balance_workplaces"]["field_types"]["jhr"] == "Real"
    gpkg = maps / "qgis" / "zoneatlas.gpkg"
    # the sample's OD table counts persons: its commuter counts are whole
    cd = layers["commuting_districts"]["field_types"]
    assert {cd[f] for f in ("resident_commuters", "job_commuters", "internal")} == {"Integer64"}
    assert layers["commuting_flows"]["field_types"]["commuters"] == "Integer64"
    assert cd["self_containment"] == "Real"
    summary = layers["commuting_summary"]["field_types"]    # whole counts of the summary too
    assert {summary[f] for f in ("commuters", "commuters_in_workplaces", "commuters_timed")} == {"Integer64"}
    study_zones = pyogrio.read_dataframe(gpkg, layer="zones", read_geometry=False)
    source = settings.layers.zones.path
    original = pyogrio.read_dataframe(source, layer=settings.layers.zones.layer, read_geometry=False)
    assert study_zones["firms"].tolist() == original["firms"].astype(int).tolist()
    # value maps: the labels the web popups show, codes stay in the data
    cpz = layers["core_periphery_zones"]
    assert cpz["value_maps"]["strategy"] == {code: label(code, "zh") for code in cpz["value_maps"]["strategy"]}
    assert set(cpz["value_maps"]["strategy"]) <= {"independent_pole", "collaborative_subordinate", "isolated"}
    assert cpz["shown_first"]["role"] in ("极核", "外围")
    pairs = layers["collaboration_pairs"]
    assert set(pairs["value_maps"]["pair_type"].values()) <= {label(t, "zh") for t in
                                                              ("main_partner", "rd_manufacturing",
                                                               "terminal_supporting", "peer")}
    # codes outside the i18n terms: road classes and one-way, compass directions, the summaries' words
    roads = layers["roads"]["value_maps"]
    assert roads["class"]["arterial"] == "主干路" and roads["oneway"]["no"] == "双向", roads
    assert layers["commuting_directions"]["value_maps"]["direction"]["NE"] == "东北"
    assert layers["commuting_summary"]["value_maps"]["measured"] == {"observed": "实测"}
    districts = pyogrio.read_dataframe(gpkg, layer="districts", read_geometry=False)
    names = dict(zip(districts["district_id"], districts["name"]))
    for code, text in layers["balance_workplaces"]["value_maps"]["district_id"].items():
        assert text == f"{names[code]} ({code})"
    # optional columns empty in this run are hidden in the attribute table (still in the data)
    assert layers["innovation_districts"]["hidden_columns"] == ["universities", "labs", "incubators"]
    assert layers["housing"]["hidden_columns"] == ["population"]
    assert layers["zones"]["hidden_columns"] == []
    assert "universities" in layers["innovation_districts"]["field_types"]
    # no two fields of a layer share an alias
    for name, layer in layers.items():
        aliases = [a for a in layer["aliases"].values() if a]
        assert len(aliases) == len(set(aliases)), name


def test_input_rasters_are_bundled_beside_the_project(web_and_qgis, small_run):
    import rasterio

    _, maps, qgis, _ = web_and_qgis
    study = small_run[1].study
    rasters = {l["source"].rsplit("/", 1)[-1]: l for l in qgis["project"]["layers"] if l["provider"] == "gdal"}
    assert set(rasters) == {"population.tif", "landuse.tif"}
    for file, attr in (("population.tif", "population"), ("landuse.tif", "landuse")):
        info = rasters[file]
        assert info["valid"] and info["visible"] is False and info["crs"] == "EPSG:4544"
        # relative: resolved against the project's folder
        assert Path(info["source"]).resolve() == (maps / "qgis" / file).resolve()
        want = getattr(study, attr).data
        with rasterio.open(maps / "qgis" / file) as src:
            got = src.read(1, masked=True).astype(float).filled(np.nan)
            assert src.crs.to_epsg() == 4544
        assert got.shape == want.shape and info["size"] == [want.shape[1], want.shape[0]]
        np.testing.assert_allclose(got, want, rtol=1e-6, equal_nan=True)
    assert rasters["landuse.tif"]["renderer"] == "paletted"
    assert [t for t, _ in rasters["landuse.tif"]["legend"]] == ["居住", "办公", "工业", "商业", "公共服务", "绿地"]
    assert rasters["population.tif"]["renderer"] == "singlebandpseudocolor"


def test_project_opens_on_the_first_pages_theme(web_and_qgis):
    settings, _, qgis, _ = web_and_qgis
    theme = qgis["themes"][_theme_name("balance", settings.study.language)]
    visible = {l["layername"] for l in qgis["project"]["layers"] if l.get("visible") and l["provider"] == "ogr"}
    assert visible == set(theme["visible"])
