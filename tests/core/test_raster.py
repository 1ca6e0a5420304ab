"""Band roles (quayside.core.raster.band_roles) from colour interpretation and band descriptions."""

import numpy as np
import pytest
import rasterio
from affine import Affine
from quayside.core.raster import band_roles, window_from_bounds
from rasterio.enums import ColorInterp
from rasterio.transform import from_origin


def _stack(path, descriptions, colorinterp=None):
    n = len(descriptions)
    with rasterio.open(path, "w", driver="GTiff", width=8, height=8, count=n, dtype="uint16",
                       crs="EPSG:32633", transform=from_origin(500000, 4500000, 10, 10)) as dst:
        dst.write(np.ones((n, 8, 8), np.uint16))
        for i, d in enumerate(descriptions, start=1):
            if d:
                dst.set_band_description(i, d)
        dst.colorinterp = colorinterp or [ColorInterp.gray] + [ColorInterp.undefined] * (n - 1)
    return path


@pytest.mark.parametrize("descriptions, expected", [
    # a Sentinel-2 stack exported band by band (blue first): B04 is red, B08 the NIR
    (["B02", "B03", "B04", "B08"], (3, 2, 1, 4)),
    (["B2", "B3", "B4", "B8A", "B11", "B12"], (3, 2, 1, 4)),
    # PlanetScope's 4-band analytic order, named
    (["blue", "green", "red", "nir"], (3, 2, 1, 4)),
    (["Blue", "Green", "Red", "Near Infrared"], (3, 2, 1, 4)),
    # Landsat 7 calls its red band B3 and its NIR band B4: not read as Sentinel-2 names
    (["B1", "B2", "B3", "B4"], (1, 2, 3, 4)),
    # nothing said: bands 1, 2, 3 and a 4th as NIR
    (["", "", "", ""], (1, 2, 3, 4)),
])
def test_band_roles_from_descriptions(tmp_path, descriptions, expected):
    with rasterio.open(_stack(str(tmp_path / "s.tif"), descriptions)) as src:
        r = band_roles(src)
    assert (r.red, r.green, r.blue, r.nir) == expected


def test_colour_interpretation_and_explicit_choices_come_first(tmp_path):
    ci = [ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.undefined]
    with rasterio.open(_stack(str(tmp_path / "s.tif"), ["B02", "B03", "B04", "B08"], ci)) as src:
        r = band_roles(src)
        assert (r.red, r.green, r.blue, r.nir) == (1, 2, 3, 4)
        r = band_roles(src, red=3, blue=1)
        assert (r.red, r.green, r.blue) == (3, 2, 1)


@pytest.mark.parametrize("transform", [from_origin(500000, 4500000, 10, 10), Affine.identity()])
def test_window_from_bounds_whatever_the_grid_orientation(transform):
    # pixels 3..7 across and 2..6 down, as map bounds of either grid: north-up (rows run
    # down the y axis) or a plain picture's identity transform (rows run up it)
    xs = [transform * (c, r) for c in (3, 7) for r in (2, 6)]
    minx, maxx = min(x for x, _ in xs), max(x for x, _ in xs)
    miny, maxy = min(y for _, y in xs), max(y for _, y in xs)
    w = window_from_bounds(minx, miny, maxx, maxy, transform)
    assert (w.col_off, w.row_off, w.width, w.height) == pytest.approx((3, 2, 4, 4))


def test_roles_describe_themselves_for_the_log():
    from quayside.core.raster import BandRoles

    assert BandRoles(3, 2, 1).describe() == "red 3, green 2, blue 1"
    assert BandRoles(1, 2, 3, 4).describe() == "red 1, green 2, blue 3, NIR 4"
