"""Quayside: a QGIS plugin for watching ports from space.

QGIS loads this package as ``quayside`` and calls :func:`classFactory`.
Importing the package stays cheap and free of Qt so that ``quayside.core``
can be used (and tested) without QGIS.
"""


def classFactory(iface):  # noqa: N802 (QGIS's name)
    """Return the plugin instance; ``iface`` may be None (qgis_process, tests)."""
    from .plugin import QuaysidePlugin

    return QuaysidePlugin(iface)
