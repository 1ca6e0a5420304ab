"""The dock: default pair by acquisition date, compare on the map and back, detections as
background tasks with results in the project, observations from selected detections,
export, clear messages for GeoPackage trouble, tooltips and keyboard access everywhere."""

import os
import stat
import time

import numpy as np
import pytest
import rasterio
from qgis.core import (
    QgsFeature,
    QgsField,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
)
from qgis.gui import QgsMapCanvas
from qgis.PyQt.QtCore import QCoreApplication, QDate, QVariant
from qgis.PyQt.QtWidgets import QAbstractButton, QLabel, QWidget
from rasterio.transform import from_origin


def write_rgb(path, colour, size=48):
    data = np.empty((3, size, size), dtype=np.uint8)
    for i, c in enumerate(colour):
        data[i] = c
    with rasterio.open(path, "w", driver="GTiff", width=size, height=size, count=3, dtype="uint8",
                       crs="EPSG:32631", transform=from_origin(500000, 4650000, 10, 10), photometric="RGB") as dst:
        dst.write(data)
    return str(path)


@pytest.fixture()
def dock(qgis_app, qgis_processing, tmp_path, canvas_iface):
    from quayside.ui.dock import QuaysideDock

    project = QgsProject.instance()
    project.clear()
    project.setFileName(str(tmp_path / "port.qgz"))
    canvas = QgsMapCanvas()
    canvas.resize(200, 120)
    d = QuaysideDock(canvas_iface(canvas))
    yield d
    d.close_tools()
    project.clear()
    d.deleteLater()
    canvas.deleteLater()
    QCoreApplication.processEvents()


def add_rasters(tmp_path):
    layers = [QgsRasterLayer(write_rgb(tmp_path / name, col), name.split(".")[0])
              for name, col in (("harbour_2019-08-02.tif", (30, 30, 200)), ("harbour_2016-05-14.tif", (200, 30, 30)),
                                ("harbour_2012-01-09.tif", (30, 200, 30)))]
    QgsProject.instance().addMapLayers(layers)
    return layers


def bar_text(dock):
    return " ".join(item.text() for item in dock.message_bar.items())


def test_default_pair_is_the_two_most_recent_by_date(dock, tmp_path):
    newest, middle, _oldest = add_rasters(tmp_path)
    assert dock.before_combo.currentLayer() is middle
    assert dock.after_combo.currentLayer() is newest
    assert dock.before_date.text() == "2016-05-14" and dock.after_date.text() == "2019-08-02"


def test_compare_button_starts_and_leaving_restores(dock, tmp_path):
    newest, middle, oldest = add_rasters(tmp_path)
    canvas = dock.canvas()
    canvas.setDestinationCrs(newest.crs())
    canvas.setLayers([newest, middle, oldest])
    canvas.setExtent(newest.extent())
    root = QgsProject.instance().layerTreeRoot()
    before_state = [(n.layerId(), n.itemVisibilityChecked()) for n in root.findLayers()]
    dock.compare_button.setChecked(True)
    assert dock.swipe_tool is not None and canvas.mapTool() is dock.swipe_tool
    assert middle not in canvas.layers() and newest in canvas.layers()
    dock.mode_buttons["blend"].setChecked(True)
    assert dock.swipe_tool.session.item.mode == "blend"
    dock.flicker()
    assert dock.swipe_tool.session.item.mode == "flicker"
    dock.compare_button.setChecked(False)  # leaving the tool
    assert dock.swipe_tool is None and canvas.mapTool() is None
    assert [(n.layerId(), n.itemVisibilityChecked()) for n in root.findLayers()] == before_state
    assert canvas.layers() == [newest, middle, oldest]


def test_compare_needs_two_images(dock):
    dock.compare_button.setChecked(True)
    assert not dock.compare_button.isChecked() and dock.swipe_tool is None
    assert "two different images" in bar_text(dock)


def test_detect_reports_a_missing_algorithm(dock, tmp_path, monkeypatch):
    from quayside.ui import tasks

    add_rasters(tmp_path)
    monkeypatch.setattr(tasks, "CHANGES", "quayside:no_such_algorithm")
    assert dock.detect() is None
    assert "quayside:no_such_algorithm is not available" in bar_text(dock)


