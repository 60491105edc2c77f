"""geo/styles.py against a second method (tests/_reference.py) and values worked out
by hand: class breaks, classes, colour ramps, legend ranges, category colours."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo import styles
from tests import _reference as ref

#: ColorBrewer YlOrRd, 5 classes (the documented sequential ramp), light to dark.
YLORRD_5 = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]
#: Okabe–Ito, the first chain colours.
OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"]


def test_quantile_breaks_by_hand():
    # 1..10, k = 5: h = 9 * 0.2 = 1.8 -> 2 + 0.8 * 1 = 2.8, then 4.6, 6.4, 8.2
    assert styles.graduated_breaks(list(range(1, 11)), k=5) == pytest.approx([2.8, 4.6, 6.4, 8.2])
    # skewed data: quantiles, not equal intervals (equal intervals would be 200, 400, ...)
    values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 1000]
    assert styles.graduated_breaks(values, k=5) == pytest.approx([2.8, 4.6, 6.4, 8.2])
    # four classes of 0..8: 2, 4, 6
    assert styles.graduated_breaks(list(range(9)), k=4) == pytest.approx([2, 4, 6])
    # repeated values: no repeated break, no break at the maximum
    assert styles.graduated_breaks([1, 1, 1, 1, 5], k=5) == pytest.approx([1.0, 1.8])
    assert styles.graduated_breaks([3, 3, 3], k=5) == []
    # equal values that are not round numbers: one class, not a break a hair below them
    assert styles.graduated_breaks([1 / 3] * 4, k=5) == []
    assert styles.graduated_breaks([np.nan, 1.0, np.inf, 2.0, 3.0], k=2) == [2.0]
    assert styles.graduated_breaks([], k=5) == [] and styles.graduated_breaks([1, 2], k=1) == []


@given(st.lists(st.integers(-8_000_000, 8_000_000).map(lambda v: v / 8), min_size=1, max_size=40),
       st.integers(2, 7))
def test_quantile_breaks_match_order_statistics(values, k):
    # eighths: exact in binary, so both methods' rounding to 10 decimals agrees
    got = styles.graduated_breaks(values, k=k)
    want = ref.quantile_breaks(values, k)
    assert len(got) == len(want)
    assert got == pytest.approx(want, rel=1e-9, abs=1e-6)


def test_classify_by_hand():
    breaks = [2.0, 5.0]
    got = styles.classify([0.0, 2.0, 2.0001, 5.0, 5.5, np.nan, -np.inf], breaks)
    assert got.tolist() == [0, 0, 1, 1, 2, -1, -1]
    assert styles.classify([7.0], []).tolist() == [0]
    # equal up to float noise: the same class (164 x 2.1 = 344.40000000000003)
    assert styles.classify([164 * 2.1, 984 * 0.35], [344.4]).tolist() == [0, 0]


EIGHTHS = st.integers(-8000, 8000).map(lambda v: v / 8)


@given(st.lists(EIGHTHS, min_size=1, max_size=30), st.lists(EIGHTHS, max_size=5, unique=True))
def test_classify_matches_counting_breaks_below(values, breaks):
    breaks = sorted(breaks)
    assert styles.classify(values, breaks).tolist() == [ref.class_of(v, breaks) for v in values]


def test_ramp_by_hand():
    assert styles.ramp(5) == YLORRD_5
    assert styles.ramp(3) == [YLORRD_5[0], YLORRD_5[2], YLORRD_5[4]]
    assert styles.ramp(2) == [YLORRD_5[0], YLORRD_5[4]]
    assert styles.ramp(1) == [YLORRD_5[4]]
    assert styles.ramp(0) == [] and styles.ramp(-1) == []
    assert styles.ramp(4) == [YLORRD_5[0], YLORRD_5[1], YLORRD_5[3], YLORRD_5[4]]
    assert styles.ramp(3, ["a", "b", "c", "d"]) == ["a", "c", "d"]   # 1.5 rounds to 2


def test_class_ranges_by_hand():
    assert styles.class_ranges([3.0, 1.0, np.nan, 9.0], [2.0, 5.0]) == [(1.0, 2.0), (2.0, 5.0), (5.0, 9.0)]
    assert styles.class_ranges([np.nan], [1.0]) == []
    assert styles.class_ranges([4.0], []) == [(4.0, 4.0)]


def test_empty_end_classes_are_closed_at_their_break_not_reversed():
    # fixed breaks (the commuting shares') with no value in the first or the last class:
    # closed by the data they read "30% – 20%" (reversed); now the break, labelled ≤ / >
    assert styles.class_ranges([3.0, 4.0, 6.0], [2.0, 5.0]) == [(2.0, 2.0), (2.0, 5.0), (5.0, 6.0)]
    assert styles.class_ranges([0.5, 4.0], [2.0, 5.0]) == [(0.5, 2.0), (2.0, 5.0), (5.0, 5.0)]
    assert styles.class_ranges([3.0, 4.0], [2.0, 5.0]) == [(2.0, 2.0), (2.0, 5.0), (5.0, 5.0)]
    for lo, hi in styles.class_ranges([7.0, 8.0], [2.0, 5.0]):     # all in the last class
        assert lo <= hi
    assert styles.class_range_texts([3.0, 4.0], [2.0, 5.0], "num", "en") == ["≤ 2", "2 – 5", "> 5"]
    assert styles.class_range_texts([0.25, 0.4], [0.2, 0.35, 0.5], "pct", "zh") == [
        "≤ 20.0%", "20.0% – 35.0%", "35.0% – 50.0%", "> 50.0%"]
    # a first class holding only values equal to its break says what it holds too
    assert styles.class_range_texts([1.0, 1.0, 9.0], [1.0], "num", "en") == ["≤ 1", "1 – 9"]


#: the chain palette as documented (written out by hand, not read from styles.py)
CHAIN_16 = ["#E69F00", "#56B4E9", "#F0E442", "#CC79A7", "#44AA99", "#DDCC77", "#88CCEE", "#AA4499",
            "#999933", "#EE8866", "#77AADD", "#BBCC33", "#FFAABB", "#99DDFF", "#EEDD88", "#AAAA00"]
PAIR_TYPE_HEX = {"#7A0019", "#08306B", "#00441B", "#111111"}


def test_chain_and_category_colours_by_hand():
    assert styles.chain_colors(["生物医药", "电子信息", None, float("nan"), "电子信息"]) == {
        "生物医药": CHAIN_16[0], "电子信息": CHAIN_16[1]}
    many = [f"c{i:02d}" for i in range(40)]
    colors = styles.chain_colors(many)
    assert [colors[c] for c in many[:16]] == CHAIN_16
    # beyond the palette: generated colours, every chain its own, none a pair-type colour
    assert len({colors[c].upper() for c in many}) == 40
    assert not {colors[c].upper() for c in many} & PAIR_TYPE_HEX
    assert not {colors[c].upper() for c in many[16:]} & {c.upper() for c in CHAIN_16}
    assert styles.chain_colors(many) == colors   # deterministic


def test_palette_constants_are_the_documented_ones():
    assert list(styles.SEQUENTIAL) == YLORRD_5
    assert styles.BALANCE_CLASS_COLORS == {"jobs_rich": "#e66101", "balanced": "#f7f7f7",
                                           "housing_rich": "#5e3c99", "no_housing": "#4d4d4d"}
    assert styles.JHR_BREAKS == (0.5, 0.8, 1.25, 2.0)
    assert styles.ATTACH_PROB_BREAKS == (0.25, 0.5, 0.75)
    assert list(styles.LINE_WIDTHS) == sorted(styles.LINE_WIDTHS) and len(styles.LINE_WIDTHS) == 5
    assert math.isclose(styles.CORE_OUTLINE_WIDTH, 3.5)


def test_missing_values_and_fractions():
    """None counts as missing (no class, not in the breaks); fractional data keep their
    breaks (the maximum is compared at 10 decimals, not rounded to an integer)."""
    values = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert styles.graduated_breaks(values, k=5) == pytest.approx([0.28, 0.46, 0.64, 0.82])
    assert styles.graduated_breaks([None, *values], k=5) == pytest.approx([0.28, 0.46, 0.64, 0.82])
    assert styles.classify([None, 0.3], [0.28]).tolist() == [-1, 1]
    assert styles.class_ranges([None, 1.0, 3.0], [2.0]) == [(1.0, 2.0), (2.0, 3.0)]


def test_default_is_five_classes():
    assert styles.graduated_breaks(list(range(1, 11))) == pytest.approx([2.8, 4.6, 6.4, 8.2])
