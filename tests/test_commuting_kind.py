"""Which length ``mean_commute_m`` measures (``commuting_summary.commute_m_kind``: ``network``
with roads, ``straight`` without) is said on the atlas page and in the QGIS package: the
atlas' distance indicators and key figures, the package's layer titles, field aliases,
layer abstracts and GeoPackage descriptions. Checked on the bundled small sample (roads and
an OD table, zh) and on a copy without roads (en), read by their consumers: the HTML text,
pyogrio and PyQGIS."""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser

import geopandas as gpd
import pyogrio
import pytest
import shapely

from geo._types import AnalysisResult, Study

SUFFIX = {("network", "zh"): "（路网）", ("network", "en"): " (road network)",
          ("straight", "zh"): "（直线）", ("straight", "en"): " (straight line)"}


class _Tables(HTMLParser):
    """Every ``<table>`` of a page: class → rows of cell texts; the figure tables too."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[str, list[list[str]]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append((dict(attrs).get("class") or "", []))
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.tables:
            self.tables[-1][1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def commuting_tables(html: str) -> dict[str, list[list[str]]]:
    """The atlas' commuting section: ``figures``, ``commute-indicators``, ``commute-flows``, ..."""
    start = html.index('id="commuting"')
    end = html.find("</section>", start)
    parser = _Tables()
    parser.feed(html[start:end if end > 0 else None])
    return {cls: rows for cls, rows in parser.tables}


def assert_atlas_says(tables: dict[str, list[list[str]]], kind: str, lang: str) -> None:
    other = "straight" if kind == "network" else "network"
    mean = ("平均通勤距离" if lang == "zh" else "Mean commute") + SUFFIX[kind, lang]
    share = ("5 公里以内通勤比重" if lang == "zh" else "Share within 5 km") + SUFFIX[kind, lang]
    figures = {row[0]: row[1] for row in tables["figures"]}
    assert mean in figures and share in figures, list(figures)
    indicators = {row[0]: row[1:] for row in tables["commute-indicators"][1:]}
    assert mean in indicators and share in indicators, list(indicators)
    # the national reference figures beside them keep their reference and status
    observed = "实测" if lang == "zh" else "observed"
    assert indicators[share][1:] == ["50.0%", observed]
    assert indicators[mean][2] == observed
    assert tables["commute-flows"][0][-1] == mean
    assert tables["commute-flows"][0][0] == ("通勤人数排名" if lang == "zh" else "Rank by commuters")
    # nowhere the other kind
    texts = [cell for rows in tables.values() for row in rows for cell in row]
    assert not [t for t in texts if SUFFIX[other, lang] in t]
    # the minute indicators carry no length suffix
    minutes = ("平均通勤时间（分钟）" if lang == "zh" else "Mean commute (minutes)")
    assert minutes in indicators


# ---------------------------------------------------------------------------
# the atlas section alone, every kind × language


def _result(kind: str | None) -> tuple[AnalysisResult, Study]:
    summary = {"flows": 3, "commuters": 30.0, "mean_commute_m": 6000.0, "mean_commute_min": 20.0,
               "share_within_5km": 0.4, "share_within_45min": 0.9, "share_over_60min": 0.05,
               "share_same_district": 0.5, "t_obs": 20.0, "t_min": 10.0, "t_max": 40.0, "excess_commuting": 0.5,
               "commuting_potential_used": 1 / 3, "t_unit": "min"}
    if kind is not None:
        summary["commute_m_kind"] = kind
    flows = gpd.GeoDataFrame({"district_a": ["A"], "district_b": ["B"], "commuters": [30.0],
                              "mean_commute_m": [6000.0], "rank": [1]},
                             geometry=[shapely.LineString([(0, 0), (1, 1)])], crs="EPSG:4544")
    districts = gpd.GeoDataFrame({"district_id": ["A", "B"], "name": ["甲区", "乙区"]},
                                 geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs="EPSG:4544")
    return (AnalysisResult("commuting", tables={"commuting_flows": flows}, summary=summary),
            Study(crs="EPSG:4544", zones=districts.iloc[:0], districts=districts))


@pytest.mark.parametrize("kind", ["network", "straight", None])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_atlas_section_names_the_length(kind, lang):
    from geo.webmap._atlas_commuting import commuting_section
    from geo.webmap.atlas import _figures, _table

    result, study = _result(kind)
    section = commuting_section(result, study, lang, table=_table, figures=_figures)
    tables = {t["cls"]: [t["header"], *[[c["v"] for c in row] for row in t["rows"]]] for t in section["tables"]}
    tables["figures"] = [list(f) for f in section["figures"]]
    assert_atlas_says(tables, kind or "straight", lang)     # a summary without the key: straight (the default)


# ---------------------------------------------------------------------------
# end to end: the CLI on the small sample with roads (zh) and without roads (en)


