"""Run by QGIS desktop (qgis --code ...) under Xvfb: open the project, show
the Quayside dock, grab the main window into a PNG and quit.

QUAYSIDE_SHOT_MODE chooses the picture: ``dock`` (default), ``swipe`` (the
compare tool swiping BEFORE against AFTER) or ``pier`` (the pier form over
the map, grabbed from the whole screen so the dialog is in it)."""

import os

from qgis.core import QgsApplication, QgsProject
from qgis.PyQt.QtCore import QTimer
from qgis.utils import iface, plugins

PROJECT = os.environ["QUAYSIDE_SHOT_PROJECT"]
OUT = os.environ["QUAYSIDE_SHOT_OUT"]
EXTRA = os.environ.get("QUAYSIDE_SHOT_EXTRA", "")
MODE = os.environ.get("QUAYSIDE_SHOT_MODE", "dock")


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
    if plugin is not None and plugin.dock is not None and MODE == "swipe":
        dock = plugin.dock
        dock.tabs.setCurrentIndex(0)
        dock.compare_button.setChecked(True)
        if dock.swipe_tool is not None:
            dock.swipe_tool.set_split(0.45)
    if plugin is not None and plugin.dock is not None and MODE == "pier":
        QTimer.singleShot(2500, open_pier_form)
    if EXTRA and os.path.exists(EXTRA):
        exec(open(EXTRA).read(), {"iface": iface, "plugin": plugin})
    QTimer.singleShot(6000, grab)


def open_pier_form():
    from quayside.ui.store import Pier

    dock = plugins["quayside"].dock
    dock.tabs.setCurrentIndex(1)
    form = dock.open_pier_form(Pier(name="Pier 7 (container terminal)", kind="container",
                                    operator="Harbour Container Terminal Ltd", notes="East berth, 2 STS cranes"))
    form.move(iface.mainWindow().geometry().center() - form.rect().center())


def grab():
    iface.mapCanvas().waitWhileRendering()
    plugin = plugins.get("quayside")
    tool = getattr(getattr(plugin, "dock", None), "swipe_tool", None)
    if tool is not None and tool.session is not None:
        tool.session.wait()
    win = iface.mainWindow()
    shot = win.grab()
    form = getattr(getattr(plugin, "dock", None), "pier_form", None)
    if MODE == "pier" and form is not None and form.isVisible():
        # no window manager under Xvfb: paint the dialog where it stands over the main window
        from qgis.PyQt.QtGui import QPainter

        painter = QPainter(shot)
        painter.drawPixmap(form.geometry().topLeft() - win.geometry().topLeft(), form.grab())
        painter.end()
    shot.save(OUT, "PNG")
    QTimer.singleShot(500, QgsApplication.instance().quit)


QTimer.singleShot(3000, prepare)
