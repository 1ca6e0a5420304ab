"""quayside:activitytimeseries — ships and containers on every image of a dated series.

Output table design: one row per image with fixed columns (acquired, image,
ships, TEU...), then **one integer column per pier** (``ships_<pier>``) and one
occupancy and TEU column per yard (``occ_<yard>``, ``teu_<yard>``), plus the same
figures as JSON text (``ships_by_pier``, ``yards_json``). The columns are what
an analyst plots, sorts and filters in QGIS (attribute table, DataPlotly,
expressions like ``"ships_bulk_pier_1" > 2``) and what a spreadsheet opens;
the JSON keeps the exact names (column names are shortened slugs) and still
works when there are too many piers or yards for columns (more than
:data:`MAX_NAME_COLUMNS`), or when yards were found automatically and differ
from image to image.
"""

from __future__ import annotations

import json
import os

from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeature,
    QgsFeatureSink,
    QgsFillSymbol,
    QgsGeometry,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingLayerPostProcessorInterface,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsRasterLayer,
    QgsRendererCategory,
    QgsUnitTypes,
    QgsVectorLayerTemporalProperties,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QVariant

from ..core import timeseries as ts
from ..core.errors import InputError
from .base import (
    QuaysideAlgorithm,
    features_in_crs,
    geometries_in_crs,
    make_fields,
    polygons_only,
    qdate,
    raster_path,
)

MAX_NAME_COLUMNS = 40

DETECTION_FIELDS = (("kind", QVariant.String), ("acquired", QVariant.Date), ("image", QVariant.String),
                    ("length_m", QVariant.Double), ("width_m", QVariant.Double), ("heading_deg", QVariant.Double),
                    ("area_m2", QVariant.Double), ("score", QVariant.Double), ("state", QVariant.String),
                    ("pier", QVariant.String), ("teu", QVariant.Double), ("boxes_20ft", QVariant.Int),
                    ("boxes_40ft", QVariant.Int), ("colour", QVariant.String), ("yard", QVariant.String),
                    ("units", QVariant.String))



def collect_images(alg, parameters, context, layers_key: str, folder_key: str):
    """The images of a layers parameter and a folder parameter of ``alg``:
    (paths, {path: layer name}, {path: date from the layer's temporal properties},
    {path: layer CRS}) — folder images have no name, date or CRS entry yet."""
    layers = alg.parameterAsLayerList(parameters, layers_key, context) or []
    folder = alg.parameterAsFile(parameters, folder_key, context)
    paths, names, given, crs = [], {}, {}, {}
    for layer in layers:
        if not isinstance(layer, QgsRasterLayer):
            continue
        p = raster_path(layer, layers_key)
        paths.append(p)
        names[p] = layer.name()
        d = layer_date(layer)
        if d is not None:
            given[p] = d
        crs[p] = layer.crs()
    if not paths and not folder:
        raise QgsProcessingException(alg.tr(
            "No images: choose the image layers (Images) or a folder of images (Folder)."))
    try:
        return ts.gather_images(paths, folder or None), names, given, crs
    except InputError as exc:
        raise QgsProcessingException(str(exc)) from exc


def layer_date(layer):
    """The date of a raster layer's QGIS temporal properties (fixed range start), or None."""
    try:
        props = layer.temporalProperties()
        if props is None or not props.isActive():
            return None
        rng = props.fixedTemporalRange()
        begin = rng.begin()
        if begin.isValid():
            d = begin.date()
            import datetime as dt

            return dt.date(d.year(), d.month(), d.day())
    except Exception:  # a provider without temporal properties
        return None
    return None



class DetectionsOnLoad(QgsProcessingLayerPostProcessorInterface):
    """Styles the detections (ships red outlines, stacks filled) and makes the layer
    temporal: one instant per feature from its ``acquired`` field, lasting a day,
    so the Temporal Controller animates the series."""

    _keep = []

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802
        if layer is None or not layer.isValid():
            return
        apply_detection_style(layer)
        set_temporal(layer, "acquired")
        layer.triggerRepaint()

    @classmethod
    def attach(cls, context, layer_id: str) -> None:
        if not layer_id or not context.willLoadLayerOnCompletion(layer_id):
            return
        proc = cls()
        cls._keep.append(proc)
        context.layerToLoadOnCompletionDetails(layer_id).setPostProcessor(proc)


def set_temporal(layer, field_name: str = "acquired") -> None:
    """Feature date instant from ``field_name``, one day long, not accumulated."""
    props = layer.temporalProperties()
    props.setMode(QgsVectorLayerTemporalProperties.ModeFeatureDateTimeInstantFromField)
    props.setStartField(field_name)
    props.setDurationUnits(QgsUnitTypes.TemporalDays)
    props.setFixedDuration(1.0)
    props.setAccumulateFeatures(False)
    props.setIsActive(True)


