"""Run by QGIS desktop (qgis --code ...) under Xvfb: open the project, show
the Quayside dock, grab the main window into a PNG and quit."""

import os

from qgis.core import QgsApplication, QgsProject
from qgis.PyQt.QtCore import QTimer
from qgis.utils import iface, plugins

PROJECT = os.environ["QUAYSIDE_SHOT_PROJECT"]
OUT = os.environ["QUAYSIDE_SHOT_OUT"]
EXTRA = os.environ.get("QUAYSIDE_SHOT_EXTRA", "")


def prepare():
    win = iface.mainWindow()
    win.resize(1680, 1050)
    win.showMaximized()
    QgsProject.instance().read(PROJECT)
    view = QgsProject.instance().viewSettings().defaultViewExtent()
    canvas = iface.mapCanvas()
    if not view.isEmpty():
        canvas.setDestinationCrs(view.crs())
        canvas.setExtent(view)
    else:
        canvas.zoomToFullExtent()
    canvas.refresh()
    plugin = plugins.get("quayside")
    if plugin is not None and plugin.dock is not None:
        plugin.dock.show()
        plugin.dock.raise_()
    if EXTRA and os.path.exists(EXTRA):
        exec(open(EXTRA).read(), {"iface": iface, "plugin": plugin})
    QTimer.singleShot(6000, grab)


def grab():
    iface.mapCanvas().waitWhileRendering()
    iface.mainWindow().grab().save(OUT, "PNG")
    QTimer.singleShot(500, QgsApplication.instance().quit)


QTimer.singleShot(3000, prepare)
