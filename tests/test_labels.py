"""Labels that depend on the table a column sits in, as every consumer shows them: the
workbook's headers, the QGIS field aliases and the web popups (a dict literal with a
repeated key once gave the collaboration pairs' districts the commuting flows' labels,
"Home district" / "Work district", everywhere)."""

from __future__ import annotations

import ast
import inspect
import re

import openpyxl
import pytest

from geo import i18n
from geo.i18n import label


def _repeated_keys(module) -> list[str]:
    tree = ast.parse(inspect.getsource(module))
    repeated = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
            repeated += sorted({k for k in keys if keys.count(k) > 1})
    return repeated


def test_no_term_is_defined_twice():
    from geo.qgis import _styles
    from geo.webmap import _base

    for module in (i18n, _styles, _base):
        assert _repeated_keys(module) == [], module.__name__


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_columns_whose_meaning_depends_on_the_table(lang):
    flows = label("district_a", lang, "commuting_flows"), label("district_b", lang, "commuting_flows")
    pairs = label("district_a", lang, "collaboration_pairs"), label("district_b", lang, "collaboration_pairs")
    assert flows == (("居住地行政区", "就业地行政区") if lang == "zh" else ("Home district", "Work district"))
    assert pairs == (("功能区 A 所在行政区", "功能区 B 所在行政区") if lang == "zh"
                     else ("District of zone A", "District of zone B"))
    ranks = {t: label("rank", lang, t) for t in ("collaboration_pairs", "core_periphery_zones",
                                                 "chain_completeness", "commuting_flows")}
    assert len(set(ranks.values())) == 4, ranks
    assert label("workers", lang, "balance_districts") != label("workers", lang, "balance_workplaces")
    if lang == "zh":   # the layer of firms, not a count of them
        assert (i18n.title("firms", lang), label("firms", lang)) == ("企业", "企业数")


def test_workbook_headers_and_qgis_aliases_follow_the_table(small_run):
    _, report = small_run
    wb = openpyxl.load_workbook(report.output_dir / "tables.xlsx", read_only=True)
    names = {row[4]: row[0] for row in wb["contents"].iter_rows(min_row=2, values_only=True)}

    def headers(table):
        sheet = names[f"tables/{table}.csv"]
        return next(wb[sheet].iter_rows(max_row=1, values_only=True))

    zh = {"collaboration_pairs": "功能区 A 所在行政区 (district_a)", "commuting_flows": "居住地行政区 (district_a)",
          "core_periphery_zones": "实力排名 (rank)", "chain_completeness": "完整度排名 (rank)",
          "balance_districts": "区内居住就业人口 (workers)"}
    for table, header in zh.items():
        assert header in headers(table), (table, headers(table))
    titles = [row[1] for row in wb["contents"].iter_rows(min_row=2, values_only=True)]
    assert "企业" in titles and "链主企业" in titles and "企业数" not in titles
    # QGIS: the aliases stored with each layer's default style in the GeoPackage
    import sqlite3

    con = sqlite3.connect(report.output_dir / "qgis" / "zoneatlas.gpkg")
    qml = dict(con.execute("SELECT f_table_name, styleQML FROM layer_styles WHERE useAsDefault"))
    described = dict(con.execute("SELECT f_table_name, description FROM layer_styles WHERE useAsDefault"))
    con.close()

    def alias(layer, field):
        m = re.search(rf'<alias field="{field}" index="\d+" name="([^"]*)"', qml[layer])
        return m.group(1) if m else None

    assert alias("collaboration_pairs", "district_a") == "功能区 A 所在行政区"
    assert alias("commuting_flows", "district_a") == "居住地行政区"
    assert alias("core_periphery_zones", "rank") == "实力排名"
    assert alias("balance_districts", "workers") == "区内居住就业人口"
    assert (described["firms"], described["leader_firms"]) == ("企业", "链主企业")


#: Columns shown by their name on purpose: codes and measures known by their short name.
UNLABELLED_OK = {"t_obs", "t_min", "t_max", "t_unit", "gini"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_column_of_every_table_has_a_label(small_run, lang):
    """A header or QGIS alias that is the raw column name (share_residential,
    min_huff_distance_m) reads as untranslated to a planner; the count columns of the chain
    tables are counts, not the layer they count."""
    import pandas as pd

    _, report = small_run
    raw = []
    for csv in sorted((report.output_dir / "tables").glob("*.csv")):
        for col in pd.read_csv(csv, nrows=0, encoding="utf-8-sig").columns:
            if label(col, lang, csv.stem) == col and col not in UNLABELLED_OK:
                raw.append(f"{csv.stem}.{col}")
    assert raw == [], raw
    assert label("zones", lang, "collaboration_chains") != label("zones", lang)
    assert label("role", lang, "core_periphery_zones") != label("role", lang)
