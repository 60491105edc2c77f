"""What the print maps take from the web maps, in one place.

The figures must show the same classes as the web maps: the housing density cells and the
number formats of the legends come from :mod:`geo.webmap` until they move below both
writers (then only these imports change).
"""

from __future__ import annotations

from geo.i18n import fmt_number
from geo.webmap.balance import housing_hexagons
from geo.webmap.core_periphery import LEGEND_MAX_CORES

__all__ = ["LEGEND_MAX_CORES", "fmt_number", "housing_hexagons"]
