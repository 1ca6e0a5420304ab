"""quayside:detectchanges and quayside:coregister through processing.run:
outputs, results, AFTER in another CRS and pixel size, and clear errors."""

import json
import os

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

FIELDS = ["area_m2", "perimeter_m", "type", "score", "change_mean", "before_mean", "after_mean", "before_date",
          "after_date", "units"]
TYPES = {"new_structure", "removed_structure", "water_to_land", "land_to_water", "other_surface"}


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """A small synthetic before/after pair at 1 m (sun, haze and a 1.3 px shift differ)."""
    from quayside.core import synth

    d = str(tmp_path_factory.mktemp("pair"))
    spec = synth.SceneSpec(width=1024, height=1024, gsd=1.0, seed=11)
    out = synth.make_port_pair(d, spec, dates=("2016-05-14", "2016-09-20"))
    return out


def test_changes_fields_results_and_truth(quayside_provider, pair, tmp_path):
    from shapely.geometry import shape
    from shapely.wkt import loads

    import processing

    raster = str(tmp_path / "change.tif")
    out = processing.run("quayside:detectchanges", {"BEFORE": pair["before"], "AFTER": pair["after"],
                                                    "OUTPUT": "memory:", "CHANGE_RASTER": raster})
    layer = out["OUTPUT"]
    assert [f.name() for f in layer.fields()] == FIELDS
    feats = list(layer.getFeatures())
    assert out["COUNT"] == len(feats)
    assert {f["type"] for f in feats} <= TYPES
    new_area = sum(f["area_m2"] for f in feats if f["type"] == "new_structure")
    assert out["TOTAL_NEW_M2"] == pytest.approx(new_area, rel=1e-3, abs=1.0)
    assert all(f["before_date"].toString("yyyy-MM-dd") == "2016-05-14" for f in feats)
    assert all(f["after_date"].toString("yyyy-MM-dd") == "2016-09-20" for f in feats)
    # the after image was rendered 1.3 px east of the before one
    assert out["SHIFT_X_PX"] == pytest.approx(1.3, abs=0.3) or out["SHIFT_X_PX"] == pytest.approx(-1.3, abs=0.3)
    assert abs(out["SHIFT_Y_PX"]) < 0.3
    with rasterio.open(raster) as src:
        assert (src.width, src.height) == (1024, 1024)
        assert src.crs.to_epsg() == 32651
    # every true building change of >= 1000 m² is covered by a found footprint
    with open(pair["truth"]["changes"]) as fh:
        truth = [shape(f["geometry"]) for f in json.load(fh)["features"]
                 if f["properties"]["type"] in ("new_structure", "removed_structure")
                 and f["properties"]["area_m2"] >= 1000]
    found = [loads(f.geometry().asWkt()) for f in feats]
    for t in truth:
        covered = sum(t.intersection(p).area for p in found)
        assert covered >= 0.5 * t.area


def _write(path, data, crs, transform):
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[2], height=data.shape[1], count=data.shape[0],
                       dtype=data.dtype, crs=crs, transform=transform) as dst:
        dst.write(data)
    return path


def test_coregister_other_crs_and_pixel_size(quayside_provider, pair, tmp_path):
    """AFTER warped to EPSG:4326 at a coarser pixel comes back on BEFORE's grid."""
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    import processing

    warped = str(tmp_path / "after_4326.tif")
    with rasterio.open(pair["after"]) as src:
        t, w, h = calculate_default_transform(src.crs, "EPSG:4326", src.width, src.height, *src.bounds)
        data = np.zeros((src.count, h, w), np.uint8)
        for b in range(src.count):
            reproject(rasterio.band(src, b + 1), data[b], dst_transform=t, dst_crs="EPSG:4326",
                      resampling=Resampling.bilinear)
    _write(warped, data, "EPSG:4326", t)
    aligned = str(tmp_path / "aligned.tif")
    out = processing.run("quayside:coregister", {"BEFORE": pair["before"], "AFTER": warped, "OUTPUT": aligned})
    with rasterio.open(pair["before"]) as b, rasterio.open(aligned) as a:
        assert a.crs == b.crs
        assert a.transform.almost_equals(b.transform) or a.res == pytest.approx(b.res)
    for key in ("SHIFT_X_PX", "SHIFT_Y_PX", "SHIFT_X_M", "SHIFT_Y_M"):
        assert key in out
    assert abs(out["SHIFT_X_PX"]) < 3 and abs(out["SHIFT_Y_PX"]) < 3


def test_bad_pairs(quayside_provider, pair, tmp_path):
    from qgis.core import QgsProcessingException

    import processing

    far = _write(str(tmp_path / "far.tif"), np.full((3, 64, 64), 100, np.uint8), "EPSG:32651",
                 from_origin(100000, 1000000, 1, 1))
    with pytest.raises(QgsProcessingException, match="(?i)overlap"):
        processing.run("quayside:detectchanges", {"BEFORE": pair["before"], "AFTER": far, "OUTPUT": "memory:"})
    nocrs = str(tmp_path / "nocrs.tif")
    with rasterio.open(nocrs, "w", driver="GTiff", width=64, height=64, count=3, dtype="uint8") as dst:
        dst.write(np.full((3, 64, 64), 100, np.uint8))
    with pytest.raises(QgsProcessingException, match="no CRS"):
        processing.run("quayside:detectchanges", {"BEFORE": pair["before"], "AFTER": nocrs, "OUTPUT": "memory:"})
    with pytest.raises(QgsProcessingException, match="no CRS"):
        processing.run("quayside:coregister", {"BEFORE": nocrs, "AFTER": pair["after"],
                                               "OUTPUT": str(tmp_path / "x.tif")})
    with rasterio.open(pair["before"]) as src:
        t, crs = src.transform, src.crs
    gray = _write(str(tmp_path / "gray.tif"), np.full((1, 256, 256), 100, np.uint8), crs, t)
    with pytest.raises(QgsProcessingException, match="(?i)band"):
        processing.run("quayside:detectchanges", {"BEFORE": pair["before"], "AFTER": gray, "OUTPUT": "memory:"})
    empty = str(tmp_path / "empty.tif")
    with rasterio.open(empty, "w", driver="GTiff", width=256, height=256, count=3, dtype="uint8", crs=crs,
                       transform=t, nodata=0) as dst:
        dst.write(np.zeros((3, 256, 256), np.uint8))
    with pytest.raises(QgsProcessingException, match="(?i)nodata|no valid|empty"):
        processing.run("quayside:detectchanges", {"BEFORE": pair["before"], "AFTER": empty, "OUTPUT": "memory:"})
    assert os.path.exists(pair["before"])
