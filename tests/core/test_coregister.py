"""Co-registration: sub-pixel shifts recovered, grids aligned, bad input refused."""

import numpy as np
import pytest
import rasterio
from quayside.core.coregister import (
    Shift,
    _complex_gradient,
    align_to_grid,
    coregister,
    estimate_shift,
    phase_correlate,
)
from quayside.core.errors import InputError
from rasterio.transform import from_origin
from scipy import ndimage


def _texture(shape, seed=0):
    rng = np.random.default_rng(seed)
    a = ndimage.gaussian_filter(rng.random(shape).astype(np.float32), 2.0)
    # a few "buildings": bright rectangles with sharp edges
    for _ in range(40):
        r, c = rng.integers(0, shape[0] - 30), rng.integers(0, shape[1] - 30)
        a[r:r + rng.integers(8, 30), c:c + rng.integers(8, 30)] += rng.uniform(0.2, 0.6)
    return a


def _write(path, arr, transform, crs="EPSG:32651", dtype="uint8", scale=200.0, offset=10.0):
    if arr.ndim == 2:
        arr = arr[None]
    data = np.clip(arr * scale + offset, 0, np.iinfo(dtype).max).astype(dtype)
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[2], height=data.shape[1], count=data.shape[0],
                       dtype=dtype, crs=crs, transform=transform) as dst:
        dst.write(data)
    return str(path)


@pytest.mark.parametrize("dx,dy", [(1.3, 0.0), (-0.4, 2.7), (0.25, -0.75), (-2.6, -1.1)])
def test_phase_correlation_recovers_subpixel_shift(dx, dy):
    a = _texture((256, 256))
    b = ndimage.shift(a, (dy, dx), order=3, mode="reflect")  # content moved by +(dx, dy)
    # on the complex gradient field, as the estimator does
    sx, sy, peak, floor = phase_correlate(_complex_gradient(a), _complex_gradient(b), max_shift=16)
    assert abs(sx - dx) <= 0.1 and abs(sy - dy) <= 0.1
    assert peak > floor


def test_estimate_shift_sign_and_metres(tmp_path):
    a = _texture((512, 512), seed=3)
    tf = from_origin(360000, 4290000, 2.0, 2.0)
    # AFTER's content appears 1.5 px east and 0.6 px south: it must be moved by (-1.5, -0.6)
    moved = ndimage.shift(a, (0.6, 1.5), order=3, mode="reflect")
    b = _write(tmp_path / "b.tif", np.stack([a] * 3), tf)
    af = _write(tmp_path / "a.tif", np.stack([moved * 0.8 + 0.1] * 3), tf)  # other gain/offset
    s = estimate_shift(b, af)
    assert isinstance(s, Shift)
    assert s.dx_px == pytest.approx(-1.5, abs=0.1)
    assert s.dy_px == pytest.approx(-0.6, abs=0.1)
    assert s.dx_m == pytest.approx(2.0 * s.dx_px, rel=0.01)
    assert s.n_tiles >= 2 and 0 < s.peak <= 1


def test_unrelated_images_get_no_shift(tmp_path):
    """A scene that changed everywhere (two unrelated textures): no spurious shift is applied,
    on every seed (a lone chance peak used to give shifts of several pixels)."""
    tf = from_origin(360000, 4290000, 0.5, 0.5)
    for seed in range(6):
        b = _write(tmp_path / f"b{seed}.tif", np.stack([_texture((256, 256), seed=seed)] * 3), tf)
        a = _write(tmp_path / f"a{seed}.tif", np.stack([_texture((256, 256), seed=100 + seed)] * 3), tf)
        s = estimate_shift(b, a)
        assert (s.dx_px, s.dy_px) == (0.0, 0.0), seed


def test_coregister_other_crs_and_pixel_size(tmp_path):
    a = _texture((600, 600), seed=5)
    tf = from_origin(360000, 4290000, 1.0, 1.0)
    b = _write(tmp_path / "b.tif", np.stack([a] * 3), tf)
    shifted = ndimage.shift(a, (0.0, 2.0), order=3, mode="reflect")
    a_src = _write(tmp_path / "a_src.tif", np.stack([shifted] * 3), tf)
    # AFTER: reprojected to the neighbouring UTM zone at 1.3 m, as uint16
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    with rasterio.open(a_src) as s:
        dtf, w, h = calculate_default_transform(s.crs, "EPSG:32652", s.width, s.height, *s.bounds, resolution=1.3)
        out = np.zeros((3, h, w), np.uint16)
        reproject(s.read().astype(np.uint16) * 50, out, src_transform=s.transform, src_crs=s.crs,
                  dst_transform=dtf, dst_crs="EPSG:32652", resampling=Resampling.cubic)
    ap = str(tmp_path / "a_utm52.tif")
    with rasterio.open(ap, "w", driver="GTiff", width=w, height=h, count=3, dtype="uint16", crs="EPSG:32652",
                       transform=dtf, nodata=0) as d:
        d.write(out)
    info = align_to_grid(b, ap, str(tmp_path / "aligned.tif"))
    assert any("EPSG:32652" in n for n in info["notes"])
    with rasterio.open(tmp_path / "aligned.tif") as al, rasterio.open(b) as bs:
        assert al.crs == bs.crs and al.res == bs.res
        c0, r0, ww, hh = info["window"]
        assert al.width == ww and al.height == hh
    res = coregister(b, ap, str(tmp_path / "coreg.tif"))
    # content 2 px east in AFTER: shift to apply is -2 px (resampling twice costs a little accuracy)
    assert res.shift.dx_px == pytest.approx(-2.0, abs=0.2)
    assert abs(res.shift.dy_px) <= 0.2
    with rasterio.open(res.out_path) as o, rasterio.open(b) as bs:
        x = o.read(1).astype(float)
        y = bs.read(1, window=rasterio.windows.from_bounds(*o.bounds, bs.transform)).astype(float)
        inner = (slice(20, -20), slice(20, -20))
        x, y = x[inner], y[inner]
        ok = x > 0
        assert np.corrcoef(x[ok], y[ok])[0, 1] > 0.97


def test_no_overlap_is_refused(tmp_path):
    a = _texture((128, 128))
    b = _write(tmp_path / "b.tif", a, from_origin(360000, 4290000, 1, 1))
    far = _write(tmp_path / "far.tif", a, from_origin(370000, 4290000, 1, 1))
    with pytest.raises(InputError, match="do not overlap"):
        coregister(b, far, str(tmp_path / "o.tif"))


def test_one_without_crs_is_refused(tmp_path):
    a = _texture((128, 128))
    b = _write(tmp_path / "b.tif", a, from_origin(360000, 4290000, 1, 1))
    nocrs = _write(tmp_path / "n.tif", a, from_origin(0, 128, 1, 1), crs=None)
    with pytest.raises(InputError, match="no coordinate reference system"):
        align_to_grid(b, nocrs, str(tmp_path / "o.tif"))
