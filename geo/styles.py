"""Palettes and class breaks: the one source for the web maps and the QGIS styles.

Colours are colour-blind safe (Okabe–Ito for categories, ColorBrewer PuOr for the
diverging jobs–housing classes, YlOrRd for graduated scores). Both
:mod:`geo.webmap` and :mod:`geo.qgis` must take colours, breaks and widths from here so
that the QGIS package looks like the web maps.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import shapely

from geo.i18n import fmt_number, label

# Okabe–Ito, then extra distinct colours for studies with many chains.
CATEGORICAL = (
    "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
    "#000000", "#999933", "#882255", "#44AA99", "#AA4499", "#117733", "#332288",
    "#DDCC77", "#88CCEE",
)

BALANCE_CLASS_COLORS = {
    "jobs_rich": "#e66101",
    "balanced": "#f7f7f7",
    "housing_rich": "#5e3c99",
    "no_housing": "#4d4d4d",
}
BALANCE_CLASSES = tuple(BALANCE_CLASS_COLORS)

#: Jobs–housing ratio choropleth: breaks and PuOr colours (housing-rich → jobs-rich).
JHR_BREAKS = (0.5, 0.8, 1.25, 2.0)
JHR_COLORS = ("#5e3c99", "#b2abd2", "#f7f7f7", "#fdb863", "#e66101")

#: Pair-type line colours: dark, saturated line colours that no chain fill colour uses
#: (chain fills come from :data:`CHAIN_COLORS` / :func:`chain_colors`, which are lighter;
#: ``tests/test_briefing_maps.py`` checks the two never share or nearly share a colour).
PAIR_TYPE_COLORS = {
    "main_partner": "#7A0019",
    "rd_manufacturing": "#08306B",
    "terminal_supporting": "#00441B",
    "peer": "#111111",
}
PAIR_TYPES = tuple(PAIR_TYPE_COLORS)

ROLE_COLORS = {"core": "#D55E00", "periphery": "#56B4E9"}
STRATEGY_COLORS = {
    "independent_pole": "#D55E00",
    "collaborative_subordinate": "#56B4E9",
    "isolated": "#999999",
}

#: Sequential ramp (YlOrRd, 5 classes) for scores, densities and other graduated fields.
SEQUENTIAL = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")

#: Fill of a feature whose class is missing (no value), on the web maps and in QGIS.
MISSING_COLOR = "#cccccc"

#: Line widths (pixels on the web map; printed and in QGIS: :func:`px_to_mm`).
LINE_WIDTHS = (1.0, 2.0, 3.5, 5.0, 7.0)

#: Web-map pixels (CSS px) to printed points on A4: the one scale of line widths off the web
#: map, the print figures' (:mod:`geo.figures`, A4; larger paper scales it) and the QGIS
#: styles' (:func:`px_to_mm`; their print layouts are A4).
PX_TO_PT = 0.55
#: Millimetres per typographic point.
MM_PER_PT = 25.4 / 72


def px_to_mm(px: float) -> float:
    """A web-map width or length (CSS px) in millimetres, as the print figures draw it on A4:
    ``px × PX_TO_PT`` points.

    Examples
    --------
    >>> round(px_to_mm(1.0), 3), round(px_to_mm(2.5), 3)
    (0.194, 0.485)
    """
    return float(px) * PX_TO_PT * MM_PER_PT


#: Point markers of the web maps (CSS px), which the QGIS styles (:func:`px_to_mm`) and the
#: print figures (× :data:`PX_TO_PT` points) take at the same scale as the line widths.
#: A star is an icon of this size (the runtime's 24-unit star path), a circle a radius.
POLE_STAR_PX = 26.0
#: The star of a growth pole without a colour of its own (beyond the first poles).
OTHER_POLE_STAR_PX = 14.0
#: The star marking a chain's gap at its strongest zone.
GAP_STAR_PX = 22.0
#: The star's outer diameter (its tips' circle) and its black outline (centred on its edge),
#: in icon units of 24.
STAR_SPAN = 21.7 / 24.0
STAR_OUTLINE = 2.8 / 24.0
#: Chain-leader firms: circle radius and white outline.
LEADER_RADIUS_PX = 6.0
LEADER_OUTLINE_PX = 1.5
#: Commuting sheds: circle radius = a + b·√(commuters / the largest cell's).
SHED_RADIUS_PX = (2.0, 10.0)


def star_mm(icon_px: float) -> tuple[float, float]:
    """(outer diameter, outline width) in mm of a web star icon of ``icon_px``: a QGIS star
    marker of that size draws the web's star at the print scale.

    Examples
    --------
    >>> [round(v, 3) for v in star_mm(POLE_STAR_PX)]
    [4.561, 0.589]
    """
    return px_to_mm(icon_px * STAR_SPAN), px_to_mm(icon_px * STAR_OUTLINE)


def shed_radius_px(share):
    """Radius (px) of a commuting shed holding ``share`` of the largest cell's commuters.

    Examples
    --------
    >>> float(shed_radius_px(0.25))
    7.0
    """
    return SHED_RADIUS_PX[0] + SHED_RADIUS_PX[1] * np.sqrt(share)


#: Core zones: outline colour and width (pixels) that mark growth poles.
CORE_OUTLINE = "#000000"
CORE_OUTLINE_WIDTH = 3.5
#: Isolated zones (strategy ``isolated``): dashed outline colour.
ISOLATED_OUTLINE = "#B2182B"
#: Attachment-probability classes of the core–periphery links (widths from LINE_WIDTHS).
ATTACH_PROB_BREAKS = (0.25, 0.5, 0.75)
#: Catchment rings (primary commuting radius) around workplaces.
CATCHMENT_COLOR = "#444444"

DISTRICT_OUTLINE = "#555555"

#: Road classes (``layers.roads``) from the fastest down: light line colours and widths
#: (pixels on the web map; QGIS takes half as millimetres), so the roads stay a backdrop.
ROAD_CLASSES = ("motorway", "expressway", "arterial", "secondary", "local")
#: Road class labels (zh, en), shared by the web maps' legend and the QGIS package.
ROAD_CLASS_NAMES = {"motorway": ("高速公路", "Motorway"), "expressway": ("快速路", "Expressway"),
                    "arterial": ("主干路", "Arterial"), "secondary": ("次干路", "Secondary road"),
                    "local": ("支路", "Local street")}


def closed_roads_note(classes, language: str) -> str:
    """The sentence saying which road classes homes and workplaces do not walk onto
    (``network.no_access_classes``), in ``language``: the web roads legend's note and the
    QGIS ``roads`` layer's abstract."""
    keys = sorted(classes, key=lambda k: (ROAD_CLASSES.index(k) if k in ROAD_CLASSES else len(ROAD_CLASSES), k))
    if language == "zh":
        names = "、".join(ROAD_CLASS_NAMES.get(k, (k, k))[0] for k in keys)
        return f"住宅和就业地不就近步行进出{names}，只在其与其他道路的交汇点进出。"
    names = ", ".join(ROAD_CLASS_NAMES.get(k, (k, k))[1].lower() for k in keys)
    return f"Homes and workplaces do not walk onto {names}; they join them only where another road meets them."
