"""Swipe, blend and flicker on a real QgsMapCanvas (offscreen): BEFORE's pixels on one
side of the divider, AFTER's on the other, and the layers exactly as they were after."""

import numpy as np
import pytest
import rasterio
from qgis.core import QgsCoordinateReferenceSystem, QgsProject, QgsRasterLayer
from qgis.gui import QgsLayerTreeMapCanvasBridge, QgsMapCanvas, QgsMapMouseEvent
from qgis.PyQt.QtCore import QCoreApplication, QEvent, QPoint, Qt
from qgis.PyQt.QtGui import QColor
from rasterio.transform import from_origin

RED = (220, 30, 30)
BLUE = (30, 30, 220)


def write_rgb(path, colour, crs="EPSG:32631", origin=(500000.0, 4650000.0), size=64, res=10.0):
    data = np.empty((3, size, size), dtype=np.uint8)
    for i, c in enumerate(colour):
        data[i] = c
    with rasterio.open(path, "w", driver="GTiff", width=size, height=size, count=3, dtype="uint8", crs=crs,
                       transform=from_origin(origin[0], origin[1], res, res), photometric="RGB") as dst:
        dst.write(data)
    return str(path)


@pytest.fixture()
def pair(qgis_app, tmp_path):
    """BEFORE (red) and AFTER (blue) in the project, AFTER on top, with a bridged canvas."""
    project = QgsProject.instance()
    project.clear()
    before = QgsRasterLayer(write_rgb(tmp_path / "before_2016-05-14.tif", RED), "before")
    after = QgsRasterLayer(write_rgb(tmp_path / "after_2019-08-02.tif", BLUE), "after")
    assert before.isValid() and after.isValid()
    project.addMapLayers([before, after])
    root = project.layerTreeRoot()
    # AFTER above BEFORE in the legend
    node = root.findLayer(after.id())
    clone = node.clone()
    root.insertChildNode(0, clone)
    root.removeChildNode(node)
    canvas = QgsMapCanvas()
    canvas.setParallelRenderingEnabled(False)
    canvas.resize(200, 120)
    canvas.show()
    bridge = QgsLayerTreeMapCanvasBridge(root, canvas)
    canvas.setDestinationCrs(before.crs())
    QCoreApplication.processEvents()
    canvas.setExtent(before.extent())
    canvas.zoomByFactor(0.5)  # the rasters fill the view
    canvas.refresh()
    canvas.waitWhileRendering()
    yield before, after, canvas
    canvas.hide()
    del bridge
    project.clear()
    canvas.deleteLater()
    QCoreApplication.processEvents()


def grab(canvas, session=None):
    canvas.refresh()
    canvas.waitWhileRendering()
    if session is not None:
        session.wait()
    QCoreApplication.processEvents()
    canvas.waitWhileRendering()
    if session is not None:
        session.wait()
    return canvas.grab().toImage()


def colour_at(img, x_frac, y_frac=0.5):
    """Colour at a fraction of the image size (the image may be HiDPI)."""
    c = QColor(img.pixel(int(x_frac * (img.width() - 1)), int(y_frac * (img.height() - 1))))
    return c.red(), c.green(), c.blue()


def close(a, b, tol=12):
    return all(abs(x - y) <= tol for x, y in zip(a, b))


def state(project, canvas, before, after):
    root = project.layerTreeRoot()
    return (
        root.findLayer(before.id()).itemVisibilityChecked(),
        root.findLayer(after.id()).itemVisibilityChecked(),
        before.opacity(), after.opacity(),
        [lyr.id() for lyr in root.layerOrder()],
        [lyr.id() for lyr in canvas.layers()],
    )


