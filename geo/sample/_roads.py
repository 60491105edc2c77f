"""The sample's road network: a street grid over the city, a river crossed on a few bridges.

Built by :func:`geo.network.synthetic_roads` over the city boundary, with Chinese road
classes (快速路, 主干路, 次干路, 支路, 高速公路), one-way pairs of local streets and a
motorway on flyovers, so that straight-line and travel-time answers visibly differ. The
``metro`` network (500 m streets, 80 m vertices over 150 km) has about one million nodes;
``small`` and ``city`` use 1 km streets so that the bundled sample stays small.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from geo.sample._catalogue import CRS

#: street spacing and vertex spacing (metres) per scale
_GRID = {"small": (1000.0, 250.0), "city": (1000.0, 250.0), "metro": (500.0, 80.0)}


def sample_roads(boundary, scale: str, seed: int) -> gpd.GeoDataFrame:
    """Road centrelines {id, class, speed, oneway} covering the city ``boundary``."""
    from geo.network import synthetic_roads

    street, vertex = _GRID[scale]
    x0, y0, x1, y1 = boundary.bounds
    roads = synthetic_roads((x0 - street, y0 - street, x1 + street, y1 + street), street_spacing_m=street,
                            vertex_spacing_m=vertex, area=boundary, chinese=True, crs=CRS, seed=seed)
    # a few roads carry a posted speed (the rest take their class's speed)
    speed = roads["speed_kmh"].to_numpy(dtype=float).copy()
    speed[(roads["class"] == "高速公路").to_numpy()] = 100.0
    width = max(5, len(str(len(roads))))
    return gpd.GeoDataFrame({"id": [f"R{i:0{width}d}" for i in range(1, len(roads) + 1)],
                             "class": roads["class"].to_numpy(),
                             "speed": np.where(np.isfinite(speed), speed, np.nan),
                             "oneway": roads["oneway"].to_numpy()},
                            geometry=roads.geometry.to_numpy(), crs=CRS)