@pytest.fixture(scope="module")
def kind_runs(small_study, tmp_path_factory):
    import yaml

    from tests.conftest import run_cli

    base = tmp_path_factory.mktemp("kind_runs")
    noroads = base / "noroads"
    shutil.copytree(small_study.parent, noroads)
    cfg = yaml.safe_load((noroads / small_study.name).read_text(encoding="utf-8"))
    cfg["layers"].pop("roads")
    cfg["balance"]["reach"] = "euclidean"
    cfg["study"]["language"] = "en"
    config = noroads / small_study.name
    config.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    out = {}
    for kind, cfg_path in (("network", small_study), ("straight", config)):
        out[kind] = base / f"maps-{kind}"
        proc = run_cli("run", "-c", cfg_path, "-o", out[kind], "--only", "commuting", "-q")
        assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.parametrize("kind,lang", [("network", "zh"), ("straight", "en")])
def test_atlas_page_names_the_length(kind_runs, kind, lang):
    run = kind_runs[kind]
    manifest = json.loads((run / "run.json").read_text(encoding="utf-8"))
    assert manifest["summary"]["commuting"]["commute_m_kind"] == kind
    html = (run / "index.html").read_text(encoding="utf-8")
    tables = commuting_tables(html)
    assert_atlas_says(tables, kind, lang)
    # the value beside the label is the summary's
    s = manifest["summary"]["commuting"]
    share = ("5 公里以内通勤比重" if lang == "zh" else "Share within 5 km") + SUFFIX[kind, lang]
    row = next(r for r in tables["commute-indicators"] if r[0] == share)
    assert row[1] == f"{s['share_within_5km'] * 100:.1f}%"


@pytest.mark.parametrize("kind,lang", [("network", "zh"), ("straight", "en")])
def test_web_map_labels_name_the_length(kind_runs, kind, lang):
    """Popups, layer control and legend of commuting.html say which length they show."""
    html = (kind_runs[kind] / "commuting.html").read_text(encoding="utf-8")
    mean, share = (("平均通勤距离", "5 公里以内通勤比重") if lang == "zh" else ("Mean commute", "Share within 5 km"))
    for key, text in (("mean_commute_m", mean), ("share_within_5km", share)):
        spec = json.dumps([key, text], ensure_ascii=False, separators=(",", ":"))[:-1]   # a popup field
        with_suffix = json.dumps([key, text + SUFFIX[kind, lang]], ensure_ascii=False, separators=(",", ":"))[:-1]
        assert html.count(with_suffix) >= 1 and spec + ',' not in html, text
    title = ("就业地：5 公里以内通勤比重" if lang == "zh" else "Workplaces: share of commuters within 5 km")
    assert (title + SUFFIX[kind, lang]) in html


TITLES = {("network", "zh"): ("就业地通勤（路网距离）", "跨区通勤流（路网距离）"),
          ("straight", "en"): ("Workplace commuting (straight line)",
                               "Commuting flows between districts (straight line)")}
ALIASES = {("network", "zh"): ("平均通勤距离（路网，米）", "5 公里以内通勤比重（路网）"),
           ("straight", "en"): ("Mean commute (straight line, m)", "Share within 5 km (straight line)")}
ABSTRACT = {("network", "zh"): "通勤距离口径：路网", ("straight", "en"): "Commute length: straight line"}
KIND_LABEL = {("network", "zh"): "路网", ("straight", "en"): "straight line"}
WITH_LENGTH = ("commuting_workplaces", "commuting_flows", "commuting_districts", "commuting_sheds",
               "commuting_summary")


@pytest.mark.parametrize("kind,lang", [("network", "zh"), ("straight", "en")])
def test_geopackage_carries_the_kind(kind_runs, kind, lang):
    gpkg = kind_runs[kind] / "qgis" / "zoneatlas.gpkg"
    summary = pyogrio.read_dataframe(gpkg, layer="commuting_summary")
    assert list(summary["commute_m_kind"]) == [kind]
    for name in WITH_LENGTH:
        meta = pyogrio.read_info(gpkg, layer=name).get("layer_metadata") or {}
        assert meta.get("DESCRIPTION", "").startswith(ABSTRACT[kind, lang]), name
    # the other layers keep an empty description
    assert not (pyogrio.read_info(gpkg, layer="commuting_directions").get("layer_metadata") or {}).get("DESCRIPTION")
    assert not (pyogrio.read_info(gpkg, layer="zones").get("layer_metadata") or {}).get("DESCRIPTION")


