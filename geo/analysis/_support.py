"""Cheap rigorous bounds of distances to polygons from their support functions.

Along any unit vector ``u``, the gap between the projections of two sets on ``u`` is a
lower bound of their distance, and the distance between a point of each an upper
bound. Tabulating each polygon's support function (the largest projection of its
vertices) on a fixed set of directions gives both bounds for millions of (point,
polygon) or (polygon, polygon) pairs with a few table look-ups each; away from the
polygon the two bounds are within centimetres to metres of each other, so most
threshold questions ("is this point within r?") are settled without measuring the
distance to the boundary.
"""

from __future__ import annotations

import numpy as np
import shapely

#: Directions of the support functions that bound distances to workplaces.
_DIRECTIONS = 256
#: Polygons whose hulls have at most this many vertices are tabulated padded.
_PADDED = 64


class Support:
    """Support functions of polygons on :data:`_DIRECTIONS` directions, for cheap
    rigorous bounds of distances.

    Along any unit vector ``u``, the gap between the projections of two sets is a lower
    bound of their distance, and the distance between a vertex of each an upper bound.
    The tables hold, per polygon and direction, the largest projection of its vertices
    (its convex hull's) and the vertex reaching it.
    """

    def __init__(self, geoms: np.ndarray, ids: np.ndarray):
        coords, owner = shapely.get_coordinates(shapely.convex_hull(geoms[ids]),
                                                return_index=True)
        self.origin = coords.min(axis=0) if len(coords) else np.zeros(2)
        self.coords = coords - self.origin
        angle = 2 * np.pi * np.arange(_DIRECTIONS) / _DIRECTIONS
        self.unit = np.stack([np.cos(angle), np.sin(angle)])
        per = np.bincount(owner, minlength=len(ids))
        first = np.cumsum(per) - per
        width = int(per.max(initial=1))
        if width <= _PADDED:
            # vertices padded to a common width (repeating the first): one argmax
            rank = np.minimum(np.arange(width)[None, :], per[:, None] - 1)
            at = first[:, None] + np.maximum(rank, 0)                     # polygon, slot
            proj = self.coords[at] @ self.unit                            # polygon, slot, dir
            best = proj.argmax(axis=1)                                    # polygon, direction
            self.top = np.take_along_axis(proj, best[:, None, :], axis=1)[:, 0, :]
            self.arg = np.take_along_axis(at, best, axis=1)
        else:
            proj = self.unit.T @ self.coords.T                            # direction, vertex
            top = np.maximum.reduceat(proj, first, axis=1)                # direction, polygon
            rows = np.where(proj >= top[:, owner], np.arange(len(coords)), len(coords))
            self.top = np.ascontiguousarray(top.T)                        # polygon, direction
            self.arg = np.ascontiguousarray(np.minimum.reduceat(rows, first, axis=1).T)
        self.local = np.full(len(geoms), -1)
        self.local[ids] = np.arange(len(ids))
        b = shapely.bounds(geoms[ids]) - np.tile(self.origin, 2)
        self.centre = np.column_stack([b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]]) / 2

    @staticmethod
    def _direction(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
        return (np.round(np.arctan2(dy, dx) / (2 * np.pi) * _DIRECTIONS).astype(np.int64)
                % _DIRECTIONS)

    def pairs(self, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of the distances between polygons ``i`` and ``j``."""
        a, c = self.local[i], self.local[j]
        k = self._direction(self.centre[c, 0] - self.centre[a, 0],
                            self.centre[c, 1] - self.centre[a, 1])
        back = (k + _DIRECTIONS // 2) % _DIRECTIONS
        lower = np.maximum(-self.top[c, back] - self.top[a, k], 0.0)
        va, vb = self.coords[self.arg[a, k]], self.coords[self.arg[c, back]]
        return lower, np.hypot(vb[:, 0] - va[:, 0], vb[:, 1] - va[:, 1])

    def points(self, g: np.ndarray, x: np.ndarray, y: np.ndarray, rounds: int = 2
               ) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of the distances from points to polygons ``g``: the
        direction from the envelope centre, then once more from the vertex found."""
        lower = np.zeros(len(g))
        upper = np.full(len(g), np.inf)
        top, arg = self.top.ravel(), self.arg.ravel()
        ux, uy = self.unit[0], self.unit[1]
        vx, vy = self.coords[:, 0], self.coords[:, 1]
        chunk = 262_144                     # a few MB per temporary: stays in cache
        for s in range(0, len(g), chunk):
            a = self.local[g[s:s + chunk]]
            px, py = x[s:s + chunk] - self.origin[0], y[s:s + chunk] - self.origin[1]
            lo = np.zeros(len(a))
            up = np.full(len(a), np.inf)
            dx = px - np.take(self.centre[:, 0], a)
            dy = py - np.take(self.centre[:, 1], a)
            for _ in range(rounds):
                k = self._direction(dx, dy)
                at = a * _DIRECTIONS + k
                lo = np.maximum(lo, px * np.take(ux, k) + py * np.take(uy, k) - np.take(top, at))
                v = np.take(arg, at)
                dx = px - np.take(vx, v)
                dy = py - np.take(vy, v)
                up = np.minimum(up, np.hypot(dx, dy))
            lower[s:s + chunk] = lo
            upper[s:s + chunk] = up
        return lower, upper
