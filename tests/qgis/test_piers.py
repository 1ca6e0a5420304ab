"""The pier tool draws a pier from simulated clicks, the form names it, the GeoPackage keeps
it; the dock lists, edits, zooms to and deletes it; detectships can take it as PIERS."""

import pytest
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
)
from qgis.gui import QgsMapCanvas, QgsMapMouseEvent
from qgis.PyQt.QtCore import QCoreApplication, QEvent, QPoint, Qt


@pytest.fixture()
def dock(qgis_app, qgis_processing, tmp_path, canvas_iface):
    from quayside.ui.dock import QuaysideDock

    project = QgsProject.instance()
    project.clear()
    project.setFileName(str(tmp_path / "port.qgz"))
    canvas = QgsMapCanvas()
    canvas.resize(300, 200)
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:32630"))
    canvas.setExtent(QgsRectangle(280000, 3980000, 283000, 3982000))
    d = QuaysideDock(canvas_iface(canvas))
    yield d
    d.close_tools()
    project.clear()
    d.deleteLater()
    canvas.deleteLater()
    QCoreApplication.processEvents()


def click(tool, canvas, x, y, button=Qt.LeftButton):
    ev = QgsMapMouseEvent(canvas, QEvent.MouseButtonRelease, QPoint(x, y), button, button, Qt.NoModifier)
    tool.canvasReleaseEvent(ev)


def to_wgs84(canvas, x, y):
    p = canvas.getCoordinateTransform().toMapCoordinates(x, y)
    ct = QgsCoordinateTransform(canvas.mapSettings().destinationCrs(), QgsCoordinateReferenceSystem("EPSG:4326"),
                                QgsProject.instance())
    return ct.transform(QgsPointXY(p))


def test_pier_tool_line_from_clicks_goes_to_the_geopackage(dock, tmp_path):
    canvas = dock.canvas()
    tool = dock.draw_pier(polygon=False)
    assert canvas.mapTool() is tool
    assert dock.store is not None and dock.store.path == str(tmp_path / "quayside.gpkg")
    click(tool, canvas, 50, 100)
    click(tool, canvas, 250, 110)
    click(tool, canvas, 0, 0, Qt.RightButton)  # finish
    form = dock.pier_form
    assert form is not None and form.isVisible()
    form.accept()  # no name yet: refused with a message
    assert form.isVisible() and "name" in form.error.text()
    form.name.setText("Pier 4")
    form.kind.setCurrentIndex(form.kind.findData("oil"))
    form.operator.setText("Sonatrach")
    form.accept()
    piers = dock.store.piers()
    assert [(p.name, p.kind, p.operator) for p in piers] == [("Pier 4", "oil", "Sonatrach")]
    geom = QgsGeometry.fromWkt(piers[0].wkt)
    expected = QgsGeometry.fromPolylineXY([to_wgs84(canvas, 50, 100), to_wgs84(canvas, 250, 110)])
    assert geom.hausdorffDistance(expected) < 1e-7
    assert dock.pier_table.rowCount() == 1 and dock.pier_table.item(0, 0).text() == "Pier 4"
    # the GeoPackage's piers are project layers (lines and polygons) that reload after each edit
    names = sorted(lyr.name() for lyr in QgsProject.instance().mapLayers().values())
    assert names == ["Observations", "Piers (lines)", "Piers (polygons)"]
    lines = QgsProject.instance().mapLayersByName("Piers (lines)")[0]
    assert lines.featureCount() == 1


def test_polygon_pier_edit_zoom_delete(dock):
    canvas = dock.canvas()
    tool = dock.draw_pier(polygon=True)
    click(tool, canvas, 100, 50)
    click(tool, canvas, 200, 50)
    tool.finish()  # two points are not a polygon
    assert dock.pier_form is None
    click(tool, canvas, 200, 150)
    click(tool, canvas, 100, 150)
    assert tool.finish() is not None
    dock.pier_form.name.setText("Mole")
    dock.pier_form.accept()
    (pier,) = dock.store.piers()
    assert QgsGeometry.fromWkt(pier.wkt).type() == 2  # polygon
    assert pier.kind == "other"

    dock.pier_table.selectRow(0)
    form = dock.edit_pier()
    assert form.name.text() == "Mole"
    form.name.setText("Mole East")
    form.kind.setCurrentIndex(form.kind.findData("naval"))
    form.accept()
    (pier,) = dock.store.piers()
    assert (pier.name, pier.kind) == ("Mole East", "naval")
    assert QgsGeometry.fromWkt(pier.wkt).type() == 2  # the geometry stays

    canvas.setExtent(QgsRectangle(0, 0, 10, 10))
    dock.pier_table.selectRow(0)
    dock.zoom_to_pier()
    middle = canvas.getCoordinateTransform()  # the pier is in the middle of the view now
    assert canvas.extent().contains(QgsPointXY(middle.toMapCoordinates(150, 100)))
    box = QgsGeometry.fromWkt(pier.wkt)
    box.transform(QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:4326"),
                                         canvas.mapSettings().destinationCrs(), QgsProject.instance()))
    assert canvas.extent().contains(box.boundingBox())

    dock.pier_table.selectRow(0)
    dock.delete_pier()
    assert dock.store.piers() == [] and dock.pier_table.rowCount() == 0


def test_piers_feed_detectships(dock, tmp_path, qgis_processing):
    """The line file the dock hands to detectships as PIERS holds every pier, polygons as outlines."""
    from qgis.core import QgsVectorLayer
    from quayside.ui import tasks
    from quayside.ui.store import Pier

    store = dock.current_store()
    store.add_pier(Pier(name="L", kind="oil", wkt="LINESTRING (-3 36, -3.001 36)"))
    store.add_pier(Pier(name="P", kind="bulk", wkt="POLYGON ((-3 36, -3.001 36, -3.001 36.001, -3 36))"))
    path = tasks.write_pier_lines(store.piers(), str(tmp_path))
    layer = QgsVectorLayer(path, "piers", "ogr")
    assert layer.geometryType() == 1  # lines
    assert sorted(f["name"] for f in layer.getFeatures()) == ["L", "P"]
