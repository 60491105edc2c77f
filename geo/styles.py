"""Palettes and class breaks: the one source for the web maps and the QGIS styles.

Colours are colour-blind safe (Okabe–Ito for categories, ColorBrewer PuOr for the
diverging jobs–housing classes, YlOrRd for graduated scores). Both
:mod:`geo.webmap` and :mod:`geo.qgis` must take colours, breaks and widths from here so
that the QGIS package looks like the web maps.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

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

PAIR_TYPE_COLORS = {
    "main_partner": "#D55E00",
    "rd_manufacturing": "#0072B2",
    "terminal_supporting": "#009E73",
    "peer": "#999999",
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

#: Line widths (pixels on the web map; QGIS uses ``width / 2`` in millimetres).
LINE_WIDTHS = (1.0, 2.0, 3.5, 5.0, 7.0)

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
INNOVATION_COLOR = "#CC79A7"
HOUSING_COLOR = "#7f7f7f"
ZONE_OUTLINE = "#333333"


def chain_colors(chains: Iterable[str]) -> dict[str, str]:
    """A stable colour for each chain: chains sorted by name take palette colours in turn.

    Examples
    --------
    >>> chain_colors(["b", "a", "b"])
    {'a': '#E69F00', 'b': '#56B4E9'}
    """
    names = sorted({str(c) for c in chains if c is not None and c == c})
    return {name: CATEGORICAL[i % len(CATEGORICAL)] for i, name in enumerate(names)}


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


def class_ranges(values: Sequence[float], breaks: Sequence[float]) -> list[tuple[float, float]]:
    """(lower, upper) of each class for legends: min/max of the data close the ends."""
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return []
    edges = [float(arr.min()), *map(float, breaks), float(arr.max())]
    return list(zip(edges[:-1], edges[1:]))