ROAD_CLASS_COLORS = {"motorway": "#e8a15c", "expressway": "#f0c27b", "arterial": "#b9b9b9",
                     "secondary": "#cdcdcd", "local": "#dedede"}
ROAD_CLASS_WIDTHS = {"motorway": 3.0, "expressway": 2.4, "arterial": 1.8, "secondary": 1.2, "local": 0.6}
#: Isochrone of the selected workplace (the area reached within the primary horizon).
ISOCHRONE_COLOR = "#2b8cbe"
INNOVATION_COLOR = "#CC79A7"
HOUSING_COLOR = "#7f7f7f"
ZONE_OUTLINE = "#333333"


#: Chain fill colours (medium lightness, so the dark pair-type lines stay visible on them).
#: Beyond these, :func:`distinct_colors` generates more by stepping the hue.
CHAIN_COLORS = (
    "#E69F00", "#56B4E9", "#F0E442", "#CC79A7", "#44AA99", "#DDCC77", "#88CCEE", "#AA4499",
    "#999933", "#EE8866", "#77AADD", "#BBCC33", "#FFAABB", "#99DDFF", "#EEDD88", "#AAAA00",
)

#: Growth-pole colours (qualitative, 16 distinguishable colours; poles beyond them are grey).
POLE_COLORS = (
    "#E6194B", "#3CB44B", "#4363D8", "#F58231", "#911EB4", "#42D4F4", "#F032E6", "#9A6324",
    "#469990", "#800000", "#808000", "#000075", "#BFEF45", "#DCBEFF", "#FFD8B1", "#AAFFC3",
)
#: Colour of the poles beyond :data:`POLE_COLORS` (legend: "other poles").
OTHER_POLE_COLOR = "#B0B0B0"
#: Fill of the pole stars (gold: visible on every pole colour; the pole's colour is its territory's).
STAR_COLOR = "#FFD400"


