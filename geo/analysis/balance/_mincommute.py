"""``theoretical_min_commute_min``: the balance's potential transportation problem in
minutes on the roads (DESIGN.md "Commuting" and "Roads and travel time").

Supplies = resident workers per cell of ``commuting.cell_m`` (default 1,000 m; doubled
while cells × workplaces exceeds :data:`~geo.analysis.balance._potential.MAX_PAIRS`),
located at the cell centre as a home; demands = jobs of the connected workplaces with jobs;
the larger side is scaled down to the smaller total. Cost = travel time cell centre →
workplace. Cells that reach no workplace (and workplaces no cell reaches) take no part; a
pair the network does not join costs more than any joined pair, so the optimum uses it only
when nothing else balances the totals (then a warning is logged).

The matrix is searched in full, one reversed search per workplace read at the cell centres:
the solver's flows depend on every cost, and a cut-off would not pay (metro sample: the
optimum uses pairs up to 129 minutes, and 85 % of the pairs take less than 135). The
commuting analysis searches every workplace in full anyway (for its flows' routes), so in a
run with an OD table the cells are read from those same searches
(:func:`geo.analysis.commuting.run_with_cells`) and the balance pays only for the
transportation problem; without one they are searched here, the same way: the same
minutes to the last bit either way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

import geo.network as gn
from geo._types import AnalysisResult, Study
from geo.analysis._transport import balance_totals, solve_transport
from geo.analysis.balance._potential import CELL_M, MAX_PAIRS, cell_size, origin_cells, theoretical_min_commute
from geo.analysis.balance._workers import WorkerPoints, raster_workers, resident_workers, workplaces_from

log = logging.getLogger(__name__)

#: Name of the part of the balance computed on its own (a step of the run, see geo.pipeline).
STEP = "theoretical minimum commute"

#: Work (workplaces × road nodes) above which the searches run in worker processes.
PARALLEL_WORK = 50_000_000


@dataclass
class CommuteCells:
    """The supplies and demands of the minimum-commute problem in minutes.

    ``xy`` (C, 2) cell centres and ``supply`` (C,) their resident workers; ``used`` (U,)
    the positions (in :func:`workplaces_from` order) of the workplaces taking part
    (connected to the roads, with jobs) and ``jobs`` (U,) theirs; ``cell_m`` the cell size.
    """

    xy: np.ndarray
    supply: np.ndarray
    used: np.ndarray
    jobs: np.ndarray
    cell_m: float
    #: The straight-line minimum commute (:func:`theoretical_min_commute`) of the same
    #: workers and workplaces, when :func:`commute_cells` computed it: (mean metres, cell m).
    straight: tuple[float | None, float] | None = None

    @property
    def empty(self) -> bool:
        return not (len(self.xy) and len(self.used))


def worker_points(study: Study, cfg: Any) -> WorkerPoints | None:
    """Resident workers as points: from the housing layer, else the population raster
    (None when there is neither)."""
    if study.housing is not None:
        return resident_workers(study.housing, workers_per_dwelling=cfg.workers_per_dwelling,
                                employment_rate=cfg.employment_rate)
    if study.population is not None:
        return raster_workers(study.population, employment_rate=cfg.employment_rate)
    return None


def cells_from(x: np.ndarray, y: np.ndarray, workers: np.ndarray, jobs: np.ndarray,
               connected: np.ndarray, cell_m: float = CELL_M) -> CommuteCells:
    """:class:`CommuteCells` of resident-worker points and the workplaces' jobs, on cells of
    ``cell_m`` (doubled while cells × workplaces exceed :data:`MAX_PAIRS`)."""
    use = np.flatnonzero(connected & (jobs > 0))
    if not len(use) or float(np.sum(workers)) <= 0:
        return CommuteCells(np.zeros((0, 2)), np.zeros(0), use, jobs[use], float(cell_m))
    size = float(cell_m)
    while True:
        cx, cy, supply = origin_cells(x, y, workers, size)
        if len(cx) * len(use) <= MAX_PAIRS or len(cx) <= 1:
            break
        size *= 2
    return CommuteCells(np.column_stack([cx, cy]), supply, use, jobs[use], size)


def commute_cells(study: Study, settings: Any) -> CommuteCells | None:
    """The cells and workplaces of ``study`` (None without roads or resident workers)."""
    from geo.analysis.balance._network import workplace_entries_of

    graph = getattr(study, "network", None)
    points = worker_points(study, settings.balance) if graph is not None else None
    if points is None:
        return None
    workplaces = workplaces_from(study.zones, study.innovation_districts)
    geoms = workplaces.geometry.to_numpy()
    jobs = workplaces["jobs"].to_numpy(dtype=float)
    entries = workplace_entries_of(study, graph, geoms, _access_kw(settings))
    cells = cells_from(points.x, points.y, points.workers, jobs, entries.connected, cell_size(settings))
    # the straight-line one too (the balance leaves both to this part, see balance.run)
    potential = theoretical_min_commute(geoms, jobs, points.x, points.y, points.workers,
                                        cell_m=cell_size(settings))
    cells.straight = (potential.mean_m, potential.cell_m)
    return cells


def _access_kw(settings: Any) -> dict:
    net = settings.network
    return dict(access_speed_kmh=net.access_speed_kmh, max_access_m=net.max_access_m)


def cell_minutes(graph: Any, cells: CommuteCells, geoms: np.ndarray, kw: dict) -> np.ndarray:
    """Minutes from every cell centre (as a home) to every used workplace (C × U, NaN where
    not reachable): one complete search per workplace, read at the cells."""
    targets = geoms[cells.used]
    n_jobs = gn.default_jobs() if len(targets) * graph.n_nodes > PARALLEL_WORK else 1
    return gn.home_times(graph, cells.xy, targets, n_jobs=n_jobs, from_origins=False, **kw)


def mean_min_commute(cells: CommuteCells, cost: np.ndarray) -> float | None:
    """The least mean travel time (minutes) of the transportation problem with ``cost``
    (C × U minutes, NaN where not joined); None when nothing can travel."""
    if cells.empty:
        return None
    joined = np.isfinite(cost)
    rows, cols = joined.any(axis=1), joined.any(axis=0)
    if not rows.any() or not cols.any():
        return None
    cost = cost[np.ix_(rows, cols)]
    finite = np.isfinite(cost)
    penalty = 10.0 * float(cost[finite].max()) + 1.0
    s, d = balance_totals(cells.supply[rows], cells.jobs[cols])
    flows, _ = solve_transport(np.where(finite, cost, penalty), s, d)
    shipped = float(s.sum())
    if shipped <= 0:
        return None
    cut = float(flows[~finite].sum())
    if cut > 1e-6 * shipped:
        log.warning("balance: %.1f%% of the theoretical minimum commute crosses pieces the road "
                    "network does not join", 100 * cut / shipped)
    return float((np.where(finite, cost, 0.0) * flows).sum() / max(shipped - cut, 1e-12))


def min_commute_part(study: Study, settings: Any, cells: CommuteCells | None,
                     cost: np.ndarray | None = None) -> AnalysisResult:
    """The balance's summary keys ``theoretical_min_commute_min`` and
    ``theoretical_min_commute_min_cell_m`` (see :func:`merge_min_commute`), and
    ``theoretical_min_commute_m`` / ``theoretical_min_commute_cell_m`` when ``cells`` carry
    them; ``cost`` when the cells were read already (from the commuting's searches), else
    searched here."""
    mean, size = None, cell_size(settings) if cells is None else cells.cell_m
    if cells is not None and not cells.empty:
        if cost is None:
            workplaces = workplaces_from(study.zones, study.innovation_districts)
            cost = cell_minutes(study.network, cells, workplaces.geometry.to_numpy(), _access_kw(settings))
        mean = mean_min_commute(cells, cost)
    summary: dict[str, Any] = {}
    if cells is not None and cells.straight is not None:
        summary.update(theoretical_min_commute_m=cells.straight[0], theoretical_min_commute_cell_m=cells.straight[1])
    summary.update(theoretical_min_commute_min=mean, theoretical_min_commute_min_cell_m=size)
    return AnalysisResult(name=STEP, summary=summary)


def merge_min_commute(balance: AnalysisResult, part: AnalysisResult) -> AnalysisResult:
    """The balance result with the values of :func:`min_commute_part` (in place: the keys
    are there already, empty, when the balance ran without them)."""
    balance.summary.update(part.summary)
    return balance
