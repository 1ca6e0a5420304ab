"""quayside:detectcontainers — container stacks, TEU and yard occupancy."""

from __future__ import annotations

import os

from qgis.core import (
    QgsFeature,
    QgsFeatureSink,
    QgsGeometry,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterRasterLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QVariant

from ..core.dates import acquisition_date_of
from .base import QuaysideAlgorithm, StyleOnLoad, features_in_crs, make_fields, qdate, raster_path

STACK_FIELDS = (("teu", QVariant.Double), ("boxes_20ft", QVariant.Int), ("boxes_40ft", QVariant.Int),
                ("colour", QVariant.String), ("area_m2", QVariant.Double), ("yard", QVariant.String),
                ("score", QVariant.Double), ("image", QVariant.String), ("acquired", QVariant.Date),
                ("units", QVariant.String))
SUMMARY_FIELDS = (("yard", QVariant.String), ("yard_area_m2", QVariant.Double),
                  ("occupied_area_m2", QVariant.Double), ("occupancy_pct", QVariant.Double),
                  ("teu", QVariant.Double), ("mode", QVariant.String), ("image", QVariant.String),
                  ("acquired", QVariant.Date))


class DetectContainersAlgorithm(QuaysideAlgorithm):
    INPUT = "INPUT"
    AOI = "AOI"
    YARDS = "YARDS"
    YARD_NAME_FIELD = "YARD_NAME_FIELD"
    STACK_TIERS = "STACK_TIERS"
    SENSITIVITY = "SENSITIVITY"
    OUTPUT = "OUTPUT"
    SUMMARY = "SUMMARY"
    YARD_OUTLINES = "YARD_OUTLINES"
    TOTAL_TEU = "TOTAL_TEU"
    MODE = "MODE"

    ALG_ID = "detectcontainers"
    DISPLAY_NAME = "Detect containers"
    GROUP = ("containers", "Containers")

    def shortHelpString(self) -> str:  # noqa: N802
        return self.tr(
            "<p>Measures container yards: where the stacks are, how many twenty-foot equivalent units (TEU) "
            "they hold and how full each yard is.</p>"
            "<p><b>Input image</b>: optical, any band count, 8/16-bit or float.<br>"
            "<b>Yards</b> (optional polygons, any CRS) and their <b>name field</b>: without them the yards are "
            "found automatically (dense, regular blocks of boxes on land), and the log says so.<br>"
            "<b>Stack tiers</b> (default 1): boxes per stack seen from above. From above one sees only the top "
            "box; an analyst who knows a yard stacks 3–4 high sets it, and TEU are multiplied by it.<br>"
            "<b>Sensitivity</b> (0–1, default 0.5): higher keeps fainter, less regular stacks.</p>"
            "<p><b>Modes.</b> At 1 m per pixel or finer each box is counted: rows are split into 20 ft (6.06 m) "
            "and 40 ft (12.19 m) units from their length (mode <i>boxes</i>). Coarser, TEU come from the covered "
            "area, one TEU footprint being about 6.06 × 2.44 m = 14.8 m² (mode <i>area</i>); there a stack is a "
            "block of boxes, and pieces of one material (heaps, roofs, soil, woods) or colourless ones (yard "
            "machines, white roofs) are left out.</p>"
            "<p><b>Output</b>: stacks with teu, boxes_20ft, boxes_40ft (box mode only), colour, area_m2, yard, "
            "score, image, acquired. <b>Summary</b>: one row per yard with yard_area_m2, occupied_area_m2, "
            "occupancy_pct, teu, mode, image, acquired. <b>Yard outlines</b> (optional): the yard polygons "
            "used, given or found. TOTAL_TEU gives the sum.</p>"
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, self.tr("Input image")))
        self.add_band_parameters(self.INPUT, advanced=True)
        self.add_aoi_parameter(self.AOI)
        self.add_yards_parameters(self.YARDS, self.YARD_NAME_FIELD, self.STACK_TIERS)
        self.add_sensitivity_parameter(self.SENSITIVITY)
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.OUTPUT, self.tr("Container stacks"), QgsProcessing.TypeVectorPolygon))
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.SUMMARY, self.tr("Yard summary"), QgsProcessing.TypeVector))
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.YARD_OUTLINES, self.tr("Yard outlines"), QgsProcessing.TypeVectorPolygon, optional=True,
            createByDefault=False))
        self.addOutput(QgsProcessingOutputNumber(self.TOTAL_TEU, self.tr("Total TEU")))
        self.addOutput(QgsProcessingOutputString(self.MODE, self.tr("Counting mode (boxes / area)")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        from ..core.containers import detect_containers

        layer = self.parameterAsRasterLayer(parameters, self.INPUT, context)
        src = raster_path(layer)
        crs = layer.crs()
        aoi = self.aoi_geometries(parameters, context, crs, feedback)
        yards_src = self.parameterAsSource(parameters, self.YARDS, context)
        name_field = self.name_field(parameters, context, yards_src, self.YARD_NAME_FIELD, "yards", "yard",
                                     feedback)
        yards = features_in_crs(yards_src, crs, context, feedback, "Yard", name_field)
        if yards_src is not None and not yards:
            raise QgsProcessingException(self.tr("The yards layer has no polygons: draw the yards or leave "
                                                 "the parameter empty to find them automatically."))
        tiers = self.parameterAsInt(parameters, self.STACK_TIERS, context)
        if not crs.isValid():
            feedback.reportError(self.tr("The image has no CRS: areas are in pixels (field units = 'px')."))

        result = self.run_core(
            detect_containers, src, **self.band_choices(parameters, context), yards=yards or None,
            aoi=aoi or None, stack_tiers=tiers,
            sensitivity=self.parameterAsDouble(parameters, self.SENSITIVITY, context),
            progress=self.progress_cb(feedback, 0, 95), cancel=self.cancel_cb(feedback))
        if result is None:
            return {}
        feedback.pushInfo(self.tr("Mode: {} ({:.2f} m per pixel).").format(result.mode, result.pixel_size_m))
        if result.auto_yards:
            feedback.pushInfo(self.tr("No yards given: {} yard(s) found automatically.").format(len(result.yards)))
        for note in result.notes:
            feedback.pushInfo(note)

        acquired = acquisition_date_of(src, name=layer.name())
        acquired_q = qdate(acquired)
        image = layer.name() or os.path.basename(src)

        fields = make_fields(STACK_FIELDS)
        sink, dest_id = self.parameterAsSink(parameters, self.OUTPUT, context, fields, QgsWkbTypes.Polygon, crs)
        if sink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, self.OUTPUT))
        for s in result.stacks:
            f = QgsFeature(fields)
            f.setGeometry(QgsGeometry.fromWkt(s.polygon.wkt))
            f.setAttributes([round(float(s.teu), 2), s.boxes_20ft, s.boxes_40ft, s.colour,
                             round(float(s.area_m2), 1), s.yard, round(float(s.score), 3), image, acquired_q,
                             result.units])
            sink.addFeature(f, QgsFeatureSink.FastInsert)

        sfields = make_fields(SUMMARY_FIELDS)
        ssink, summary_id = self.parameterAsSink(parameters, self.SUMMARY, context, sfields,
                                                 QgsWkbTypes.NoGeometry, crs)
        if ssink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, self.SUMMARY))
        outlines, outlines_id = None, None
        if parameters.get(self.YARD_OUTLINES) is not None:
            ofields = make_fields(SUMMARY_FIELDS)
            outlines, outlines_id = self.parameterAsSink(parameters, self.YARD_OUTLINES, context, ofields,
                                                         QgsWkbTypes.MultiPolygon, crs)
        for y in result.yards:
            values = [y.name, round(float(y.yard_area_m2), 1), round(float(y.occupied_area_m2), 1),
                      round(float(y.occupancy_pct), 2), round(float(y.teu), 1), y.mode, image, acquired_q]
            f = QgsFeature(sfields)
            f.setAttributes(values)
            ssink.addFeature(f, QgsFeatureSink.FastInsert)
            if outlines is not None:
                g = QgsGeometry.fromWkt(y.polygon.wkt)
                g.convertToMultiType()
                fo = QgsFeature(sfields)
                fo.setGeometry(g)
                fo.setAttributes(values)
                outlines.addFeature(fo, QgsFeatureSink.FastInsert)
            feedback.pushInfo(self.tr("{}: {:.0f} TEU, {:.1f} % occupied.").format(y.name, y.teu, y.occupancy_pct))
        total = float(result.total_teu)
        feedback.pushInfo(self.tr("{} stack(s), {:.0f} TEU in all.").format(len(result.stacks), total))
        StyleOnLoad.attach(context, dest_id, "containers.qml")
        out = {self.OUTPUT: dest_id, self.SUMMARY: summary_id, self.TOTAL_TEU: total, self.MODE: result.mode}
        if outlines_id is not None:
            StyleOnLoad.attach(context, outlines_id, "yards.qml")
            out[self.YARD_OUTLINES] = outlines_id
        return out
