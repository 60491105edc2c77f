"""The balance's theoretical minimum commute in minutes, computed as a step of its own
(``theoretical minimum commute``): read from the commuting's searches when an OD table is
given, searched alone otherwise, with the same minutes to the last bit either way.

The value itself is checked against a linprog brute force in tests/test_balance_network.py;
here: the matrix read from the commuting's searches equals the one searched alone and the
one searched from the cells, a run with an OD table does not search it a second time, and
a partial run gives the full run's number.
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
    # the keys keep their place in the summary (run.json)
    assert list(summary) == list(alone)
    # without the commuting the step searches them itself
    with pytest.raises(AssertionError, match="searched again"):
        run_analyses(study, settings, ["balance"])


def test_the_balance_alone_leaves_the_keys_empty_until_merged(loaded):
    study, settings = loaded
    deferred = balance.run(study, settings, min_commute=False)
    assert deferred.summary["theoretical_min_commute_min"] is None
    cells = balance.commute_cells(study, settings)
    part = balance.min_commute_part(study, settings, cells)
    merged = balance.merge_min_commute(deferred, part).summary
    assert merged["theoretical_min_commute_min"] == balance.run(study, settings).summary[
        "theoretical_min_commute_min"]


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