def pole_colors(zones: pd.DataFrame) -> dict[str, str]:
    """Colour of each growth pole, the same in every writer (web map, print figure, QGIS):
    poles ordered by score (strongest first, ties in table order) take :data:`POLE_COLORS`
    in turn, poles beyond them :data:`OTHER_POLE_COLOR`.

    ``zones`` needs ``zone_id``, ``role`` and ``score`` (a core_periphery_zones table).

    Examples
    --------
    >>> t = pd.DataFrame({"zone_id": ["a", "b", "c"], "role": ["core", "periphery", "core"],
    ...                   "score": [0.5, 0.9, 0.8]})
    >>> pole_colors(t) == {"c": POLE_COLORS[0], "a": POLE_COLORS[1]}
    True
    """
    cores = zones.loc[zones["role"].astype(str) == "core"].sort_values("score", ascending=False, kind="stable")
    ids = list(dict.fromkeys(cores["zone_id"].astype(str)))
    return {c: (POLE_COLORS[i] if i < len(POLE_COLORS) else OTHER_POLE_COLOR) for i, c in enumerate(ids)}


def _hcl_to_hex(h_deg: float, c: float, lightness: float) -> str:
    """CIE LCh(ab) (D65) → sRGB hex, clipped to the gamut."""
    a, b = c * np.cos(np.radians(h_deg)), c * np.sin(np.radians(h_deg))
    fy = (lightness + 16) / 116
    fx, fz = fy + a / 500, fy - b / 200

    def inv(t: float) -> float:
        return t ** 3 if t ** 3 > 0.008856 else (t - 16 / 116) / 7.787

    x, y, z = 0.95047 * inv(fx), 1.0 * inv(fy), 1.08883 * inv(fz)
    rgb = np.array([[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415], [0.0557, -0.2040, 1.0570]]) @ [x, y, z]
    rgb = np.where(rgb <= 0.0031308, 12.92 * rgb, 1.055 * np.clip(rgb, 0, None) ** (1 / 2.4) - 0.055)
    r, g, bl = (np.clip(rgb, 0, 1) * 255).round().astype(int)
    return f"#{r:02X}{g:02X}{bl:02X}"


def distinct_colors(n: int, base: Sequence[str] = CHAIN_COLORS) -> list[str]:
    """``n`` colours: ``base`` first, then generated ones (deterministic).

    Generated colours step the hue by the golden angle at alternating lightness
    (65 / 78) and chroma 45, so they stay light enough for dark lines on top and
    differ from each other and from ``base``.

    Examples
    --------
    >>> distinct_colors(2)
    ['#E69F00', '#56B4E9']
    >>> len(set(distinct_colors(40))) == 40
    True
    """
    out = list(base[:n])
    k = 0
    while len(out) < n:
        color = _hcl_to_hex((20 + 137.508 * k) % 360, 45, 65 if k % 2 == 0 else 78)
        k += 1
        if color not in out:
            out.append(color)
    return out


