"""Independent references for the numbers a planner reads (issue 23).

Nothing here imports ``geo``: every reference is written from the definitions in
DESIGN.md / docs/analyses.md with plain Python loops over small inputs and plain
geometry (axis-aligned rectangles, so distances are ``hypot`` of the gaps), so a bug
in the product's kernels, helpers or styling functions cannot hide in its reference.

Geometries are given as lists of rectangles ``(x0, y0, x1, y1)``; a feature with
several rectangles is a MultiPolygon whose distance is the smallest over its parts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Rect = tuple[float, float, float, float]

#: Huff distance floor (DESIGN.md: "distance is floored at 1 km").
HUFF_FLOOR_M = 1000.0


# ---------------------------------------------------------------------------
# geometry by hand


def point_rect_m(x: float, y: float, r: Rect) -> float:
    """Distance from a point to a filled rectangle (0 inside or on the edge)."""
    dx = max(r[0] - x, 0.0, x - r[2])
    dy = max(r[1] - y, 0.0, y - r[3])
    return math.hypot(dx, dy)


def point_feature_m(x: float, y: float, rects: Sequence[Rect]) -> float:
    return min(point_rect_m(x, y, r) for r in rects)


def rect_rect_m(a: Rect, b: Rect) -> float:
    """Boundary-to-boundary distance of two filled rectangles (0 when they touch)."""
    dx = max(b[0] - a[2], a[0] - b[2], 0.0)
    dy = max(b[1] - a[3], a[1] - b[3], 0.0)
    return math.hypot(dx, dy)


def feature_feature_m(a: Sequence[Rect], b: Sequence[Rect]) -> float:
    return min(rect_rect_m(p, q) for p in a for q in b)


def in_rect(x: float, y: float, r: Rect) -> bool:
    """Point in the closed rectangle (a point on the edge is in)."""
    return r[0] <= x <= r[2] and r[1] <= y <= r[3]


# ---------------------------------------------------------------------------
# jobs–housing balance


def balance_class(jhr: float, lo: float, hi: float) -> str:
    if jhr is None or math.isnan(jhr):
        return "no_housing"
    if jhr > hi:
        return "jobs_rich"
    if jhr < lo:
        return "housing_rich"
    return "balanced"


def balance_reference(workplaces: list[dict], homes: list[tuple[float, float, float]],
                      radii_m: Sequence[float], radius_m: float,
                      balanced_range: tuple[float, float]) -> dict[str, dict]:
    """Per workplace id: ``workers_<r>`` for every radius, ``workers``, ``jhr``,
    ``balance_class``, ``workers_shared``, ``jhr_shared``, and the area measures
    ``area_jhr`` / ``area_class`` on the primary radius (without an employment layer).

    ``workplaces``: dicts with ``id``, ``rects``, ``jobs``. ``homes``: ``(x, y,
    resident workers)``. A home counts for a workplace when its distance to the
    workplace polygon is <= r (inside = 0, on the radius counts). Worker sums are rounded
    to 1e-6 workers before any ratio, as docs/analyses.md says the tables have them (a
    ratio exactly on a class bound, 1,561 jobs / 1,248.8 workers = 1.25, stays on it
    whatever the order of the sum).
    """
    lo, hi = balanced_range
    out: dict[str, dict] = {w["id"]: {} for w in workplaces}
    dist = [[point_feature_m(x, y, w["rects"]) for w in workplaces] for x, y, _ in homes]
    for r in sorted(set(radii_m) | {radius_m}):
        name = f"workers_{int(r)}" if float(r).is_integer() else f"workers_{r:g}"
        for k, w in enumerate(workplaces):
            out[w["id"]][name] = round(sum(h[2] for h, d in zip(homes, dist) if d[k] <= r), 6)
    shared = {w["id"]: 0.0 for w in workplaces}
    for (_, _, workers), d in zip(homes, dist):
        near = [k for k in range(len(workplaces)) if d[k] <= radius_m]
        if not near:
            continue
        total_jobs = sum(workplaces[k]["jobs"] for k in near)
        for k in near:
            share = workplaces[k]["jobs"] / total_jobs if total_jobs > 0 else 1 / len(near)
            shared[workplaces[k]["id"]] += workers * share
    for k, w in enumerate(workplaces):
        row = out[w["id"]]
        # the area around the workplace: jobs of every workplace within radius_m (its own
        # included), against the same resident workers (no employment layer here)
        area_jobs = sum(v["jobs"] for v in workplaces if feature_feature_m(w["rects"], v["rects"]) <= radius_m)
        area_workers = round(sum(h[2] for h, d in zip(homes, dist) if d[k] <= radius_m), 6)
        row["area_jhr"] = area_jobs / area_workers if area_workers > 0 else math.nan
        row["area_class"] = balance_class(row["area_jhr"], lo, hi)
        row["workers"] = round(sum(h[2] for h, d in zip(homes, dist) if d[k] <= radius_m), 6)
        row["jhr"] = w["jobs"] / row["workers"] if row["workers"] > 0 else math.nan
        row["balance_class"] = balance_class(row["jhr"], lo, hi)
        row["workers_shared"] = round(shared[w["id"]], 6)
        row["jhr_shared"] = w["jobs"] / row["workers_shared"] if row["workers_shared"] > 0 else math.nan
    return out


def district_reference(districts: list[dict], workplaces: list[dict],
                       homes: list[tuple[float, float, float]],
                       balanced_range: tuple[float, float]) -> dict[str, dict]:
    """Per district id: jobs of the workplaces that name it (a workplace without a
    district id: the district holding the centre of its first rectangle, which is where
    a rectangle's representative point lies), resident workers of the homes inside it (a
    home on a shared border goes to the first district listed)."""
    out = {d["id"]: {"jobs": 0.0, "workers": 0.0} for d in districts}
    for w in workplaces:
        district = w.get("district")
        if district is None:
            r = w["rects"][0]
            cx, cy = (r[0] + r[2]) / 2, (r[1] + r[3]) / 2
            district = next((d["id"] for d in districts if any(in_rect(cx, cy, q) for q in d["rects"])), None)
        if district in out:
            out[district]["jobs"] += w["jobs"]
    for x, y, workers in homes:
        for d in districts:
            if any(in_rect(x, y, r) for r in d["rects"]):
                out[d["id"]]["workers"] += workers
                break
    for row in out.values():
        row["jhr"] = row["jobs"] / row["workers"] if row["workers"] > 0 else math.nan
        row["balance_class"] = balance_class(row["jhr"], *balanced_range)
    return out


# ---------------------------------------------------------------------------
# cross-district collaboration


def strength(mass_a: float, mass_b: float, distance_m: float, decay: float) -> float:
    return mass_a * mass_b / (distance_m / 1000.0 + 1.0) ** decay


def pair_type(role_a, role_b, pos_a=None, pos_b=None) -> str:
    if {pos_a, pos_b} == {"core", "periphery"}:
        return "main_partner"
    roles = {role_a, role_b}
    if roles == {"rd", "manufacturing"}:
        return "rd_manufacturing"
    if roles == {"terminal", "supporting"}:
        return "terminal_supporting"
    return "peer"


def collaboration_reference(zones: list[dict], *, max_distance_m: float, decay: float,
                            top_pairs: int) -> tuple[dict, dict]:
    """``pairs`` {(zone_a, zone_b) with district_a < district_b: row} and ``per_zone``
    {zone_id: nearest partner id / m, partners_within}.

    ``zones``: dicts with ``id``, ``chain``, ``district``, ``rects``, ``jobs``,
    ``output`` (None = missing: jobs are the mass), ``role``.
    """
    pairs = {}
    per_zone = {z["id"]: {"nearest_partner_id": None, "nearest_partner_m": math.nan,
                          "partners_within": 0} for z in zones}
    for a in zones:
        best = None
        for b in zones:
            if a is b or a["chain"] != b["chain"] or a["district"] == b["district"]:
                continue
            d = feature_feature_m(a["rects"], b["rects"])
            if best is None or (d, b["id"]) < best:
                best = (d, b["id"])
            if d <= max_distance_m:
                per_zone[a["id"]]["partners_within"] += 1
                first, second = (a, b) if a["district"] < b["district"] else (b, a)
                mass = [z["output"] if z["output"] is not None else z["jobs"] for z in (first, second)]
                pairs[(first["id"], second["id"])] = {
                    "chain": a["chain"], "district_a": first["district"], "district_b": second["district"],
                    "distance_m": d, "strength": strength(mass[0], mass[1], d, decay),
                    "pair_type": pair_type(first["role"], second["role"]),
                }
        if best is not None:
            per_zone[a["id"]]["nearest_partner_m"] = best[0]
            per_zone[a["id"]]["nearest_partner_id"] = best[1]
    for chain in {p["chain"] for p in pairs.values()}:
        keys = [k for k, p in pairs.items() if p["chain"] == chain]
        keys.sort(key=lambda k: (-pairs[k]["strength"], pairs[k]["distance_m"], k))
        for rank, k in enumerate(keys, start=1):
            pairs[k]["rank"] = rank
            pairs[k]["recommended"] = rank <= top_pairs
    return pairs, per_zone


# ---------------------------------------------------------------------------
# core–periphery


def scores(zones: list[dict], weights: dict[str, float]) -> dict[str, float]:
    """Weighted mean of min–max normalised indicators (missing = the minimum; weight
    0, absent, all-missing or constant indicators dropped, weights renormalised)."""
    used = {}
    for name, w in weights.items():
        if w <= 0:
            continue
        values = [z.get(name) for z in zones]
        present = [v for v in values if v is not None and not math.isnan(v)]
        if not present or max(present) == min(present):
            continue
        lo, hi = min(present), max(present)
        used[name] = (w, [0.0 if v is None or math.isnan(v) else (v - lo) / (hi - lo) for v in values])
    total = sum(w for w, _ in used.values())
    if not used:
        return {z["id"]: 1.0 for z in zones}
    return {z["id"]: sum(w / total * col[i] for w, col in used.values()) for i, z in enumerate(zones)}


def core_ids(score: dict[str, float], core_share: float) -> list[str]:
    """Top ``max(1, round half up(core_share * n))`` zones by score, ties by id; ranked."""
    n = len(score)
    k = min(n, max(1, math.floor(core_share * n + 0.5)))
    return sorted(score, key=lambda z: (-score[z], z))[:k]


def huff(strengths: Sequence[float], distances_m: Sequence[float], decay: float) -> list[float]:
    """Huff probabilities with the 1 km floor: ``S_k max(d_k, 1 km)^-β / Σ``."""
    s = list(strengths) if any(v > 0 for v in strengths) else [1.0] * len(strengths)
    w = [sk * max(d, HUFF_FLOOR_M) ** -decay for sk, d in zip(s, distances_m)]
    total = sum(w)
    return [v / total for v in w]


def attachment_reference(zones: list[dict], score: dict[str, float], cores: list[str], *,
                         attach_max_m: float, decay: float) -> dict[str, dict]:
    """Per periphery zone: ``core_id``, ``core_distance_m``, ``attach_prob``, ``strategy``."""
    by_id = {z["id"]: z for z in zones}
    out = {}
    for z in zones:
        if z["id"] in cores:
            out[z["id"]] = {"core_id": z["id"], "core_distance_m": 0.0, "attach_prob": math.nan,
                            "strategy": "independent_pole"}
            continue
        d = [feature_feature_m(z["rects"], by_id[c]["rects"]) for c in cores]
        p = huff([score[c] for c in cores], d, decay)
        own = [k for k, c in enumerate(cores) if by_id[c]["chain"] == z["chain"] and d[k] <= attach_max_m]
        candidates = own or range(len(cores))
        pick = max(candidates, key=lambda k: (p[k], -k))
        out[z["id"]] = {"core_id": cores[pick], "core_distance_m": d[pick], "attach_prob": p[pick],
                        "strategy": "collaborative_subordinate" if d[pick] <= attach_max_m else "isolated"}
    return out


#: Huff travel-time floor (DESIGN.md: "floored at 1 minute, as distance is floored at 1 km").
HUFF_FLOOR_MIN = 1.0


def attachment_minutes_reference(chains: Sequence[str], score: Sequence[float], cores: Sequence[int],
                                 minutes: Sequence[Sequence[float]], *, attach_max_min: float,
                                 decay: float, tol: float = 1e-6) -> list[dict]:
    """Huff attachment on travel time (DESIGN.md "Roads and travel time"), by loops.

    ``minutes[z][c]``: travel time zone z ↔ core ``cores[c]`` (the faster direction; inf
    without a road path). Cores the zone cannot reach weigh 0; times are floored at 1
    minute; the own chain's most probable core within ``attach_max_min`` is preferred;
    ties go to the first core. A zone reaching no core has ``core`` None.
    """
    out = []
    for z in range(len(chains)):
        if z in cores:
            out.append({"core": z, "minutes": 0.0, "prob": math.nan, "strategy": "independent_pole"})
            continue
        t = list(minutes[z])
        reach = [math.isfinite(v) for v in t]
        if not any(reach):
            out.append({"core": None, "minutes": math.nan, "prob": math.nan, "strategy": "isolated"})
            continue
        s = [score[c] for c in cores]
        s = s if any(v > 0 for v in s) else [1.0] * len(s)
        w = [s[k] * max(t[k], HUFF_FLOOR_MIN) ** -decay if reach[k] else 0.0 for k in range(len(cores))]
        p = [v / sum(w) for v in w]
        own = [k for k in range(len(cores)) if reach[k] and chains[cores[k]] == chains[z]
               and t[k] <= attach_max_min + tol]
        pick = max(own or [k for k in range(len(cores)) if reach[k]], key=lambda k: (p[k], -k))
        out.append({"core": cores[pick], "minutes": t[pick], "prob": p[pick],
                    "strategy": "collaborative_subordinate" if t[pick] <= attach_max_min + tol else "isolated"})
    return out


def gini_pairs(values: Sequence[float]) -> float:
    """Σ_i Σ_j |x_i - x_j| / (2 n² mean), by the double loop."""
    n = len(values)
    mean = sum(values) / n
    return sum(abs(a - b) for a in values for b in values) / (2 * n * n * mean)


# ---------------------------------------------------------------------------
# class breaks and colours (a second method: the order-statistic definition)


def quantile_linear(values: Sequence[float], p: float) -> float:
    """Quantile by linear interpolation between order statistics (Hyndman–Fan type 7):
    h = (n - 1) p, x[⌊h⌋] + (h - ⌊h⌋)(x[⌊h⌋ + 1] - x[⌊h⌋])."""
    x = sorted(values)
    h = (len(x) - 1) * p
    lo = int(math.floor(h))
    hi = min(lo + 1, len(x) - 1)
    return x[lo] + (h - lo) * (x[hi] - x[lo])


def quantile_breaks(values: Sequence[float], k: int) -> list[float]:
    """Inner upper limits of ``k`` quantile classes; repeated or top values dropped."""
    x = [v for v in values if v is not None and math.isfinite(v)]
    if not x:
        return []
    top = round(max(x), 10)
    out: list[float] = []
    for i in range(1, k):
        q = round(quantile_linear(x, i / k), 10)
        if (not out or q > out[-1]) and q < top:
            out.append(q)
    return out


def class_of(value: float, breaks: Sequence[float]) -> int:
    """Class i covers (breaks[i-1], breaks[i]]: the number of breaks below the value."""
    return sum(1 for b in breaks if b < value)
