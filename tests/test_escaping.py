"""Hostile text end to end (issue 8, item 5).

Names and attribute values with HTML, JavaScript, quotes, newlines, a right-to-left mark,
emoji and Chinese go through the real ``zoneatlas run`` and must come out as TEXT in the
CSV tables, the GeoPackage, the QGIS project and styles, and the HTML maps (never as
markup, never breaking the XML or the page).
"""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
import yaml

from tests.conftest import run_cli, tree_digest

IMG = "<img src=x onerror=alert(1)>"
HOSTILE = [
    f"园区 {IMG}",
    "</script><script>alert(2)</script>",
    "javascript:alert(3)//\"onmouseover=alert(4) x='",
    "O'Brien \"quoted\" & <b>bold</b>",
    "first line\nsecond line",
    "\u200fمنطقة RTL \u200f",
    "🏭 emoji 园区 🚀",
    "电子信息产业园",
]
HOSTILE_CHAIN = "链 <i>\"chain\"</i> & 'x' 🧪"
HOSTILE_ZONE_ID = "Z<1>'\"&"
HOSTILE_DISTRICT_ID = "D<0>\"&'"
HOSTILE_INNOV_ID = "I<script>"
HOSTILE_FILE = "hostile <img src=x onerror=alert(5)> '\" 文件.gpkg"
STUDY_NAME = f"示例 {IMG} \"study\" \u200f"


@pytest.fixture(scope="module")
def hostile_run(small_study, tmp_path_factory):
    """A copy of the small study with hostile text everywhere, run through the CLI."""
    import shutil

    root = tmp_path_factory.mktemp("hostile") / "study"
    shutil.copytree(small_study.parent, root)
    cfg_path = root / small_study.name
    cfg = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
    src = root / "layers" / "sample.gpkg"
    dst = root / "layers" / HOSTILE_FILE      # file names are user text too

    zones = pyogrio.read_dataframe(src, layer="zones")
    zones.loc[: len(HOSTILE) - 1, "name"] = HOSTILE
    old_chain = zones["chain"].value_counts().index[0]     # the chain with most zones
    zones.loc[zones["chain"] == old_chain, "chain"] = HOSTILE_CHAIN
    zones.loc[len(HOSTILE), "id"] = HOSTILE_ZONE_ID
    districts = pyogrio.read_dataframe(src, layer="districts")
    districts["name"] = [HOSTILE[(i * 3) % len(HOSTILE)] for i in range(len(districts))]
    zones.loc[zones["district"] == districts.loc[0, "code"], "district"] = HOSTILE_DISTRICT_ID
    districts.loc[0, "code"] = HOSTILE_DISTRICT_ID
    innov = pyogrio.read_dataframe(src, layer="innovation_districts")
    innov["name"] = [HOSTILE[(i * 5 + 1) % len(HOSTILE)] for i in range(len(innov))]
    innov["chains"] = innov["chains"].str.replace(old_chain, HOSTILE_CHAIN, regex=False)
    innov.loc[0, "id"] = HOSTILE_INNOV_ID
    assert innov["chains"].str.contains(HOSTILE_CHAIN, regex=False).any()
    housing = pyogrio.read_dataframe(src, layer="housing")
    for name, frame in [("districts", districts), ("zones", zones),
                        ("innovation_districts", innov), ("housing", housing)]:
        pyogrio.write_dataframe(frame, dst, layer=name, driver="GPKG")
        cfg["layers"][name]["path"] = f"layers/{HOSTILE_FILE}"
    cfg["study"]["name"] = STUDY_NAME
    cfg_path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")

    before = tree_digest(root)
    out = root.parent / "maps"
    proc = run_cli("run", "-c", cfg_path, "-o", out, "-q")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert tree_digest(root) == before
    return {"out": out, "zones": zones, "districts": districts, "innov": innov}


def _csv(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / "tables" / f"{name}.csv", encoding="utf-8-sig", dtype=str,
                       keep_default_na=False)


def _names(frame, id_col: str) -> dict[str, str]:
    return dict(zip(frame[id_col].astype(str), frame["name"].astype(str)))


def test_csv_keeps_text(hostile_run):
    out, zones = hostile_run["out"], hostile_run["zones"]
    expected = _names(zones, "id")
    for table, id_col in [("zones", "zone_id"), ("core_periphery_zones", "zone_id"),
                          ("collaboration_zones", "zone_id")]:
        frame = _csv(out, table)
        assert _names(frame, id_col) == expected, table
        assert set(frame["chain"]) == set(zones["chain"]), table
    work = _csv(out, "balance_workplaces")
    zone_rows = work[work["kind"] == "zone"]
    assert _names(zone_rows, "workplace_id") == expected
    innov = hostile_run["innov"]
    innov_rows = work[work["kind"] != "zone"]
    assert _names(innov_rows, "workplace_id") == _names(innov, "id")
    assert _names(_csv(out, "districts"), "district_id") == _names(hostile_run["districts"], "code")
    assert HOSTILE_INNOV_ID in set(innov_rows["workplace_id"])
    assert HOSTILE_DISTRICT_ID in set(_csv(out, "balance_districts")["district_id"])
    matrix = _csv(out, "collaboration_matrix")
    assert HOSTILE_DISTRICT_ID in set(matrix["district_a"]) | set(matrix["district_b"])
    assert (_csv(out, "zones")["district_id"] == HOSTILE_DISTRICT_ID).any()
    chains = _csv(out, "collaboration_chains")
    assert HOSTILE_CHAIN in set(chains["chain"])