def test_detection_run_adds_styled_results(dock, tmp_path, quayside_provider):
    """A run as the dock starts it, here with quayside:watermask (always present): a task, progress,
    results in a "Quayside results" group."""
    from quayside.ui.tasks import DetectionRun

    path = write_rgb(tmp_path / "tiny_2019-08-02.tif", (20, 40, 90))
    run = DetectionRun({"quayside:watermask": {"INPUT": path}, "quayside:not_there": {}})
    finished = []
    run.done.connect(lambda layers, msgs: finished.append((layers, msgs)))
    tasks = run.start()
    assert len(tasks) == 1
    deadline = time.time() + 60
    while not finished and time.time() < deadline:
        QCoreApplication.processEvents()
        time.sleep(0.02)
    assert finished, "the task did not finish"
    layers, messages = finished[0]
    assert any("quayside:not_there is not installed" in m for m in messages)
    assert layers and all(lyr.isValid() for lyr in layers)
    group = QgsProject.instance().layerTreeRoot().findGroup("Quayside results")
    assert group is not None and {n.layerId() for n in group.findLayers()} == {lyr.id() for lyr in layers}


def test_detection_jobs_use_view_and_piers(dock, tmp_path):
    from quayside.ui import tasks
    from quayside.ui.store import Pier

    newest, middle, _ = add_rasters(tmp_path)
    canvas = dock.canvas()
    canvas.setDestinationCrs(newest.crs())
    canvas.setExtent(newest.extent())
    dock.current_store().add_pier(Pier(name="Quay 1", kind="oil", wkt="LINESTRING (3 42, 3.001 42)"))
    dock.containers_check.setChecked(True)
    jobs = dock.detection_jobs(str(tmp_path))
    assert jobs[tasks.CHANGES]["BEFORE"] == middle.source() and jobs[tasks.CHANGES]["AFTER"] == newest.source()
    aoi = QgsVectorLayer(jobs[tasks.CHANGES]["AOI"], "aoi", "ogr")
    assert aoi.featureCount() == 1
    assert jobs[tasks.SHIPS]["PIER_NAME_FIELD"] == "name"
    piers = QgsVectorLayer(jobs[tasks.SHIPS]["PIERS"], "p", "ogr")
    assert [f["name"] for f in piers.getFeatures()] == ["Quay 1"]
    assert jobs[tasks.CONTAINERS]["AOI"] == jobs[tasks.CHANGES]["AOI"] and "YARDS" not in jobs[tasks.CONTAINERS]


def ships_layer():
    layer = QgsVectorLayer("Polygon?crs=EPSG:32631", "Ships 2019-08-02", "memory")
    layer.dataProvider().addAttributes([QgsField("length_m", QVariant.Double), QgsField("pier", QVariant.String),
                                        QgsField("acquired", QVariant.Date), QgsField("image", QVariant.String),
                                        QgsField("state", QVariant.String)])
    layer.updateFields()
    feats = []
    for i, (length, pier) in enumerate(((182.5, "Quay 1"), (95.0, None))):
        f = QgsFeature(layer.fields())
        x = 500100 + 200 * i
        f.setGeometry(QgsGeometry.fromRect(QgsGeometry.fromPointXY(QgsPointXY(x, 4649800)).buffer(20, 2)
                                           .boundingBox()))
        f.setAttributes([length, pier, QDate(2019, 8, 2), "after.tif", "docked"])
        feats.append(f)
    layer.dataProvider().addFeatures(feats)
    QgsProject.instance().addMapLayer(layer)
    return layer


def test_observations_from_selected_detections(dock):
    layer = ships_layer()
    layer.selectAll()
    dock.iface.active = layer
    fids = dock.add_from_selection()
    assert len(fids) == 2
    obs = sorted(dock.current_store().observations(), key=lambda o: -o.length_m)
    assert [(o.kind, o.length_m, o.pier, o.observed_at, o.image, o.count) for o in obs] == [
        ("ship", 182.5, "Quay 1", "2019-08-02", "after.tif", 1), ("ship", 95.0, "", "2019-08-02", "after.tif", 1)]
    assert obs[0].source.startswith("Ships 2019-08-02 #") and "state: docked" in obs[0].notes
    lon, lat = QgsGeometry.fromWkt(obs[0].wkt).asPoint()
    assert 3.0 < lon < 3.01 and 41.99 < lat < 42.01  # UTM 31N near 500 km E, 4650 km N
    assert dock.obs_table.rowCount() == 2

    layer.removeSelection()
    assert dock.add_from_selection() == []
    assert "Select features" in bar_text(dock)


