"""The QGIS input layers start as soon as every layer is loaded, while the road graph is
built (``load_study(on_layers=...)``): the same package as before; a load failing after
that start (a problem of the roads) is the same one error, exit 2, previous outputs intact
and nothing left running or behind; the load's problems and warnings keep their order."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geo._errors import InputError
from tests.conftest import tree_digest
from tests.test_background import _alive, _staging_left, _wait_for_file, needs_fork
from tests.test_bad_input import Study as StudyCopy


def _watch(monkeypatch, pid_file: Path, *, slow: bool = False) -> list[float]:
    """``write_qgis_inputs`` writes its process id to ``pid_file`` when it starts (then, with
    ``slow``, sleeps instead of writing); ``_build_network`` waits for that file before
    building the graph, so the run only goes on when the input layers started first.
    Returns the list the graph build appends its end time to."""
    import geo.layers._study as study_mod
    import geo.qgis

    real_inputs, real_build = geo.qgis.write_qgis_inputs, study_mod._build_network
    built: list[float] = []

    def inputs(out_dir, study, settings):
        pid_file.write_text(str(os.getpid()), encoding="utf-8")
        assert study.roads is None and study.network is None   # the load's study before the graph
        if slow:
            time.sleep(120)
        return real_inputs(out_dir, study, settings)

    def build(*args, **kwargs):
        _wait_for_file(pid_file)   # never written if the input layers start only after the load
        graph = real_build(*args, **kwargs)
        built.append(time.monotonic())
        return graph

    monkeypatch.setattr(geo.qgis, "write_qgis_inputs", inputs)
    monkeypatch.setattr(study_mod, "_build_network", build)
    return built


@needs_fork
def test_the_input_layers_start_before_the_road_graph_and_give_the_same_package(small_run, tmp_path,
                                                                                monkeypatch):
    from geo.pipeline import EARLY_STEP, run

    settings, before = small_run
    pid_file = tmp_path / "pid"
    built = _watch(monkeypatch, pid_file)
    report = run(settings, output_dir=tmp_path / "out")
    assert len(built) == 1
    assert int(pid_file.read_text(encoding="utf-8")) != os.getpid()   # in a process of its own
    assert report.manifest["background_steps"][EARLY_STEP]["forked"] is True
    gpkg = report.output_dir / "qgis" / "zoneatlas.gpkg"
    # the package as written when the input layers started after the load (the session's run)
    assert gpkg.read_bytes() == (before.output_dir / "qgis" / "zoneatlas.gpkg").read_bytes()
    assert ((report.output_dir / "qgis" / "zoneatlas.qgz").read_bytes()
            == (before.output_dir / "qgis" / "zoneatlas.qgz").read_bytes())
    # the roads as the network uses them (rewritten by the graph build, after the early start)
    roads = pyogrio.read_dataframe(gpkg, layer="roads")
    assert list(roads.columns) == ["road_id", "class", "speed_kmh", "oneway", "component", "geometry"]
    assert (roads["component"].to_numpy() == report.study.roads["component"].to_numpy()).all()
    assert set(roads["class"]) <= {"motorway", "expressway", "arterial", "secondary", "local"}
    layers = [name for name, _ in pyogrio.list_layers(gpkg)]
    assert layers.index("roads") == layers.index("employment") + 1   # last of the inputs, as before
    assert report.manifest["warnings"] == before.manifest["warnings"]


def _bad_speeds(study_copy: Path) -> StudyCopy:
    s = StudyCopy(study_copy)
    roads = s.read("roads")
    roads.loc[[3, 7], "speed"] = 0.0
    s.put("roads", roads)
    return s


@needs_fork
def test_a_roads_problem_after_the_early_start_stops_it_and_keeps_previous_outputs(
        small_run, small_study_copy, tmp_path, monkeypatch, cli_in_process):
    _, good = small_run
    s = _bad_speeds(small_study_copy)
    out = tmp_path / "maps"
    shutil.copytree(good.output_dir, out)
    before = tree_digest(out)
    pid_file = tmp_path / "pid"
    _watch(monkeypatch, pid_file, slow=True)
    started = time.monotonic()
    proc = cli_in_process("run", "-c", s.config, "-o", out, "-q")
    assert time.monotonic() - started < 60   # the 120 s writer was stopped, not waited for
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: layers.roads (layers/broken_roads.gpkg")
    assert "field 'speed_kmh' (column 'speed')" in lines[0] and "rows R00004, R00008" in lines[0]
    assert "Traceback" not in proc.stderr
    pid = int(pid_file.read_text(encoding="utf-8"))
    assert pid != os.getpid() and not _alive(pid)
    assert tree_digest(out) == before and _staging_left(out) == []


@needs_fork
def test_ctrl_c_while_the_road_graph_is_built_stops_the_input_layers(small_run, tmp_path, monkeypatch):
    import geo.layers._study as study_mod
    from geo.pipeline import run

    settings, _ = small_run
    pid_file = tmp_path / "pid"
    _watch(monkeypatch, pid_file, slow=True)
    waiting = study_mod._build_network

    def interrupted(*args, **kwargs):
        _wait_for_file(pid_file)
        raise KeyboardInterrupt

    monkeypatch.setattr(study_mod, "_build_network", interrupted)
    assert waiting is not interrupted
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run(settings, output_dir=out)
    assert not _alive(int(pid_file.read_text(encoding="utf-8")))
    assert not out.exists() and _staging_left(out) == []


def test_on_layers_sees_every_layer_but_the_roads_and_warnings_keep_their_order(small_study_copy):
    """A short road apart from the others (a network warning, reported while the graph is
    built, now last) and a land-use code the config does not name (a raster warning): the
    network's warning stands between the vector layers' and the rasters', where it stood
    when the graph was built before the rasters were read."""
    from geo.layers import load_study
    from geo.settings import load_settings

    s = StudyCopy(small_study_copy)
    roads = s.read("roads")
    x0, y0, x1, y1 = roads.total_bounds
    island = shapely.LineString([((x0 + x1) / 2 + 3.3, (y0 + y1) / 2 + 7.7), ((x0 + x1) / 2 + 43.3, (y0 + y1) / 2 + 7.7)])
    vertices = shapely.points(shapely.get_coordinates(roads.geometry.values))
    assert shapely.distance(vertices, island).min() > 5.0   # far from every vertex: a piece of its own
    piece = roads.iloc[[0]].copy()
    piece["id"] = "R_ISLAND"
    s.put("roads", pd.concat([roads, piece.set_geometry([island], crs=roads.crs)], ignore_index=True))
    classes = dict(s.cfg["layers"]["landuse"]["classes"])
    classes.pop(max(classes))
    s.cfg["layers"]["landuse"]["classes"] = classes
    s.save()
    seen: list[tuple] = []
    study = load_study(load_settings(s.config), on_layers=lambda st: seen.append(
        (st.roads, st.network, list(st.warnings), st.zones is not None, st.landuse is not None)))
    assert len(seen) == 1
    roads_then, network_then, warnings_then, has_zones, has_landuse = seen[0]
    assert roads_then is None and network_then is None and has_zones and has_landuse
    assert study.network is not None and len(study.roads) == len(roads) + 1
    network = [w for w in study.warnings if "separate pieces" in w]
    assert len(network) == 1 and network[0].startswith("layers.roads (layers/broken_roads.gpkg")
    rasters = [w for w in warnings_then if w.startswith(("layers.landuse", "layers.population"))]
    assert len([w for w in rasters if w.startswith("layers.landuse")]) == 1
    vectors = [w for w in warnings_then if w not in rasters]
    assert warnings_then == [*vectors, *rasters]
    assert study.warnings[:len(warnings_then) + 1] == [*vectors, *network, *rasters]


def test_problems_keep_their_order_and_nothing_starts(small_study_copy):
    """A roads problem (found while the graph is built) and a raster problem: reported
    together in layer order, the roads' first; ``on_layers`` is never called."""
    from geo.layers import load_study
    from geo.settings import load_settings

    s = _bad_speeds(small_study_copy)
    (s.root / "layers" / "landuse.tif").write_bytes(b"not a raster")
    seen: list = []
    with pytest.raises(InputError) as info:
        load_study(load_settings(s.config), on_layers=seen.append)
    assert seen == []
    problems = info.value.problems
    roads = [i for i, p in enumerate(problems) if p.startswith("layers.roads")]
    landuse = [i for i, p in enumerate(problems) if p.startswith("layers.landuse")]
    assert roads and landuse and max(roads) < min(landuse)
    assert np.all(np.diff(roads) == 1)
