"""Searches shared between analyses: the commuting's one complete search per workplace
also gives the balance's minimum-commute matrix (the step ``theoretical minimum commute``)
and the collaboration's partner minutes, with the same minutes to the last bit as the
searches those analyses make alone.

The values themselves are checked against brute forces elsewhere (the minimum commute
against linprog in tests/test_balance_network.py, pair minutes against networkx in
tests/test_network_links.py); here: what is read from the commuting's searches equals what
is searched alone, a run with an OD table does not search it a second time, and a partial
run gives the full run's numbers.
"""

from __future__ import annotations

import numpy as np
import pytest

import geo.analysis.balance._mincommute as mc
import geo.network as gn
from geo.analysis import balance, commuting
from geo.pipeline import MIN_COMMUTE, run_analyses

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def loaded(small_study):
    from geo.layers import load_study
    from geo.settings import load_settings

    settings = load_settings(small_study)
    study = load_study(settings)
    assert study.network is not None and study.commuting is not None
    return study, settings


def _kw(settings) -> dict:
    return dict(access_speed_kmh=settings.network.access_speed_kmh, max_access_m=settings.network.max_access_m)


def test_the_commutings_searches_give_the_cells_matrix_to_the_last_bit(loaded):
    study, settings = loaded
    cells = balance.commute_cells(study, settings)
    assert not cells.empty and len(cells.used) > 10 and len(cells.xy) > 100
    geoms = balance.workplaces_from(study.zones, study.innovation_districts).geometry.to_numpy()
    alone = mc.cell_minutes(study.network, cells, geoms, _kw(settings))
    _, costs = commuting.run_with_cells(study, settings, [(cells.xy, cells.used)])
    shared = costs[0]
    assert shared.shape == alone.shape == (len(cells.xy), len(cells.used))
    assert np.array_equal(shared, alone, equal_nan=True)
    assert np.isfinite(alone).mean() > 0.9
    # an independent way: one search per cell on the reversed graph (other sums, same minutes)
    other = gn.home_times(study.network, cells.xy, geoms[cells.used], from_origins=True, **_kw(settings))
    np.testing.assert_array_equal(np.isnan(other), np.isnan(alone))
    np.testing.assert_allclose(other[np.isfinite(other)], alone[np.isfinite(alone)], rtol=1e-12, atol=0)


def test_a_run_with_od_flows_reads_the_cells_from_the_commuting_and_partial_runs_agree(loaded, monkeypatch):
    study, settings = loaded
    alone = balance.run(study, settings).summary      # the balance by itself searches its cells
    want = alone["theoretical_min_commute_min"]
    assert want is not None and want > 0
    only_balance = run_analyses(study, settings, ["balance"])["balance"].summary
    assert only_balance["theoretical_min_commute_min"] == want

    def no_second_search(*args, **kwargs):
        raise AssertionError("the cells were searched again")

    monkeypatch.setattr(mc, "cell_minutes", no_second_search)
    steps: list[str] = []

    def step(name):
        steps.append(name)
        from contextlib import nullcontext
        return nullcontext()

    results = run_analyses(study, settings, step=step)
    assert steps[-2:] == ["commuting", MIN_COMMUTE]
    assert MIN_COMMUTE not in results and list(results) == ["core_periphery", "collaboration", "balance",
                                                            "chains", "commuting"]
    summary = results["balance"].summary
    assert summary["theoretical_min_commute_min"] == want
    assert summary["theoretical_min_commute_min_cell_m"] == alone["theoretical_min_commute_min_cell_m"]
    # the straight-line one is computed in that step too
    assert summary["theoretical_min_commute_m"] == alone["theoretical_min_commute_m"] > 0
    assert summary["theoretical_min_commute_cell_m"] == alone["theoretical_min_commute_cell_m"]
    # the keys keep their place in the summary (run.json)
    assert list(summary) == list(alone)
    # without the commuting the step searches them itself
    with pytest.raises(AssertionError, match="searched again"):
        run_analyses(study, settings, ["balance"])


def test_the_balance_alone_leaves_the_keys_empty_until_merged(loaded):
    study, settings = loaded
    deferred = balance.run(study, settings, min_commute=False)
    assert deferred.summary["theoretical_min_commute_min"] is None
    assert deferred.summary["theoretical_min_commute_m"] is None
    cells = balance.commute_cells(study, settings)
    part = balance.min_commute_part(study, settings, cells)
    merged = balance.merge_min_commute(deferred, part).summary
    inline = balance.run(study, settings).summary
    assert merged == inline and list(merged) == list(inline)