def chain_colors(chains: Iterable[str]) -> dict[str, str]:
    """A stable, distinct colour for each chain (chains sorted by name).

    The first 16 chains take :data:`CHAIN_COLORS`; more chains get generated colours
    (:func:`distinct_colors`), so no two chains share a colour.

    Examples
    --------
    >>> chain_colors(["b", "a", "b"])
    {'a': '#E69F00', 'b': '#56B4E9'}
    """
    names = sorted({str(c) for c in chains if c is not None and c == c})
    return dict(zip(names, distinct_colors(len(names))))


def category_colors(values: Iterable[str]) -> dict[str, str]:
    """Colours for an arbitrary categorical field (e.g. the core a zone attaches to)."""
    return chain_colors(values)


def graduated_breaks(values: Sequence[float], k: int = 5) -> list[float]:
    """Upper class limits for ``k`` quantile classes of the finite ``values``.

    Returns the ``k - 1`` inner breaks, ascending and unique (fewer when values repeat).
    A value ``v`` falls in class ``i`` = number of breaks strictly below... see
    :func:`classify`.

    Examples
    --------
    >>> graduated_breaks([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], k=5)
    [2.8, 4.6, 6.4, 8.2]
    >>> graduated_breaks([1 / 3] * 4)
    []
    """
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0 or k < 2:
        return []
    qs = np.quantile(arr, np.linspace(0, 1, k + 1)[1:-1])
    top = float(np.round(arr.max(), 10))  # rounded like the breaks: equal values give no break
    out: list[float] = []
    for q in qs:
        q = float(np.round(q, 10))
        if (not out or q > out[-1]) and q < top:
            out.append(q)
    return out


def classify(values: Sequence[float], breaks: Sequence[float]) -> np.ndarray:
    """Class index of each value: 0 for ``v <= breaks[0]``, ..., ``len(breaks)`` above.

    Non-finite values get -1. Class ``i`` covers ``(breaks[i-1], breaks[i]]``, the same
    intervals QGIS uses for a graduated renderer with these upper limits. Values are
    compared rounded to 10 decimals, as :func:`graduated_breaks` rounds the breaks.

    Examples
    --------
    >>> classify([0.0, 2.0, 2.5, 5.0, 9.0, float("nan")], [2.0, 5.0]).tolist()
    [0, 0, 1, 1, 2, -1]
    >>> classify([164 * 2.1], [344.4]).tolist()
    [0]
    """
    arr = np.asarray(values, dtype=float)
    # rounded like the breaks (graduated_breaks), so float noise (164 x 2.1 =
    # 344.40000000000003) does not put equal values in different classes
    idx = np.searchsorted(np.asarray(breaks, dtype=float), np.round(arr, 10), side="left")
    return np.where(np.isfinite(arr), idx, -1)


def ramp(n: int, colors: Sequence[str] = SEQUENTIAL) -> list[str]:
    """``n`` colours picked evenly from ``colors`` (n <= len(colors) keeps ends)."""
    if n <= 0:
        return []
    if n == 1:
        return [colors[-1]]
    pos = np.linspace(0, len(colors) - 1, n).round().astype(int)
    return [colors[i] for i in pos]


def outline_lines(polygons) -> shapely.Geometry:
    """The outlines of ``polygons`` as lines holding every edge once: where two polygons meet,
    their shared edge is one line, not two (two dashed outlines drawn over each other, their
    dashes out of step, look solid). The web maps, the print figures and the QGIS package draw
    the district boundaries with it.

    Examples
    --------
    >>> two = [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)]
    >>> float(shapely.length(shapely.boundary(two)).sum()), float(shapely.length(outline_lines(two)))
    (8.0, 7.0)
    """
    geoms = np.asarray(polygons, dtype=object)
    return shapely.line_merge(shapely.union_all(shapely.boundary(geoms)))