def apply_detection_style(layer) -> None:
    ship = QgsFillSymbol.createSimple({"color": "255,40,40,60", "outline_color": "230,0,0,255",
                                       "outline_width": "0.6"})
    stack = QgsFillSymbol.createSimple({"color": "255,200,0,150", "outline_color": "150,100,0,255",
                                        "outline_width": "0.2"})
    layer.setRenderer(QgsCategorizedSymbolRenderer("kind", [QgsRendererCategory("ship", ship, "ship"),
                                                            QgsRendererCategory("stack", stack,
                                                                                "container stack")]))


class ActivityTimeSeriesAlgorithm(QuaysideAlgorithm):
    INPUTS = "INPUTS"
    FOLDER = "FOLDER"
    AOI = "AOI"
    YARDS = "YARDS"
    YARD_NAME_FIELD = "YARD_NAME_FIELD"
    PIERS = "PIERS"
    PIER_NAME_FIELD = "PIER_NAME_FIELD"
    STACK_TIERS = "STACK_TIERS"
    MIN_LENGTH = "MIN_LENGTH"
    MAX_LENGTH = "MAX_LENGTH"
    SENSITIVITY = "SENSITIVITY"
    OUTPUT = "OUTPUT"
    DETECTIONS = "DETECTIONS"
    CHART = "CHART"
    IMAGES = "IMAGES"
    CHART_SVG = "CHART_SVG"

    ALG_ID = "activitytimeseries"
    DISPLAY_NAME = "Port activity time series"
    GROUP = ("activity", "Activity")

    def shortHelpString(self) -> str:  # noqa: N802
        return self.tr(
            "<p>Runs ship and container detection on every image of a dated series of one port and tells the "
            "story over time: ships per date and per pier, TEU and yard occupancy.</p>"
            "<p><b>Images</b> (raster layers) and/or <b>Folder</b> (every raster file in it): at least one. "
            "Each image needs an acquisition date: the layer's temporal properties (fixed range), the raster's "
            "metadata (ACQUISITIONDATETIME, TIFFTAG_DATETIME...) or its name (2016-05-14, 20160514...). Images "
            "without one are listed in the error.<br>"
            "<b>Area of interest</b>, <b>Piers</b> (+ name field), <b>Yards</b> (+ name field): optional, any "
            "CRS (reprojected to each image). Without yards, yards are found automatically.<br>"
            "<b>Stack tiers</b>: boxes per stack seen from above (TEU are multiplied by it).</p>"
            "<p><b>Output</b>: a table with one row per image: acquired, image, ships, ships by state, "
            "ships_&lt;pier&gt; per pier, teu, mean_occupancy_pct, occ_&lt;yard&gt; and teu_&lt;yard&gt; per "
            "yard, and the same per-pier / per-yard figures as JSON text with the exact names.<br>"
            "<b>Detections</b>: every ship and container stack of every date in one layer, with an "
            "<i>acquired</i> field; its temporal properties are set, so the Temporal Controller animates it.<br>"
            "<b>Chart</b>: a PNG of ships per pier and TEU over time (an SVG is written beside it).</p>"
            "<p>Images are processed one at a time (memory of one image); Cancel stops between images.</p>"
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_image_list_parameters(self.INPUTS, self.FOLDER)
        self.add_aoi_parameter(self.AOI)
        self.add_piers_parameters(self.PIERS, self.PIER_NAME_FIELD)
        self.add_yards_parameters(self.YARDS, self.YARD_NAME_FIELD, self.STACK_TIERS)
        for key, label, default, lo in ((self.MIN_LENGTH, "Minimum ship length (m)", 15.0, 0.0),
                                        (self.MAX_LENGTH, "Maximum ship length (m)", 400.0, 1.0)):
            p = QgsProcessingParameterNumber(key, self.tr(label), QgsProcessingParameterNumber.Double, default,
                                             minValue=lo)
            p.setFlags(p.flags() | p.FlagAdvanced)
            self.addParameter(p)
        self.add_sensitivity_parameter(self.SENSITIVITY, advanced=True)
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.OUTPUT, self.tr("Activity per image"), QgsProcessing.TypeVector))
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.DETECTIONS, self.tr("Detections (all dates)"), QgsProcessing.TypeVectorPolygon))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.CHART, self.tr("Chart (PNG; an SVG is written beside it)"), self.tr("PNG files (*.png)"),
            optional=True))
        self.addOutput(QgsProcessingOutputNumber(self.IMAGES, self.tr("Images processed")))
        self.addOutput(QgsProcessingOutputString(self.CHART_SVG, self.tr("Chart (SVG)")))

    # -- helpers ---------------------------------------------------------
    def _images(self, parameters, context):
        """(paths, names, given dates, crs per path) from INPUTS and FOLDER."""
        all_paths, names, given, crs = collect_images(self, parameters, context, self.INPUTS, self.FOLDER)
        for p in all_paths:
            if p not in crs:
                rl = QgsRasterLayer(p, os.path.splitext(os.path.basename(p))[0], "gdal")
                if not rl.isValid():
                    raise QgsProcessingException(self.tr(
                        "'{}' is not a raster QGIS can open: remove it from the folder.").format(p))
                crs[p] = rl.crs()
        return all_paths, names, given, crs

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        paths, names, given, crs_of = self._images(parameters, context)
        try:
            refs = ts.resolve_dates(paths, names, given)
        except InputError as exc:
            raise QgsProcessingException(str(exc)) from exc
        feedback.pushInfo(self.tr("{} image(s), {} to {}.").format(len(refs), refs[0].date, refs[-1].date))

        aoi_src = self.parameterAsSource(parameters, self.AOI, context)
        piers_src = self.parameterAsSource(parameters, self.PIERS, context)
        yards_src = self.parameterAsSource(parameters, self.YARDS, context)
        pier_field = self.name_field(parameters, context, piers_src, self.PIER_NAME_FIELD, "piers", "pier",
                                     feedback)
        yard_field = self.name_field(parameters, context, yards_src, self.YARD_NAME_FIELD, "yards", "yard",
                                     feedback)
        cache = {}

        def in_crs(kind):
            def get(ref):
                crs = crs_of[ref.path]
                key = (kind, crs.toWkt())
                if key not in cache:
                    if kind == "aoi":
                        cache[key] = polygons_only(geometries_in_crs(aoi_src, crs, context, None,
                                                                     "Area of interest"))
                    elif kind == "piers":
                        cache[key] = features_in_crs(piers_src, crs, context, None, "Piers", pier_field or None)
                    else:
                        cache[key] = features_in_crs(yards_src, crs, context, None, "Yard", yard_field or None)
                return cache[key]
            return get

        self.aoi_geometries(parameters, context, crs_of[refs[0].path])  # an AOI without polygons is an error

        out_crs: QgsCoordinateReferenceSystem = crs_of[refs[0].path]
        dfields = make_fields(DETECTION_FIELDS)
        dsink, det_id = self.parameterAsSink(parameters, self.DETECTIONS, context, dfields,
                                             QgsWkbTypes.MultiPolygon, out_crs)
        if dsink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, self.DETECTIONS))
        transforms = {}
        counts = {"ship": 0, "stack": 0}

        def write(outcome):
            crs = crs_of[outcome.ref.path]
            xf = None
            if crs.isValid() and out_crs.isValid() and crs != out_crs:
                key = crs.toWkt()
                if key not in transforms:
                    transforms[key] = QgsCoordinateTransform(crs, out_crs, context.transformContext())
                xf = transforms[key]
            d = qdate(outcome.ref.date)
            units = outcome.row.units
            for kind, items in (("ship", outcome.ships), ("stack", outcome.stacks)):
                for it in items:
                    g = QgsGeometry.fromWkt(it.polygon.wkt)
                    g.convertToMultiType()
                    if xf is not None:
                        g.transform(xf)
                    f = QgsFeature(dfields)
                    f.setGeometry(g)
                    if kind == "ship":
                        vals = [kind, d, outcome.ref.name, round(float(it.length_m), 2), round(float(it.width_m), 2),
                                round(float(it.heading_deg), 1), round(float(it.area_m2), 1), round(float(it.score), 3),
                                it.state, it.pier, None, None, None, None, None, units]
                    else:
                        vals = [kind, d, outcome.ref.name, None, None, None, round(float(it.area_m2), 1),
                                round(float(it.score), 3), None, None, round(float(it.teu), 2), it.boxes_20ft,
                                it.boxes_40ft, it.colour, it.yard, units]
                    f.setAttributes(vals)
                    dsink.addFeature(f, QgsFeatureSink.FastInsert)
                    counts[kind] += 1

        min_len = self.parameterAsDouble(parameters, self.MIN_LENGTH, context)
        max_len = self.parameterAsDouble(parameters, self.MAX_LENGTH, context)
        if min_len > max_len:
            raise QgsProcessingException(self.tr(
                "The minimum length ({:.0f} m) is larger than the maximum length ({:.0f} m): "
                "swap them or lower the minimum.").format(min_len, max_len))
        sens = self.parameterAsDouble(parameters, self.SENSITIVITY, context)
        result = self.run_core(
            ts.run_series, refs, aoi=in_crs("aoi") if aoi_src is not None else None,
            piers=in_crs("piers") if piers_src is not None else None,
            yards=in_crs("yards") if yards_src is not None else None,
            stack_tiers=self.parameterAsInt(parameters, self.STACK_TIERS, context),
            min_length_m=min_len, max_length_m=max_len, ship_sensitivity=sens, container_sensitivity=sens,
            on_image=write, progress=self.progress_cb(feedback, 0, 95), cancel=self.cancel_cb(feedback),
            log=feedback.pushInfo)
        if result is None:
            return {}
        for note in result.notes:
            feedback.pushInfo(note)

        table_id = self._write_table(parameters, context, result)
        chart = self.parameterAsFileOutput(parameters, self.CHART, context)
        svg = ""
        if chart:
            from ..core.chart import chart_from_rows

            svg = os.path.splitext(chart)[0] + ".svg"
            title = f"Port activity, {result.rows[0].acquired} to {result.rows[-1].acquired}"
            chart_from_rows(result.rows, chart, svg, title=title)
            feedback.pushInfo(self.tr("Chart written: {} (and {}).").format(chart, svg))
        feedback.setProgress(100)
        feedback.pushInfo(self.tr("{} ship(s) and {} container stack(s) over {} image(s).")
                          .format(counts["ship"], counts["stack"], len(result.rows)))
        DetectionsOnLoad.attach(context, det_id)
        out = {self.OUTPUT: table_id, self.DETECTIONS: det_id, self.IMAGES: len(result.rows), self.CHART_SVG: svg}
        if chart:
            out[self.CHART] = chart
        return out

    def _write_table(self, parameters, context, result):
        piers = result.pier_names
        yards = result.yard_names
        spec = [("acquired", QVariant.Date), ("image", QVariant.String), ("ships", QVariant.Int),
                ("ships_docked", QVariant.Int), ("ships_anchored", QVariant.Int), ("ships_underway", QVariant.Int),
                ("teu", QVariant.Double), ("mean_occupancy_pct", QVariant.Double), ("container_mode", QVariant.String),
                ("ships_by_pier", QVariant.String), ("yards_json", QVariant.String),
                ("date_source", QVariant.String), ("path", QVariant.String)]
        fixed = [n for n, _ in spec]
        pier_cols = ts.column_names("ships", piers, fixed) if len(piers) <= MAX_NAME_COLUMNS else {}
        occ_cols = ts.column_names("occ", yards, fixed) if len(yards) <= MAX_NAME_COLUMNS else {}
        teu_cols = ts.column_names("teu", yards, fixed) if len(yards) <= MAX_NAME_COLUMNS else {}
        spec += [(pier_cols[p], QVariant.Int) for p in piers if p in pier_cols]
        spec += [(occ_cols[y], QVariant.Double) for y in yards if y in occ_cols]
        spec += [(teu_cols[y], QVariant.Double) for y in yards if y in teu_cols]
        fields = make_fields(spec)
        sink, table_id = self.parameterAsSink(parameters, self.OUTPUT, context, fields, QgsWkbTypes.NoGeometry,
                                              QgsCoordinateReferenceSystem())
        if sink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, self.OUTPUT))
        for r in result.rows:
            occ = [v for v in r.occupancy_by_yard.values() if v is not None]
            vals = [qdate(r.acquired), r.image, r.ships, r.ships_by_state.get("docked", 0),
                    r.ships_by_state.get("anchored", 0), r.ships_by_state.get("underway", 0),
                    None if r.teu is None else round(r.teu, 1),
                    round(sum(occ) / len(occ), 2) if occ else None, r.container_mode,
                    json.dumps(r.ships_by_pier, ensure_ascii=False, sort_keys=True),
                    json.dumps({y: {"teu": round(r.teu_by_yard.get(y, 0.0), 1),
                                    "occupancy_pct": round(r.occupancy_by_yard.get(y, 0.0), 2)}
                                for y in r.occupancy_by_yard}, ensure_ascii=False, sort_keys=True),
                    r.date_source, r.path]
            vals += [int(r.ships_by_pier.get(p, 0)) for p in piers if p in pier_cols]
            vals += [r.occupancy_by_yard.get(y) for y in yards if y in occ_cols]
            vals += [r.teu_by_yard.get(y) for y in yards if y in teu_cols]
            f = QgsFeature(fields)
            f.setAttributes(vals)
            sink.addFeature(f, QgsFeatureSink.FastInsert)
        return table_id
