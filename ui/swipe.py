"""Compare two dates on the map: swipe, blend and flicker.

Design (and why)
----------------
While a comparison runs, the canvas draws the project as usual with AFTER
shown and BEFORE hidden. A canvas item (:class:`CompareItem`) renders *the
same map with BEFORE in AFTER's place* — every other layer, vectors and
labels included — with a :class:`QgsMapRendererParallelJob` over a copy of
the canvas's own ``mapSettings()``; so it has the canvas's extent, rotation,
destination CRS (reprojected layers are reprojected by QGIS's own renderer),
output size and device pixel ratio. The item then paints

* **swipe**: the part of that image on one side of a divider (vertical or
  horizontal) — BEFORE on the left/top, AFTER (the canvas) on the right/bottom;
* **blend**: the whole image at ``1 - p`` opacity, which is what AFTER at
  opacity ``p`` over BEFORE looks like, without touching any layer's opacity;
* **flicker**: the whole image, or nothing, toggled by a key or button.

It re-renders whenever the canvas starts a render (pan, zoom, CRS change,
layer change) and until the new image is ready it shows the previous one moved
with the map, as QGIS itself does. Compared with reordering the layer tree or
changing opacities, this keeps the project's layer state almost untouched
(only two visibility checkboxes, saved and put back exactly in
:meth:`CompareSession.stop`), vector layers above the pair stay on both
sides, and nothing is written to the project file while comparing.

The image is drawn with its pixel size divided by the canvas's logical size,
so on a HiDPI screen (devicePixelRatio 2) the divider falls on the same
logical pixel as the mouse and the image is not blurred.
"""

from __future__ import annotations

from typing import List, Optional

from qgis.core import QgsMapRendererParallelJob, QgsMapSettings, QgsProject
from qgis.gui import QgsMapCanvasItem, QgsMapTool
from qgis.PyQt.QtCore import QCoreApplication, QPointF, QRectF, Qt, pyqtSignal
from qgis.PyQt.QtGui import QColor, QPen

SWIPE = "swipe"
BLEND = "blend"
FLICKER = "flicker"
MODES = (SWIPE, BLEND, FLICKER)


def tr(text: str) -> str:
    return QCoreApplication.translate("QuaysideSwipe", text)


class CompareItem(QgsMapCanvasItem):
    """Paints the BEFORE version of the map over the canvas (clipped, blended or flickered)."""

    def __init__(self, canvas):
        super().__init__(canvas)
        self.canvas = canvas
        self.image = None
        self.mode = SWIPE
        self.split = 0.5  # fraction of the canvas width (vertical) or height (horizontal)
        self.vertical = True
        self.after_opacity = 0.5  # blend: AFTER's opacity over BEFORE
        self.show_before = True  # flicker: which image is showing
        self.setZValue(-1)  # below rubber bands and other tools' items

    def set_image(self, image, extent) -> None:
        self.image = image
        self.setRect(extent)
        self.update()

    def split_px(self) -> float:
        """The divider's position in canvas (logical) pixels."""
        size = self.canvas.width() if self.vertical else self.canvas.height()
        return self.split * size

    def paint(self, painter, option=None, widget=None):
        if self.image is None or self.image.isNull():
            return
        box = self.boundingRect()
        if box.width() <= 0 or box.height() <= 0:
            return
        sx = self.image.width() / box.width()
        sy = self.image.height() / box.height()
        if self.mode == BLEND:
            painter.setOpacity(max(0.0, min(1.0, 1.0 - self.after_opacity)))
            painter.drawImage(box, self.image, QRectF(0, 0, self.image.width(), self.image.height()))
            return
        if self.mode == FLICKER:
            if self.show_before:
                painter.drawImage(box, self.image, QRectF(0, 0, self.image.width(), self.image.height()))
            return
        # swipe: the divider is fixed on the canvas; the item may be offset while a new image renders
        pos = self.pos()
        if self.vertical:
            cut = max(0.0, min(box.width(), self.split_px() - pos.x()))
            target = QRectF(0, 0, cut, box.height())
        else:
            cut = max(0.0, min(box.height(), self.split_px() - pos.y()))
            target = QRectF(0, 0, box.width(), cut)
        if target.width() > 0 and target.height() > 0:
            source = QRectF(0, 0, target.width() * sx, target.height() * sy)
            painter.drawImage(target, self.image, source)
        # the divider itself, in canvas coordinates
        painter.setOpacity(1.0)
        w, h = self.canvas.width(), self.canvas.height()
        pen = QPen(QColor(255, 255, 255, 230), 2)
        painter.setPen(pen)
        at = self.split_px()
        if self.vertical:
            a, b = QPointF(at - pos.x(), -pos.y()), QPointF(at - pos.x(), h - pos.y())
        else:
            a, b = QPointF(-pos.x(), at - pos.y()), QPointF(w - pos.x(), at - pos.y())
        painter.drawLine(a, b)
        painter.setPen(QPen(QColor(20, 20, 20, 200), 1))
        painter.drawLine(a + QPointF(1, 1), b + QPointF(1, 1))
        mid = (a + b) / 2
        painter.setBrush(QColor(255, 255, 255, 230))
        painter.drawEllipse(mid, 7, 7)

    def boundingRect(self):  # noqa: N802
        # wide enough to hold the divider when the stale image is offset during a pan
        box = super().boundingRect()
        if self.mode != SWIPE:
            return box
        pos = self.pos()
        whole = QRectF(-pos.x(), -pos.y(), self.canvas.width(), self.canvas.height())
        return box.united(whole)