_PYQGIS = r"""
import json, sys
from qgis.core import QgsApplication, QgsProject, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
project = QgsProject.instance()
ok = project.read(sys.argv[1])
out = {"read": ok, "layers": {}}
for layer in project.mapLayers().values():
    if not isinstance(layer, QgsVectorLayer):
        continue
    name = layer.source().split("layername=", 1)[-1].split("|", 1)[0]
    info = {"title": layer.name(), "valid": layer.isValid(), "abstract": layer.metadata().abstract(),
            "aliases": {f.name(): f.alias() for f in layer.fields()}}
    i = layer.fields().indexOf("commute_m_kind")
    if i >= 0:
        setup = layer.editorWidgetSetup(i)
        formatter = QgsApplication.fieldFormatterRegistry().fieldFormatter(setup.type())
        value = next(iter(layer.getFeatures()))["commute_m_kind"]
        info["kind_value"] = value
        info["kind_shown"] = formatter.representValue(layer, i, setup.config(), None, value)
    out["layers"][name] = info
print(json.dumps(out, ensure_ascii=False))
app.exitQgis()
"""


@pytest.mark.qgis
@pytest.mark.parametrize("kind,lang", [("network", "zh"), ("straight", "en")])
def test_pyqgis_package_says_the_kind(kind_runs, kind, lang, tmp_path):
    from tests.test_qgis import SYSTEM_PYTHON, require_pyqgis

    python = require_pyqgis(SYSTEM_PYTHON)
    home = tmp_path / "qgis-home"
    home.mkdir()
    script = tmp_path / "check.py"
    script.write_text(_PYQGIS, encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "QT_QPA_PLATFORM": "offscreen",
           "XDG_RUNTIME_DIR": str(home), "QGIS_CUSTOM_CONFIG_PATH": str(home / "profile"), "LANG": "C.UTF-8"}
    proc = subprocess.run([python, str(script), str(kind_runs[kind] / "qgis" / "zoneatlas.qgz")],
                          capture_output=True, text=True, timeout=300, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["read"]
    layers = report["layers"]
    assert all(info["valid"] for info in layers.values())
    workplaces, flows = TITLES[kind, lang]
    assert layers["commuting_workplaces"]["title"] == workplaces
    assert layers["commuting_flows"]["title"] == flows
    other = "straight" if kind == "network" else "network"
    mean_alias, share_alias = ALIASES[kind, lang]
    for name in WITH_LENGTH:
        info = layers[name]
        assert info["abstract"].startswith(ABSTRACT[kind, lang]), name
        assert info["aliases"]["mean_commute_m"] == mean_alias, name
        if "share_within_5km" in info["aliases"]:
            assert info["aliases"]["share_within_5km"] == share_alias, name
        assert SUFFIX[other, lang].strip(" （）()") not in info["title"], name
    # layers without a commute length keep their plain title and no abstract
    from geo.i18n import label

    for name in ("commuting_sheds", "commuting_directions", "commuting_summary", "commuting_districts"):
        assert layers[name]["title"] == label(name, lang), name
    assert layers["commuting_directions"]["abstract"] == ""
    assert layers["zones"]["abstract"] == ""
    # the summary table stores the code and shows its label
    summary = layers["commuting_summary"]
    assert summary["kind_value"] == kind and summary["kind_shown"] == KIND_LABEL[kind, lang]
    assert summary["aliases"]["commute_m_kind"] == label("commute_m_kind", lang)


def test_package_marking_leaves_other_layers_alone():
    """Only commuting layers with a length field change; a second run of the marking on
    fresh layers gives the same texts (nothing accumulates across calls)."""
    from geo.qgis._commuting_styles import mark_commute_length
    from geo.qgis._project import ProjectLayer
    from geo.qgis._qml import LayerStyle

    def layers():
        return [ProjectLayer("commuting_flows", "跨区通勤流", "commuting", "line",
                             [LayerStyle("commuters", None, fields=["fid", "mean_commute_m"],
                                         aliases={"mean_commute_m": "平均通勤距离（米）"}, description="跨区通勤流")]),
                ProjectLayer("commuting_directions", "通勤距离与方向", "commuting", None,
                             [LayerStyle("default", None, fields=["fid", "band_km"])]),
                ProjectLayer("balance_workplaces", "就业地", "balance", "polygon",
                             [LayerStyle("jhr", None, fields=["fid", "mean_commute_m"],
                                         aliases={"mean_commute_m": "x"})])]

    for _ in range(2):
        marked = layers()
        mark_commute_length(marked, "straight", "zh")
        flows, directions, balance = marked
        assert flows.title == "跨区通勤流（直线距离）" and flows.styles[0].description == flows.title
        assert flows.styles[0].aliases["mean_commute_m"] == "平均通勤距离（直线，米）"
        assert flows.abstract.startswith("通勤距离口径：直线")
        assert (directions.title, directions.abstract) == ("通勤距离与方向", "")
        assert (balance.title, balance.abstract, balance.styles[0].aliases) == ("就业地", "", {"mean_commute_m": "x"})
