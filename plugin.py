"""The Quayside plugin object that QGIS creates through ``classFactory``.

``initProcessing`` is all that qgis_process calls; ``initGui`` adds the menu,
toolbar entry and dock for the desktop, and ``unload`` takes every one of them
away again.
"""

from __future__ import annotations

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QCoreApplication, Qt

from .icons import icon


class QuaysidePlugin:
    """Registers the ``quayside`` Processing provider and the analyst's dock."""

    MENU = "&Quayside"

    def __init__(self, iface=None):
        self.iface = iface
        self.provider = None
        self.actions = []
        self.dock = None
        self.toolbar = None

    @staticmethod
    def tr(text: str) -> str:
        return QCoreApplication.translate("Quayside", text)

    # -- Processing ------------------------------------------------------
    def initProcessing(self):  # noqa: N802 (QGIS's name)
        from .processing.provider import QuaysideProvider

        if self.provider is None:
            provider = QuaysideProvider()
            # the registry refuses (and deletes) a second provider with the same id
            if QgsApplication.processingRegistry().addProvider(provider):
                self.provider = provider
        # the shipped models (processing/models/*.model3) under Processing > Models
        try:
            from .processing.models import install_models

            self._models_added = install_models()
        except Exception as exc:  # never let a settings problem stop the provider
            from qgis.core import Qgis, QgsMessageLog

            QgsMessageLog.logMessage(self.tr("Quayside models not installed: {}").format(exc), "Quayside",
                                     Qgis.Warning)

    # -- Desktop ---------------------------------------------------------
    def initGui(self):  # noqa: N802 (QGIS's name)
        self.initProcessing()
        if self.iface is None:
            return
        from qgis.PyQt.QtWidgets import QAction

        from .ui.dock import QuaysideDock

        self.dock = QuaysideDock(self.iface, self.iface.mainWindow())
        self.dock.setObjectName("QuaysideDock")
        self.iface.addDockWidget(Qt.RightDockWidgetArea, self.dock)
        self.dock.hide()

        toggle = QAction(icon("quayside.svg"), self.tr("Quayside panel"), self.iface.mainWindow())
        toggle.setObjectName("QuaysideTogglePanel")
        toggle.setCheckable(True)
        toggle.setToolTip(self.tr("Show or hide the Quayside panel (compare dates, piers, observations)"))
        toggle.toggled.connect(self.dock.setVisible)
        self.dock.visibilityChanged.connect(toggle.setChecked)

        toolbox = QAction(icon("water.svg"), self.tr("Quayside algorithms…"), self.iface.mainWindow())
        toolbox.setObjectName("QuaysideOpenToolbox")
        toolbox.setToolTip(self.tr("Open the Processing toolbox filtered to Quayside's algorithms"))
        toolbox.triggered.connect(self._open_toolbox)

        self.toolbar = self.iface.addToolBar(self.tr("Quayside"))
        self.toolbar.setObjectName("QuaysideToolbar")
        for action in (toggle, toolbox):
            self.iface.addPluginToMenu(self.MENU, action)
            self.toolbar.addAction(action)
            self.actions.append(action)

    def _open_toolbox(self):
        """Show the Processing toolbox with Quayside's algorithms filtered in."""
        try:
            from qgis.utils import plugins

            toolbox = getattr(plugins.get("processing"), "toolbox", None)
        except ImportError:
            toolbox = None
        if toolbox is None:
            return
        toolbox.show()
        toolbox.raise_()
        toolbox.searchBox.setText("quayside")

    def unload(self):
        for action in self.actions:
            if self.iface is not None:
                self.iface.removePluginMenu(self.MENU, action)
            action.deleteLater()
        self.actions = []
        if self.toolbar is not None:
            self.toolbar.deleteLater()
            self.toolbar = None
        if self.dock is not None:
            if self.iface is not None:
                self.iface.removeDockWidget(self.dock)
            self.dock.close_tools()
            self.dock.deleteLater()
            self.dock = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        if getattr(self, "_models_added", False):
            from .processing.models import uninstall_models

            uninstall_models()
            self._models_added = False
