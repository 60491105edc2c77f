"""The transportation problem: ship supplies to demands at least (or most) total cost.

Used for the theoretical minimum commute of the balance analysis (resident workers per
cell → jobs per workplace) and, with observed flows, for t_min / t_max of the commuting
indicators. The solver is the exact network simplex of POT (``ot.emd``, MIT licence);
the tests check it against the linear programme solved by scipy's HiGHS.

Problem: minimise ``sum_ij cost_ij x_ij`` subject to ``sum_j x_ij = supply_i``,
``sum_i x_ij = demand_j``, ``x >= 0``; supplies and demands must have the same total
(:func:`balance_totals` scales the larger side down to the smaller total).
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

#: Network simplex iterations allowed (POT's default of 100,000 is too few for
#: thousands of cells × thousands of workplaces).
MAX_ITER = 100_000_000


def balance_totals(supply: np.ndarray, demand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scale the side with the larger total down proportionally to the smaller total.

    Examples
    --------
    >>> s, d = balance_totals(np.array([2.0, 2.0]), np.array([1.0, 1.0]))
    >>> s.tolist(), d.tolist()
    ([1.0, 1.0], [1.0, 1.0])
    """
    supply = np.asarray(supply, dtype=float)
    demand = np.asarray(demand, dtype=float)
    ts, td = float(supply.sum()), float(demand.sum())
    if ts > td:
        supply = supply * (td / ts) if ts > 0 else supply
    elif td > ts:
        demand = demand * (ts / td) if td > 0 else demand
    return supply, demand


def solve_transport(cost: np.ndarray, supply: np.ndarray, demand: np.ndarray, *,
                    maximise: bool = False) -> tuple[np.ndarray, float]:
    """Optimal flows of the transportation problem.

    Parameters
    ----------
    cost : ndarray, shape (n, m)
        Cost of one unit from origin ``i`` to destination ``j`` (finite).
    supply : ndarray, shape (n,)
        Units leaving each origin (>= 0).
    demand : ndarray, shape (m,)
        Units arriving at each destination (>= 0); same total as ``supply`` (up to
        rounding, which is absorbed into ``demand``).
    maximise : bool, default False
        Maximise the total cost instead (for t_max).

    Returns
    -------
    x : ndarray, shape (n, m)
        Optimal flows.
    total : float
        ``sum(cost * x)``.

    Raises
    ------
    ValueError
        Shapes disagree, negative or non-finite values, totals differ by more than
        1e-6 relative, or the solver stops before the optimum.

    Examples
    --------
    >>> x, total = solve_transport(np.array([[1.0, 3.0], [2.0, 1.0]]),
    ...                            np.array([1.0, 1.0]), np.array([1.0, 1.0]))
    >>> x.tolist(), total
    ([[1.0, 0.0], [0.0, 1.0]], 2.0)
    """
    import ot

    cost = np.ascontiguousarray(cost, dtype=np.float64)
    supply = np.asarray(supply, dtype=np.float64)
    demand = np.asarray(demand, dtype=np.float64)
    if cost.shape != (len(supply), len(demand)):
        raise ValueError(f"cost has shape {cost.shape}, expected ({len(supply)}, {len(demand)})")
    if not (np.isfinite(cost).all() and np.isfinite(supply).all() and np.isfinite(demand).all()):
        raise ValueError("cost, supply and demand must be finite")
    if (supply < 0).any() or (demand < 0).any():
        raise ValueError("supply and demand must be >= 0")
    ts, td = float(supply.sum()), float(demand.sum())
    if abs(ts - td) > 1e-6 * max(ts, td, 1.0):
        raise ValueError(f"supply total {ts:g} differs from demand total {td:g}; "
                         "use balance_totals() first")
    if ts == 0 or not len(supply) or not len(demand):
        return np.zeros(cost.shape), 0.0
    # the solver wants equal totals to the last bit: solve on shares, scale back
    a = supply / ts
    b = demand / td
    b *= a.sum() / b.sum()
    work = (cost.max() - cost) if maximise else cost
    x, info = ot.emd(a, b, work, numItermax=MAX_ITER, log=True, check_marginals=False)
    if info.get("result_code", 1) != 1:
        raise ValueError(f"transportation problem not solved to optimality: {info.get('warning')}")
    x = np.asarray(x) * ts
    return x, float((cost * x).sum())


def min_mean_cost(cost: np.ndarray, supply: np.ndarray, demand: np.ndarray) -> float | None:
    """Least mean cost per unit (t_min); ``None`` when nothing is shipped."""
    _, total = solve_transport(cost, supply, demand)
    units = float(np.sum(supply))
    return total / units if units > 0 else None


def max_mean_cost(cost: np.ndarray, supply: np.ndarray, demand: np.ndarray) -> float | None:
    """Largest mean cost per unit (t_max); ``None`` when nothing is shipped."""
    _, total = solve_transport(cost, supply, demand, maximise=True)
    units = float(np.sum(supply))
    return total / units if units > 0 else None
