"""The Quayside dock: where the analyst compares dates, annotates piers and
keeps a log of observations.

This first version holds the comparison pair: two raster pickers with the
acquisition date each image carries, so the rest of the dock (swipe, piers,
observations) has one place to grow into.
"""

from __future__ import annotations

from qgis.core import QgsMapLayerProxyModel, QgsProject
from qgis.gui import QgsDockWidget, QgsMapLayerComboBox
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtWidgets import QFormLayout, QLabel, QTabWidget, QVBoxLayout, QWidget

from ..core.dates import acquisition_date_of


def tr(text: str) -> str:
    return QCoreApplication.translate("QuaysideDock", text)


class QuaysideDock(QgsDockWidget):
    """Dock panel with a Compare tab (BEFORE / AFTER pickers with dates)."""

    def __init__(self, iface, parent=None):
        super().__init__(tr("Quayside"), parent)
        self.iface = iface
        body = QWidget(self)
        layout = QVBoxLayout(body)
        self.tabs = QTabWidget(body)
        layout.addWidget(self.tabs)

        compare = QWidget(self.tabs)
        form = QFormLayout(compare)
        self.before_combo = QgsMapLayerComboBox(compare)
        self.before_combo.setFilters(QgsMapLayerProxyModel.RasterLayer)
        self.before_combo.setAllowEmptyLayer(True)
        self.before_combo.setToolTip(tr("The earlier image of the pair"))
        self.before_date = QLabel(compare)
        self.after_combo = QgsMapLayerComboBox(compare)
        self.after_combo.setFilters(QgsMapLayerProxyModel.RasterLayer)
        self.after_combo.setAllowEmptyLayer(True)
        self.after_combo.setToolTip(tr("The later image of the pair"))
        self.after_date = QLabel(compare)
        form.addRow(tr("&Before"), self.before_combo)
        form.addRow(tr("Acquired"), self.before_date)
        form.addRow(tr("&After"), self.after_combo)
        form.addRow(tr("Acquired"), self.after_date)
        self.tabs.addTab(compare, tr("Compare"))
        self.setWidget(body)

        self.before_combo.layerChanged.connect(lambda lyr: self._show_date(lyr, self.before_date))
        self.after_combo.layerChanged.connect(lambda lyr: self._show_date(lyr, self.after_date))
        QgsProject.instance().layersAdded.connect(self._pick_defaults)
        self._pick_defaults()

    def _show_date(self, layer, label: QLabel) -> None:
        if layer is None:
            label.setText("")
            return
        found = acquisition_date_of(layer.source(), name=layer.name())
        label.setText(found.isoformat() if found else tr("unknown"))

    def _pick_defaults(self, *_args) -> None:
        """Default pair: the two most recent rasters, ordered by acquisition date."""
        rasters = [lyr for lyr in QgsProject.instance().mapLayers().values() if lyr.type() == lyr.RasterLayer]
        dated = []
        for lyr in rasters:
            d = acquisition_date_of(lyr.source(), name=lyr.name())
            if d is not None:
                dated.append((d, lyr))
        if len(dated) < 2:
            return
        dated.sort(key=lambda t: t[0])
        self.before_combo.setLayer(dated[-2][1])
        self.after_combo.setLayer(dated[-1][1])

    def close_tools(self) -> None:
        """Disconnect from the project before the dock goes away."""
        try:
            QgsProject.instance().layersAdded.disconnect(self._pick_defaults)
        except TypeError:
            pass
