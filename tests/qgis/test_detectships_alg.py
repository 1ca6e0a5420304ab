"""quayside:detectships through processing.run: outputs, pier attribution in
another CRS, and clear errors for bad input."""

import json
import os

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

FIELDS = ["length_m", "width_m", "heading_deg", "area_m2", "score", "state", "pier", "pier_distance_m", "image",
          "acquired", "units"]


@pytest.fixture(scope="module")
def port(synth_scene):
    tif, d = synth_scene(1.0, 1024, seed=5)
    return tif, {layer: os.path.join(d, f"{layer}_before.geojson") for layer in ("ships", "piers")}


def test_ships_with_fields_and_piers(quayside_provider, port, layer_4326):
    import processing

    tif, truth = port
    piers, fc = layer_4326(truth["piers"], "piers", "pier_name")
    names = [f["properties"]["name"] for f in fc["features"]]
    out = processing.run("quayside:detectships", {"INPUT": tif, "PIERS": piers, "PIER_NAME_FIELD": "pier_name",
                                                  "OUTPUT": "memory:"})
    layer = out["OUTPUT"]
    assert [f.name() for f in layer.fields()] == FIELDS
    from shapely.geometry import shape
    from shapely.wkt import loads

    with open(truth["ships"]) as fh:
        true_ships = [shape(f["geometry"]) for f in json.load(fh)["features"]]
    found = [loads(f.geometry().asWkt()) for f in layer.getFeatures()]
    assert out["COUNT"] == layer.featureCount() == len(found)
    # regression guards at the levels measured now (bench/eval_ships.py has the bars)
    hit = sum(1 for t in true_ships if any(p.contains(t.centroid) or t.contains(p.centroid) for p in found))
    assert hit >= 0.85 * len(true_ships)
    assert len(found) <= 1.5 * len(true_ships)
    feats = list(layer.getFeatures())
    assert all(f["units"] == "m" and f["image"] for f in feats)
    assert all(f["acquired"].toString("yyyy-MM-dd") == "2016-05-14" for f in feats)
    docked = [f for f in feats if f["state"] == "docked"]
    from qgis.core import NULL

    assert docked and all(f["pier"] in names or f["pier"] in (None, NULL) for f in docked)
    assert sum(1 for f in docked if f["pier"] in names) >= 0.75 * len(docked)


def test_bad_input_says_what_to_fix(quayside_provider, port, tmp_path):
    from qgis.core import QgsFeature, QgsGeometry, QgsProcessingException, QgsRectangle, QgsVectorLayer

    import processing

    tif, _ = port
    far = QgsVectorLayer("Polygon?crs=EPSG:32651", "aoi", "memory")
    f = QgsFeature()
    f.setGeometry(QgsGeometry.fromRect(QgsRectangle(0, 0, 1000, 1000)))
    far.dataProvider().addFeatures([f])
    with pytest.raises(QgsProcessingException, match="(?i)area of interest"):
        processing.run("quayside:detectships", {"INPUT": tif, "AOI": far, "OUTPUT": "memory:"})
    with pytest.raises(QgsProcessingException, match="(?i)minimum length"):
        processing.run("quayside:detectships", {"INPUT": tif, "MIN_LENGTH": 300, "MAX_LENGTH": 100,
                                                "OUTPUT": "memory:"})
    one = tmp_path / "one_band.tif"
    with rasterio.open(one, "w", driver="GTiff", width=64, height=64, count=1, dtype="uint8", crs="EPSG:32651",
                       transform=from_origin(360000, 4290000, 1, 1)) as dst:
        dst.write(np.zeros((1, 64, 64), np.uint8))
    with pytest.raises(QgsProcessingException, match="(?i)band"):
        processing.run("quayside:detectships", {"INPUT": str(one), "OUTPUT": "memory:"})
    empty = tmp_path / "all_nodata.tif"
    with rasterio.open(empty, "w", driver="GTiff", width=64, height=64, count=3, dtype="uint8", crs="EPSG:32651",
                       transform=from_origin(360000, 4290000, 1, 1), nodata=0) as dst:
        dst.write(np.zeros((3, 64, 64), np.uint8))
    with pytest.raises(QgsProcessingException, match="(?i)no valid pixels|nodata"):
        processing.run("quayside:detectships", {"INPUT": str(empty), "OUTPUT": "memory:"})
    assert os.path.exists(tif)