def test_geopackage_keeps_text(hostile_run):
    out, zones = hostile_run["out"], hostile_run["zones"]
    gpkg = out / "qgis" / "zoneatlas.gpkg"
    expected = _names(zones, "id")
    for layer in ("zones", "core_periphery_zones", "collaboration_zones"):
        frame = pyogrio.read_dataframe(gpkg, layer=layer)
        assert _names(frame, "zone_id") == expected, layer
    work = pyogrio.read_dataframe(gpkg, layer="balance_workplaces")
    assert _names(work[work["kind"] == "zone"], "workplace_id") == expected
    assert _names(pyogrio.read_dataframe(gpkg, layer="districts"), "district_id") == \
        _names(hostile_run["districts"], "code")


def _xml_texts(root: ET.Element) -> set[str]:
    found = set()
    for el in root.iter():
        found.update(v for v in el.attrib.values())
        if el.text:
            found.add(el.text)
    return found


def test_qgis_project_and_styles_are_well_formed(hostile_run):
    out = hostile_run["out"]
    with zipfile.ZipFile(out / "qgis" / "zoneatlas.qgz") as z:
        qgs_names = [n for n in z.namelist() if n.endswith(".qgs")]
        assert len(qgs_names) == 1
        project = ET.fromstring(z.read(qgs_names[0]))      # raises on broken XML
        qml = [ET.fromstring(z.read(n)) for n in z.namelist() if n.endswith(".qml")]
    texts = _xml_texts(project)
    for root in qml:
        texts |= _xml_texts(root)
    # the styles stored in the GeoPackage (QGIS reads these as the layers' defaults)
    con = sqlite3.connect(out / "qgis" / "zoneatlas.gpkg")
    try:
        styles = con.execute("SELECT f_table_name, styleQML FROM layer_styles").fetchall()
    finally:
        con.close()
    assert styles
    for _table, qml_text in styles:
        root = ET.fromstring(qml_text.encode("utf-8"))
        qml.append(root)
        texts |= _xml_texts(root)
    # a chain category (web map and QGIS share the palette) carries the chain name as text
    assert any(HOSTILE_CHAIN in t for t in texts), "the hostile chain name should label a category"
    # no markup from the data became elements
    for root in [project, *qml]:
        assert not {el.tag for el in root.iter()} & {"i", "b", "img", "script"}


def test_html_has_no_live_markup(hostile_run):
    out = hostile_run["out"]
    pages = sorted(out.glob("*.html"))
    assert {p.name for p in pages} >= {"index.html", "balance.html", "collaboration.html",
                                        "core_periphery.html"}
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "<img src=x" not in text, page.name
        assert "<script>alert(2)" not in text, page.name
        assert "<b>bold</b>" not in text and "<i>\"chain\"</i>" not in text, page.name
        assert text.count("</script>") == text.count("<script"), page.name
        assert "onerror=alert(1)" in text, f"{page.name}: the name must still be there, escaped"
    # the atlas page lists the input files (provenance): the hostile file name as text
    assert "hostile &lt;img src=x onerror=alert(5)&gt;" in (out / "index.html").read_text(encoding="utf-8")




def _clean(run, name):
    assert run.page_errors == [], name
    assert run.dialogs == [], name
    assert run.blocked == [], name


@pytest.mark.browser
@pytest.mark.parametrize("page_name", ["balance", "collaboration", "core_periphery"])
def test_maps_in_browser_show_text(browser, hostile_run, page_name):
    out = hostile_run["out"]
    with browser.open(out / f"{page_name}.html") as run:
        page = run.page
        assert STUDY_NAME.strip() in page.locator(".za-title").inner_text()
        for needle, expected in [("onerror", HOSTILE[0]), ("emoji", HOSTILE[6]),
                                 ("O'Brien", HOSTILE[3]), ("RTL", HOSTILE[5]),
                                 ("script>alert(2)", HOSTILE[1]), ("second line", HOSTILE[4])]:
            page.fill(".za-search input", needle)
            hits = page.locator(".za-search-hit")
            assert hits.count() >= 1, needle
            hits.first.click()
            # the popup title holds the name as text, exactly (newline included)
            page.wait_for_function("""t => [...document.querySelectorAll(
                '.leaflet-popup-content .za-popup-title')].some(e => e.textContent === t)""",
                                   arg=expected, timeout=10_000)
        legend = page.locator(".za-legend").inner_text()
        if page_name == "collaboration":
            assert HOSTILE_CHAIN in legend
        page.wait_for_timeout(200)
        assert page.evaluate("document.querySelectorAll('img[src=\"x\"], b, i').length") == 0
        _clean(run, page_name)


@pytest.mark.browser
def test_atlas_page_in_browser(browser, hostile_run):
    with browser.open(hostile_run["out"] / "index.html", wait_ready=False) as run:
        page = run.page
        page.wait_for_timeout(300)
        assert "onerror=alert(1)" in page.locator("body").inner_text()
        assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
        assert IMG in page.title() or IMG in page.locator("body").inner_text()
        _clean(run, "index")


@pytest.mark.qgis
def test_qgis_opens_the_hostile_package(hostile_run, tmp_path):
    from tests.test_qgis import require_pyqgis, run_pyqgis_check

    python = require_pyqgis()
    qgis = hostile_run["out"] / "qgis"
    report = run_pyqgis_check(python, tmp_path, qgis / "zoneatlas.qgz", qgis / "zoneatlas.gpkg")
    project = report["project"]
    assert project["read"], project["error"]
    assert IMG in project["title"]
    assert all(layer["valid"] for layer in project["layers"])
    assert all(layer["valid"] for layer in report["standalone"].values())
    categories = {c for layer in project["layers"] for c in layer.get("categories", [])}
    assert HOSTILE_CHAIN in categories, "the chain name is a category value, as text"