class CompareSession:
    """Shows BEFORE against AFTER on a canvas; :meth:`stop` puts the layers back exactly."""

    def __init__(self, canvas, before, after, project=None):
        self.canvas = canvas
        self.before = before
        self.after = after
        self.project = project or QgsProject.instance()
        self.item: Optional[CompareItem] = None
        self.job = None
        self._saved = None
        self._applied = None
        self._dirty = False
        self.active = False

    # -- state ---------------------------------------------------------------
    def _tree_nodes(self, layer) -> List:
        """The layer's node and its ancestor groups (their checkboxes decide visibility)."""
        root = self.project.layerTreeRoot()
        node = root.findLayer(layer.id())
        chain = []
        while node is not None and node is not root:
            chain.append(node)
            node = node.parent()
        return chain

    def snapshot(self) -> dict:
        """Everything a comparison may touch: visibility of the pair and its groups, opacity, order."""
        root = self.project.layerTreeRoot()
        nodes = self._tree_nodes(self.before) + self._tree_nodes(self.after)
        return {
            "checked": [(n, n.itemVisibilityChecked()) for n in nodes],
            "canvas_layers": list(self.canvas.layers()),
            "opacity": (self.before.opacity(), self.after.opacity()),
            "order": [lyr.id() for lyr in root.layerOrder()],
        }

    def start(self) -> None:
        if self.active:
            return
        if self.before is None or self.after is None:
            raise ValueError(tr("Choose a BEFORE and an AFTER image first."))
        if self.before.id() == self.after.id():
            raise ValueError(tr("BEFORE and AFTER are the same layer: choose two different images."))
        self._saved = self.snapshot()
        node_b = self.project.layerTreeRoot().findLayer(self.before.id())
        node_a = self.project.layerTreeRoot().findLayer(self.after.id())
        if node_b is not None:
            node_b.setItemVisibilityChecked(False)
        if node_a is not None:
            node_a.setItemVisibilityCheckedParentRecursive(True)
        # the canvas may have no layer-tree bridge (tests, custom canvases): set its layers too
        layers = [lyr for lyr in self.canvas.layers() if lyr.id() != self.before.id()]
        if self.after not in layers:
            layers.insert(0, self.after)
        self.canvas.setLayers(layers)
        # what the comparison set: on leaving, only what is still so is put back, so a checkbox
        # the analyst changed meanwhile keeps the analyst's choice
        self._applied = self.snapshot()
        self.item = CompareItem(self.canvas)
        self.canvas.renderStarting.connect(self.render)
        self.active = True
        self.render()

    def stop(self) -> None:
        if not self.active:
            return
        self.active = False
        try:
            self.canvas.renderStarting.disconnect(self.render)
        except TypeError:
            pass
        if self.job is not None:
            try:
                self.job.finished.disconnect(self._finished)
            except TypeError:
                pass
            self.job.cancelWithoutBlocking()
            self.job = None
        if self.item is not None:
            self.canvas.scene().removeItem(self.item)
            self.item = None
        saved, self._saved = self._saved, None
        applied, self._applied = self._applied, None
        for (node, checked), (_same, set_to) in zip(saved["checked"], applied["checked"]):
            try:
                if node.itemVisibilityChecked() == set_to:
                    node.setItemVisibilityChecked(checked)
            except RuntimeError:  # the analyst removed that node meanwhile
                continue
        self.before.setOpacity(saved["opacity"][0])
        self.after.setOpacity(saved["opacity"][1])
        if [lyr.id() for lyr in self.canvas.layers()] == [lyr.id() for lyr in applied["canvas_layers"]]:
            self.canvas.setLayers(saved["canvas_layers"])
        self.canvas.refresh()

    # -- rendering -------------------------------------------------------------
    def before_layers(self) -> List:
        """The canvas's layers with BEFORE in AFTER's place."""
        layers = []
        placed = False
        for lyr in self.canvas.layers():
            if lyr.id() == self.after.id():
                layers.append(self.before)
                placed = True
            elif lyr.id() != self.before.id():
                layers.append(lyr)
        if not placed:
            layers.append(self.before)
        return layers

    def render(self) -> None:
        """Start rendering the BEFORE map for the canvas's current view."""
        if not self.active:
            return
        if self.job is not None and self.job.isActive():
            self._dirty = True
            return
        settings = QgsMapSettings(self.canvas.mapSettings())
        settings.setLayers(self.before_layers())
        self.job = QgsMapRendererParallelJob(settings)
        self.job.finished.connect(self._finished)
        self._job_extent = settings.visibleExtent()
        self.job.start()

    def _finished(self) -> None:
        job = self.job
        if job is None or not self.active:
            return
        image = job.renderedImage()
        extent = self._job_extent
        self.job = None
        if self.item is not None:
            self.item.set_image(image, extent)
        if self._dirty:
            self._dirty = False
            self.render()

    def wait(self) -> None:
        """Block until the BEFORE image is ready (tests, screenshots)."""
        while self.job is not None:
            job = self.job
            job.waitForFinished()
            QCoreApplication.processEvents()
            if self.job is job:  # finished signal not delivered yet
                self._finished()

    # -- controls ------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(mode)
        if self.item is not None:
            self.item.prepareGeometryChange()
            self.item.mode = mode
            self.item.show_before = True
            self.item.update()

    def set_split(self, fraction: float) -> None:
        if self.item is not None:
            self.item.split = max(0.0, min(1.0, fraction))
            self.item.update()

    def set_vertical(self, vertical: bool) -> None:
        if self.item is not None:
            self.item.vertical = bool(vertical)
            self.item.update()

    def set_after_opacity(self, value: float) -> None:
        if self.item is not None:
            self.item.after_opacity = max(0.0, min(1.0, value))
            self.item.update()

    def flicker(self) -> bool:
        """Toggle which image shows (switches to flicker mode); returns True when BEFORE shows."""
        if self.item is None:
            return False
        if self.item.mode != FLICKER:
            self.set_mode(FLICKER)
            self.item.show_before = False
        self.item.show_before = not self.item.show_before
        self.item.update()
        return self.item.show_before


