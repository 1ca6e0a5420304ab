"""The Quayside dock: where the analyst compares dates, annotates piers and
keeps a log of observations.

* **Compare**: BEFORE / AFTER pickers (defaults: the two most recent rasters
  by acquisition date) with their dates; swipe, blend and flicker on the map
  (:mod:`.swipe`); one click runs the detections over the current view as
  background tasks (:mod:`.tasks`).
* **Piers**: drawn with :mod:`.pier_tool`, described in :mod:`.forms`, kept in
  the GeoPackage (:mod:`.store`), listed, edited, deleted, zoomed to.
* **Observations**: the log in the same GeoPackage, by hand or from selected
  detection features in one click; export of both (:mod:`.export`).

Every problem with the GeoPackage is shown in the dock's message bar as a
sentence, never a traceback.
"""

from __future__ import annotations

import os
from typing import List, Optional

from qgis.core import (
    Qgis,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsGeometry,
    QgsMapLayerProxyModel,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.gui import QgsDockWidget, QgsMapLayerComboBox, QgsMessageBar
from qgis.PyQt.QtCore import QCoreApplication, Qt
from qgis.PyQt.QtGui import QKeySequence
from qgis.PyQt.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QShortcut,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..core.dates import acquisition_date_of
from . import tasks as runs
from .export import export_store, format_for_path
from .forms import ObservationForm, PierForm, _user
from .pier_tool import PierMapTool
from .store import OBSERVATIONS, PIERS, Observation, Pier, QuaysideStore, StoreError
from .swipe import BLEND, FLICKER, SWIPE, SwipeMapTool

SCOPE = "quayside"
KEY_GPKG = "gpkg"
WGS84 = QgsCoordinateReferenceSystem("EPSG:4326")


def tr(text: str) -> str:
    return QCoreApplication.translate("QuaysideDock", text)


def _button(parent, text: str, tip: str, slot=None) -> QPushButton:
    b = QPushButton(text, parent)
    b.setToolTip(tip)
    if slot is not None:
        b.clicked.connect(slot)
    return b


class QuaysideDock(QgsDockWidget):
    """Dock panel with Compare, Piers and Observations tabs."""

    def __init__(self, iface, parent=None):
        super().__init__(tr("Quayside"), parent)
        self.iface = iface
        self.project = QgsProject.instance()
        self.store: Optional[QuaysideStore] = None
        self.swipe_tool: Optional[SwipeMapTool] = None
        self.pier_tool: Optional[PierMapTool] = None
        self.pier_form: Optional[PierForm] = None
        self.obs_form: Optional[ObservationForm] = None
        self.run: Optional[runs.DetectionRun] = None
        self._drawn_geometry = None

        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(2, 2, 2, 2)
        self.message_bar = QgsMessageBar(body)
        layout.addWidget(self.message_bar)
        self.tabs = QTabWidget(body)
        self.tabs.setToolTip(tr("Ctrl+PgUp / Ctrl+PgDown switch tabs"))
        layout.addWidget(self.tabs)
        self.tabs.addTab(self._compare_tab(), tr("&Compare"))
        self.tabs.addTab(self._piers_tab(), tr("&Piers"))
        self.tabs.addTab(self._observations_tab(), tr("&Observations"))
        self.setWidget(body)

        self.before_combo.layerChanged.connect(self._before_changed)
        self.after_combo.layerChanged.connect(self._after_changed)
        self.project.layersAdded.connect(self._pick_defaults)
        self.project.readProject.connect(self._project_read)
        self.project.cleared.connect(self._project_cleared)
        self._pick_defaults()
        self._show_date(self.before_combo.currentLayer(), self.before_date)
        self._show_date(self.after_combo.currentLayer(), self.after_date)
        self._flicker_shortcut = QShortcut(QKeySequence("Ctrl+Alt+F"), self)
        self._flicker_shortcut.setContext(Qt.ApplicationShortcut)
        self._flicker_shortcut.activated.connect(self.flicker)

    # ------------------------------------------------------------------ helpers
    def canvas(self):
        return self.iface.mapCanvas() if self.iface is not None else None

    def say(self, text: str, level=Qgis.Info, duration: int = 6) -> None:
        self.message_bar.pushMessage(tr("Quayside"), text, level, duration)

    def warn(self, text: str) -> None:
        self.message_bar.pushMessage(tr("Quayside"), text, Qgis.Warning, 0)

    # ------------------------------------------------------------------ compare
    def _compare_tab(self) -> QWidget:
        tab = QWidget(self.tabs)
        outer = QVBoxLayout(tab)
        form = QFormLayout()
        self.before_combo = QgsMapLayerComboBox(tab)
        self.before_combo.setFilters(QgsMapLayerProxyModel.RasterLayer)
        self.before_combo.setAllowEmptyLayer(True)
        self.before_combo.setToolTip(tr("The earlier image of the pair"))
        self.before_date = QLabel(tab)
        self.before_date.setToolTip(tr("Acquisition date of the BEFORE image (from its metadata or file name)"))
        self.after_combo = QgsMapLayerComboBox(tab)
        self.after_combo.setFilters(QgsMapLayerProxyModel.RasterLayer)
        self.after_combo.setAllowEmptyLayer(True)
        self.after_combo.setToolTip(tr("The later image of the pair"))
        self.after_date = QLabel(tab)
        self.after_date.setToolTip(tr("Acquisition date of the AFTER image (from its metadata or file name)"))
        for text, widget in ((tr("&Before"), self.before_combo), (tr("Acquired"), self.before_date),
                             (tr("&After"), self.after_combo), (tr("Acquired"), self.after_date)):
            lab = QLabel(text, tab)
            lab.setBuddy(widget)
            form.addRow(lab, widget)
        outer.addLayout(form)

        view = QGroupBox(tr("View"), tab)
        vbox = QVBoxLayout(view)
        modes = QHBoxLayout()
        self.mode_group = QButtonGroup(view)
        self.mode_buttons = {}
        for mode, text, tip in (
                (SWIPE, tr("S&wipe"), tr("BEFORE on one side of a divider you drag, AFTER on the other")),
                (BLEND, tr("B&lend"), tr("AFTER drawn over BEFORE with the opacity below")),
                (FLICKER, tr("Flic&ker"), tr("One image at a time; F on the map or Ctrl+Alt+F toggles"))):
            rb = QRadioButton(text, view)
            rb.setToolTip(tip)
            self.mode_group.addButton(rb)
            self.mode_buttons[mode] = rb
            modes.addWidget(rb)
        self.mode_buttons[SWIPE].setChecked(True)
        self.mode_group.buttonToggled.connect(self._mode_changed)
        vbox.addLayout(modes)
        self.horizontal_check = QCheckBox(tr("&Horizontal divider"), view)
        self.horizontal_check.setToolTip(tr("Divide top (BEFORE) and bottom (AFTER) instead of left and right; "
                                            "O on the map turns it"))
        self.horizontal_check.toggled.connect(lambda on: self.swipe_tool and self.swipe_tool.set_vertical(not on))
        vbox.addWidget(self.horizontal_check)
        row = QHBoxLayout()
        lab = QLabel(tr("AFTER o&pacity"), view)
        self.opacity_slider = QSlider(Qt.Horizontal, view)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(50)
        self.opacity_slider.setToolTip(tr("Blend: how strongly AFTER covers BEFORE (arrow keys move it)"))
        self.opacity_slider.valueChanged.connect(self._opacity_changed)
        lab.setBuddy(self.opacity_slider)
        row.addWidget(lab)
        row.addWidget(self.opacity_slider)
        vbox.addLayout(row)
        row = QHBoxLayout()
        self.compare_button = _button(view, tr("Compare on &map"),
                                      tr("Start (or stop) comparing on the map; leaving the tool restores the layers"),
                                      None)
        self.compare_button.setCheckable(True)
        self.compare_button.toggled.connect(self.toggle_compare)
        self.flicker_button = _button(view, tr("&Flicker"), tr("Swap BEFORE and AFTER on the map (Ctrl+Alt+F)"),
                                      self.flicker)
        row.addWidget(self.compare_button)
        row.addWidget(self.flicker_button)
        vbox.addLayout(row)
        outer.addWidget(view)

        detect = QGroupBox(tr("Detect in the current view"), tab)
        dform = QFormLayout(detect)
        self.ships_check = QCheckBox(tr("&Ships (on AFTER)"), detect)
        self.ships_check.setToolTip(tr("Also run quayside:detectships on AFTER, with the piers of the GeoPackage"))
        self.ships_check.setChecked(True)
        self.containers_check = QCheckBox(tr("C&ontainers (on AFTER)"), detect)
        self.containers_check.setToolTip(tr("Also run quayside:detectcontainers on AFTER"))
        self.yards_combo = QgsMapLayerComboBox(detect)
        self.yards_combo.setFilters(QgsMapLayerProxyModel.PolygonLayer)
        self.yards_combo.setAllowEmptyLayer(True)
        self.yards_combo.setLayer(None)
        self.yards_combo.setToolTip(tr("Container yards (polygons) for the container count; empty = the view"))
        self.sensitivity_spin = QDoubleSpinBox(detect)
        self.sensitivity_spin.setRange(0.0, 1.0)
        self.sensitivity_spin.setSingleStep(0.05)
        self.sensitivity_spin.setValue(0.5)
        self.sensitivity_spin.setToolTip(tr("Higher finds fainter changes and ships, and more false alarms"))
        self.min_area_spin = QDoubleSpinBox(detect)
        self.min_area_spin.setRange(0.0, 1e7)
        self.min_area_spin.setDecimals(0)
        self.min_area_spin.setValue(200.0)
        self.min_area_spin.setSuffix(" m²")
        self.min_area_spin.setToolTip(tr("Smallest change worth reporting, in square metres"))
        dform.addRow(self.ships_check)
        dform.addRow(self.containers_check)
        for text, w in ((tr("&Yards"), self.yards_combo), (tr("Se&nsitivity"), self.sensitivity_spin),
                        (tr("Minimum ch&ange"), self.min_area_spin)):
            lab = QLabel(text, detect)
            lab.setBuddy(w)
            dform.addRow(lab, w)
        row = QHBoxLayout()
        self.detect_button = _button(detect, tr("&Detect changes"),
                                     tr("Run quayside:detectchanges on the pair over the current view (and the "
                                        "ticked detections) in the background; results are added to the project"),
                                     self.detect)
        self.cancel_button = _button(detect, tr("Cancel"), tr("Stop the running detections"), self.cancel_detect)
        self.cancel_button.setEnabled(False)
        row.addWidget(self.detect_button)
        row.addWidget(self.cancel_button)
        dform.addRow(row)
        self.progress = QProgressBar(detect)
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.setToolTip(tr("Progress of the running detections"))
        dform.addRow(self.progress)
        outer.addWidget(detect)
        outer.addStretch(1)
        return tab

    def _before_changed(self, layer) -> None:
        self._pair_changed(layer, self.before_date)

    def _after_changed(self, layer) -> None:
        self._pair_changed(layer, self.after_date)

    def _pair_changed(self, layer, label) -> None:
        self._show_date(layer, label)
        if self.swipe_tool is not None:
            self.swipe_tool.set_pair(self.before_combo.currentLayer(), self.after_combo.currentLayer())

    def _show_date(self, layer, label: QLabel) -> None:
        if layer is None:
            label.setText("")
            return
        found = acquisition_date_of(layer.source(), name=layer.name())
        label.setText(found.isoformat() if found else tr("unknown"))

    def _pick_defaults(self, *_args) -> None:
        """Default pair: the two most recent rasters, ordered by acquisition date."""
        rasters = [lyr for lyr in self.project.mapLayers().values() if isinstance(lyr, QgsRasterLayer)]
        dated = []
        for lyr in rasters:
            d = acquisition_date_of(lyr.source(), name=lyr.name())
            if d is not None:
                dated.append((d, lyr.name(), lyr))
        if len(dated) < 2:
            return
        dated.sort(key=lambda t: (t[0], t[1]))
        self.before_combo.setLayer(dated[-2][2])
        self.after_combo.setLayer(dated[-1][2])

    def current_mode(self) -> str:
        for mode, rb in self.mode_buttons.items():
            if rb.isChecked():
                return mode
        return SWIPE

    def _mode_changed(self, button, checked) -> None:
        if checked and self.swipe_tool is not None:
            self.swipe_tool.set_mode(self.current_mode())

    def _opacity_changed(self, value: int) -> None:
        if self.swipe_tool is not None:
            self.swipe_tool.set_after_opacity(value / 100.0)
        if value and self.current_mode() != BLEND and self.opacity_slider.hasFocus():
            self.mode_buttons[BLEND].setChecked(True)

    def toggle_compare(self, on: bool) -> None:
        canvas = self.canvas()
        if canvas is None:
            return
        if on:
            before, after = self.before_combo.currentLayer(), self.after_combo.currentLayer()
            if before is None or after is None or before.id() == after.id():
                self.warn(tr("Choose two different images as BEFORE and AFTER first."))
                self.compare_button.setChecked(False)
                return
            self.swipe_tool = SwipeMapTool(canvas, before, after, mode=self.current_mode(),
                                           vertical=not self.horizontal_check.isChecked())
            self.swipe_tool.set_after_opacity(self.opacity_slider.value() / 100.0)
            self.swipe_tool.deactivated.connect(self._compare_left)
            canvas.setMapTool(self.swipe_tool)
            canvas.setFocus()
        elif self.swipe_tool is not None:
            canvas.unsetMapTool(self.swipe_tool)

    def _compare_left(self) -> None:
        tool, self.swipe_tool = self.swipe_tool, None
        if tool is not None:
            try:
                tool.deactivated.disconnect(self._compare_left)
            except TypeError:
                pass
        self.compare_button.blockSignals(True)
        self.compare_button.setChecked(False)
        self.compare_button.blockSignals(False)

    def flicker(self) -> None:
        if self.swipe_tool is None:
            self.mode_buttons[FLICKER].setChecked(True)
            self.compare_button.setChecked(True)
            return
        self.mode_buttons[FLICKER].blockSignals(True)
        self.mode_buttons[FLICKER].setChecked(True)
        self.mode_buttons[FLICKER].blockSignals(False)
        self.swipe_tool.flicker()

    # ------------------------------------------------------------------ detections
    def detection_jobs(self, folder: str) -> dict:
        """Parameters of each algorithm for the pair over the current view."""
        before, after = self.before_combo.currentLayer(), self.after_combo.currentLayer()
        canvas = self.canvas()
        crs = canvas.mapSettings().destinationCrs()
        aoi = runs.write_polygon_geojson(runs.view_polygon(canvas), crs, folder)
        jobs = {runs.CHANGES: {"BEFORE": before.source(), "AFTER": after.source(), "AOI": aoi,
                               "MIN_AREA": self.min_area_spin.value(),
                               "SENSITIVITY": self.sensitivity_spin.value()}}
        if self.ships_check.isChecked():
            params = {"INPUT": after.source(), "AOI": aoi, "SENSITIVITY": self.sensitivity_spin.value()}
            piers = self._piers_for_run(folder)
            if piers:
                params.update({"PIERS": piers, "PIER_NAME_FIELD": "name"})
            jobs[runs.SHIPS] = params
        if self.containers_check.isChecked():
            yards = self.yards_combo.currentLayer()
            # without yards the algorithm finds them itself, within the view
            params = {"INPUT": after.source(), "AOI": aoi, "SENSITIVITY": self.sensitivity_spin.value()}
            if yards is not None:
                params.update({"YARDS": yards.source(), "YARD_NAME_FIELD": self._yard_name_field(yards)})
            jobs[runs.CONTAINERS] = params
        return jobs

    @staticmethod
    def _yard_name_field(layer) -> str:
        """The yards layer's name field: 'name' (or another text field called like it), else none."""
        names = [f.name() for f in layer.fields()]
        for candidate in ("name", "yard", "Name", "NAME", "yard_name"):
            if candidate in names:
                return candidate
        return ""

    def _piers_for_run(self, folder: str) -> Optional[str]:
        store = self.current_store(quiet=True)
        if store is None:
            return None
        try:
            return runs.write_pier_lines(store.piers(), folder)
        except StoreError as exc:
            self.warn(str(exc))
            return None

    def detect(self) -> Optional[runs.DetectionRun]:
        before, after = self.before_combo.currentLayer(), self.after_combo.currentLayer()
        if before is None or after is None or before.id() == after.id():
            self.warn(tr("Choose two different images as BEFORE and AFTER first."))
            return None
        if self.run is not None:
            self.warn(tr("Detections are already running: wait for them or cancel."))
            return None
        wanted = [runs.CHANGES] + ([runs.SHIPS] if self.ships_check.isChecked() else []) + \
            ([runs.CONTAINERS] if self.containers_check.isChecked() else [])
        missing = runs.missing_algorithms(wanted)
        if runs.CHANGES in missing:
            self.warn(tr("The algorithm {} is not available in this Quayside: update the plugin, or check that "
                         "its Processing provider is enabled.").format(runs.CHANGES))
            return None
        if missing:
            self.warn(tr("Not available, skipped: {}.").format(", ".join(missing)))
        jobs = {k: v for k, v in self.detection_jobs(runs.make_temp_folder()).items() if k not in missing}
        self.run = runs.DetectionRun(jobs, self.project)
        self.run.progress.connect(lambda v: self.progress.setValue(int(v)))
        self.run.done.connect(self._detect_done)
        self.detect_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self.run.start()
        return self.run

    def cancel_detect(self) -> None:
        if self.run is not None:
            self.run.cancel()

    def _detect_done(self, layers: list, messages: list) -> None:
        self.run = None
        self.detect_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if layers:
            self.say(tr("Added {} result layer(s): {}").format(len(layers), ", ".join(lyr.name() for lyr in layers)),
                     Qgis.Success)
        for m in messages:
            self.warn(m)

    # ------------------------------------------------------------------ store
    def default_gpkg_path(self) -> Optional[str]:
        saved, ok = self.project.readEntry(SCOPE, KEY_GPKG, "")
        if ok and saved:
            return self.project.readPath(saved)
        home = self.project.absolutePath()
        return os.path.join(home, "quayside.gpkg") if home else None

    def current_store(self, quiet: bool = False, create: Optional[bool] = None) -> Optional[QuaysideStore]:
        """The project's GeoPackage, opened (created beside the project by default)."""
        if self.store is not None and os.path.exists(self.store.path):
            return self.store
        path = self.default_gpkg_path()
        if path is None:
            if not quiet:
                self.warn(tr("Save the project first (the GeoPackage goes beside it), or choose a GeoPackage in "
                             "the Piers tab."))
            return None
        saved, _ok = self.project.readEntry(SCOPE, KEY_GPKG, "")
        if create is None:
            create = not saved  # a GeoPackage the analyst chose must not silently reappear empty
        return self.set_store(path, create=create, quiet=quiet)

    def set_store(self, path: str, create: bool = True, quiet: bool = False,
                  remember: bool = False) -> Optional[QuaysideStore]:
        try:
            store = QuaysideStore(path, create=create)
        except StoreError as exc:
            if not quiet:
                self.warn(str(exc))
            return None
        self.store = store
        self.gpkg_edit.setText(store.path)
        if remember:
            self.project.writeEntry(SCOPE, KEY_GPKG, self.project.writePath(store.path))
        if store.read_only and not quiet:
            self.warn(tr("The GeoPackage {} is read-only: you can look, but edits will not be saved.")
                      .format(store.path))
        self.refresh_lists()
        self._ensure_project_layers()
        return store

    def choose_gpkg(self) -> None:
        path, _f = QFileDialog.getSaveFileName(
            self, tr("GeoPackage for piers and observations"), self.default_gpkg_path() or "",
            tr("GeoPackage (*.gpkg)"), options=QFileDialog.DontConfirmOverwrite)
        if path:
            if not path.lower().endswith(".gpkg"):
                path += ".gpkg"
            if self.set_store(path, create=True, remember=True):
                self.say(tr("Piers and observations now go to {}").format(path))

    def _project_read(self, *_args) -> None:
        self.store = None
        self.gpkg_edit.setText(self.default_gpkg_path() or "")
        # open the GeoPackage when it is there; the default one is created at the first edit
        store = self.current_store(quiet=True, create=False)
        if store is None:
            saved, _ok = self.project.readEntry(SCOPE, KEY_GPKG, "")
            if saved:  # the project names a GeoPackage that is not there
                self.current_store(quiet=False)
        self.refresh_lists()

    def _project_cleared(self) -> None:
        self.store = None
        self.gpkg_edit.setText("")
        self.refresh_lists()

    def _store_layers(self) -> List[QgsVectorLayer]:
        if self.store is None:
            return []
        prefix = self.store.path
        return [lyr for lyr in self.project.mapLayers().values()
                if isinstance(lyr, QgsVectorLayer) and lyr.source().startswith(prefix)]

    def _ensure_project_layers(self) -> None:
        """The piers (lines, polygons) and observations of the GeoPackage as project layers."""
        if self.store is None or self._store_layers():
            return
        root = self.project.layerTreeRoot()
        group = root.findGroup(tr("Quayside")) or root.insertGroup(0, tr("Quayside"))
        for uri, name in ((self.store.layer_uri(OBSERVATIONS), tr("Observations")),
                          (self.store.layer_uri(PIERS) + "|geometrytype=LineString", tr("Piers (lines)")),
                          (self.store.layer_uri(PIERS) + "|geometrytype=Polygon", tr("Piers (polygons)"))):
            layer = QgsVectorLayer(uri, name, "ogr")
            if layer.isValid():
                self.project.addMapLayer(layer, False)
                group.addLayer(layer)

    def _store_changed(self) -> None:
        for lyr in self._store_layers():
            lyr.dataProvider().reloadData()
            lyr.triggerRepaint()
        self.refresh_lists()

    def _guard(self, func, *args):
        """Run a store operation; a StoreError becomes a message, the result None."""
        try:
            return func(*args)
        except StoreError as exc:
            self.warn(str(exc))
            return None

    # ------------------------------------------------------------------ piers
    def _piers_tab(self) -> QWidget:
        tab = QWidget(self.tabs)
        v = QVBoxLayout(tab)
        row = QHBoxLayout()
        lab = QLabel(tr("&GeoPackage"), tab)
        self.gpkg_edit = QLineEdit(tab)
        self.gpkg_edit.setReadOnly(True)
        self.gpkg_edit.setToolTip(tr("Where piers and observations are kept (quayside.gpkg beside the project "
                                     "unless you choose another)"))
        lab.setBuddy(self.gpkg_edit)
        self.gpkg_button = _button(tab, tr("C&hoose…"), tr("Pick or create another GeoPackage for this project"),
                                   self.choose_gpkg)
        row.addWidget(lab)
        row.addWidget(self.gpkg_edit, 1)
        row.addWidget(self.gpkg_button)
        v.addLayout(row)
        self.pier_table = QTableWidget(0, 3, tab)
        self.pier_table.setHorizontalHeaderLabels([tr("Name"), tr("Kind"), tr("Operator")])
        self.pier_table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.pier_table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.pier_table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.pier_table.setToolTip(tr("The piers of the GeoPackage; Enter or double-click edits, Del deletes"))
        self.pier_table.doubleClicked.connect(lambda *_: self.edit_pier())
        QShortcut(QKeySequence.Delete, self.pier_table, self.delete_pier, context=Qt.WidgetShortcut)
        QShortcut(QKeySequence(Qt.Key_Return), self.pier_table, self.edit_pier, context=Qt.WidgetShortcut)
        v.addWidget(self.pier_table)
        row = QHBoxLayout()
        self.draw_line_button = _button(tab, tr("Draw &line"), tr("Draw a pier as a line (its berth face): click "
                                                                   "points, right-click or Enter to finish"),
                                        lambda: self.draw_pier(False))
        self.draw_polygon_button = _button(tab, tr("Draw pol&ygon"), tr("Draw a pier's outline: click points, "
                                                                         "right-click or Enter to finish"),
                                           lambda: self.draw_pier(True))
        row.addWidget(self.draw_line_button)
        row.addWidget(self.draw_polygon_button)
        v.addLayout(row)
        row = QHBoxLayout()
        self.edit_pier_button = _button(tab, tr("&Edit…"), tr("Edit the selected pier's name, kind, operator, notes"),
                                        self.edit_pier)
        self.delete_pier_button = _button(tab, tr("De&lete"), tr("Delete the selected pier from the GeoPackage"),
                                          self.delete_pier)
        self.zoom_pier_button = _button(tab, tr("&Zoom to"), tr("Zoom the map to the selected pier"),
                                        self.zoom_to_pier)
        for b in (self.edit_pier_button, self.delete_pier_button, self.zoom_pier_button):
            row.addWidget(b)
        v.addLayout(row)
        self.export_button = _button(tab, tr("E&xport…"), tr("Export piers and observations to GeoPackage, GeoJSON, "
                                                              "CSV or KML"), self.export)
        v.addWidget(self.export_button)
        return tab

    def draw_pier(self, polygon: bool) -> Optional[PierMapTool]:
        canvas = self.canvas()
        if canvas is None or self.current_store() is None:
            return None
        self.pier_tool = PierMapTool(canvas, polygon=polygon)
        self.pier_tool.pierDrawn.connect(self._pier_drawn)
        self.pier_tool.message.connect(self.warn)
        canvas.setMapTool(self.pier_tool)
        canvas.setFocus()
        self.say(tr("Click the pier's points on the map; right-click or Enter finishes, Backspace undoes a point, "
                    "Esc abandons."))
        return self.pier_tool

    def to_wgs84_wkt(self, geom: QgsGeometry, crs) -> str:
        g = QgsGeometry(geom)
        if crs.isValid() and crs != WGS84:
            g.transform(QgsCoordinateTransform(crs, WGS84, self.project))
        return g.asWkt(9)

    def _pier_drawn(self, geom: QgsGeometry) -> None:
        crs = self.canvas().mapSettings().destinationCrs()
        pier = Pier(name="", wkt=self.to_wgs84_wkt(geom, crs))
        self.open_pier_form(pier)

    def open_pier_form(self, pier: Pier) -> PierForm:
        self.pier_form = PierForm(self, pier)
        self.pier_form.accepted.connect(lambda f=self.pier_form: self._save_pier(f.value()))
        self.pier_form.open()
        self.pier_form.name.setFocus()
        return self.pier_form

    def _save_pier(self, pier: Pier) -> Optional[int]:
        store = self.current_store()
        if store is None:
            return None
        try:
            if pier.fid is None:
                fid = store.add_pier(pier)
                self.say(tr("Pier {} saved.").format(pier.name), Qgis.Success)
            else:
                store.update_pier(pier)
                fid = pier.fid
        except StoreError as exc:
            self.warn(str(exc))
            fid = None
        self._store_changed()
        return fid

    def selected_fid(self, table: QTableWidget) -> Optional[int]:
        rows = table.selectionModel().selectedRows() if table.selectionModel() else []
        row = rows[0].row() if rows else table.currentRow()
        if row < 0 or row >= table.rowCount():
            return None
        return table.item(row, 0).data(Qt.UserRole)

    def edit_pier(self) -> Optional[PierForm]:
        fid = self.selected_fid(self.pier_table)
        store = self.current_store()
        if fid is None or store is None:
            self.say(tr("Select a pier in the list first."))
            return None
        pier = self._guard(store.pier, fid)
        if pier is None:
            return None
        return self.open_pier_form(pier)

    def delete_pier(self) -> None:
        fid = self.selected_fid(self.pier_table)
        store = self.current_store()
        if fid is None or store is None:
            self.say(tr("Select a pier in the list first."))
            return
        self._guard(store.delete_pier, fid)
        self._store_changed()

    def zoom_to_pier(self) -> None:
        fid = self.selected_fid(self.pier_table)
        store = self.current_store()
        canvas = self.canvas()
        if fid is None or store is None or canvas is None:
            self.say(tr("Select a pier in the list first."))
            return
        pier = self._guard(store.pier, fid)
        if pier is None or not pier.wkt:
            return
        g = QgsGeometry.fromWkt(pier.wkt)
        crs = canvas.mapSettings().destinationCrs()
        if crs.isValid() and crs != WGS84:
            g.transform(QgsCoordinateTransform(WGS84, crs, self.project))
        box = g.boundingBox()
        box.grow(max(box.width(), box.height(), 1e-9) * 0.5)
        canvas.setExtent(box)
        canvas.refresh()

    # ------------------------------------------------------------------ observations
    def _observations_tab(self) -> QWidget:
        tab = QWidget(self.tabs)
        v = QVBoxLayout(tab)
        self.obs_table = QTableWidget(0, 6, tab)
        self.obs_table.setHorizontalHeaderLabels([tr("Observed"), tr("Kind"), tr("Pier"), tr("Value"), tr("Source"),
                                                  tr("Notes")])
        self.obs_table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.obs_table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.obs_table.horizontalHeader().setStretchLastSection(True)
        self.obs_table.setToolTip(tr("The observations log; Enter or double-click edits, Del deletes"))
        self.obs_table.doubleClicked.connect(lambda *_: self.edit_observation())
        QShortcut(QKeySequence.Delete, self.obs_table, self.delete_observation, context=Qt.WidgetShortcut)
        QShortcut(QKeySequence(Qt.Key_Return), self.obs_table, self.edit_observation, context=Qt.WidgetShortcut)
        v.addWidget(self.obs_table)
        row = QHBoxLayout()
        self.add_obs_button = _button(tab, tr("&New…"), tr("Log an observation by hand"), self.add_observation)
        self.from_selection_button = _button(
            tab, tr("From &selection"), tr("Log the selected features of the active detection layer (ships, "
                                           "changes, containers), fields filled from the detection"),
            self.add_from_selection)
        row.addWidget(self.add_obs_button)
        row.addWidget(self.from_selection_button)
        v.addLayout(row)
        row = QHBoxLayout()
        self.edit_obs_button = _button(tab, tr("&Edit…"), tr("Edit the selected observation"), self.edit_observation)
        self.delete_obs_button = _button(tab, tr("De&lete"), tr("Delete the selected observation"),
                                         self.delete_observation)
        self.export_button2 = _button(tab, tr("E&xport…"), tr("Export piers and observations to GeoPackage, "
                                                               "GeoJSON, CSV or KML"), self.export)
        for b in (self.edit_obs_button, self.delete_obs_button, self.export_button2):
            row.addWidget(b)
        v.addLayout(row)
        return tab

    def _image_names(self) -> List[str]:
        return [lyr.name() for lyr in self.project.mapLayers().values() if isinstance(lyr, QgsRasterLayer)]

    def _pier_names(self) -> List[str]:
        store = self.store
        if store is None:
            return []
        try:
            return [p.name for p in store.piers()]
        except StoreError:
            return []

    def open_observation_form(self, obs: Observation) -> ObservationForm:
        self.obs_form = ObservationForm(self, obs, piers=self._pier_names(), images=self._image_names())
        self.obs_form.accepted.connect(lambda f=self.obs_form: self._save_observation(f.value()))
        self.obs_form.open()
        return self.obs_form

    def add_observation(self) -> Optional[ObservationForm]:
        if self.current_store() is None:
            return None
        after = self.after_combo.currentLayer()
        obs = Observation(analyst=_user(), source="manual")
        if after is not None:
            obs.image = after.name()
            d = acquisition_date_of(after.source(), name=after.name())
            obs.observed_at = d.isoformat() if d else ""
        canvas = self.canvas()
        if canvas is not None:
            centre = QgsGeometry.fromPointXY(canvas.extent().center())
            obs.wkt = self.to_wgs84_wkt(centre, canvas.mapSettings().destinationCrs())
        return self.open_observation_form(obs)

    def _save_observation(self, obs: Observation) -> Optional[int]:
        store = self.current_store()
        if store is None:
            return None
        if obs.fid is None:
            fid = self._guard(store.add_observation, obs)
        else:
            self._guard(store.update_observation, obs)
            fid = obs.fid
        self._store_changed()
        return fid

    def edit_observation(self) -> Optional[ObservationForm]:
        fid = self.selected_fid(self.obs_table)
        store = self.current_store()
        if fid is None or store is None:
            self.say(tr("Select an observation in the list first."))
            return None
        found = [o for o in (self._guard(store.observations) or []) if o.fid == fid]
        if not found:
            return None
        return self.open_observation_form(found[0])

    def delete_observation(self) -> None:
        fid = self.selected_fid(self.obs_table)
        store = self.current_store()
        if fid is None or store is None:
            self.say(tr("Select an observation in the list first."))
            return
        self._guard(store.delete_observation, fid)
        self._store_changed()

    def add_from_selection(self, layer=None) -> List[int]:
        """Log the selected features of a detection layer; returns the new fids."""
        if layer is None and self.iface is not None:
            layer = self.iface.activeLayer()
        if not isinstance(layer, QgsVectorLayer) or layer.selectedFeatureCount() == 0:
            self.warn(tr("Select features in a detection layer (ships, changes or containers) and make it the "
                         "active layer first."))
            return []
        store = self.current_store()
        if store is None:
            return []
        observations = observations_from_features(layer, layer.selectedFeatures(), self.project)
        fids = self._guard(store.add_observations, observations) or []
        if fids:
            self.say(tr("Logged {} observation(s) from {}.").format(len(fids), layer.name()), Qgis.Success)
        self._store_changed()
        return fids

    # ------------------------------------------------------------------ lists, export
    def refresh_lists(self) -> None:
        piers, observations = [], []
        if self.store is not None:
            try:
                piers = self.store.piers()
                observations = self.store.observations()
            except StoreError as exc:
                self.warn(str(exc))
        self.pier_table.setRowCount(len(piers))
        for i, p in enumerate(piers):
            for j, text in enumerate((p.name, p.kind, p.operator)):
                item = QTableWidgetItem(text or "")
                item.setData(Qt.UserRole, p.fid)
                item.setToolTip(p.notes or "")
                self.pier_table.setItem(i, j, item)
        self.obs_table.setRowCount(len(observations))
        for i, o in enumerate(observations):
            value = _obs_value(o)
            for j, text in enumerate((o.observed_at, o.kind, o.pier, value, o.source, o.notes)):
                item = QTableWidgetItem(text or "")
                item.setData(Qt.UserRole, o.fid)
                self.obs_table.setItem(i, j, item)

    def export(self, path: Optional[str] = None) -> List[str]:
        store = self.current_store()
        if store is None:
            return []
        if not path:
            path, _f = QFileDialog.getSaveFileName(
                self, tr("Export piers and observations"), os.path.splitext(store.path)[0] + "_export.gpkg",
                tr("GeoPackage (*.gpkg);;GeoJSON (*.geojson);;CSV (*.csv);;KML (*.kml)"))
            if not path:
                return []
        try:
            written = export_store(store, path, format_for_path(path))
        except StoreError as exc:
            self.warn(str(exc))
            return []
        self.say(tr("Exported to {}").format(", ".join(written)), Qgis.Success)
        return written

    def close_tools(self) -> None:
        """Leave the map tools (restoring the layers) and disconnect before the dock goes away."""
        canvas = self.canvas()
        for tool in (self.swipe_tool, self.pier_tool):
            if tool is not None and canvas is not None and canvas.mapTool() is tool:
                canvas.unsetMapTool(tool)
        if self.run is not None:
            self.run.cancel()
        for signal, slot in ((self.project.layersAdded, self._pick_defaults),
                             (self.project.readProject, self._project_read),
                             (self.project.cleared, self._project_cleared)):
            try:
                signal.disconnect(slot)
            except TypeError:
                pass


def _obs_value(o: Observation) -> str:
    parts = []
    if o.length_m is not None:
        parts.append(f"{o.length_m:.0f} m")
    if o.count is not None:
        parts.append(f"{o.count} ×")
    if o.teu is not None:
        parts.append(f"{o.teu} TEU")
    if o.area_m2 is not None:
        parts.append(f"{o.area_m2:.0f} m²")
    return ", ".join(parts)


def observations_from_features(layer, features, project=None) -> List[Observation]:
    """Observations filled from detection features (ships: length_m, pier, acquired, image;
    changes: area_m2, type; containers: teu, yard, count)."""
    project = project or QgsProject.instance()
    names = set(layer.fields().names())
    ct = None
    if layer.crs().isValid() and layer.crs() != WGS84:
        ct = QgsCoordinateTransform(layer.crs(), WGS84, project)

    def get(f, name):
        if name not in names:
            return None
        v = f[name]
        if v is None or (hasattr(v, "isNull") and v.isNull()):
            return None
        return v

    out = []
    for f in features:
        if "teu" in names or "yard" in names:
            kind = "containers"
        elif "length_m" in names:
            kind = "ship"
        elif "area_m2" in names or "type" in names:
            kind = "construction"
        else:
            kind = "other"
        acquired = get(f, "acquired")
        if acquired is not None and hasattr(acquired, "toString"):
            acquired = acquired.toString("yyyy-MM-dd")
        notes = []
        for name in ("type", "yard", "state"):
            v = get(f, name)
            if v is not None:
                notes.append(f"{name}: {v}")
        wkt = None
        if f.hasGeometry():
            g = QgsGeometry(f.geometry())
            g = g.pointOnSurface() if g.type() == QgsWkbTypes.PolygonGeometry else g.centroid()
            if ct is not None:
                g.transform(ct)
            wkt = g.asWkt(9)
        length = get(f, "length_m")
        area = get(f, "area_m2")
        teu = get(f, "teu")
        count = get(f, "count")
        out.append(Observation(
            kind=kind, observed_at=str(acquired or ""), image=str(get(f, "image") or ""),
            pier=str(get(f, "pier") or get(f, "yard") or ""),
            length_m=float(length) if length is not None else None,
            area_m2=float(area) if area is not None else None,
            teu=int(teu) if teu is not None else None,
            count=int(count) if count is not None else (1 if kind == "ship" else None),
            notes="; ".join(notes), analyst=_user(), source=f"{layer.name()} #{f.id()}", wkt=wkt))
    return out