def test_changes_and_containers_fill_their_fields(qgis_app):
    from quayside.ui.dock import observations_from_features

    changes = QgsVectorLayer("Polygon?crs=EPSG:4326&field=area_m2:double&field=type:string", "Changes", "memory")
    f = QgsFeature(changes.fields())
    f.setAttributes([22500.0, "new building"])
    f.setGeometry(QgsGeometry.fromWkt("POLYGON ((0 0, 0.001 0, 0.001 0.001, 0 0))"))
    changes.dataProvider().addFeatures([f])
    (o,) = observations_from_features(changes, list(changes.getFeatures()))
    assert (o.kind, o.area_m2, o.notes) == ("construction", 22500.0, "type: new building")
    boxes = QgsVectorLayer("Polygon?crs=EPSG:4326&field=teu:integer&field=yard:string&field=count:integer",
                           "Containers", "memory")
    g = QgsFeature(boxes.fields())
    g.setAttributes([180, "Yard B", 120])
    boxes.dataProvider().addFeatures([g])
    (o,) = observations_from_features(boxes, list(boxes.getFeatures()))
    assert (o.kind, o.teu, o.count, o.pier, o.wkt) == ("containers", 180, 120, "Yard B", None)


def test_manual_observation_edit_delete_and_export(dock, tmp_path):
    form = dock.add_observation()
    form.kind.setCurrentIndex(form.kind.findData("construction"))
    form.area_m2.setText("22500")
    form.notes.setPlainText("four buildings")
    form.accept()
    (obs,) = dock.store.observations()
    assert (obs.kind, obs.area_m2, obs.source, obs.notes) == ("construction", 22500.0, "manual", "four buildings")
    dock.obs_table.selectRow(0)
    form = dock.edit_observation()
    form.count.setText("4")
    form.accept()
    assert dock.store.observations()[0].count == 4
    written = dock.export(str(tmp_path / "out.geojson"))
    assert [os.path.basename(p) for p in written] == ["out_piers.geojson", "out_observations.geojson"]
    back = QgsVectorLayer(written[1], "o", "ogr")
    assert [(f["kind"], f["count"]) for f in back.getFeatures()] == [("construction", 4)]
    dock.obs_table.selectRow(0)
    dock.delete_observation()
    assert dock.store.observations() == []


def test_read_only_and_missing_geopackage_are_messages(dock, tmp_path):
    from quayside.ui.store import Pier

    store = dock.current_store()
    store.add_pier(Pier(name="A", kind="oil"))
    os.chmod(store.path, stat.S_IRUSR)
    try:
        assert dock._save_pier(Pier(name="B", kind="oil")) is None
        assert "read-only" in bar_text(dock)
        assert [p.name for p in store.piers()] == ["A"]
    finally:
        os.chmod(store.path, stat.S_IRUSR | stat.S_IWUSR)
    dock.message_bar.clearWidgets()
    assert dock.set_store(str(tmp_path / "elsewhere" / "x.gpkg")) is None
    assert "does not exist" in bar_text(dock)
    # a GeoPackage chosen for the project that has gone is reported, not silently recreated
    QgsProject.instance().writeEntry("quayside", "gpkg", str(tmp_path / "gone.gpkg"))
    dock.store = None
    dock.message_bar.clearWidgets()
    assert dock.current_store() is None
    assert "does not exist" in bar_text(dock) and not os.path.exists(tmp_path / "gone.gpkg")


def test_every_control_has_a_tooltip_and_keyboard_access(dock):
    controls = [w for w in dock.widget().findChildren(QWidget)
                if isinstance(w, QAbstractButton) or w.metaObject().className() in (
                    "QgsMapLayerComboBox", "QSlider", "QDoubleSpinBox", "QLineEdit", "QTableWidget", "QTabWidget")]
    assert len(controls) > 25
    missing = [w.objectName() or w.metaObject().className() + ":" + getattr(w, "text", lambda: "")()
               for w in controls if not w.toolTip() and w.parent() is not None
               # (spin boxes' inner line edits, the table corner and combo buttons belong to their widget)
               and w.metaObject().className() not in ("QLineEdit", "QTableCornerButton")
               and not w.inherits("QToolButton")]
    assert missing == []
    # every push button, radio and checkbox has a mnemonic; every labelled input a buddy
    texts = [w.text() for w in controls if isinstance(w, QAbstractButton) and w.text()]
    assert all("&" in t or t == "Cancel" for t in texts), [t for t in texts if "&" not in t]
    buddies = [lab for lab in dock.widget().findChildren(QLabel) if "&" in lab.text()]
    assert buddies and all(lab.buddy() is not None for lab in buddies)
    assert [dock.tabs.tabText(i) for i in range(dock.tabs.count())] == ["&Compare", "&Piers", "&Observations"]
