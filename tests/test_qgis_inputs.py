"""The QGIS package written in two parts (a run writes the input layers while the analyses
run, then appends the rest): the same package as written at once."""

from __future__ import annotations

import pickle
import sqlite3
import zipfile
from pathlib import Path

import pandas as pd
import pyogrio
import pytest

from geo._background import Background
from geo.qgis import WrittenInputs, write_qgis_inputs, write_qgis_package
from tests.test_qgis import make_results, make_settings, make_study


def _rows(gpkg: Path, query: str) -> list[tuple]:
    con = sqlite3.connect(gpkg)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def _package(gpkg: Path, qgz: Path) -> dict:
    """Everything a user sees of a package: layers with their rows, the GeoPackage's own
    tables (contents, styles, feature counts) and the project file."""
    layers = {name: pyogrio.read_dataframe(gpkg, layer=name) for name, _ in pyogrio.list_layers(gpkg)}
    with zipfile.ZipFile(qgz) as z:
        project = {name: z.read(name) for name in z.namelist()}
    return {
        "layers": [tuple(x) for x in pyogrio.list_layers(gpkg)],
        "frames": layers,
        "contents": _rows(gpkg, "SELECT table_name, data_type, identifier, min_x, min_y, max_x, max_y, srs_id, "
                                "last_change FROM gpkg_contents ORDER BY table_name"),
        "styles": _rows(gpkg, "SELECT * FROM layer_styles ORDER BY id"),
        "counts": _rows(gpkg, "SELECT * FROM gpkg_ogr_contents ORDER BY table_name"),
        "project": project,
        "files": sorted(p.name for p in gpkg.parent.iterdir()),
    }


def _assert_same(a: dict, b: dict) -> None:
    assert a["layers"] == b["layers"] and a["contents"] == b["contents"]
    assert a["styles"] == b["styles"] and a["counts"] == b["counts"]
    assert a["project"] == b["project"] and a["files"] == b["files"]
    for name, frame in a["frames"].items():
        pd.testing.assert_frame_equal(frame, b["frames"][name])


@pytest.mark.parametrize("forked", [True, False])
def test_inputs_first_then_the_rest_is_the_package_written_at_once(tmp_path, forked):
    study = make_study()
    results = make_results(study)
    settings = make_settings(tmp_path)
    once = write_qgis_package(tmp_path / "once", study, results, settings)
    with Background(enabled=forked) as bg:
        bg.start("inputs", write_qgis_inputs, tmp_path / "two", study, settings)
        inputs = bg.wait("inputs")
    assert isinstance(inputs, WrittenInputs)
    assert [layer.name for layer in inputs.layers] == ["districts", "district_boundaries", "zones",
                                                      "innovation_districts", "housing"]
    assert [name for name, _ in pyogrio.list_layers(tmp_path / "two" / "zoneatlas.gpkg")] == [
        layer.name for layer in inputs.layers]   # only the inputs so far
    inputs = pickle.loads(pickle.dumps(inputs))   # as it comes back from a background process
    twice = write_qgis_package(tmp_path / "two", study, results, settings, inputs)
    _assert_same(_package(*once), _package(*twice))
    assert len(_package(*twice)["frames"]["housing"]) == len(study.housing)


def test_inputs_only_package_in_two_parts(tmp_path):
    """No analysis (nothing appended): the package of the inputs alone, as at once."""
    study = make_study()
    settings = make_settings(tmp_path)
    once = write_qgis_package(tmp_path / "once", study, {}, settings)
    inputs = write_qgis_inputs(tmp_path / "two", study, settings)
    twice = write_qgis_package(tmp_path / "two", study, {}, settings, inputs)
    _assert_same(_package(*once), _package(*twice))


def test_inputs_replace_a_previous_package(tmp_path):
    study = make_study()
    settings = make_settings(tmp_path)
    write_qgis_package(tmp_path / "q", study, make_results(study), settings)
    inputs = write_qgis_inputs(tmp_path / "q", study, settings)
    assert not (tmp_path / "q" / "zoneatlas.qgz").exists()
    assert [name for name, _ in pyogrio.list_layers(tmp_path / "q" / "zoneatlas.gpkg")] == [
        layer.name for layer in inputs.layers]