def test_swipe_shows_before_left_and_after_right(pair):
    from quayside.ui.swipe import SwipeMapTool

    before, after, canvas = pair
    project = QgsProject.instance()
    img = grab(canvas)
    assert close(colour_at(img, 0.25), BLUE) and close(colour_at(img, 0.75), BLUE)  # AFTER on top
    saved = state(project, canvas, before, after)

    tool = SwipeMapTool(canvas, before, after)
    canvas.setMapTool(tool)
    assert tool.isActive()
    img = grab(canvas, tool.session)
    assert close(colour_at(img, 0.25), RED), colour_at(img, 0.25)
    assert close(colour_at(img, 0.75), BLUE), colour_at(img, 0.75)

    # drag the divider to 80 % of the width with simulated mouse events
    w = canvas.width()
    for etype, x in ((QEvent.MouseButtonPress, w // 2), (QEvent.MouseMove, int(0.65 * w)),
                     (QEvent.MouseButtonRelease, int(0.8 * w))):
        event = QgsMapMouseEvent(canvas, etype, QPoint(x, 60), Qt.LeftButton, Qt.LeftButton, Qt.NoModifier)
        {QEvent.MouseButtonPress: tool.canvasPressEvent, QEvent.MouseMove: tool.canvasMoveEvent,
         QEvent.MouseButtonRelease: tool.canvasReleaseEvent}[etype](event)
    assert tool.split == pytest.approx(int(0.8 * w) / w)
    img = grab(canvas, tool.session)
    assert close(colour_at(img, 0.7), RED) and close(colour_at(img, 0.9), BLUE)

    # horizontal divider: BEFORE above, AFTER below
    tool.set_vertical(False)
    tool.set_split(0.5)
    img = grab(canvas, tool.session)
    assert close(colour_at(img, 0.5, 0.2), RED) and close(colour_at(img, 0.5, 0.8), BLUE)

    # follows zoom: zoom in on the middle, the swipe still splits the view
    canvas.zoomByFactor(0.5)
    img = grab(canvas, tool.session)
    assert close(colour_at(img, 0.5, 0.2), RED) and close(colour_at(img, 0.5, 0.8), BLUE)

    canvas.unsetMapTool(tool)
    assert not tool.isActive()
    QCoreApplication.processEvents()
    assert state(project, canvas, before, after) == saved
    img = grab(canvas)
    assert close(colour_at(img, 0.25), BLUE) and close(colour_at(img, 0.75), BLUE)


def test_swipe_with_before_on_top_and_reprojected(pair):
    """BEFORE above AFTER in the legend and the canvas in Web Mercator: same picture, same restore."""
    from quayside.ui.swipe import SwipeMapTool

    before, after, canvas = pair
    project = QgsProject.instance()
    root = project.layerTreeRoot()
    node = root.findLayer(before.id())
    root.insertChildNode(0, node.clone())
    root.removeChildNode(node)
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    QCoreApplication.processEvents()
    canvas.zoomToFullExtent()
    canvas.zoomByFactor(0.6)
    img = grab(canvas)
    assert close(colour_at(img, 0.5), RED)
    saved = state(project, canvas, before, after)

    tool = SwipeMapTool(canvas, before, after)
    canvas.setMapTool(tool)
    img = grab(canvas, tool.session)
    assert close(colour_at(img, 0.3), RED) and close(colour_at(img, 0.7), BLUE)
    canvas.unsetMapTool(tool)
    QCoreApplication.processEvents()
    assert state(project, canvas, before, after) == saved


def test_blend_and_flicker(pair):
    from quayside.ui.swipe import BLEND, SwipeMapTool

    before, after, canvas = pair
    project = QgsProject.instance()
    saved = state(project, canvas, before, after)
    tool = SwipeMapTool(canvas, before, after, mode=BLEND)
    canvas.setMapTool(tool)
    tool.set_after_opacity(0.5)
    img = grab(canvas, tool.session)
    mixed = colour_at(img, 0.5)
    assert close(mixed, tuple((a + b) / 2 for a, b in zip(RED, BLUE)), tol=20), mixed
    tool.set_after_opacity(1.0)
    assert close(colour_at(grab(canvas, tool.session), 0.2), BLUE)
    tool.set_after_opacity(0.0)
    assert close(colour_at(grab(canvas, tool.session), 0.2), RED)

    assert tool.flicker() is True  # BEFORE everywhere
    assert close(colour_at(grab(canvas, tool.session), 0.9), RED)
    assert tool.flicker() is False  # AFTER everywhere
    assert close(colour_at(grab(canvas, tool.session), 0.1), BLUE)
    canvas.unsetMapTool(tool)
    assert state(project, canvas, before, after) == saved


def test_a_change_made_while_comparing_is_kept(pair, tmp_path):
    """Leaving the comparison puts back what it changed, not what the analyst changed meanwhile."""
    from quayside.ui.swipe import CompareSession

    before, after, canvas = pair
    project = QgsProject.instance()
    other = QgsRasterLayer(write_rgb(tmp_path / "other.tif", (20, 200, 20)), "other")
    project.addMapLayer(other)
    root = project.layerTreeRoot()
    root.findLayer(other.id()).setItemVisibilityChecked(False)
    QCoreApplication.processEvents()
    session = CompareSession(canvas, before, after)
    session.start()
    assert not root.findLayer(before.id()).itemVisibilityChecked()
    # meanwhile the analyst turns another layer on and AFTER off
    root.findLayer(other.id()).setItemVisibilityChecked(True)
    root.findLayer(after.id()).setItemVisibilityChecked(False)
    QCoreApplication.processEvents()
    session.stop()
    QCoreApplication.processEvents()
    assert root.findLayer(before.id()).itemVisibilityChecked()  # the comparison's change undone
    assert not root.findLayer(after.id()).itemVisibilityChecked()  # the analyst's choice kept
    assert root.findLayer(other.id()).itemVisibilityChecked()
    assert other.id() in [lyr.id() for lyr in canvas.layers()]