def class_ranges(values: Sequence[float], breaks: Sequence[float]) -> list[tuple[float, float]]:
    """(lower, upper) of each class for legends: min/max of the data close the ends.

    An end class the data do not reach (fixed breaks: every value above the first break,
    or none above the last) is closed at its break, ``(b, b)``, never reversed; its
    legend text says ``≤ b`` / ``> b`` (:func:`class_range_texts`).

    Examples
    --------
    >>> class_ranges([3.0, 4.0, 6.0], [2.0, 5.0])
    [(2.0, 2.0), (2.0, 5.0), (5.0, 6.0)]
    >>> class_ranges([1.0, 4.0], [2.0, 5.0])
    [(1.0, 2.0), (2.0, 5.0), (5.0, 5.0)]
    """
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return []
    inner = [float(b) for b in breaks]
    lo, hi = float(arr.min()), float(arr.max())
    if inner:
        lo, hi = min(lo, inner[0]), max(hi, inner[-1])
    edges = [lo, *inner, hi]
    return list(zip(edges[:-1], edges[1:]))


def class_range_texts(values: Sequence[float], breaks: Sequence[float], fmt: str, language: str) -> list[str]:
    """Legend text of each class of :func:`class_ranges`, "lower – upper" in the number format
    ``fmt`` of :func:`geo.i18n.fmt_number`: the web legends, the print figures and the QGIS
    styles label graduated classes with it. An end class closed at its break (no data
    beyond it) reads ``≤ b`` (the first) or ``> b`` (the last): what the class holds.

    Examples
    --------
    >>> class_range_texts([0.05, 0.4, 0.9], [0.3, 0.5], "pct", "en")
    ['5.0% – 30.0%', '30.0% – 50.0%', '50.0% – 90.0%']
    >>> class_range_texts([0.4, 0.45], [0.3, 0.5], "pct", "en")
    ['≤ 30.0%', '30.0% – 50.0%', '> 50.0%']
    """
    ranges = class_ranges(values, breaks)
    texts = [f"{fmt_number(lo, fmt, language)} – {fmt_number(hi, fmt, language)}" for lo, hi in ranges]
    if len(ranges) > 1:
        if ranges[0][0] == ranges[0][1]:
            texts[0] = f"≤ {fmt_number(ranges[0][1], fmt, language)}"
        if ranges[-1][0] == ranges[-1][1]:
            texts[-1] = f"> {fmt_number(ranges[-1][0], fmt, language)}"
    return texts


def balance_class_text(balance_class: str, language: str, balanced_range: Sequence[float]) -> str:
    """Legend text of a balance class with the jobs–housing ratios it stands for
    (``balance.balanced_range``), as the web legend, the print figure and the QGIS styles
    show it.

    Examples
    --------
    >>> balance_class_text("jobs_rich", "en", (0.8, 1.25)), balance_class_text("balanced", "zh", (0.8, 1.25))
    ('Jobs-rich (> 1.25)', '职住平衡 (0.8–1.25)')
    """
    lo, hi = balanced_range
    ratios = {"jobs_rich": f" (> {hi:g})", "balanced": f" ({lo:g}–{hi:g})", "housing_rich": f" (< {lo:g})"}
    return label(balance_class, language) + ratios.get(balance_class, "")


def jhr_class_texts(breaks: Sequence[float] = JHR_BREAKS) -> list[str]:
    """Legend text of the jobs–housing ratio choropleth classes (web legend and QGIS styles).

    Examples
    --------
    >>> jhr_class_texts()
    ['≤ 0.5', '0.5 – 0.8', '0.8 – 1.25', '1.25 – 2', '> 2']
    """
    b = list(breaks)
    return [f"≤ {b[0]:g}", *[f"{lo:g} – {hi:g}" for lo, hi in zip(b[:-1], b[1:])], f"> {b[-1]:g}"]


# --- collaboration strength as a 0-100 index (web map, print figures and QGIS alike) ----

#: Line widths of weak, medium and strong pairs (from LINE_WIDTHS).
STRENGTH_WIDTHS = (LINE_WIDTHS[0] + 0.5, LINE_WIDTHS[2], LINE_WIDTHS[4])
STRENGTH_RANGES = ((0, 33), (34, 66), (67, 100))
STRENGTH_WORDS = {"zh": ("弱", "中", "强"), "en": ("weak", "medium", "strong")}


