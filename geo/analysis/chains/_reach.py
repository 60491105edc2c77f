""""Within reach" for the chains analysis: which features of one set lie within reach of
which features of another.

Every chains table asks the same question (is zone / firm b within reach of zone / firm a?),
so it goes through one object: :class:`Reach`, straight-line distance (``chains.reach_m``,
boundary to boundary for polygons, 0 inside), or, with ``layers.roads``, :class:`NetworkReach`,
travel time (``chains.reach_min``) with the same :meth:`pairs` method, so the tables need no
change.

Travel time between two features is DESIGN.md's "travel time between two workplaces" (the
faster direction); a firm (a point) joins the network like a home, at its nearest node with
its access time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from scipy.spatial import cKDTree

from geo.analysis._reach import DISTANCE_TOLERANCE_M


@dataclass(frozen=True)
class Reach:
    """Straight-line reach: b is within reach of a when ``distance(a, b) <= reach_m``
    (+ ``DISTANCE_TOLERANCE_M``: on the reach counts, whatever the rounding).

    Attributes
    ----------
    reach_m : float
        Reach in metres (``chains.reach_m``).
    """

    reach_m: float
    kind: str = "straight"

    @property
    def label(self) -> str:
        return f"{self.reach_m:g} m"

    def pairs(self, a: np.ndarray, b: np.ndarray, group_a: np.ndarray | None = None,
              group_b: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """All index pairs ``(i, j)`` with ``b[j]`` within reach of ``a[i]``.

        Parameters
        ----------
        a, b : ndarray of shapely geometries
            In the same projected CRS (metres). Points only: cKDTree on coordinates;
            otherwise one bulk STRtree ``dwithin`` query (boundary-to-boundary distance).
        group_a, group_b : ndarray of int, optional
            Only pairs of the same group (e.g. chain codes) are wanted: each group is
            queried on its own, so other groups' features are never tested.

        Returns
        -------
        (ndarray of int, ndarray of int)
            Sorted by ``i`` then ``j``.
        """
        a = np.asarray(a, dtype=object)
        b = np.asarray(b, dtype=object)
        if group_a is not None and group_b is not None:
            found_a, found_b = [], []
            for g in np.intersect1d(group_a, group_b):
                sa, sb = np.flatnonzero(group_a == g), np.flatnonzero(group_b == g)
                ia, ib = self.pairs(a[sa], b[sb])
                found_a.append(sa[ia])
                found_b.append(sb[ib])
            if not found_a:
                return np.empty(0, np.int64), np.empty(0, np.int64)
            ia, ib = np.concatenate(found_a), np.concatenate(found_b)
            order = np.lexsort((ib, ia))
            return ia[order], ib[order]
        if len(a) == 0 or len(b) == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        if _all_points(a) and _all_points(b):
            ta = cKDTree(shapely.get_coordinates(a))
            tb = cKDTree(shapely.get_coordinates(b))
            found = ta.sparse_distance_matrix(tb, self.reach_m + DISTANCE_TOLERANCE_M, output_type="ndarray")
            ia, ib = found["i"].astype(np.int64), found["j"].astype(np.int64)
        else:
            ia, ib = shapely.STRtree(b).query(a, predicate="dwithin", distance=self.reach_m + DISTANCE_TOLERANCE_M)
            ia, ib = ia.astype(np.int64), ib.astype(np.int64)
        order = np.lexsort((ib, ia))
        return ia[order], ib[order]


@dataclass(frozen=True)
class NetworkReach:
    """Travel-time reach: b is within reach of a when their travel time ≤ ``reach_min``.

    Travel time = min over entries of egress(a) + network time + egress(b), the faster
    direction; a polygon is entered at every node inside it or within ``max_access_m``, a
    point at its nearest node (like a home); a feature is within reach of itself (as at
    distance 0). Candidate pairs come from the straight-line bound
    :func:`geo.network.straight_bound_m` (no faster connection exists), then all their travel
    times at once (:func:`geo.network.linked_minutes`: one bounded search per feature of the
    smaller side and direction, remembered on the graph for the other tables).

    Attributes
    ----------
    reach_min : float
        ``chains.reach_min``.
    graph : geo.network.RoadGraph
    access_speed_kmh, max_access_m : float
        ``network.access_speed_kmh``, ``network.max_access_m``.
    reach_m : float
        The straight-line ``chains.reach_m`` (reported, not used for reach).
    """

    reach_min: float
    graph: Any = field(repr=False, compare=False)
    access_speed_kmh: float = 5.0
    max_access_m: float = 1000.0
    reach_m: float = float("nan")
    n_jobs: int = 1
    kind: str = "network"

    @property
    def label(self) -> str:
        return f"{self.reach_min:g} min"

    def pairs(self, a: np.ndarray, b: np.ndarray, group_a: np.ndarray | None = None,
              group_b: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """All index pairs ``(i, j)`` with ``b[j]`` within ``reach_min`` of ``a[i]`` (as :meth:`Reach.pairs`)."""
        ia, ib, _t = self.pairs_minutes(a, b, group_a, group_b)
        return ia, ib

    def prefetch(self, a: np.ndarray, bs: list, group_a: np.ndarray, groups_b: list) -> None:
        """Compute the pairs of ``a`` with each of ``bs`` (same group) in one set of searches,
        so that the later :meth:`pairs` calls (either way round) are answered from memory."""
        from geo.network import link_many, straight_bound_m

        a = np.asarray(a, dtype=object)
        bs = [np.asarray(b, dtype=object) for b in bs]
        bound = Reach(straight_bound_m(self.graph, self.reach_min, access_speed_kmh=self.access_speed_kmh))
        pairs = [np.column_stack(bound.pairs(a, b, group_a, g)) for b, g in zip(bs, groups_b)]
        link_many(self.graph, a, bs, pairs, limit_min=float(self.reach_min), access_speed_kmh=self.access_speed_kmh,
                  max_access_m=self.max_access_m, n_jobs=self.n_jobs)

    def pairs_minutes(self, a: np.ndarray, b: np.ndarray, group_a: np.ndarray | None = None,
                      group_b: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`pairs` and the travel minutes of each pair."""
        from geo.network import linked_minutes, straight_bound_m

        same = a is b
        a = np.asarray(a, dtype=object)
        b = a if same else np.asarray(b, dtype=object)
        bound = straight_bound_m(self.graph, self.reach_min, access_speed_kmh=self.access_speed_kmh)
        ia, ib = Reach(bound).pairs(a, b, group_a, group_b)
        if len(ia) == 0:
            return ia, ib, np.zeros(0)
        t = np.zeros(len(ia))
        other = ~(same & (ia == ib))     # a feature is within reach of itself (as at distance 0)
        t[other] = linked_minutes(self.graph, a, b, np.column_stack([ia[other], ib[other]]),
                                  limit_min=float(self.reach_min), access_speed_kmh=self.access_speed_kmh,
                                  max_access_m=self.max_access_m, n_jobs=self.n_jobs)
        keep = np.isfinite(t)
        return ia[keep], ib[keep], t[keep]


def _all_points(geoms: np.ndarray) -> bool:
    return bool((shapely.get_type_id(geoms) == 0).all())


def reach_from_settings(settings, graph=None) -> Reach | NetworkReach:
    """The reach a run uses: travel time ``chains.reach_min`` on ``graph`` (the study's road
    network) when given, else the straight line ``chains.reach_m``."""
    cfg = getattr(settings, "chains", settings)
    if graph is None:
        return Reach(reach_m=float(cfg.reach_m))
    from geo.network import default_jobs

    net = getattr(settings, "network", None)
    return NetworkReach(reach_min=float(cfg.reach_min), graph=graph,
                        access_speed_kmh=float(net.access_speed_kmh) if net is not None else 5.0,
                        max_access_m=float(net.max_access_m) if net is not None else 1000.0,
                        reach_m=float(cfg.reach_m), n_jobs=default_jobs())
