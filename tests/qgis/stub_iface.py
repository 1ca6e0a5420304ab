"""A recording stand-in for QgisInterface: it keeps what a plugin adds so a
test can check that unload() took every piece away again."""

from qgis.PyQt.QtWidgets import QMainWindow, QToolBar


class RecordingIface:
    def __init__(self, canvas=None):
        self.window = QMainWindow()
        self.canvas = canvas
        self.menus = {}  # menu name -> [actions]
        self.docks = []
        self.toolbars = []

    def mainWindow(self):
        return self.window

    def mapCanvas(self):
        return self.canvas

    def addPluginToMenu(self, name, action):
        self.menus.setdefault(name, []).append(action)

    def removePluginMenu(self, name, action):
        self.menus[name].remove(action)
        if not self.menus[name]:
            del self.menus[name]

    def addDockWidget(self, area, dock):
        self.window.addDockWidget(area, dock)
        self.docks.append(dock)

    def removeDockWidget(self, dock):
        self.window.removeDockWidget(dock)
        self.docks.remove(dock)

    def addToolBar(self, name):
        tb = QToolBar(name, self.window)
        self.window.addToolBar(tb)
        self.toolbars.append(tb)
        tb.destroyed.connect(lambda *_: self.toolbars.remove(tb) if tb in self.toolbars else None)
        return tb

    def messageBar(self):
        return None


class CanvasIface:
    """The part of iface the dock uses: a map canvas, a main window and the active layer."""

    def __init__(self, canvas):
        self.canvas, self.window, self.active = canvas, QMainWindow(), None

    def mapCanvas(self):  # noqa: N802
        return self.canvas

    def mainWindow(self):  # noqa: N802
        return self.window

    def activeLayer(self):  # noqa: N802
        return self.active