def strength_index(strength: pd.Series) -> pd.Series:
    """Pair strength as a 0–100 index: position of ln(strength) between the study's
    weakest and strongest candidate pair (100 when all are equal; missing stays missing).

    Examples
    --------
    >>> strength_index(pd.Series([1.0, 10.0, 100.0])).tolist()
    [0.0, 50.0, 100.0]
    """
    s = pd.to_numeric(strength, errors="coerce").astype(float)
    s = s.where(s > 0)
    logs = np.log(s)
    lo, hi = logs.min(), logs.max()
    if not np.isfinite(lo) or hi - lo <= 0:
        return pd.Series(np.where(s.notna(), 100.0, np.nan), index=s.index)
    return ((logs - lo) / (hi - lo) * 100).round(0)


def strength_class(index: pd.Series) -> np.ndarray:
    """0 weak (< 34), 1 medium (34–66), 2 strong (≥ 67) from the 0–100 index; missing → weak."""
    arr = pd.to_numeric(index, errors="coerce").to_numpy(float)
    return np.where(arr >= 67, 2, np.where(arr >= 34, 1, 0))


# --- industry chains (chains.html and the QGIS "chains" group) -------------------------
#: Zone fill by chain role (Okabe–Ito); ``none`` = no role given.
CHAIN_ROLE_COLORS = {"rd": "#0072B2", "manufacturing": "#E69F00", "terminal": "#009E73",
                     "supporting": "#CC79A7", "mixed": "#999999", "none": "#dddddd"}
#: Location-quotient classes (< 0.5, 0.5–0.8, 0.8–1.25, 1.25–2, > 2): under- to over-represented.
LQ_BREAKS = (0.5, 0.8, 1.25, 2.0)
LQ_COLORS = ("#2166ac", "#92c5de", "#f7f7f7", "#f4a582", "#b2182b")
LEADER_COLOR = "#D55E00"
REACH_COLOR = "#D55E00"
GAP_OUTLINE = "#B2182B"


# --- observed commuting (commuting.html and the QGIS "commuting" group) -----------------
#: Workplaces by the share of their commuters living within 5 km (low = long commutes).
COMMUTE_SHARE_BREAKS = (0.3, 0.5, 0.7, 0.85)
COMMUTE_SHARE_COLORS = ("#b2182b", "#ef8a62", "#fddbc7", "#d1e5f0", "#2166ac")
#: Districts by self-containment (本地就业率), the same breaks and colours.
#: District-to-district flow lines (width by commuters from LINE_WIDTHS) and shed cells.
FLOW_COLOR = "#08519C"
SHED_COLOR = "#D55E00"


#: Flow width classes 1..4 start at these fractions of the largest flow (class 0 below).
FLOW_WIDTH_STEPS = (1 / 16, 1 / 8, 1 / 4, 1 / 2)


def flow_width_index(commuters: Sequence[float]) -> np.ndarray:
    """Width class 0..4 (into :data:`LINE_WIDTHS`) of each flow: commuters relative to the
    largest flow, in steps of 1/16, 1/8, 1/4, 1/2 of it (:data:`FLOW_WIDTH_STEPS`; a flow
    on a step is in the wider class)."""
    v = np.asarray(commuters, dtype=float)
    top = np.nanmax(v) if len(v) and np.isfinite(v).any() else 1.0
    rel = v / top if top > 0 else np.zeros(len(v))
    return np.searchsorted(np.array(FLOW_WIDTH_STEPS), rel, side="right")


def flow_legend(commuters: Sequence[float], language: str) -> list[tuple[int, str]]:
    """The rows of a flow legend (web map, print figure and QGIS alike) for the flows drawn:
    each width class they fall in (:func:`flow_width_index`), widest first, with its label
    "fewest – most" commuters of its flows.

    Examples
    --------
    >>> flow_legend([1000, 900, 100, 40], "en")
    [(4, '900 – 1,000'), (1, '100 – 100'), (0, '40 – 40')]
    """
    v = np.asarray(commuters, dtype=float)
    wi = flow_width_index(v)
    return [(k, f"{fmt_number(v[wi == k].min(), 'int', language)} – {fmt_number(v[wi == k].max(), 'int', language)}")
            for k in sorted(set(wi.tolist()), reverse=True)]
