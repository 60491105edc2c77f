"""GCJ-02 / BD-09 conversions and the working-CRS choice."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS, Geod

from geo._coords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    transform_geometries,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from geo._crs import choose_working_crs, in_china, require_projected_metres

GEOD = Geod(ellps="WGS84")


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def china_grid(step: float = 0.37):
    lon, lat = np.meshgrid(np.arange(73.5, 135.0, step), np.arange(18.2, 53.5, step))
    return lon.ravel(), lat.ravel()


# --- published reference values (Tiananmen area, 116.404E 39.915N) ----------------


def test_wgs84_to_gcj02_matches_the_published_algorithm():
    lon, lat = wgs84_to_gcj02(116.404, 39.915)
    assert lon == pytest.approx(116.41024449916938, abs=1e-9)
    assert lat == pytest.approx(39.91640428150164, abs=1e-9)


def test_gcj02_to_bd09_matches_the_published_algorithm():
    lon, lat = gcj02_to_bd09(116.404, 39.915)
    assert lon == pytest.approx(116.41036949371029, abs=1e-9)
    assert lat == pytest.approx(39.92133699351021, abs=1e-9)


def test_the_gcj02_offset_is_a_few_hundred_metres_in_china():
    lon, lat = china_grid(1.1)
    glon, glat = wgs84_to_gcj02(lon, lat)
    d = metres(lon, lat, glon, glat)
    assert d.min() > 10 and d.max() < 1500
    assert 100 < np.median(d) < 800


# --- round trips ------------------------------------------------------------------


def test_gcj02_round_trip_error_below_10_cm_over_china():
    lon, lat = china_grid()
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert metres(lon, lat, back_lon, back_lat).max() < 0.1
    # and the other way round: GCJ-02 input -> WGS84 -> GCJ-02
    again = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    assert metres(lon, lat, *again).max() < 0.1


def test_bd09_round_trip_error_below_10_cm_over_china():
    lon, lat = china_grid()
    back = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert metres(lon, lat, *back).max() < 0.1
    back = bd09_to_gcj02(*gcj02_to_bd09(lon, lat))
    assert metres(lon, lat, *back).max() < 0.1


@settings(max_examples=40, deadline=None)
@given(st.floats(73.6, 134.9), st.floats(18.2, 53.4))
def test_gcj02_inverse_property(lon, lat):
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert metres(lon, lat, *back) < 0.01


def test_no_offset_outside_china():
    lon = np.array([13.4, -74.0, 151.2, 139.7])
    lat = np.array([52.5, 40.7, -33.9, 60.0])
    glon, glat = wgs84_to_gcj02(lon, lat)
    np.testing.assert_array_equal(glon, lon)
    np.testing.assert_array_equal(glat, lat)
    np.testing.assert_array_equal(gcj02_to_wgs84(lon, lat)[0], lon)


def test_arrays_keep_their_shape_and_scalars_work():
    lon, lat = np.full((3, 4), 104.07), np.full((3, 4), 30.67)
    out = gcj02_to_wgs84(lon, lat)
    assert out[0].shape == (3, 4)
    scalar = gcj02_to_wgs84(104.07, 30.67)
    assert float(scalar[0]) == pytest.approx(out[0][0, 0])


def test_transform_geometries_converts_every_vertex_and_keeps_inputs():
    poly = shapely.Polygon([(104.0, 30.6), (104.1, 30.6), (104.1, 30.7), (104.0, 30.6)])
    geoms = np.array([shapely.Point(104.07, 30.67), poly, None], dtype=object)
    before = shapely.to_wkb(geoms[:2])
    out = transform_geometries(geoms, wgs84_to_gcj02)
    assert list(shapely.to_wkb(geoms[:2])) == list(before)  # input unchanged
    assert out[2] is None
    expected = np.column_stack(wgs84_to_gcj02(*shapely.get_coordinates(poly).T))
    np.testing.assert_allclose(shapely.get_coordinates(out[1]), expected)
    assert out[0].x == pytest.approx(float(wgs84_to_gcj02(104.07, 30.67)[0]))


# --- working CRS ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [
        (104.07, 30.67, 4544),   # Chengdu: CM 3*round(104.07/3) = 105E -> 4534 + 10
        (116.40, 39.90, 4548),   # Beijing: CM 117E
        (121.47, 31.23, 4549),   # Shanghai: CM 120E
        (75.99, 39.47, 4534),    # Kashgar: CM 75E
        (87.60, 43.80, 4538),    # Urumqi: CM 87E
        (126.60, 45.75, 4551),   # Harbin: CM 126E
        (110.30, 20.00, 4546),   # Haikou (Hainan): CM 111E
    ],
)
def test_working_crs_in_china_is_the_cgcs2000_gk3_zone(lon, lat, epsg):
    crs = choose_working_crs(lon, lat)
    assert crs.to_epsg() == epsg
    params = {p.name: p.value for p in crs.coordinate_operation.params}
    assert params["Longitude of natural origin"] == 3 * round(lon / 3)
    assert "CGCS2000" in crs.name


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [
        (13.40, 52.52, 32633),    # Berlin
        (151.21, -33.87, 32756),  # Sydney
        (-74.00, 40.71, 32618),   # New York
        (127.00, 37.50, 32652),   # Seoul: next to China, not in it
        (106.90, 47.90, 32648),   # Ulaanbaatar
        (105.80, 21.00, 32648),   # Hanoi
        (5.32, 60.39, 32632),     # Bergen: the Norway exception (would be 31)
    ],
)
def test_working_crs_outside_china_is_utm(lon, lat, epsg):
    assert not in_china(lon, lat)
    assert choose_working_crs(lon, lat).to_epsg() == epsg


def test_require_projected_metres():
    assert require_projected_metres(CRS.from_epsg(4544)) is None
    assert "geographic" in require_projected_metres(CRS.from_epsg(4326))
    assert "foot" in require_projected_metres(CRS.from_epsg(2263))


def test_choose_working_crs_rejects_nonsense():
    with pytest.raises(ValueError):
        choose_working_crs(float("nan"), 30.0)
