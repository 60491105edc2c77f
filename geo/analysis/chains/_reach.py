""""Within reach" for the chains analysis: which features of one set lie within reach of
which features of another.

Every chains table asks the same question (is zone / firm b within reach of zone / firm a?),
so it goes through one object, :class:`Reach`. Today reach is straight-line distance
(``chains.reach_m``, boundary to boundary for polygons, 0 inside); travel-time reach
(``chains.reach_min`` with ``layers.roads``) will be another :class:`Reach` with the same
:meth:`Reach.pairs` method, so the tables need no change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree


@dataclass(frozen=True)
class Reach:
    """Straight-line reach: b is within reach of a when ``distance(a, b) <= reach_m``.

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
            found = ta.sparse_distance_matrix(tb, self.reach_m, output_type="ndarray")
            ia, ib = found["i"].astype(np.int64), found["j"].astype(np.int64)
        else:
            ia, ib = shapely.STRtree(b).query(a, predicate="dwithin", distance=self.reach_m)
            ia, ib = ia.astype(np.int64), ib.astype(np.int64)
        order = np.lexsort((ib, ia))
        return ia[order], ib[order]


def _all_points(geoms: np.ndarray) -> bool:
    return bool((shapely.get_type_id(geoms) == 0).all())


def reach_from_settings(settings) -> Reach:
    """The reach a run uses: straight line ``chains.reach_m``.

    ``chains.reach_min`` (travel time) applies once ``layers.roads`` exists; until then
    the straight-line reach is used.
    """
    cfg = getattr(settings, "chains", settings)
    return Reach(reach_m=float(cfg.reach_m))
