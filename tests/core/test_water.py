"""Water mask on the project's synthetic ports: IoU with the true water."""

import json
import os

import numpy as np
import pytest
import rasterio
from quayside.core.errors import Cancelled, InputError
from quayside.core.water import otsu_threshold, water_mask
from rasterio import features
from rasterio.transform import from_origin
from shapely.geometry import box, shape


def truth_water(truth_dir, epoch="before"):
    """The visible water surface: true water less the vessels' hulls (a docked
    hull joins the quay and is not water to any pixel classifier; the ship
    detector finds those)."""
    from shapely.ops import unary_union

    with open(os.path.join(truth_dir, f"water_{epoch}.geojson")) as fh:
        water = unary_union([shape(f["geometry"]) for f in json.load(fh)["features"]])
    with open(os.path.join(truth_dir, f"ships_{epoch}.geojson")) as fh:
        hulls = unary_union([shape(f["geometry"]) for f in json.load(fh)["features"]])
    surface = water.difference(hulls)
    return list(getattr(surface, "geoms", [surface]))


def iou(mask_path, geoms):
    with rasterio.open(mask_path) as m:
        pred = m.read(1) == 1
        truth = features.rasterize([(g, 1) for g in geoms], out_shape=pred.shape, transform=m.transform,
                                   fill=0).astype(bool)
    return np.logical_and(pred, truth).sum() / np.logical_or(pred, truth).sum()


# The bar, IoU >= 0.95, on the visible water surface of small scenes;
# bench/eval_water.py measures larger scenes and several seeds, hulls included.
@pytest.mark.parametrize("gsd,size", [(0.5, 1024), (3.0, 768), (10.0, 512)])
def test_visible_bands_iou(synth_scene, tmp_path, gsd, size):
    tif, truth = synth_scene(gsd, size)
    res = water_mask(tif, str(tmp_path / "w.tif"))
    assert res.method.startswith("visible")
    assert iou(str(tmp_path / "w.tif"), truth_water(truth)) >= 0.95


@pytest.mark.parametrize("gsd,size", [(0.5, 1024), (10.0, 512)])
def test_ndwi_iou(synth_scene, tmp_path, gsd, size):
    tif, truth = synth_scene(gsd, size, nir=True)
    res = water_mask(tif, str(tmp_path / "w.tif"))
    assert res.method.startswith("NDWI")
    assert iou(str(tmp_path / "w.tif"), truth_water(truth)) >= 0.95


def test_reflectance_gives_the_mask_of_the_counts(synth_scene, tmp_path):
    # the same scene as reflectance (0-0.3, as surface reflectance is) rather than 8-bit counts: the log brightness
    # and the texture's floor assume counts, and on 0-1 values the mask came out otherwise
    tif, truth = synth_scene(3.0, 768)
    with rasterio.open(tif) as src:
        profile, data = src.profile, src.read().astype(np.float32) * (0.3 / 255.0)
    profile.update(dtype="float32", nodata=None)
    refl = str(tmp_path / "refl.tif")
    with rasterio.open(refl, "w", **profile) as dst:
        dst.write(data)
    water_mask(tif, str(tmp_path / "counts.tif"))
    res = water_mask(refl, str(tmp_path / "refl_w.tif"))
    assert any("reflectance" in n for n in res.notes)
    with rasterio.open(tmp_path / "counts.tif") as a, rasterio.open(tmp_path / "refl_w.tif") as b:
        differ = (a.read(1) != b.read(1)).mean()
    assert differ < 0.002, differ  # 0.0061 before reflectance was scaled
    assert iou(str(tmp_path / "refl_w.tif"), truth_water(truth)) >= 0.95
    # a dark image in counts (8-bit, 99th percentile under 64) is counts, not reflectance
    with rasterio.open(tif) as src:
        profile, dark = src.profile, src.read() // 6
    with rasterio.open(tmp_path / "dark.tif", "w", **profile) as dst:
        dst.write(dark)
    res = water_mask(str(tmp_path / "dark.tif"), str(tmp_path / "dark_w.tif"))
    assert not any("reflectance" in n for n in res.notes)


def test_block_size_does_not_change_the_answer(synth_scene, tmp_path):
    tif, _ = synth_scene(3.0, 768)
    water_mask(tif, str(tmp_path / "a.tif"), block=256)
    water_mask(tif, str(tmp_path / "b.tif"), block=2048)
    with rasterio.open(tmp_path / "a.tif") as a, rasterio.open(tmp_path / "b.tif") as b:
        differ = (a.read(1) != b.read(1)).mean()
    assert differ < 0.002


def test_sensitivity_moves_the_threshold(synth_scene, tmp_path):
    tif, _ = synth_scene(3.0, 768)
    low = water_mask(tif, str(tmp_path / "lo.tif"), sensitivity=0.1).water_fraction
    high = water_mask(tif, str(tmp_path / "hi.tif"), sensitivity=0.9).water_fraction
    assert high > low


