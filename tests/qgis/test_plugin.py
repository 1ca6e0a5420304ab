"""The plugin loads through qgis.utils like QGIS loads it, and unloads cleanly."""

import configparser
import os
import sys

from qgis.core import QgsApplication
from qgis.PyQt.QtWidgets import QApplication

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_metadata_is_complete():
    cp = configparser.RawConfigParser()
    cp.read(os.path.join(REPO, "metadata.txt"))
    g = cp["general"]
    assert g["name"] == "Quayside"
    assert g["qgisMinimumVersion"] == "3.22"
    assert g["hasProcessingProvider"] == "yes"
    assert len(g["about"]) > 200 and len(g["description"]) > 40
    assert "placeholder" in g["tracker"] and "placeholder" in g["homepage"]
    assert os.path.exists(os.path.join(REPO, g["icon"]))


def test_class_factory_without_iface(qgis_processing):
    import quayside

    plugin = quayside.classFactory(None)
    plugin.initGui()  # with no iface: only the provider
    assert QgsApplication.processingRegistry().providerById("quayside") is not None
    ids = {a.id() for a in QgsApplication.processingRegistry().providerById("quayside").algorithms()}
    assert ids == {"quayside:" + n for n in ("watermask", "detectships", "detectcontainers", "coregister",
                                             "detectchanges", "activitytimeseries", "portreport")}
    plugin.unload()
    assert QgsApplication.processingRegistry().providerById("quayside") is None


def test_load_and_unload_through_qgis_utils(qgis_processing, recording_iface, monkeypatch):
    import qgis.utils

    monkeypatch.setattr(qgis.utils, "iface", recording_iface)
    # as in a fresh QGIS: qgis.utils tracks the modules a plugin imports while it loads
    for name in [m for m in sys.modules if m == "quayside" or m.startswith("quayside.")]:
        monkeypatch.delitem(sys.modules, name)
    # QGIS scans its plugin folders first; ours is the private profile's
    monkeypatch.setattr(qgis.utils, "plugin_paths", [os.path.join(REPO, ".qgis", "profiles", "default", "python",
                                                                  "plugins")])
    qgis.utils.updateAvailablePlugins()
    assert "quayside" in qgis.utils.available_plugins
    assert qgis.utils.loadPlugin("quayside")
    assert qgis.utils.startPlugin("quayside")
    try:
        assert "quayside" in qgis.utils.active_plugins
        registry = QgsApplication.processingRegistry()
        assert registry.providerById("quayside") is not None
        # a menu with the panel toggle and the toolbox entry, one toolbar, one dock
        assert len(recording_iface.menus["&Quayside"]) == 2
        assert len(recording_iface.toolbars) == 1
        assert [d.objectName() for d in recording_iface.docks] == ["QuaysideDock"]
        toggle = recording_iface.menus["&Quayside"][0]
        toggle.trigger()
        assert recording_iface.docks[0].isVisibleTo(recording_iface.window)
    finally:
        assert qgis.utils.unloadPlugin("quayside")
    QApplication.processEvents()
    assert "quayside" not in qgis.utils.active_plugins
    assert recording_iface.menus == {}
    assert recording_iface.docks == []
    assert QgsApplication.processingRegistry().providerById("quayside") is None
