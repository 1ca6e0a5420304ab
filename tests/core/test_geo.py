import math

import pytest
from quayside.core.geo import ground_distance_m, ground_scale
from rasterio.transform import from_origin


def test_utm_pixel_is_its_own_size():
    s = ground_scale("EPSG:32651", from_origin(360000, 4290000, 0.5, 0.5), 1000, 1000)
    # UTM has a scale factor of 0.9996 at the central meridian; ~0.9997 near 360 km easting
    assert s.x_m == pytest.approx(0.5, rel=2e-3)
    assert s.y_m == pytest.approx(0.5, rel=2e-3)
    assert s.georeferenced


def test_web_mercator_pixel_shrinks_with_latitude():
    # Busan, 35.1 N: a 10 m Web Mercator pixel is 10 * cos(35.1) = 8.18 m on the ground
    from rasterio.warp import transform

    xs, ys = transform("EPSG:4326", "EPSG:3857", [129.04], [35.10])
    s = ground_scale("EPSG:3857", from_origin(xs[0], ys[0], 10, 10), 2, 2, at=(0, 0))
    assert s.x_m == pytest.approx(10 * math.cos(math.radians(35.10)), rel=5e-3)
    assert s.y_m == pytest.approx(10 * math.cos(math.radians(35.10)), rel=5e-3)


def test_degrees_give_metres():
    # 0.001 degree of latitude is about 110.9 m at 35 N
    d = ground_distance_m("EPSG:4326", (129.0, 35.0), (129.0, 35.001))
    assert d == pytest.approx(110.95, abs=0.2)


def test_no_crs_is_pixel_units():
    s = ground_scale(None, from_origin(0, 0, 1, 1), 10, 10)
    assert not s.georeferenced and s.x_m == 1.0
