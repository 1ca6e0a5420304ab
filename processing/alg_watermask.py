"""quayside:watermask — land/water segmentation of an optical raster."""

from __future__ import annotations

import os
import tempfile

from qgis.core import (
    QgsDistanceArea,
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QVariant

from ..core.water import water_mask
from .base import QuaysideAlgorithm, StyleOnLoad, geometries_in_crs, raster_path


def polygonize_mask(mask_path: str, value: int = 1):
    """Polygons (QgsGeometry, in the mask's CRS) of the pixels equal to ``value``.

    GDAL's Polygonize walks the raster by scanlines, so memory stays bounded
    by the size of the output polygons, not of the raster.
    """
    from osgeo import gdal, ogr

    ds = gdal.Open(mask_path)
    band = ds.GetRasterBand(1)
    drv = ogr.GetDriverByName("Memory")
    vds = drv.CreateDataSource("polys")
    lyr = vds.CreateLayer("polys", geom_type=ogr.wkbPolygon)
    lyr.CreateField(ogr.FieldDefn("value", ogr.OFTInteger))
    gdal.Polygonize(band, None, lyr, 0, ["8CONNECTED=8"])
    out = []
    for f in lyr:
        if f.GetField(0) != value:
            continue
        g = f.GetGeometryRef()
        if g is not None:
            geom = QgsGeometry()
            geom.fromWkb(bytes(g.ExportToIsoWkb()))
            out.append(geom)
    ds = None
    vds = None
    return out


class WaterMaskAlgorithm(QuaysideAlgorithm):
    INPUT = "INPUT"
    RED = "RED"
    GREEN = "GREEN"
    BLUE = "BLUE"
    NIR = "NIR"
    USE_NIR = "USE_NIR"
    FORCE_WATER = "FORCE_WATER"
    FORCE_LAND = "FORCE_LAND"
    SENSITIVITY = "SENSITIVITY"
    MIN_AREA = "MIN_AREA"
    OUTPUT = "OUTPUT"
    OUTPUT_RASTER = "OUTPUT_RASTER"

    ALG_ID = "watermask"
    DISPLAY_NAME = "Water mask"
    GROUP = ("water", "Water and coast")

    def shortHelpString(self) -> str:  # noqa: N802
        return self.tr(
            "<p>Separates water from land in an optical image (Planet, SkySat, Sentinel-2, aerial).</p>"
            "<p><b>Method.</b> With a near-infrared band: NDWI = (green − NIR) / (green + NIR). With visible "
            "bands only: water is the dark <i>and</i> smooth surface; a score of brightness and local texture "
            "is thresholded automatically (Otsu) on samples from the whole image, and the colour of the open "
            "water it finds is learned; where there is too little open water to learn from, dark pieces redder "
            "than blue (bare soil, fields, dry grass) are land. Small dark patches on land "
            "are dropped and small objects wholly surrounded by water (anchored ships, glint) are kept as "
            "water, so ships lie inside the mask.</p>"
            "<p><b>Input image</b>: any band count ≥ 3 (or green + NIR), 8/16-bit or float; nodata respected. "
            "<b>Bands</b>: left empty, they come from the raster's colour interpretation or its band names "
            "(red/green/blue/nir, Sentinel-2's B02–B08), else bands 1, 2, 3 and a band described as NIR or the 4th "
            "band.<br>"
            "<b>Use NIR</b>: untick to force the visible method even when a NIR band exists.<br>"
            "<b>Force water / Force land</b>: polygons where you know the answer (a dry dock, a dark car park).<br>"
            "<b>Sensitivity</b> (0–1, default 0.5): higher finds more water, lower less.<br>"
            "<b>Minimum water area</b> (m²): smaller water patches are dropped; empty = automatic.</p>"
            "<p><b>Outputs</b>: water polygons with their area in m² (on the ellipsoid) and a 0/1 mask raster "
            "(255 = nodata). The raster is processed in blocks, so any size works.</p>"
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, self.tr("Input image")))
        self.add_band_parameters(self.INPUT)
        self.addParameter(QgsProcessingParameterBoolean(
            self.USE_NIR, self.tr("Use NDWI when a near-infrared band exists"), defaultValue=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.FORCE_WATER, self.tr("Force water (polygons)"), [QgsProcessing.TypeVectorPolygon], optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.FORCE_LAND, self.tr("Force land (polygons)"), [QgsProcessing.TypeVectorPolygon], optional=True))
        self.add_sensitivity_parameter(self.SENSITIVITY, "Sensitivity (0 = less water, 1 = more water)")
        self.addParameter(QgsProcessingParameterNumber(
            self.MIN_AREA, self.tr("Minimum water area (m², empty = automatic)"),
            QgsProcessingParameterNumber.Double, None, optional=True, minValue=0.0))
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.OUTPUT, self.tr("Water"), QgsProcessing.TypeVectorPolygon))
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.OUTPUT_RASTER, self.tr("Water mask raster (1 = water)")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        layer = self.parameterAsRasterLayer(parameters, self.INPUT, context)
        src = raster_path(layer)
        crs = layer.crs()
        bands = self.band_choices(parameters, context)
        use_nir = self.parameterAsBool(parameters, self.USE_NIR, context)
        sensitivity = self.parameterAsDouble(parameters, self.SENSITIVITY, context)
        min_area = parameters.get(self.MIN_AREA)
        min_area = self.parameterAsDouble(parameters, self.MIN_AREA, context) if min_area not in (None, "") else None
        force_water = geometries_in_crs(self.parameterAsSource(parameters, self.FORCE_WATER, context), crs,
                                        context, feedback, "Force water")
        force_land = geometries_in_crs(self.parameterAsSource(parameters, self.FORCE_LAND, context), crs,
                                       context, feedback, "Force land")
        mask_path = self.parameterAsOutputLayer(parameters, self.OUTPUT_RASTER, context)
        if not mask_path:
            mask_path = os.path.join(tempfile.mkdtemp(prefix="quayside_"), "water.tif")
        if not crs.isValid():
            feedback.reportError(self.tr("The image has no CRS: areas are reported in squared pixel units."))

        result = self.run_core(
            water_mask, src, mask_path,
            **bands,
            use_nir=use_nir, sensitivity=sensitivity, min_water_m2=min_area,
            force_water=force_water, force_land=force_land,
            progress=self.progress_cb(feedback, 0, 85), cancel=self.cancel_cb(feedback),
        )
        if result is None:  # cancelled
            return {}
        feedback.pushInfo(self.tr("Method: {}").format(result.method))
        feedback.pushInfo(self.tr("Threshold {:.3f}, separability {:.2f}; water covers {:.1f} % of the image "
                                  "({:.2f} {} pixels, {} blocks).").format(
            result.threshold, result.separability, 100 * result.water_fraction, result.pixel_size_m,
            result.units, result.windows))
        for note in result.notes:
            feedback.pushWarning(note) if hasattr(feedback, "pushWarning") else feedback.reportError(note)

        fields = QgsFields()
        fields.append(QgsField("class", QVariant.String))
        fields.append(QgsField("area_m2", QVariant.Double))
        sink, dest_id = self.parameterAsSink(parameters, self.OUTPUT, context, fields,
                                             QgsWkbTypes.MultiPolygon, crs)
        if sink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, self.OUTPUT))
        da = QgsDistanceArea()
        if crs.isValid():
            da.setSourceCrs(crs, context.transformContext())
            da.setEllipsoid("EPSG:7030")
        tol = 0.5 * abs(layer.rasterUnitsPerPixelX())
        polys = polygonize_mask(mask_path, 1)
        for i, g in enumerate(polys):
            if feedback.isCanceled():
                break
            g = g.simplify(tol) if tol > 0 else g
            if g.isEmpty():
                continue
            g.convertToMultiType()
            f = QgsFeature(fields)
            f.setGeometry(g)
            f.setAttributes(["water", float(da.measureArea(g))])
            sink.addFeature(f, QgsFeatureSink.FastInsert)
            feedback.setProgress(85 + 15 * (i + 1) / max(1, len(polys)))
        StyleOnLoad.attach(context, dest_id, "water.qml")
        StyleOnLoad.attach(context, mask_path, "water_mask.qml")
        return {self.OUTPUT: dest_id, self.OUTPUT_RASTER: mask_path}
