"""The output contract (docs/outputs.md): names, key columns, geometry kinds, missing values."""

from __future__ import annotations

import pandas as pd
import pyogrio
import pytest

#: docs/outputs.md: layer -> (geometry kind or None for a plain table, key columns)
CONTRACT = {
    "districts": ("Polygon", ["district_id", "name"]),
    "zones": ("Polygon", ["zone_id", "name", "chain", "jobs", "district_id"]),
    "innovation_districts": ("Polygon", ["innov_id", "name", "chains"]),
    "housing": ("Point", ["housing_id"]),
    "balance_workplaces": ("Polygon", ["workplace_id", "kind", "name", "district_id", "jobs",
                                       "workers_3000", "workers_5000", "workers_10000", "workers",
                                       "jhr", "balance_class", "workers_shared", "jhr_shared"]),
    "balance_districts": ("Polygon", ["district_id", "name", "jobs", "workers", "jhr", "balance_class"]),
    "collaboration_pairs": ("LineString", ["zone_a", "zone_b", "chain", "district_a", "district_b",
                                           "distance_m", "strength", "pair_type", "rank", "recommended",
                                           "reason"]),
    "collaboration_zones": ("Polygon", ["zone_id", "name", "chain", "district_id", "nearest_partner_id",
                                        "nearest_partner_district", "nearest_partner_m", "partners_within",
                                        "nearest_innov_id", "nearest_innov_m"]),
    "collaboration_chains": (None, ["chain", "zones", "districts", "share_linked",
                                    "mean_nearest_partner_m", "standard_distance_m"]),
    "core_periphery_zones": ("Polygon", ["zone_id", "name", "chain", "district_id", "score", "role",
                                         "core_id", "core_distance_m", "attach_prob", "strategy"]),
    "core_periphery_links": ("LineString", ["zone_id", "core_id", "distance_m", "attach_prob"]),
    "core_periphery_summary": (None, ["n_cores", "primacy", "gini", "rank_size_slope"]),
}


@pytest.fixture(scope="module")
def outputs(small_run):
    _, report = small_run
    return report.output_dir


@pytest.mark.parametrize("layer", list(CONTRACT))
def test_layer_in_geopackage_and_csv(outputs, layer):
    kind, columns = CONTRACT[layer]
    gpkg = outputs / "qgis" / "zoneatlas.gpkg"
    info = pyogrio.read_info(gpkg, layer=layer)
    if kind is None:
        assert info["geometry_type"] is None, layer
    else:
        assert info["geometry_type"].removeprefix("Multi") == kind, (layer, info["geometry_type"])
    assert set(columns) <= set(info["fields"]), set(columns) - set(info["fields"])
    table = pd.read_csv(outputs / "tables" / f"{layer}.csv", encoding="utf-8-sig", keep_default_na=False,
                        dtype=str)
    assert set(columns) <= set(table.columns)
    assert len(table) == info["features"]
    assert not table.isin(["nan", "NaN", "None", "<NA>"]).any().any(), "missing values must be empty cells"


def test_csv_files_start_with_bom(outputs):
    for path in (outputs / "tables").glob("*.csv"):
        assert path.read_bytes().startswith(b"\xef\xbb\xbf"), path.name


def test_classes_are_from_the_design(outputs):
    read = lambda name: pd.read_csv(outputs / "tables" / f"{name}.csv", encoding="utf-8-sig")  # noqa: E731
    assert set(read("balance_workplaces")["balance_class"]) <= {"jobs_rich", "balanced", "housing_rich", "no_housing"}
    assert set(read("balance_workplaces")["kind"]) == {"zone", "innovation_district"}
    assert set(read("collaboration_pairs")["pair_type"]) <= {"main_partner", "rd_manufacturing",
                                                            "terminal_supporting", "peer"}
    cp = read("core_periphery_zones")
    assert set(cp["role"]) == {"core", "periphery"}
    assert set(cp["strategy"]) <= {"independent_pole", "collaborative_subordinate", "isolated"}
    assert (cp["strategy"] == "independent_pole").sum() == (cp["role"] == "core").sum()
