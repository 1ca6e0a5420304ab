"""quayside:detectchanges — construction change between two dates, as measured footprints."""

from __future__ import annotations

import os

from qgis.core import (
    QgsFeature,
    QgsFeatureSink,
    QgsGeometry,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QVariant

from ..core.dates import acquisition_date_of
from .alg_coregister import check_pair
from .base import QuaysideAlgorithm, StyleOnLoad, make_fields, qdate, raster_path

CHANGE_FIELDS = (("area_m2", QVariant.Double), ("perimeter_m", QVariant.Double), ("type", QVariant.String),
                 ("score", QVariant.Double), ("change_mean", QVariant.Double), ("before_mean", QVariant.Double),
                 ("after_mean", QVariant.Double), ("before_date", QVariant.Date), ("after_date", QVariant.Date),
                 ("units", QVariant.String))


class DetectChangesAlgorithm(QuaysideAlgorithm):
    BEFORE = "BEFORE"
    AFTER = "AFTER"
    AOI = "AOI"
    MIN_AREA = "MIN_AREA"
    SENSITIVITY = "SENSITIVITY"
    OUTPUT = "OUTPUT"
    CHANGE_RASTER = "CHANGE_RASTER"
    COUNT = "COUNT"
    TOTAL_NEW_M2 = "TOTAL_NEW_M2"
    SHIFT_X_PX = "SHIFT_X_PX"
    SHIFT_Y_PX = "SHIFT_Y_PX"

    ALG_ID = "detectchanges"
    DISPLAY_NAME = "Detect construction changes"
    GROUP = ("change", "Change")

    def shortHelpString(self) -> str:  # noqa: N802
        return self.tr(
            "<p>Turns a before/after pair of images into the footprints of what was built, demolished, filled "
            "or flooded between the two dates, each measured in m² and typed — without the noise of a "
            "different sun, season, sensor or a slightly shifted image.</p>"
            "<p><b>Before / After</b>: optical images; they may differ in CRS, pixel size, extent, band count "
            "and bit depth. AFTER is brought onto BEFORE's grid over the overlap and the residual shift is "
            "removed (as in <i>Co-register a pair of images</i>; the shift is in the log and the results).<br>"
            "<b>Area of interest</b> (optional).<br>"
            "<b>Minimum area</b> (m², default 200: a small building).<br>"
            "<b>Sensitivity</b> (0–1, default 0.5): higher finds subtler changes and more false ones.</p>"
            "<p><b>Output</b>: footprints with area_m2 and perimeter_m (on the ellipsoid), type "
            "(new_structure, removed_structure, water_to_land, land_to_water, other_surface), score (0–1), "
            "change_mean, before_mean, after_mean, and the two dates when known. <b>Change raster</b>: the "
            "change magnitude (1 = the automatic threshold). Results: COUNT, TOTAL_NEW_M2 (area of new "
            "structures), SHIFT_X_PX, SHIFT_Y_PX.</p>"
            "<p>Vessels are traffic, not construction: a footprint near water that a ship found at either date "
            "covers (as by <i>Detect ships</i>) is left out, and the log says how many.</p>"
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterRasterLayer(self.BEFORE, self.tr("Before image")))
        self.addParameter(QgsProcessingParameterRasterLayer(self.AFTER, self.tr("After image")))
        self.add_aoi_parameter(self.AOI)
        self.addParameter(QgsProcessingParameterNumber(
            self.MIN_AREA, self.tr("Minimum footprint area (m²)"), QgsProcessingParameterNumber.Double, 200.0,
            minValue=0.0))
        self.add_sensitivity_parameter(self.SENSITIVITY)
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.OUTPUT, self.tr("Changes"), QgsProcessing.TypeVectorPolygon))
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.CHANGE_RASTER, self.tr("Change magnitude"), optional=True, createByDefault=True))
        self.addOutput(QgsProcessingOutputNumber(self.COUNT, self.tr("Number of changed footprints")))
        self.addOutput(QgsProcessingOutputNumber(self.TOTAL_NEW_M2, self.tr("Area of new structures (m²)")))
        self.addOutput(QgsProcessingOutputNumber(self.SHIFT_X_PX, self.tr("Shift east (px)")))
        self.addOutput(QgsProcessingOutputNumber(self.SHIFT_Y_PX, self.tr("Shift south (px)")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        from ..core.change import detect_changes

        before = self.parameterAsRasterLayer(parameters, self.BEFORE, context)
        after = self.parameterAsRasterLayer(parameters, self.AFTER, context)
        check_pair(before, after, self.tr)
        crs = before.crs()
        aoi = self.aoi_geometries(parameters, context, crs, feedback)
        raster_out = None
        if parameters.get(self.CHANGE_RASTER) is not None:
            raster_out = self.parameterAsOutputLayer(parameters, self.CHANGE_RASTER, context) or None
        if raster_out and not raster_out.lower().endswith((".tif", ".tiff")):
            raise QgsProcessingException(self.tr("Save the change raster as a GeoTIFF (.tif)."))
        b_path, a_path = raster_path(before, "BEFORE"), raster_path(after, "AFTER")
        result = self.run_core(
            detect_changes, b_path, a_path, aoi=aoi or None,
            min_area_m2=self.parameterAsDouble(parameters, self.MIN_AREA, context),
            sensitivity=self.parameterAsDouble(parameters, self.SENSITIVITY, context),
            change_raster_path=raster_out, progress=self.progress_cb(feedback, 0, 95),
            cancel=self.cancel_cb(feedback))
        if result is None:
            return {}
        for note in result.notes:
            feedback.pushInfo(note)

        fields = make_fields(CHANGE_FIELDS)
        sink, dest_id = self.parameterAsSink(parameters, self.OUTPUT, context, fields, QgsWkbTypes.MultiPolygon,
                                             crs)
        if sink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, self.OUTPUT))
        d0 = qdate(acquisition_date_of(b_path, name=before.name()))
        d1 = qdate(acquisition_date_of(a_path, name=after.name()))
        for c in result.changes:
            g = QgsGeometry.fromWkt(c.polygon.wkt)
            g.convertToMultiType()
            f = QgsFeature(fields)
            f.setGeometry(g)
            f.setAttributes([round(float(c.area_m2), 1), round(float(c.perimeter_m), 1), c.type,
                             round(float(c.score), 3), round(float(c.change_mean), 3),
                             round(float(c.before_mean), 3), round(float(c.after_mean), 3), d0, d1, result.units])
            sink.addFeature(f, QgsFeatureSink.FastInsert)
        by_type = {}
        for c in result.changes:
            by_type[c.type] = by_type.get(c.type, 0) + 1
        feedback.pushInfo(self.tr("{} changed footprint(s): {}; new structures {:.0f} m².").format(
            len(result.changes), ", ".join(f"{k} {v}" for k, v in sorted(by_type.items())) or "none",
            result.total_new_m2))
        StyleOnLoad.attach(context, dest_id, "changes.qml")
        out = {self.OUTPUT: dest_id, self.COUNT: len(result.changes),
               self.TOTAL_NEW_M2: float(result.total_new_m2),
               self.SHIFT_X_PX: float(result.shift.dx_px), self.SHIFT_Y_PX: float(result.shift.dy_px)}
        if raster_out and os.path.exists(raster_out):
            StyleOnLoad.attach(context, raster_out, "change_raster.qml")
            out[self.CHANGE_RASTER] = raster_out
        return out
