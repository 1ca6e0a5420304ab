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
