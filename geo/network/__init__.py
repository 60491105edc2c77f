"""Travel time on a road network (DESIGN.md "Roads and travel time").

Pure functions, no file I/O::

    graph = build_graph(roads, class_speeds_kmh=..., default_speed_kmh=20, snap_tolerance_m=1)
    graph.report                      # components, length outside the largest, dead ends, ...
    res = workers_within_minutes(graph, housing_xy, workers, zones.geometry, [15, 30, 45],
                                 primary_minute=30, n_jobs=default_jobs())
    isochrone_polygons(graph, res.reached, zones.geometry)   # balance_isochrones
    workers_shared_within(graph, housing_xy, workers, zones.geometry, zones.jobs, 30)
    travel_between(graph, zones.geometry, pairs)          # travel_min, faster direction
    travel_matrix(graph, zones.geometry, cores.geometry)  # zones × cores (Huff)
    home_times(graph, flow_home_xy, zones.geometry, pairs=flow_to_zone)   # commute_min
    home_routes(graph, flow_home_xy, zones.geometry, flow_to_zone)        # commute_min and its metres
    travel_between_sets(graph, feature_entries(graph, leaders), feature_entries(graph, firms), pairs)
"""

from geo.network.access import (Entries, HousingAccess, housing_access, minutes_per_metre, subset_entries,
                                workplace_entries)
from geo.network.graph import NetworkParams, RoadGraph, TopologyReport, build_graph, snap_vertices
from geo.network.isochrones import isochrone_polygons
from geo.network.links import (LinkReader, feature_entries, link_many, linked_minutes, point_entries, reversed_graph,
                               shared_entries, straight_bound_m, travel_between_sets)
from geo.network.reach import (TIME_TOLERANCE_MIN, ReachResult, default_jobs, one_process, workers_shared_within,
                               workers_within_minutes, workers_within_minutes_sets)
from geo.network.routes import home_routes
from geo.network.travel import home_times, travel_between, travel_matrix
from geo.network._synthetic import synthetic_roads

__all__ = [
    "Entries", "HousingAccess", "NetworkParams", "ReachResult", "RoadGraph", "TIME_TOLERANCE_MIN",
    "TopologyReport", "build_graph", "default_jobs", "home_routes", "home_times", "housing_access", "isochrone_polygons",
    "minutes_per_metre", "one_process", "snap_vertices", "subset_entries", "synthetic_roads", "travel_between", "travel_matrix",
    "workers_shared_within", "workers_within_minutes", "workers_within_minutes_sets", "workplace_entries",
    # links between features of two sets (collaboration, core attachment, chain reach)
    "feature_entries", "LinkReader", "link_many", "linked_minutes", "point_entries", "reversed_graph", "shared_entries", "straight_bound_m", "travel_between_sets",
]
