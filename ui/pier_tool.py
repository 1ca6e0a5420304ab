"""A map tool that draws a pier as a line (the berth face) or a polygon (the
pier's outline).

Left click adds a vertex (snapped to the project's snapping settings), the
mouse shows the next segment, right click or Enter finishes, Backspace takes
the last vertex back and Esc abandons the drawing. The finished geometry
(in the canvas's CRS) goes out through :attr:`PierMapTool.pierDrawn`; the dock
asks for the pier's name and kind and stores it.
"""

from __future__ import annotations

from typing import List

from qgis.core import QgsGeometry, QgsPointXY, QgsWkbTypes
from qgis.gui import QgsMapTool, QgsRubberBand
from qgis.PyQt.QtCore import QCoreApplication, Qt, pyqtSignal
from qgis.PyQt.QtGui import QColor


def tr(text: str) -> str:
    return QCoreApplication.translate("QuaysidePierTool", text)


class PierMapTool(QgsMapTool):
    pierDrawn = pyqtSignal(QgsGeometry)  # noqa: N815 (Qt signal style)
    message = pyqtSignal(str)

    def __init__(self, canvas, polygon: bool = False):
        super().__init__(canvas)
        self.polygon = polygon
        self.points: List[QgsPointXY] = []
        self.band = None
        self.setCursor(Qt.CrossCursor)

    @property
    def geometry_type(self):
        return QgsWkbTypes.PolygonGeometry if self.polygon else QgsWkbTypes.LineGeometry

    def min_points(self) -> int:
        return 3 if self.polygon else 2

    def _ensure_band(self) -> None:
        if self.band is None:
            self.band = QgsRubberBand(self.canvas(), self.geometry_type)
            self.band.setColor(QColor(230, 120, 0, 200))
            self.band.setFillColor(QColor(230, 120, 0, 60))
            self.band.setWidth(2)

    def _map_point(self, event) -> QgsPointXY:
        try:
            match = self.canvas().snappingUtils().snapToMap(event.pos())
            if match.isValid():
                return QgsPointXY(match.point())
        except (AttributeError, RuntimeError):
            pass
        return QgsPointXY(event.mapPoint())

    def _redraw(self, hover=None) -> None:
        self._ensure_band()
        self.band.reset(self.geometry_type)
        pts = list(self.points) + ([hover] if hover is not None else [])
        for i, p in enumerate(pts):
            self.band.addPoint(p, i == len(pts) - 1)

    def canvasReleaseEvent(self, event):  # noqa: N802
        if event.button() == Qt.LeftButton:
            self.points.append(self._map_point(event))
            self._redraw()
        elif event.button() == Qt.RightButton:
            self.finish()

    def canvasMoveEvent(self, event):  # noqa: N802
        if self.points:
            self._redraw(self._map_point(event))

    def keyPressEvent(self, event):  # noqa: N802
        key = event.key()
        if key in (Qt.Key_Return, Qt.Key_Enter):
            self.finish()
        elif key in (Qt.Key_Backspace, Qt.Key_Delete) and self.points:
            self.points.pop()
            self._redraw()
        elif key == Qt.Key_Escape:
            self.reset()
        else:
            event.ignore()
            return
        event.accept()

    def finish(self):
        """End the drawing: emits pierDrawn with the geometry, or a message when too short."""
        pts = list(self.points)
        if len(pts) < self.min_points():
            self.message.emit(tr("A pier needs at least {} points: left-click to add them, right-click or "
                                 "Enter to finish.").format(self.min_points()))
            return None
        if self.polygon:
            geom = QgsGeometry.fromPolygonXY([pts + [pts[0]]])
        else:
            geom = QgsGeometry.fromPolylineXY(pts)
        if geom.isEmpty() or (self.polygon and geom.area() <= 0) or (not self.polygon and geom.length() <= 0):
            self.message.emit(tr("The pier has no length or area: click distinct points."))
            self.reset()
            return None
        self.reset()
        self.pierDrawn.emit(geom)
        return geom

    def reset(self) -> None:
        self.points = []
        if self.band is not None:
            self.band.reset(self.geometry_type)

    def deactivate(self):
        self.reset()
        if self.band is not None:
            self.canvas().scene().removeItem(self.band)
            self.band = None
        super().deactivate()
