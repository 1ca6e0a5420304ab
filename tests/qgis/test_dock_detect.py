"""The dock's one-click detection for real: quayside:detectchanges, detectships and
detectcontainers on a synthetic before/after pair over the current view, as
background tasks, with the styled results added to the project."""

import os
import time

import pytest
from qgis.core import QgsProject, QgsRasterLayer, QgsVectorLayer
from qgis.gui import QgsMapCanvas
from qgis.PyQt.QtCore import QCoreApplication


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    from quayside.core import synth

    d = str(tmp_path_factory.mktemp("dockpair"))
    spec = synth.SceneSpec(width=640, height=640, gsd=1.0, seed=11)
    return synth.make_port_pair(d, spec, dates=("2016-05-14", "2016-09-20"))


def test_one_click_detection_adds_changes_ships_and_containers(qgis_app, quayside_provider, pair, tmp_path,
                                                              canvas_iface):
    from quayside.ui.dock import QuaysideDock

    project = QgsProject.instance()
    project.clear()
    project.setFileName(str(tmp_path / "port.qgz"))
    before = QgsRasterLayer(pair["before"], "port 2016-05-14")
    after = QgsRasterLayer(pair["after"], "port 2016-09-20")
    project.addMapLayers([before, after])
    canvas = QgsMapCanvas()
    canvas.resize(300, 300)
    canvas.setDestinationCrs(before.crs())
    canvas.setExtent(before.extent())
    dock = QuaysideDock(canvas_iface(canvas))
    try:
        assert dock.before_combo.currentLayer().id() == before.id()
        assert dock.after_combo.currentLayer().id() == after.id()
        dock.ships_check.setChecked(True)
        dock.containers_check.setChecked(True)
        finished = []
        run = dock.detect()
        assert run is not None and not dock.detect_button.isEnabled()
        run.done.connect(lambda layers, msgs: finished.append((layers, msgs)))
        deadline = time.time() + 600
        while not finished and time.time() < deadline:
            QCoreApplication.processEvents()
            time.sleep(0.05)
        assert finished, "the detections did not finish in 10 minutes"
        layers, messages = finished[0]
        assert not [m for m in messages if "fail" in m.lower() or "error" in m.lower()], messages
        assert dock.detect_button.isEnabled() and dock.progress.value() == 100
        vectors = [lyr for lyr in layers if isinstance(lyr, QgsVectorLayer)]
        rasters = [lyr for lyr in layers if isinstance(lyr, QgsRasterLayer)]
        assert len(rasters) == 1  # the change magnitude
        fields = {lyr.name(): {f.name() for f in lyr.fields()} for lyr in vectors}
        kinds = {"changes": {"area_m2", "type"}, "ships": {"length_m", "pier"}, "stacks": {"teu", "yard"}}
        for what, need in kinds.items():
            assert any(need <= names for names in fields.values()), (what, fields)
        # the results are in their group, styled, and hold features where the pair has them
        group = project.layerTreeRoot().findGroup("Quayside results")
        assert group is not None and {n.layerId() for n in group.findLayers()} >= {lyr.id() for lyr in layers}
        changes = next(lyr for lyr in vectors if {"area_m2", "type"} <= {f.name() for f in lyr.fields()})
        ships = next(lyr for lyr in vectors if "length_m" in {f.name() for f in lyr.fields()})
        assert changes.featureCount() >= 1 and ships.featureCount() >= 3
        assert changes.renderer().type() == "categorizedSymbol"
        assert os.path.exists(pair["after"])
    finally:
        dock.close_tools()
        project.clear()
        dock.deleteLater()
        canvas.deleteLater()
        QCoreApplication.processEvents()
