"""The pier form and the observation form (plain Qt dialogs, keyboard first)."""

from __future__ import annotations

import getpass
from typing import Iterable, Optional

from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QDoubleValidator, QIntValidator
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
)

from .store import OBSERVATION_KINDS, PIER_KINDS, Observation, Pier


def tr(text: str) -> str:
    return QCoreApplication.translate("QuaysideForms", text)


PIER_KIND_LABELS = {
    "container": "Container", "coal": "Coal", "oil": "Oil", "bulk": "Bulk", "general": "General cargo",
    "naval": "Naval", "other": "Other",
}
OBSERVATION_KIND_LABELS = {"ship": "Ship", "containers": "Containers", "construction": "Construction",
                           "other": "Other"}


class _Form(QDialog):
    def __init__(self, title: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.layout_ = QVBoxLayout(self)
        self.form = QFormLayout()
        self.layout_.addLayout(self.form)
        self.error = QLabel(self)
        self.error.setStyleSheet("color: #b00020")
        self.error.setWordWrap(True)
        self.error.hide()
        self.layout_.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.Ok).setToolTip(tr("Save to the GeoPackage (Enter)"))
        self.buttons.button(QDialogButtonBox.Cancel).setToolTip(tr("Close without saving (Esc)"))
        self.layout_.addWidget(self.buttons)

    def row(self, label: str, widget, tip: str):
        widget.setToolTip(tip)
        lab = QLabel(label, self)
        lab.setBuddy(widget)
        self.form.addRow(lab, widget)
        return widget

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()


class PierForm(_Form):
    """Name, kind, operator or lessee, notes."""

    def __init__(self, parent=None, pier: Optional[Pier] = None):
        super().__init__(tr("Pier") if pier is None or pier.fid is None else tr("Edit pier"), parent)
        self.pier = pier or Pier(name="")
        self.name = self.row(tr("&Name"), QLineEdit(self), tr("The pier's name, as detectships will report it"))
        self.kind = self.row(tr("&Kind"), QComboBox(self), tr("What the pier handles"))
        for key in PIER_KINDS:
            self.kind.addItem(tr(PIER_KIND_LABELS[key]), key)
        self.operator = self.row(tr("&Operator / lessee"), QLineEdit(self),
                                 tr("Who operates or leases the pier (optional)"))
        self.notes = self.row(tr("N&otes"), QPlainTextEdit(self), tr("Anything worth keeping about this pier"))
        self.notes.setTabChangesFocus(True)
        self.notes.setMaximumHeight(90)
        self.set_pier(self.pier)

    def set_pier(self, pier: Pier) -> None:
        self.name.setText(pier.name or "")
        idx = self.kind.findData(pier.kind or "other")
        self.kind.setCurrentIndex(max(0, idx))
        self.operator.setText(pier.operator or "")
        self.notes.setPlainText(pier.notes or "")

    def value(self) -> Pier:
        return Pier(name=self.name.text().strip(), kind=self.kind.currentData(), operator=self.operator.text().strip(),
                    notes=self.notes.toPlainText().strip(), wkt=self.pier.wkt, fid=self.pier.fid,
                    created_at=self.pier.created_at)

    def accept(self):
        if not self.name.text().strip():
            self.show_error(tr("Give the pier a name."))
            self.name.setFocus()
            return
        super().accept()


def _num(text: str, cast):
    text = (text or "").strip().replace(",", ".")
    if not text:
        return None
    return cast(float(text)) if cast is int else cast(text)


class ObservationForm(_Form):
    """One line of the observations log."""

    def __init__(self, parent=None, obs: Optional[Observation] = None, piers: Iterable[str] = (),
                 images: Iterable[str] = ()):
        super().__init__(tr("Observation") if obs is None or obs.fid is None else tr("Edit observation"), parent)
        self.obs = obs or Observation(analyst=_user())
        self.observed_at = self.row(tr("Observed &at"), QLineEdit(self),
                                    tr("Date (and time) of the image the observation was made on, YYYY-MM-DD"))
        self.observed_at.setPlaceholderText("YYYY-MM-DD")
        self.image = self.row(tr("&Image"), QComboBox(self), tr("The image (layer name or file) it was seen on"))
        self.image.setEditable(True)
        self.image.addItems([""] + list(images))
        self.kind = self.row(tr("&Kind"), QComboBox(self), tr("What was observed"))
        for key in OBSERVATION_KINDS:
            self.kind.addItem(tr(OBSERVATION_KIND_LABELS[key]), key)
        self.pier = self.row(tr("&Pier"), QComboBox(self), tr("The pier it concerns (optional)"))
        self.pier.setEditable(True)
        self.pier.addItems([""] + list(piers))
        self.length_m = self.row(tr("&Length (m)"), QLineEdit(self), tr("Ship length in metres (optional)"))
        self.length_m.setValidator(QDoubleValidator(0.0, 1e6, 2, self))
        self.count = self.row(tr("&Count"), QLineEdit(self), tr("How many (ships, boxes, buildings; optional)"))
        self.count.setValidator(QIntValidator(0, 10 ** 9, self))
        self.teu = self.row(tr("&TEU"), QLineEdit(self), tr("Twenty-foot equivalent units of containers (optional)"))
        self.teu.setValidator(QIntValidator(0, 10 ** 9, self))
        self.area_m2 = self.row(tr("A&rea (m²)"), QLineEdit(self), tr("Area in square metres (optional)"))
        self.area_m2.setValidator(QDoubleValidator(0.0, 1e12, 1, self))
        self.notes = self.row(tr("N&otes"), QPlainTextEdit(self), tr("What you saw and why it matters"))
        self.notes.setTabChangesFocus(True)
        self.notes.setMaximumHeight(90)
        self.analyst = self.row(tr("Anal&yst"), QLineEdit(self), tr("Who made the observation"))
        self.source = self.row(tr("&Source"), QLineEdit(self),
                               tr("manual, or the detection layer the observation came from"))
        self.set_observation(self.obs)

    def set_observation(self, obs: Observation) -> None:
        self.observed_at.setText(obs.observed_at or "")
        self.image.setEditText(obs.image or "")
        self.kind.setCurrentIndex(max(0, self.kind.findData(obs.kind or "other")))
        self.pier.setEditText(obs.pier or "")
        for name in ("length_m", "count", "teu", "area_m2"):
            v = getattr(obs, name)
            getattr(self, name).setText("" if v is None else (f"{v:g}" if isinstance(v, float) else str(v)))
        self.notes.setPlainText(obs.notes or "")
        self.analyst.setText(obs.analyst or "")
        self.source.setText(obs.source or "manual")

    def value(self) -> Observation:
        return Observation(
            kind=self.kind.currentData(), observed_at=self.observed_at.text().strip(),
            image=self.image.currentText().strip(), pier=self.pier.currentText().strip(),
            length_m=_num(self.length_m.text(), float), count=_num(self.count.text(), int),
            teu=_num(self.teu.text(), int), area_m2=_num(self.area_m2.text(), float),
            notes=self.notes.toPlainText().strip(), analyst=self.analyst.text().strip(),
            source=self.source.text().strip() or "manual", wkt=self.obs.wkt, fid=self.obs.fid,
            created_at=self.obs.created_at)

    def accept(self):
        try:
            self.value()
        except ValueError:
            self.show_error(tr("Numbers only in length, count, TEU and area."))
            return
        super().accept()


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 (no user name is not an error)
        return ""
