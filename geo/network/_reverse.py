"""The road graph with every edge turned round (time_rev(x → y) = time(y → x)).

The searches of :mod:`geo.network.reach` run *towards* a set of targets. A search run on the
reversed graph towards A therefore gives the times *from* A to every node: both directions
of a zones × cores matrix cost one search per core each way, not one per zone.
"""

from __future__ import annotations

import dataclasses

from scipy import sparse

from geo.network._contract import transposed_like
from geo.network.graph import RoadGraph


def reversed_graph(graph: RoadGraph) -> RoadGraph:
    """``graph`` with every directed edge reversed (built once per graph, then cached).

    The simplified graph is reversed field by field (exactly): its forward and reverse
    matrices swap, and along each contracted chain the times towards an end swap with the
    times from it (``to_u`` ↔ ``from_u``, ``to_v`` ↔ ``from_v``, and the prefix sums
    u → x ↔ x → u).
    """
    cached = graph._cache.get("reversed")
    if cached is not None:
        return cached
    cg = graph.contraction
    rcg = dataclasses.replace(
        cg, times=cg.rev, rev=cg.times,
        to_u=cg.from_u, from_u=cg.to_u, to_v=cg.from_v, from_v=cg.to_v,
        fu_fin=cg.tu_fin, fu_cnt=cg.tu_cnt, tu_fin=cg.fu_fin, tu_cnt=cg.fu_cnt,
        lengths=cg.rev_len, rev_len=cg.lengths, to_u_m=cg.from_u_m, from_u_m=cg.to_u_m,
        to_v_m=cg.from_v_m, from_v_m=cg.to_v_m, fu_len=cg.tu_len, tu_len=cg.fu_len)
    times = graph.times.T.tocsr()
    times.sort_indices()
    lengths = None
    if graph.lengths is not None:
        lengths = sparse.csr_matrix((transposed_like(graph.times, graph.lengths.data), times.indices.copy(),
                                     times.indptr.copy()), shape=times.shape)
    rev = dataclasses.replace(
        graph, times=times, contraction=rcg, lengths=lengths, edge_from=graph.edge_to, edge_to=graph.edge_from,
        _cache={k: v for k, v in graph._cache.items() if k in ("kdtree", "strtree")})
    rev._cache["reversed"] = graph
    graph._cache["reversed"] = rev
    return rev