def test_without_roads_there_is_no_separate_step(loaded):
    from dataclasses import replace

    study, settings = loaded
    flat = replace(study, network=None)
    steps: list[str] = []

    def step(name):
        steps.append(name)
        from contextlib import nullcontext
        return nullcontext()

    results = run_analyses(flat, settings, ["balance", "commuting"], step=step)
    assert MIN_COMMUTE not in steps
    assert "theoretical_min_commute_min" not in results["balance"].summary
    assert balance.commute_cells(flat, settings) is None


def test_a_run_reports_the_step(small_run):
    _, report = small_run
    assert MIN_COMMUTE in report.manifest["timings_s"]
    assert report.manifest["summary"]["balance"]["theoretical_min_commute_min"] > 0


def test_workplace_entries_joined_from_the_layers_equal_the_searched_ones_and_are_remembered(loaded):
    from geo.network.access import _workplace_entries, workplace_entries

    study, settings = loaded
    kw = _kw(settings)
    geoms = balance.workplaces_from(study.zones, study.innovation_districts).geometry.to_numpy()
    parts = [study.zones.geometry.to_numpy(), study.innovation_districts.geometry.to_numpy()]
    study.network._cache.pop("entries_lru", None)
    joined = workplace_entries(study.network, geoms, parts=parts, **kw)
    direct = _workplace_entries(study.network, geoms, kw["access_speed_kmh"], kw["max_access_m"])
    for field in ("offsets", "node", "egress_min"):
        np.testing.assert_array_equal(getattr(joined, field), getattr(direct, field))
    assert len(joined.node) > len(geoms)
    # the commuting's searches ask for the whole set again: answered from memory
    assert workplace_entries(study.network, geoms, **kw) is joined


def test_the_collaborations_pairs_are_read_from_the_commutings_searches(loaded, monkeypatch):
    import geo.network.links as links
    from geo.pipeline import Steps, _run_each

    study, settings = loaded
    study.network._cache.pop("links", None)
    alone = _run_each(study, settings, ["core_periphery", "collaboration"], Steps([]).step)
    study.network._cache.pop("links", None)
    asked: list[int] = []
    real = links._directed_pairs

    def counting(graph, origins, dests, o_idx, d_idx, **kw):
        asked.append(len(o_idx))
        return real(graph, origins, dests, o_idx, d_idx, **kw)

    monkeypatch.setattr(links, "_directed_pairs", counting)
    _run_each(study, settings, ["core_periphery"], Steps([]).step)
    core_only = list(asked)
    assert core_only                          # the core attachment searches its own links
    asked.clear()
    study.network._cache.pop("links", None)
    shared = _run_each(study, settings, ["core_periphery", "commuting", "collaboration"], Steps([]).step)
    assert asked == core_only                 # and the partners' were read from the commuting's searches
    for name, table in alone["collaboration"].tables.items():
        other = shared["collaboration"].tables[name]
        assert table.equals(other), name
    assert shared["collaboration"].summary == alone["collaboration"].summary
    assert np.isfinite(alone["collaboration"].tables["collaboration_pairs"]["travel_min"]).sum() >= 5


def test_a_link_reader_missing_a_destination_remembers_nothing(loaded):
    from geo.network import LinkReader
    from geo.network._search import _Searcher
    from geo.network.access import workplace_entries

    study, settings = loaded
    graph = study.network
    geoms = study.zones.geometry.to_numpy()
    pairs = np.array([[0, 1], [1, 2], [0, 2]])
    reader = LinkReader(graph, geoms, pairs, np.arange(len(geoms)), limit_min=60.0, **_kw(settings))
    s = _Searcher(graph, workplace_entries(graph, geoms, **_kw(settings)))
    batch = np.array([0, 1])                         # zone 2 never searched
    reader.read(s, batch, s.search(batch, limit=np.inf))
    graph._cache.pop("links", None)
    assert reader.remember(graph) is False and not graph._cache.get("links")
    reader.read(s, np.array([2]), s.search(np.array([2]), limit=np.inf))
    assert reader.remember(graph) is True
    want = gn.linked_minutes(graph, geoms, geoms, pairs, limit_min=60.0, **_kw(settings))   # from memory
    graph._cache.pop("links", None)
    searched = gn.linked_minutes(graph, geoms, geoms, pairs, limit_min=60.0, **_kw(settings))
    np.testing.assert_array_equal(want, searched)
