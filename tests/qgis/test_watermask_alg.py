"""quayside:watermask through processing.run, as a model or script calls it."""

import json
import os

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin


@pytest.fixture(scope="module")
def scene(synth_scene):
    return synth_scene(3.0, 640, seed=11, dtype="uint16")


def test_run_gives_polygons_with_area(quayside_provider, scene, tmp_path):
    from qgis.core import QgsVectorLayer

    import processing

    tif, truth = scene
    out = processing.run("quayside:watermask", {
        "INPUT": tif, "OUTPUT": str(tmp_path / "water.gpkg"), "OUTPUT_RASTER": str(tmp_path / "water.tif")})
    layer = QgsVectorLayer(out["OUTPUT"], "water", "ogr")
    assert layer.isValid() and layer.featureCount() >= 1
    total = sum(f["area_m2"] for f in layer.getFeatures())
    from shapely.geometry import shape
    from shapely.ops import unary_union

    with open(os.path.join(truth, "water_before.geojson")) as fh:
        water = unary_union([shape(f["geometry"]) for f in json.load(fh)["features"]])
    with open(os.path.join(truth, "ships_before.geojson")) as fh:
        hulls = unary_union([shape(f["geometry"]) for f in json.load(fh)["features"]])
    # the visible water surface; UTM areas are within 0.1 % of the ellipsoid's
    assert total == pytest.approx(water.difference(hulls).area, rel=0.08)
    with rasterio.open(out["OUTPUT_RASTER"]) as m:
        assert set(np.unique(m.read(1))) <= {0, 1, 255}


def test_force_land_in_another_crs_is_reprojected(quayside_provider, scene, tmp_path):
    from qgis.core import (
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransform,
        QgsFeature,
        QgsGeometry,
        QgsProject,
        QgsRectangle,
        QgsVectorLayer,
    )

    import processing

    tif, _ = scene
    with rasterio.open(tif) as src:
        b = src.bounds
    rect = QgsGeometry.fromRect(QgsRectangle(b.left, b.bottom, b.right, b.top))
    xf = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:32651"), QgsCoordinateReferenceSystem("EPSG:4326"),
                                QgsProject.instance())
    rect.transform(xf)
    land = QgsVectorLayer("Polygon?crs=EPSG:4326", "land", "memory")
    f = QgsFeature()
    f.setGeometry(rect.buffer(0.01, 4))
    land.dataProvider().addFeatures([f])
    out = processing.run("quayside:watermask", {"INPUT": tif, "FORCE_LAND": land, "OUTPUT": "memory:",
                                                "OUTPUT_RASTER": str(tmp_path / "w.tif")})
    with rasterio.open(out["OUTPUT_RASTER"]) as m:
        assert (m.read(1) == 0).all()
    assert out["OUTPUT"].featureCount() == 0


def test_bad_input_says_what_to_fix(quayside_provider, tmp_path):
    from qgis.core import QgsProcessingException

    import processing

    one = tmp_path / "one_band.tif"
    with rasterio.open(one, "w", driver="GTiff", width=32, height=32, count=1, dtype="uint8", crs="EPSG:32651",
                       transform=from_origin(0, 0, 1, 1)) as dst:
        dst.write(np.zeros((1, 32, 32), np.uint8))
    with pytest.raises(QgsProcessingException, match="red, green and blue"):
        processing.run("quayside:watermask", {"INPUT": str(one), "OUTPUT": "memory:",
                                              "OUTPUT_RASTER": str(tmp_path / "o.tif")})
    empty = tmp_path / "all_nodata.tif"
    with rasterio.open(empty, "w", driver="GTiff", width=32, height=32, count=3, dtype="uint8", crs="EPSG:32651",
                       transform=from_origin(0, 0, 1, 1), nodata=0) as dst:
        dst.write(np.zeros((3, 32, 32), np.uint8))
    with pytest.raises(QgsProcessingException, match="no valid pixels"):
        processing.run("quayside:watermask", {"INPUT": str(empty), "OUTPUT": "memory:",
                                              "OUTPUT_RASTER": str(tmp_path / "e.tif")})


def test_qgis_process_lists_and_runs(qgis_process, scene, tmp_path):
    listed = qgis_process("list")
    assert listed.returncode == 0, listed.stderr
    assert "quayside:watermask" in listed.stdout
    tif, _ = scene
    ran = qgis_process("run", "quayside:watermask", "--json", "--", f"INPUT={tif}",
                       f"OUTPUT={tmp_path / 'w.gpkg'}", f"OUTPUT_RASTER={tmp_path / 'w.tif'}")
    assert ran.returncode == 0, ran.stderr[-2000:]
    results = json.loads(ran.stdout[ran.stdout.find("{"):])["results"]
    assert os.path.exists(results["OUTPUT_RASTER"])
    with rasterio.open(results["OUTPUT_RASTER"]) as m:
        water = (m.read(1) == 1).mean()
    assert 0.1 < water < 0.9