class SwipeMapTool(QgsMapTool):
    """Drag the divider (or click where it should go); arrows move it, O turns it, F flickers.

    Activating the tool starts a :class:`CompareSession`; leaving it (another
    tool, Esc) stops the session, which restores the layers.
    """

    stateChanged = pyqtSignal(str)  # noqa: N815 (Qt signal style)

    def __init__(self, canvas, before=None, after=None, mode: str = SWIPE, vertical: bool = True):
        super().__init__(canvas)
        self.session: Optional[CompareSession] = None
        self.before = before
        self.after = after
        self.mode = mode
        self.vertical = vertical
        self.split = 0.5
        self.after_opacity = 0.5
        self._dragging = False
        self._update_cursor()

    def set_pair(self, before, after) -> None:
        restart = self.session is not None and self.session.active
        if restart:
            self._stop_session()
        self.before, self.after = before, after
        if restart:
            self._start_session()

    def _update_cursor(self) -> None:
        if self.mode == SWIPE:
            self.setCursor(Qt.SplitHCursor if self.vertical else Qt.SplitVCursor)
        else:
            self.setCursor(Qt.ArrowCursor)

    def _start_session(self) -> None:
        self.session = CompareSession(self.canvas(), self.before, self.after)
        self.session.start()
        self.session.set_mode(self.mode)
        self.session.set_vertical(self.vertical)
        self.session.set_split(self.split)
        self.session.set_after_opacity(self.after_opacity)

    def _stop_session(self) -> None:
        if self.session is not None:
            self.session.stop()
            self.session = None

    def activate(self):
        super().activate()
        try:
            self._start_session()
        except ValueError as exc:
            self.session = None
            self.stateChanged.emit(str(exc))
            return
        self.stateChanged.emit("started")

    def deactivate(self):
        self._stop_session()
        self._dragging = False
        super().deactivate()
        self.stateChanged.emit("stopped")

    def isActive(self) -> bool:  # noqa: N802
        return self.session is not None and self.session.active

    # -- controls (also used by the dock) ---------------------------------------
    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self._update_cursor()
        if self.session is not None:
            self.session.set_mode(mode)

    def set_vertical(self, vertical: bool) -> None:
        self.vertical = vertical
        self._update_cursor()
        if self.session is not None:
            self.session.set_vertical(vertical)

    def set_split(self, fraction: float) -> None:
        self.split = max(0.0, min(1.0, fraction))
        if self.session is not None:
            self.session.set_split(self.split)

    def set_after_opacity(self, value: float) -> None:
        self.after_opacity = value
        if self.session is not None:
            self.session.set_after_opacity(value)

    def flicker(self) -> bool:
        if self.session is None:
            return False
        self.mode = FLICKER
        return self.session.flicker()

    # -- mouse and keys ----------------------------------------------------------
    def _fraction_at(self, pos) -> float:
        c = self.canvas()
        if self.vertical:
            return pos.x() / max(1, c.width())
        return pos.y() / max(1, c.height())

    def canvasPressEvent(self, event):  # noqa: N802
        if event.button() == Qt.LeftButton and self.mode == SWIPE:
            self._dragging = True
            self.set_split(self._fraction_at(event.pos()))

    def canvasMoveEvent(self, event):  # noqa: N802
        if self._dragging:
            self.set_split(self._fraction_at(event.pos()))

    def canvasReleaseEvent(self, event):  # noqa: N802
        if self._dragging:
            self.set_split(self._fraction_at(event.pos()))
        self._dragging = False

    def keyPressEvent(self, event):  # noqa: N802
        key = event.key()
        step = 0.1 if event.modifiers() & Qt.ShiftModifier else 0.02
        if key in (Qt.Key_Left, Qt.Key_Up) and self.mode == SWIPE:
            self.set_split(self.split - step)
        elif key in (Qt.Key_Right, Qt.Key_Down) and self.mode == SWIPE:
            self.set_split(self.split + step)
        elif key == Qt.Key_O:
            self.set_vertical(not self.vertical)
        elif key == Qt.Key_F:
            self.flicker()
        elif key == Qt.Key_Escape:
            self.canvas().unsetMapTool(self)
        else:
            event.ignore()
            return
        event.accept()
