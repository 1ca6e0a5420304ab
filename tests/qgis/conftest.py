"""Fixtures for tests that need QGIS (pytest-qgis starts the application)."""

import os
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def quayside_provider(qgis_processing):
    """The quayside provider registered as QGIS would (initProcessing)."""
    import quayside
    from qgis.core import QgsApplication

    plugin = quayside.classFactory(None)
    plugin.initProcessing()
    provider = QgsApplication.processingRegistry().providerById("quayside")
    assert provider is not None
    yield provider
    plugin.unload()


@pytest.fixture(scope="session")
def qgis_process():
    """Run the project's qgis_process wrapper; returns a function(args) -> CompletedProcess."""
    exe = os.path.join(REPO, "scripts", "qgis_process")
    env = dict(os.environ)
    env["QGIS_CUSTOM_CONFIG_PATH"] = os.path.join(REPO, ".qgis")
    env.pop("QT_QPA_PLATFORM", None)
    env["QT_QPA_PLATFORM"] = "offscreen"

    def run(*args, timeout=300):
        return subprocess.run([exe, *args], capture_output=True, text=True, env=env, timeout=timeout)

    return run


def _stub_iface_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("quayside_stub_iface",
                                                  os.path.join(os.path.dirname(__file__), "stub_iface.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture()
def recording_iface():
    """A stand-in iface that records menus, toolbars and docks (see stub_iface.py)."""
    return _stub_iface_module().RecordingIface()


@pytest.fixture(scope="session")
def canvas_iface():
    """The class of a stand-in iface around a map canvas: canvas_iface(canvas) (see stub_iface.py)."""
    return _stub_iface_module().CanvasIface


@pytest.fixture(scope="session")
def layer_4326():
    """Polygons of a synthetic port's truth GeoJSON (UTM 51N) as a memory layer in EPSG:4326
    (another CRS than the image): layer_4326(path, layer_name, name_field) -> (layer, feature
    collection); the field holds each feature's 'name'."""

    def make(path, layer_name, field):
        import json

        from qgis.core import (
            QgsCoordinateReferenceSystem,
            QgsCoordinateTransform,
            QgsFeature,
            QgsField,
            QgsGeometry,
            QgsProject,
            QgsVectorLayer,
        )
        from qgis.PyQt.QtCore import QVariant
        from shapely.geometry import shape

        with open(path) as fh:
            fc = json.load(fh)
        layer = QgsVectorLayer("Polygon?crs=EPSG:4326", layer_name, "memory")
        layer.dataProvider().addAttributes([QgsField(field, QVariant.String)])
        layer.updateFields()
        xf = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:32651"),
                                    QgsCoordinateReferenceSystem("EPSG:4326"), QgsProject.instance())
        feats = []
        for f in fc["features"]:
            g = QgsGeometry.fromWkt(shape(f["geometry"]).wkt)
            g.transform(xf)
            qf = QgsFeature(layer.fields())
            qf.setGeometry(g)
            qf.setAttributes([f["properties"]["name"]])
            feats.append(qf)
        layer.dataProvider().addFeatures(feats)
        return layer, fc

    return make
