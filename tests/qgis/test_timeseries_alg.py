"""quayside:activitytimeseries through processing.run: a table row per image,
detections of all dates with temporal properties, the chart, dates from QGIS
temporal properties, and clear errors."""

import datetime as dt
import json
import os
import shutil

import pytest

DATES = ("2016-05-14", "2016-09-20")


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    from quayside.core import synth

    d = tmp_path_factory.mktemp("series_alg")
    spec = synth.SceneSpec(width=512, height=512, gsd=1.0, seed=3)
    out = synth.make_port_series(str(d), spec, list(DATES))
    return str(d), out


def _vector(path, name):
    from qgis.core import QgsVectorLayer

    layer = QgsVectorLayer(path, name, "ogr")
    assert layer.isValid()
    return layer


def test_folder_series_table_detections_chart(quayside_provider, series, tmp_path):
    from qgis.core import QgsVectorLayerTemporalProperties

    import processing

    folder, out = series
    piers = _vector(os.path.join(folder, f"piers_{DATES[0]}.geojson"), "piers")
    yards = _vector(os.path.join(folder, "yards.geojson"), "yards")
    chart = str(tmp_path / "activity.png")
    res = processing.run("quayside:activitytimeseries", {
        "FOLDER": folder, "PIERS": piers, "PIER_NAME_FIELD": "name", "YARDS": yards, "YARD_NAME_FIELD": "name",
        "OUTPUT": "memory:", "DETECTIONS": "memory:", "CHART": chart})
    assert res["IMAGES"] == 2
    table = res["OUTPUT"]
    rows = sorted(table.getFeatures(), key=lambda f: f["acquired"].toString("yyyy-MM-dd"))
    assert [f["acquired"].toString("yyyy-MM-dd") for f in rows] == list(DATES)
    names = [f.name() for f in table.fields()]
    for col in ("image", "ships", "teu", "mean_occupancy_pct", "ships_by_pier", "yards_json",
                "ships_container_berth_1", "ships_bulk_pier_1", "ships_general_cargo_pier_1", "occ_yard_a",
                "teu_yard_b"):
        assert col in names
    for f in rows:
        by_pier = json.loads(f["ships_by_pier"])
        assert sum(by_pier.values()) == f["ships"]
        assert by_pier["Bulk pier 1"] == f["ships_bulk_pier_1"]
        truth = json.load(open(os.path.join(folder, f"ships_{f['acquired'].toString('yyyy-MM-dd')}.geojson")))
        n_true = len(truth["features"])
        assert abs(f["ships"] - n_true) <= max(3, 0.3 * n_true)
        assert f["teu"] > 100 and 0 < f["occ_yard_a"] < 100
        assert set(json.loads(f["yards_json"])) == {"Yard A", "Yard B"}
    det = res["DETECTIONS"]
    kinds = {f["kind"] for f in det.getFeatures()}
    assert kinds == {"ship", "stack"}
    n_ships = sum(1 for f in det.getFeatures() if f["kind"] == "ship")
    assert n_ships == sum(f["ships"] for f in rows)
    assert {f["acquired"].toString("yyyy-MM-dd") for f in det.getFeatures()} == set(DATES)
    assert det.crs().authid() == "EPSG:32651"
    # a memory output is not loaded here, so apply what the post-processor does and check it
    from quayside.processing.alg_timeseries import set_temporal

    set_temporal(det)
    props = det.temporalProperties()
    assert props.isActive()
    assert props.mode() == QgsVectorLayerTemporalProperties.ModeFeatureDateTimeInstantFromField
    assert props.startField() == "acquired"
    assert os.path.getsize(chart) > 20000
    assert os.path.exists(res["CHART_SVG"]) and res["CHART_SVG"].endswith(".svg")


def test_dates_from_layer_temporal_properties(quayside_provider, series, tmp_path):
    from qgis.core import QgsDateTimeRange, QgsProject, QgsRasterLayer
    from qgis.PyQt.QtCore import QDate, QDateTime, QTime

    import processing

    folder, out = series
    # copies without a date in name or metadata
    layers = []
    for i, d in enumerate(DATES):
        p = str(tmp_path / f"scene_{'ab'[i]}.tif")
        shutil.copy(out["images"][d], p)
        _strip_dates(p)
        layer = QgsRasterLayer(p, f"pass {'ab'[i]}")
        assert layer.isValid()
        layers.append(layer)
    # the project owns the layers and frees them while QGIS is up (a layer freed by Python
    # after exitQgis crashes QGIS 3.22 at exit)
    QgsProject.instance().addMapLayers(layers, False)
    with pytest.raises(Exception) as err:
        processing.run("quayside:activitytimeseries", {"INPUTS": layers, "OUTPUT": "memory:",
                                                       "DETECTIONS": "memory:"})
    assert "pass a" in str(err.value) and "pass b" in str(err.value) and "date" in str(err.value)
    when = [dt.date(2017, 3, 1), dt.date(2017, 4, 11)]
    for layer, d in zip(layers, when):
        props = layer.temporalProperties()
        start = QDateTime(QDate(d.year, d.month, d.day), QTime(10, 0))
        props.setFixedTemporalRange(QgsDateTimeRange(start, start))
        props.setIsActive(True)
    res = processing.run("quayside:activitytimeseries", {"INPUTS": layers, "OUTPUT": "memory:",
                                                         "DETECTIONS": "memory:"})
    rows = list(res["OUTPUT"].getFeatures())
    got = sorted((f["acquired"].toString("yyyy-MM-dd"), f["image"], f["date_source"]) for f in rows)
    QgsProject.instance().removeMapLayers([lyr.id() for lyr in layers])
    assert got == [("2017-03-01", "pass a", "given"), ("2017-04-11", "pass b", "given")]


def _strip_dates(path):
    from osgeo import gdal

    ds = gdal.Open(path, gdal.GA_Update)
    ds.SetMetadata({})
    ds.SetMetadata({}, "IMAGERY")
    ds = None
    import rasterio

    with rasterio.open(path) as src:
        assert "ACQUISITIONDATETIME" not in src.tags() and "TIFFTAG_DATETIME" not in src.tags()


def test_no_images_is_a_clear_error(quayside_provider, tmp_path):
    import processing

    with pytest.raises(Exception) as err:
        processing.run("quayside:activitytimeseries", {"OUTPUT": "memory:", "DETECTIONS": "memory:"})
    assert "Images" in str(err.value) and "Folder" in str(err.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no rasters here")
    with pytest.raises(Exception) as err:
        processing.run("quayside:activitytimeseries", {"FOLDER": str(empty), "OUTPUT": "memory:",
                                                       "DETECTIONS": "memory:"})
    assert "holds no raster" in str(err.value)
