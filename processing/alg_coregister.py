"""quayside:coregister — AFTER brought onto BEFORE's grid, residual shift removed."""

from __future__ import annotations

from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from .base import QuaysideAlgorithm, raster_path


def check_pair(before, after, tr) -> None:
    """Errors a Processing user can act on, before any pixel is read."""
    if before is None or after is None:
        raise QgsProcessingException(tr("Choose both a BEFORE and an AFTER image."))
    b_ok, a_ok = before.crs().isValid(), after.crs().isValid()
    if not (b_ok and a_ok):
        which = " and ".join(n for n, ok in (("BEFORE", b_ok), ("AFTER", a_ok)) if not ok)
        raise QgsProcessingException(tr(
            "{} has no CRS: the two dates cannot be put on one grid. Georeference it (Raster > Georeferencer) "
            "or set its CRS in Layer Properties > Source.").format(which))


class CoregisterAlgorithm(QuaysideAlgorithm):
    BEFORE = "BEFORE"
    AFTER = "AFTER"
    OUTPUT = "OUTPUT"
    SHIFT_X_PX = "SHIFT_X_PX"
    SHIFT_Y_PX = "SHIFT_Y_PX"
    SHIFT_X_M = "SHIFT_X_M"
    SHIFT_Y_M = "SHIFT_Y_M"

    ALG_ID = "coregister"
    DISPLAY_NAME = "Co-register a pair of images"
    GROUP = ("change", "Change")

    def shortHelpString(self) -> str:  # noqa: N802
        return self.tr(
            "<p>Brings the AFTER image onto the BEFORE image's grid so that the two can be compared pixel by "
            "pixel.</p><p>AFTER is first warped to BEFORE's CRS, pixel size and extent over their overlap (they "
            "may differ in all three). The residual misregistration is then measured by phase correlation of "
            "the images' edges on several tiles, to a fraction of a pixel, and removed.</p>"
            "<p><b>Output</b>: AFTER on BEFORE's grid. The shift that was found is in the log and in the "
            "results: SHIFT_X_PX / SHIFT_Y_PX, the move applied to AFTER to line it up with BEFORE, in pixels "
            "(positive = east / south: a feature at AFTER's pixel (col, row) lies at BEFORE's (col + x, row + y)), "
            "and SHIFT_X_M / SHIFT_Y_M in ground metres.</p>"
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterRasterLayer(self.BEFORE, self.tr("Before image (reference)")))
        self.addParameter(QgsProcessingParameterRasterLayer(self.AFTER, self.tr("After image (to align)")))
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("After, aligned")))
        for key, label in ((self.SHIFT_X_PX, "Shift east (px)"), (self.SHIFT_Y_PX, "Shift south (px)"),
                           (self.SHIFT_X_M, "Shift east (m)"), (self.SHIFT_Y_M, "Shift south (m)")):
            self.addOutput(QgsProcessingOutputNumber(key, self.tr(label)))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        from ..core.coregister import coregister

        before = self.parameterAsRasterLayer(parameters, self.BEFORE, context)
        after = self.parameterAsRasterLayer(parameters, self.AFTER, context)
        check_pair(before, after, self.tr)
        out = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        if not out.lower().endswith((".tif", ".tiff")):
            raise QgsProcessingException(self.tr("Save the aligned image as a GeoTIFF (.tif)."))
        result = self.run_core(coregister, raster_path(before, "BEFORE"), raster_path(after, "AFTER"), out,
                               progress=self.progress_cb(feedback), cancel=self.cancel_cb(feedback))
        if result is None:
            return {}
        for note in result.notes:
            feedback.pushInfo(note)
        s = result.shift
        return {self.OUTPUT: out, self.SHIFT_X_PX: float(s.dx_px), self.SHIFT_Y_PX: float(s.dy_px),
                self.SHIFT_X_M: float(s.dx_m), self.SHIFT_Y_M: float(s.dy_m)}
