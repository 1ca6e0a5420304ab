"""The ``quayside`` Processing provider."""

from __future__ import annotations

from qgis.core import QgsProcessingProvider

from ..icons import icon
from .alg_coregister import CoregisterAlgorithm
from .alg_detectchanges import DetectChangesAlgorithm
from .alg_detectcontainers import DetectContainersAlgorithm
from .alg_detectships import DetectShipsAlgorithm
from .alg_portreport import PortReportAlgorithm
from .alg_timeseries import ActivityTimeSeriesAlgorithm
from .alg_watermask import WaterMaskAlgorithm


class QuaysideProvider(QgsProcessingProvider):
    """Registers every Quayside algorithm under the id ``quayside``."""

    def id(self) -> str:
        return "quayside"

    def name(self) -> str:
        return "Quayside"

    def longName(self) -> str:  # noqa: N802
        return "Quayside: port monitoring from satellite imagery"

    def icon(self):
        return icon("quayside.svg")

    def loadAlgorithms(self):  # noqa: N802
        for alg in (WaterMaskAlgorithm(), DetectShipsAlgorithm(), DetectContainersAlgorithm(),
                    CoregisterAlgorithm(), DetectChangesAlgorithm(), ActivityTimeSeriesAlgorithm(),
                    PortReportAlgorithm()):
            self.addAlgorithm(alg)
