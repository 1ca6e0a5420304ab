"""quayside:detectships — vessels with length in metres and the pier they lie at."""

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
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QVariant

from ..core.dates import acquisition_date_of
from .base import QuaysideAlgorithm, StyleOnLoad, features_in_crs, geometries_in_crs, make_fields, qdate, raster_path


class DetectShipsAlgorithm(QuaysideAlgorithm):
    INPUT = "INPUT"
    RED = "RED"
    GREEN = "GREEN"
    BLUE = "BLUE"
    NIR = "NIR"
    AOI = "AOI"
    WATER = "WATER"
    PIERS = "PIERS"
    PIER_NAME_FIELD = "PIER_NAME_FIELD"
    MIN_LENGTH = "MIN_LENGTH"
    MAX_LENGTH = "MAX_LENGTH"
    SENSITIVITY = "SENSITIVITY"
    OUTPUT = "OUTPUT"
    COUNT = "COUNT"

    ALG_ID = "detectships"
    DISPLAY_NAME = "Detect ships"
    GROUP = ("ships", "Ships")

    def shortHelpString(self) -> str:  # noqa: N802
        return self.tr(
            "<p>Finds vessels in an optical image (0.3–10 m per pixel), outlines each one, measures it in ground "
            "metres and says which pier it lies at — including ships moored against a quay or rafted side by "
            "side.</p>"
            "<p><b>Input image</b>: any band count, 8/16-bit or float, nodata respected; band roles from the "
            "colour interpretation or the band names (red/green/blue/nir, Sentinel-2's B02–B08) unless set.<br>"
            "<b>Area of interest</b> (optional): only ships inside it.<br>"
            "<b>Water</b> (optional polygons): where the water is; without it the water mask is computed as in "
            "<i>Water mask</i>.<br>"
            "<b>Piers</b> (optional lines or polygons) and their <b>name field</b>: each docked ship gets the "
            "name of the nearest pier and its distance. Any CRS: reprojected.<br>"
            "<b>Minimum / maximum length</b> (m, default 15 and 400). A ship at anchor measured more than 1.5 "
            "pixels (of the grid it works on) under the minimum is not reported (a docked one, or one under way, "
            "is), nor is any ship measured that much over the maximum.<br>"
            "<b>Sensitivity</b> (0–1, default 0.5): higher finds fainter ships and more false alarms.</p>"
            "<p><b>Output</b>: one polygon per vessel with length_m, width_m, heading_deg (bow–stern axis, "
            "0–180° from north), area_m2, score (0–1), state (docked / anchored / underway), pier, "
            "pier_distance_m, image, acquired and units (m, or px when the image has no CRS). Lengths are "
            "measured on the ellipsoid, so Web Mercator or geographic images give true metres. "
            "COUNT gives the number of ships.</p>"
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, self.tr("Input image")))
        self.add_band_parameters(self.INPUT, advanced=True)
        self.add_aoi_parameter(self.AOI)
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.WATER, self.tr("Water polygons (empty = computed)"), [QgsProcessing.TypeVectorPolygon],
            optional=True))
        self.add_piers_parameters(self.PIERS, self.PIER_NAME_FIELD)
        self.addParameter(QgsProcessingParameterNumber(
            self.MIN_LENGTH, self.tr("Minimum ship length (m)"), QgsProcessingParameterNumber.Double, 15.0,
            minValue=0.0))
        self.addParameter(QgsProcessingParameterNumber(
            self.MAX_LENGTH, self.tr("Maximum ship length (m)"), QgsProcessingParameterNumber.Double, 400.0,
            minValue=1.0))
        self.add_sensitivity_parameter(self.SENSITIVITY)
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.OUTPUT, self.tr("Ships"), QgsProcessing.TypeVectorPolygon))
        self.addOutput(QgsProcessingOutputNumber(self.COUNT, self.tr("Number of ships")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        from ..core.ships import detect_ships

        layer = self.parameterAsRasterLayer(parameters, self.INPUT, context)
        src = raster_path(layer)
        crs = layer.crs()
        min_len = self.parameterAsDouble(parameters, self.MIN_LENGTH, context)
        max_len = self.parameterAsDouble(parameters, self.MAX_LENGTH, context)
        if min_len > max_len:
            raise QgsProcessingException(self.tr(
                "The minimum length ({:.0f} m) is larger than the maximum length ({:.0f} m): "
                "swap them or lower the minimum.").format(min_len, max_len))
        bands = self.band_choices(parameters, context)
        aoi = self.aoi_geometries(parameters, context, crs, feedback)
        water = geometries_in_crs(self.parameterAsSource(parameters, self.WATER, context), crs, context, feedback,
                                  "Water")
        piers_src = self.parameterAsSource(parameters, self.PIERS, context)
        name_field = self.name_field(parameters, context, piers_src, self.PIER_NAME_FIELD, "piers", "pier",
                                     feedback)
        piers = features_in_crs(piers_src, crs, context, feedback, "Piers", name_field)
        if not crs.isValid():
            feedback.reportError(self.tr(
                "The image has no CRS: lengths and areas are in pixels (field units = 'px')."))

        result = self.run_core(
            detect_ships, src, **bands, water_geoms=water or None, aoi=aoi or None, piers=piers or None,
            min_length_m=min_len, max_length_m=max_len,
            sensitivity=self.parameterAsDouble(parameters, self.SENSITIVITY, context),
            progress=self.progress_cb(feedback, 0, 95), cancel=self.cancel_cb(feedback))
        if result is None:
            return {}
        feedback.pushInfo(self.tr("Method: {}").format(result.method))
        for note in result.notes:
            feedback.pushInfo(note)

        fields = make_fields((("length_m", QVariant.Double), ("width_m", QVariant.Double),
                              ("heading_deg", QVariant.Double), ("area_m2", QVariant.Double),
                              ("score", QVariant.Double), ("state", QVariant.String), ("pier", QVariant.String),
                              ("pier_distance_m", QVariant.Double), ("image", QVariant.String),
                              ("acquired", QVariant.Date), ("units", QVariant.String)))
        sink, dest_id = self.parameterAsSink(parameters, self.OUTPUT, context, fields, QgsWkbTypes.Polygon, crs)
        if sink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, self.OUTPUT))
        acquired = acquisition_date_of(src, name=layer.name())
        acquired_q = qdate(acquired)
        image = layer.name() or os.path.basename(src)
        for ship in result.ships:
            f = QgsFeature(fields)
            f.setGeometry(QgsGeometry.fromWkt(ship.polygon.wkt))
            f.setAttributes([
                round(float(ship.length_m), 2), round(float(ship.width_m), 2), round(float(ship.heading_deg), 1),
                round(float(ship.area_m2), 1), round(float(ship.score), 3), ship.state, ship.pier,
                None if ship.pier_distance_m is None else round(float(ship.pier_distance_m), 1),
                image, acquired_q, result.units,
            ])
            sink.addFeature(f, QgsFeatureSink.FastInsert)
        feedback.pushInfo(self.tr("{} ship(s) found.").format(len(result.ships)))
        StyleOnLoad.attach(context, dest_id, "ships.qml")
        return {self.OUTPUT: dest_id, self.COUNT: len(result.ships)}