def test_force_polygons_override(synth_scene, tmp_path):
    tif, _ = synth_scene(3.0, 768)
    with rasterio.open(tif) as src:
        b = src.bounds
    # the whole south-west quarter forced to land, the north-east quarter to water
    sw = box(b.left, b.bottom, (b.left + b.right) / 2, (b.bottom + b.top) / 2)
    ne = box((b.left + b.right) / 2, (b.bottom + b.top) / 2, b.right, b.top)
    water_mask(tif, str(tmp_path / "f.tif"), force_land=[sw], force_water=[ne])
    with rasterio.open(tmp_path / "f.tif") as m:
        a = m.read(1)
    h, w = a.shape
    assert (a[h // 2 + 2:, : w // 2 - 2] == 0).all()
    assert (a[: h // 2 - 2, w // 2 + 2:] == 1).all()
    # a polygon off the image (another CRS's coordinates, say) changes nothing, and the notes say so
    far = box(10.0, 50.0, 11.0, 51.0)
    res = water_mask(tif, str(tmp_path / "g.tif"), force_water=[far])
    assert any("1 forced-water polygon(s) lie outside the image" in n for n in res.notes), res.notes


def test_progress_and_cancel(synth_scene, tmp_path):
    tif, _ = synth_scene(3.0, 768)
    seen = []
    water_mask(tif, str(tmp_path / "p.tif"), progress=seen.append, block=256)
    assert seen[-1] == pytest.approx(1.0) and all(a <= b for a, b in zip(seen, seen[1:]))
    with pytest.raises(Cancelled):
        water_mask(tif, str(tmp_path / "c.tif"), cancel=lambda: True)


def _write(path, data, nodata=None, crs="EPSG:32651"):
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[2], height=data.shape[1], count=data.shape[0],
                       dtype=data.dtype, crs=crs, transform=from_origin(360000, 4290000, 3, 3),
                       nodata=nodata) as dst:
        dst.write(data)


def test_bad_input(tmp_path):
    _write(tmp_path / "one.tif", np.zeros((1, 64, 64), np.uint8))
    with pytest.raises(InputError, match="band"):
        water_mask(str(tmp_path / "one.tif"), str(tmp_path / "o.tif"))
    _write(tmp_path / "empty.tif", np.zeros((3, 64, 64), np.uint8), nodata=0)
    with pytest.raises(InputError, match="no valid pixels"):
        water_mask(str(tmp_path / "empty.tif"), str(tmp_path / "e.tif"))
    with pytest.raises(InputError, match="Sensitivity"):
        water_mask(str(tmp_path / "empty.tif"), str(tmp_path / "e.tif"), sensitivity=2)


def test_nodata_stays_nodata(synth_scene, tmp_path):
    tif, _ = synth_scene(10.0, 512)
    with rasterio.open(tif) as src:
        data = src.read()
        profile = src.profile
    data[:, :100, :] = 0
    profile.update(nodata=0)
    holed = tmp_path / "holed.tif"
    with rasterio.open(holed, "w", **profile) as dst:
        dst.write(data)
    water_mask(str(holed), str(tmp_path / "m.tif"))
    with rasterio.open(tmp_path / "m.tif") as m:
        a = m.read(1)
    assert (a[:100] == 255).all()
    assert set(np.unique(a[100:])) <= {0, 1}


def test_otsu_splits_two_modes():
    rng = np.random.default_rng(0)
    v = np.concatenate([rng.normal(0, 1, 5000), rng.normal(10, 1, 2000)])
    t, sep = otsu_threshold(v)
    assert 3 < t < 7 and sep > 0.8


def _inland_scene(path, pond):
    """130 m x 130 m at 0.5 m, RGB: a dark brown field along the left (35 m wide: no water 40 m
    from any shore to learn a colour from), a lit, rough built-up area, and optionally a dark
    blue pond among the buildings."""
    rng = np.random.default_rng(3)
    h = w = 260
    img = np.array([150.0, 148.0, 145.0])[:, None, None] + rng.normal(0, 12, (3, h, w))
    for _ in range(40):
        r, c = rng.integers(0, h - 12), rng.integers(75, w - 10)
        img[:, r:r + 10, c:c + 8] = rng.uniform(90, 230)
    img[:, :, :70] = np.array([100.0, 84.0, 64.0])[:, None, None] + rng.normal(0, 3, (3, h, 70))
    if pond:
        img[:, 60:170, 130:240] = np.array([34.0, 48.0, 62.0])[:, None, None] + rng.normal(0, 1.5, (3, 110, 110))
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=3, dtype="uint8", crs="EPSG:32615",
                       transform=from_origin(500000, 3300000, 0.5, 0.5)) as dst:
        dst.write(np.clip(img, 0, 255).astype(np.uint8))


def test_dark_fields_are_not_water_without_open_water(tmp_path):
    """With no open water to learn its colour from, brightness and texture alone call the darker,
    smoother part of any image water: a brown field is land, a blue pond water."""
    src = str(tmp_path / "field.tif")
    _inland_scene(src, pond=False)
    res = water_mask(src, str(tmp_path / "w.tif"))
    assert any("Too little open water" in n for n in res.notes)
    with rasterio.open(str(tmp_path / "w.tif")) as ds:
        w = ds.read(1) == 1
    assert w.mean() < 0.02
    src2 = str(tmp_path / "pond.tif")
    _inland_scene(src2, pond=True)
    water_mask(src2, str(tmp_path / "w2.tif"))
    with rasterio.open(str(tmp_path / "w2.tif")) as ds:
        w2 = ds.read(1) == 1
    assert w2[65:165, 135:235].mean() > 0.9  # the pond (3000 m2, no point 40 m from its shore)
    assert w2[:, :70].mean() < 0.02  # not the field
