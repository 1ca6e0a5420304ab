"""quayside:portreport — an illustrated report (PDF through a QGIS print layout, and HTML)
of a port's activity over a date range.

Page 1: before / after maps side by side (first and last image in range), the
change footprints drawn and labelled with their areas, the ships of each date
outlined, the key figures in one line. Page 2: the chart of ships per pier and
TEU over time, the table of ships per pier per date, TEU and occupancy.
Page 3: the change footprints (largest first) and the observations log.
The HTML carries the same content (map pictures rendered by QGIS, the chart as
SVG, the tables) in one page with its pictures in a ``<name>_files`` folder.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import os

from qgis.core import (
    QgsCoordinateTransform,
    QgsFeature,
    QgsFillSymbol,
    QgsLayoutExporter,
    QgsLayoutFrame,
    QgsLayoutItemLabel,
    QgsLayoutItemManualTable,
    QgsLayoutItemMap,
    QgsLayoutItemPicture,
    QgsLayoutItemScaleBar,
    QgsLayoutMultiFrame,
    QgsLayoutPoint,
    QgsLayoutSize,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsPalLayerSettings,
    QgsPrintLayout,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingMultiStepFeedback,
    QgsProcessingOutputString,
    QgsProcessingParameterDateTime,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorLayer,
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
    QgsSingleSymbolRenderer,
    QgsTableCell,
    QgsTextFormat,
    QgsUnitTypes,
    QgsVectorLayer,
    QgsVectorLayerSimpleLabeling,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor, QFont, QImage

from ..core import timeseries as ts
from ..core.errors import InputError
from .alg_timeseries import collect_images
from .base import QuaysideAlgorithm

PAGE_W, PAGE_H = 297.0, 210.0  # A4 landscape, mm
MAX_TABLE_ROWS = 22
OBS_FIELDS = ("observed_at", "image", "kind", "pier", "length_m", "count", "teu", "area_m2", "notes", "analyst",
              "source")


def _to_date(value):
    """A python date from a QDate/QDateTime/str/None."""
    if value is None:
        return None
    if hasattr(value, "isNull") and value.isNull():
        return None
    if hasattr(value, "date") and hasattr(value, "time") and not isinstance(value, dt.datetime):
        value = value.date()
    if hasattr(value, "year") and callable(value.year):
        return dt.date(value.year(), value.month(), value.day()) if value.isValid() else None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    from ..core.dates import parse_date

    return parse_date(str(value))


def _fmt_int(v) -> str:
    return "–" if v is None else f"{v:,.0f}"


class PortReportAlgorithm(QuaysideAlgorithm):
    IMAGES = "IMAGES"
    FOLDER = "FOLDER"
    AOI = "AOI"
    START_DATE = "START_DATE"
    END_DATE = "END_DATE"
    PIERS = "PIERS"
    PIER_NAME_FIELD = "PIER_NAME_FIELD"
    YARDS = "YARDS"
    YARD_NAME_FIELD = "YARD_NAME_FIELD"
    STACK_TIERS = "STACK_TIERS"
    CHANGES = "CHANGES"
    OBSERVATIONS = "OBSERVATIONS"
    TITLE = "TITLE"
    SERIES = "SERIES"
    DETECTIONS = "DETECTIONS"
    OUTPUT_HTML = "OUTPUT_HTML"
    OUTPUT_PDF = "OUTPUT_PDF"
    CHART = "CHART"

    ALG_ID = "portreport"
    DISPLAY_NAME = "Port activity report"
    GROUP = ("activity", "Activity")

    def flags(self):
        # print layouts render with fonts and painters that belong to the main thread
        return super().flags() | QgsProcessingAlgorithm.FlagNoThreading

    def shortHelpString(self) -> str:  # noqa: N802
        return self.tr(
            "<p>Writes an illustrated report of a port over a date range, as a PDF (through a QGIS print "
            "layout) and an HTML page.</p>"
            "<p><b>Images</b> and/or <b>Folder</b>: the dated images (dates as in <i>Port activity time "
            "series</i>). <b>Start / end date</b> (optional) keep the images in that range. <b>Area of "
            "interest</b> (optional) frames the maps and limits the detections. <b>Piers</b>, <b>Yards</b> "
            "(optional, with name fields) as in the time series. <b>Changes</b> (optional polygons with an "
            "area_m2 field): change footprints already computed; without it <i>Detect changes</i> is run on "
            "the first and last image in range. <b>Observations</b> (optional layer or table with fields "
            "such as observed_at, image, kind, pier, length_m, count, teu, notes, analyst): the analysts' "
            "log, listed in the report.</p>"
            "<p>The report shows the before and after images side by side with the change footprints and "
            "their areas and the ships of each date, the chart of ships per pier and TEU over time, the "
            "table of ships per pier per date with TEU and yard occupancy, the list of changes and the "
            "observations log.</p>"
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_image_list_parameters(self.IMAGES, self.FOLDER)
        self.add_aoi_parameter(self.AOI)
        self.addParameter(QgsProcessingParameterDateTime(
            self.START_DATE, self.tr("Start date"), QgsProcessingParameterDateTime.Date, optional=True))
        self.addParameter(QgsProcessingParameterDateTime(
            self.END_DATE, self.tr("End date"), QgsProcessingParameterDateTime.Date, optional=True))
        self.add_piers_parameters(self.PIERS, self.PIER_NAME_FIELD)
        self.add_yards_parameters(self.YARDS, self.YARD_NAME_FIELD, self.STACK_TIERS)
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.CHANGES, self.tr("Change footprints (empty = detect them)"), [QgsProcessing.TypeVectorPolygon],
            optional=True))
        self.addParameter(QgsProcessingParameterVectorLayer(
            self.OBSERVATIONS, self.tr("Observations log"), [QgsProcessing.TypeVector], optional=True))
        for key, label, kinds in ((self.SERIES, "Activity table from the time series (empty = run it)",
                                   [QgsProcessing.TypeVector]),
                                  (self.DETECTIONS, "Detections from the time series (used with the table)",
                                   [QgsProcessing.TypeVectorPolygon])):
            p = QgsProcessingParameterVectorLayer(key, self.tr(label), kinds, optional=True)
            p.setFlags(p.flags() | p.FlagAdvanced)
            self.addParameter(p)
        self.addParameter(QgsProcessingParameterString(
            self.TITLE, self.tr("Title"), self.tr("Port activity report"), optional=True))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_HTML, self.tr("Report (HTML)"), self.tr("HTML files (*.html)")))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_PDF, self.tr("Report (PDF)"), self.tr("PDF files (*.pdf)")))
        self.addOutput(QgsProcessingOutputString(self.CHART, self.tr("Chart (PNG)")))

    # ------------------------------------------------------------------
    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        import processing

        steps = QgsProcessingMultiStepFeedback(4, feedback)
        html_path = self.parameterAsFileOutput(parameters, self.OUTPUT_HTML, context)
        pdf_path = self.parameterAsFileOutput(parameters, self.OUTPUT_PDF, context)
        out_dir = os.path.dirname(os.path.abspath(pdf_path or html_path))
        stem = os.path.splitext(os.path.basename(html_path or pdf_path))[0]
        files_dir = os.path.join(os.path.dirname(os.path.abspath(html_path)), stem + "_files")
        os.makedirs(files_dir, exist_ok=True)
        os.makedirs(out_dir, exist_ok=True)
        title = self.parameterAsString(parameters, self.TITLE, context) or "Port activity report"

        # images in range, dated
        paths, names, given, _crs = collect_images(self, parameters, context, self.IMAGES, self.FOLDER)
        try:
            refs = ts.resolve_dates(paths, names, given)
        except InputError as exc:
            raise QgsProcessingException(str(exc)) from exc
        start = _to_date(self.parameterAsDateTime(parameters, self.START_DATE, context)
                         if parameters.get(self.START_DATE) not in (None, "") else None)
        end = _to_date(self.parameterAsDateTime(parameters, self.END_DATE, context)
                       if parameters.get(self.END_DATE) not in (None, "") else None)
        if start and end and start > end:
            raise QgsProcessingException(self.tr("The start date {} is after the end date {}: swap them.")
                                         .format(start, end))
        in_range = [r for r in refs if (start is None or r.date >= start) and (end is None or r.date <= end)]
        if not in_range:
            raise QgsProcessingException(self.tr(
                "No image between {} and {}: the images are dated {}. Widen the date range.").format(
                start or "the start", end or "the end", ", ".join(str(r.date) for r in refs)))
        feedback.pushInfo(self.tr("{} image(s) in range: {}.").format(
            len(in_range), ", ".join(f"{r.name} ({r.date})" for r in in_range)))

        # 1. the series (ships and containers on every image)
        chart_png = os.path.join(files_dir, "activity.png")
        child = {"INPUTS": [r.path for r in in_range], "OUTPUT": "memory:", "DETECTIONS": "memory:",
                 "CHART": chart_png, "STACK_TIERS": self.parameterAsInt(parameters, self.STACK_TIERS, context)}
        for key in (self.AOI, self.PIERS, self.PIER_NAME_FIELD, self.YARDS, self.YARD_NAME_FIELD):
            if parameters.get(key) not in (None, ""):
                child[key] = parameters[key]
        # dates resolved here (temporal properties included) win: pass them through layer objects
        child["INPUTS"] = [self._dated_layer(r, context) for r in in_range]
        table = self.parameterAsVectorLayer(parameters, self.SERIES, context)
        dets = self.parameterAsVectorLayer(parameters, self.DETECTIONS, context)
        if table is None:
            series = processing.run("quayside:activitytimeseries", child, context=context, feedback=steps,
                                    is_child_algorithm=True)
            table = (context.getMapLayer(series["OUTPUT"]) if isinstance(series["OUTPUT"], str)
                     else series["OUTPUT"])
            dets = (context.getMapLayer(series["DETECTIONS"]) if isinstance(series["DETECTIONS"], str)
                    else series["DETECTIONS"])
        else:
            feedback.pushInfo(self.tr("Using the activity table '{}' ({} rows).").format(table.name(),
                                                                                         table.featureCount()))
        steps.setCurrentStep(1)
        wanted = {r.date for r in in_range}
        rows = sorted((r for r in (self._row(f) for f in table.getFeatures()) if r["acquired"] in wanted),
                      key=lambda r: r["acquired"])
        if not rows:
            raise QgsProcessingException(self.tr("The activity table has no row for the images in range: give "
                                                 "the table made from these images, or leave it empty."))
        if parameters.get(self.SERIES) not in (None, ""):
            self._chart(rows, chart_png)
        if dets is None:
            dets = QgsVectorLayer(f"MultiPolygon?crs={crs_auth(in_range[0].path)}&field=kind:string"
                                  "&field=acquired:date", "detections", "memory")
        if steps.isCanceled():
            return {}

        # 2. change footprints
        first, last = in_range[0], in_range[-1]
        changes = None
        changes_src = self.parameterAsSource(parameters, self.CHANGES, context)
        first_layer = QgsRasterLayer(first.path, first.name, "gdal")
        last_layer = QgsRasterLayer(last.path, last.name, "gdal")
        crs = first_layer.crs()
        if changes_src is not None:
            changes = self._copy_changes(changes_src, crs, context)
        elif len(in_range) >= 2:
            ch = {"BEFORE": first.path, "AFTER": last.path, "OUTPUT": "memory:", "CHANGE_RASTER": "TEMPORARY_OUTPUT"}
            if parameters.get(self.AOI) not in (None, ""):
                ch["AOI"] = parameters[self.AOI]
            try:
                res = processing.run("quayside:detectchanges", ch, context=context, feedback=steps,
                                     is_child_algorithm=True)
                changes = context.getMapLayer(res["OUTPUT"]) if isinstance(res["OUTPUT"], str) else res["OUTPUT"]
            except QgsProcessingException as exc:
                feedback.reportError(self.tr("Change detection failed, the report has no change footprints: {}")
                                     .format(exc))
        steps.setCurrentStep(2)
        change_rows = []
        if changes is not None:
            for f in changes.getFeatures():
                names_ = changes.fields().names()
                change_rows.append({
                    "type": f["type"] if "type" in names_ else "change",
                    "area_m2": float(f["area_m2"]) if "area_m2" in names_ and f["area_m2"] is not None
                    else f.geometry().area(),
                    "score": f["score"] if "score" in names_ else None})
            change_rows.sort(key=lambda c: -c["area_m2"])
            self._style_changes(changes)

        # 3. maps and pictures
        aoi_src = self.parameterAsSource(parameters, self.AOI, context)
        extent = self._extent(aoi_src, first_layer, crs, context)
        ships_first = self._ships_of(dets, first.date, "before")
        ships_last = self._ships_of(dets, last.date, "after")
        piers_layer = None
        piers_src = self.parameterAsSource(parameters, self.PIERS, context)
        if piers_src is not None:
            piers_layer = self._copy_piers(piers_src, crs, context,
                                           self.name_field(parameters, context, piers_src, self.PIER_NAME_FIELD,
                                                           "piers", "pier"))
        keep = [first_layer, last_layer, ships_first, ships_last, changes, piers_layer]
        obs = self._observations(self.parameterAsVectorLayer(parameters, self.OBSERVATIONS, context), start, end)

        def layers_for(raster, ships):
            return [lyr for lyr in (changes, ships, piers_layer, raster) if lyr is not None]

        map_pngs = []
        for tag, raster, ships in (("before", first_layer, ships_first), ("after", last_layer, ships_last)):
            png = os.path.join(files_dir, f"{tag}.png")
            self._render_png(layers_for(raster, ships), extent, crs, png)
            map_pngs.append(png)
        steps.setCurrentStep(3)

        figures = self._figures(rows, change_rows, first, last)
        if pdf_path:
            project = QgsProject()
            for lyr in keep:
                if lyr is not None:
                    project.addMapLayer(lyr, False)
            layout = self._layout(project, title, figures, rows, change_rows, obs, chart_png,
                                  (first, layers_for(first_layer, ships_first)),
                                  (last, layers_for(last_layer, ships_last)), extent, crs)
            exporter = QgsLayoutExporter(layout)
            settings = QgsLayoutExporter.PdfExportSettings()
            settings.dpi = 200
            settings.rasterizeWholeImage = False
            err = exporter.exportToPdf(pdf_path, settings)
            if err != QgsLayoutExporter.Success:
                raise QgsProcessingException(self.tr("The PDF could not be written to {} (error {}): check the "
                                                     "folder is writable.").format(pdf_path, err))
            feedback.pushInfo(self.tr("PDF written: {} ({} page(s)).").format(pdf_path, layout.pageCollection()
                                                                                .pageCount()))
        if html_path:
            self._write_html(html_path, files_dir, title, figures, rows, change_rows, obs, map_pngs, first, last)
            feedback.pushInfo(self.tr("HTML written: {}").format(html_path))
        steps.setCurrentStep(4)
        return {self.OUTPUT_HTML: html_path, self.OUTPUT_PDF: pdf_path, self.CHART: chart_png}

    # -- data -----------------------------------------------------------
    @staticmethod
    def _chart(rows, png):
        from ..core.chart import activity_chart

        activity_chart([r["acquired"] for r in rows], [r["by_pier"] for r in rows], [r["teu"] for r in rows],
                       [r["occupancy"] for r in rows], png, os.path.splitext(png)[0] + ".svg",
                       title=f"Port activity, {rows[0]['acquired']} to {rows[-1]['acquired']}",
                       ships_total=[r["ships"] for r in rows])

    @staticmethod
    def _dated_layer(ref, context):
        """A raster layer whose temporal properties carry the resolved date (so the child keeps it)."""
        from qgis.core import QgsDateTimeRange
        from qgis.PyQt.QtCore import QDate, QDateTime, QTime

        layer = QgsRasterLayer(ref.path, ref.name, "gdal")
        start = QDateTime(QDate(ref.date.year, ref.date.month, ref.date.day), QTime(0, 0))
        props = layer.temporalProperties()
        props.setFixedTemporalRange(QgsDateTimeRange(start, start))
        props.setIsActive(True)
        # the context owns it and frees it with the run (a layer kept until Python exits outlives QGIS)
        context.temporaryLayerStore().addMapLayer(layer)
        return layer

    @staticmethod
    def _row(f) -> dict:
        names = f.fields().names()
        by_pier = json.loads(f["ships_by_pier"]) if f["ships_by_pier"] else {}
        yards = json.loads(f["yards_json"]) if f["yards_json"] else {}
        teu = f["teu"] if "teu" in names else None
        occ = f["mean_occupancy_pct"] if "mean_occupancy_pct" in names else None
        return {"acquired": _to_date(f["acquired"]), "image": f["image"], "ships": int(f["ships"] or 0),
                "by_pier": by_pier, "teu": None if teu in (None, "") or _is_null(teu) else float(teu),
                "occupancy": None if occ in (None, "") or _is_null(occ) else float(occ), "yards": yards,
                "docked": f["ships_docked"], "anchored": f["ships_anchored"], "underway": f["ships_underway"]}

    def _ships_of(self, dets, date, tag):
        layer = QgsVectorLayer(f"MultiPolygon?crs={dets.crs().authid() or 'EPSG:4326'}", f"ships {tag}", "memory")
        if dets.crs().isValid():
            layer.setCrs(dets.crs())
        layer.dataProvider().addAttributes(dets.fields().toList())
        layer.updateFields()
        feats = []
        for f in dets.getFeatures():
            if f["kind"] == "ship" and _to_date(f["acquired"]) == date:
                nf = QgsFeature(layer.fields())
                nf.setGeometry(f.geometry())
                nf.setAttributes(f.attributes())
                feats.append(nf)
        layer.dataProvider().addFeatures(feats)
        layer.setRenderer(QgsSingleSymbolRenderer(QgsFillSymbol.createSimple(
            {"color": "255,0,0,40", "outline_color": "255,30,30,255", "outline_width": "0.45"})))
        return layer

    def _copy_changes(self, source, crs, context):
        layer = QgsVectorLayer(f"MultiPolygon?crs={crs.authid()}", "changes", "memory")
        layer.setCrs(crs)
        layer.dataProvider().addAttributes(source.fields().toList())
        layer.updateFields()
        xf = None
        if source.sourceCrs().isValid() and crs.isValid() and source.sourceCrs() != crs:
            xf = QgsCoordinateTransform(source.sourceCrs(), crs, context.transformContext())
        feats = []
        for f in source.getFeatures():
            g = f.geometry()
            if xf is not None:
                g.transform(xf)
            g.convertToMultiType()
            nf = QgsFeature(layer.fields())
            nf.setGeometry(g)
            nf.setAttributes(f.attributes())
            feats.append(nf)
        layer.dataProvider().addFeatures(feats)
        return layer

    def _copy_piers(self, source, crs, context, name_field):
        from .base import features_in_crs

        items = features_in_crs(source, crs, context, None, "Piers", name_field or None)
        gtypes = {g.geom_type for g, _ in items}
        kind = "MultiLineString" if gtypes <= {"LineString", "MultiLineString"} else "MultiPolygon"
        layer = QgsVectorLayer(f"{kind}?crs={crs.authid()}&field=name:string", "piers", "memory")
        layer.setCrs(crs)
        from qgis.core import QgsGeometry

        feats = []
        for g, n in items:
            if (kind == "MultiPolygon") != (g.geom_type in ("Polygon", "MultiPolygon")):
                g = g.buffer(1.0) if kind == "MultiPolygon" else g.boundary
            qg = QgsGeometry.fromWkt(g.wkt)
            qg.convertToMultiType()
            f = QgsFeature(layer.fields())
            f.setGeometry(qg)
            f.setAttributes([n])
            feats.append(f)
        layer.dataProvider().addFeatures(feats)
        if kind == "MultiPolygon":
            sym = QgsFillSymbol.createSimple({"color": "0,0,0,0", "outline_color": "40,90,200,255",
                                              "outline_width": "0.35", "outline_style": "dash"})
            layer.setRenderer(QgsSingleSymbolRenderer(sym))
        self._label(layer, '"name"', QColor(20, 60, 160), 7)
        return layer

    @staticmethod
    def _label(layer, expression, colour, size):
        pal = QgsPalLayerSettings()
        pal.fieldName = expression
        pal.isExpression = True
        fmt = QgsTextFormat()
        font = QFont("DejaVu Sans")
        font.setBold(True)
        fmt.setFont(font)
        fmt.setSize(size)
        fmt.setColor(colour)
        buf = fmt.buffer()
        buf.setEnabled(True)
        buf.setSize(0.8)
        buf.setColor(QColor(255, 255, 255))
        fmt.setBuffer(buf)
        pal.setFormat(fmt)
        layer.setLabeling(QgsVectorLayerSimpleLabeling(pal))
        layer.setLabelsEnabled(True)

    def _style_changes(self, layer, n_labels: int = 10):
        """Magenta footprints; only the ``n_labels`` largest get their area written (a page of
        small labels is read by no one; the table lists them all)."""
        sym = QgsFillSymbol.createSimple({"color": "255,0,255,35", "outline_color": "230,0,230,255",
                                          "outline_width": "0.45"})
        layer.setRenderer(QgsSingleSymbolRenderer(sym))
        if "area_m2" in layer.fields().names():
            areas = sorted((float(f["area_m2"]) for f in layer.getFeatures() if not _is_null(f["area_m2"])),
                           reverse=True)
            thr = areas[min(n_labels, len(areas)) - 1] if areas else 0.0
            self._label(layer, f"CASE WHEN \"area_m2\" >= {thr} THEN format_number(\"area_m2\", 0) || ' m²' END",
                        QColor(150, 0, 150), 8)

    @staticmethod
    def _observations(layer, start, end):
        if layer is None:
            return None
        names = layer.fields().names()
        cols = [c for c in OBS_FIELDS if c in names] or names[:8]
        out = []
        for f in layer.getFeatures():
            rec = {c: ("" if _is_null(f[c]) else f[c]) for c in cols}
            when = _to_date(rec.get("observed_at")) if "observed_at" in rec else None
            if when is not None and ((start and when < start) or (end and when > end)):
                continue
            for k, v in rec.items():
                if hasattr(v, "toString"):
                    rec[k] = v.toString("yyyy-MM-dd")
                elif isinstance(v, float):
                    rec[k] = f"{v:,.1f}"
                else:
                    rec[k] = str(v)
            out.append(rec)
        out.sort(key=lambda r: r.get("observed_at", ""))
        return {"columns": cols, "rows": out}

    def _extent(self, aoi_src, raster, crs, context) -> QgsRectangle:
        ext = QgsRectangle(raster.extent())
        if aoi_src is not None:
            from .base import geometries_in_crs

            geoms = geometries_in_crs(aoi_src, crs, context)
            if geoms:
                from shapely.ops import unary_union

                b = unary_union(geoms).bounds
                ext = QgsRectangle(*b)
                ext.grow(max(ext.width(), ext.height()) * 0.03)
        return ext

    @staticmethod
    def _figures(rows, change_rows, first, last) -> dict:
        r0, r1 = rows[0], rows[-1]
        new_m2 = sum(c["area_m2"] for c in change_rows if str(c["type"]).startswith("new"))
        return {"first": first.date, "last": last.date, "n_images": len(rows), "ships0": r0["ships"],
                "ships1": r1["ships"], "teu0": r0["teu"], "teu1": r1["teu"], "n_changes": len(change_rows),
                "change_m2": sum(c["area_m2"] for c in change_rows), "new_m2": new_m2,
                "max_ships": max(rows, key=lambda r: r["ships"])}

    # -- rendering --------------------------------------------------------
    @staticmethod
    def _render_png(layers, extent, crs, png, width_px=1100):
        ms = QgsMapSettings()
        ms.setLayers(layers)
        ms.setDestinationCrs(crs)
        ratio = extent.height() / max(extent.width(), 1e-9)
        ms.setOutputSize(QSize(width_px, max(50, int(width_px * ratio))))
        ms.setExtent(extent)
        ms.setBackgroundColor(QColor(255, 255, 255))
        ms.setOutputDpi(120)
        job = QgsMapRendererSequentialJob(ms)
        job.start()
        job.waitForFinished()
        img: QImage = job.renderedImage()
        img.save(png, "PNG")
        return png

    def _text(self, layout, text, x, y, w, h, size=10, bold=False, colour=None, html_mode=False):
        label = QgsLayoutItemLabel(layout)
        label.setText(text)
        fmt = QFont("DejaVu Sans")
        fmt.setPointSizeF(size)
        fmt.setBold(bold)
        label.setFont(fmt)
        label.setFontColor(colour if colour is not None else QColor(30, 30, 30))
        if html_mode:
            label.setMode(QgsLayoutItemLabel.ModeHtml)
        layout.addLayoutItem(label)
        label.attemptMove(QgsLayoutPoint(x, y, QgsUnitTypes.LayoutMillimeters))
        label.attemptResize(QgsLayoutSize(w, h, QgsUnitTypes.LayoutMillimeters))
        return label

    def _table(self, layout, page_y, x, y, w, h, header, body):
        table = QgsLayoutItemManualTable.create(layout)
        layout.addMultiFrame(table)
        head_cells = []
        for t in header:
            c = QgsTableCell(t)
            c.setBackgroundColor(QColor(30, 60, 110))
            fmt = QgsTextFormat()
            font = QFont("DejaVu Sans")
            font.setBold(True)
            fmt.setFont(font)
            fmt.setSize(8)
            fmt.setColor(QColor(255, 255, 255))
            c.setTextFormat(fmt)
            head_cells.append(c)
        contents = [head_cells]
        for i, row in enumerate(body):
            cells = []
            for v in row:
                c = QgsTableCell(v)
                if i % 2:
                    c.setBackgroundColor(QColor(238, 243, 250))
                fmt = QgsTextFormat()
                fmt.setFont(QFont("DejaVu Sans"))
                fmt.setSize(8)
                c.setTextFormat(fmt)
                cells.append(c)
            contents.append(cells)
        table.setTableContents(contents)
        table.setIncludeTableHeader(False)
        table.setCellMargin(1.2)
        table.setGridStrokeWidth(0.1)
        table.setGridColor(QColor(190, 190, 190))
        table.setResizeMode(QgsLayoutMultiFrame.UseExistingFrames)
        frame = QgsLayoutFrame(layout, table)
        frame.attemptMove(QgsLayoutPoint(x, page_y + y, QgsUnitTypes.LayoutMillimeters))
        frame.attemptResize(QgsLayoutSize(w, h, QgsUnitTypes.LayoutMillimeters))
        table.addFrame(frame)
        return table

    def _map(self, layout, layers, extent, crs, x, y, w, h):
        m = QgsLayoutItemMap(layout)
        m.setRect(0, 0, w, h)  # a map item needs a size before its first extent
        m.setCrs(crs)
        m.setExtent(extent)
        layout.addLayoutItem(m)
        m.attemptMove(QgsLayoutPoint(x, y, QgsUnitTypes.LayoutMillimeters))
        m.attemptResize(QgsLayoutSize(w, h, QgsUnitTypes.LayoutMillimeters))
        m.setLayers(layers)
        m.setKeepLayerSet(True)
        m.zoomToExtent(extent)
        m.setFrameEnabled(True)
        m.setFrameStrokeColor(QColor(60, 60, 60))
        bar = QgsLayoutItemScaleBar(layout)
        bar.setStyle("Single Box")
        bar.setLinkedMap(m)
        bar.setUnits(QgsUnitTypes.DistanceMeters)
        bar.setNumberOfSegments(2)
        bar.setNumberOfSegmentsLeft(0)
        # two segments of a round length, about a sixth of the map each, so the labels never crowd
        span = extent.width() * (111320.0 if crs.isGeographic() else 1.0) / 6.0
        mag = 10 ** math.floor(math.log10(max(span, 1e-6)))
        step = next(k * mag for k in (5, 2, 1) if k * mag <= span) if span >= mag else mag
        bar.setUnitsPerSegment(step)
        bar.setUnitLabel("m")
        bar.setHeight(2.5)
        layout.addLayoutItem(bar)
        bar.setBackgroundEnabled(True)
        bar.attemptMove(QgsLayoutPoint(x + 3, y + h - 12, QgsUnitTypes.LayoutMillimeters))
        return m

    def _layout(self, project, title, fig, rows, change_rows, obs, chart_png, before, after, extent, crs):
        layout = QgsPrintLayout(project)
        layout.initializeDefaults()  # one A4 landscape page
        layout.setName(title)
        pages = layout.pageCollection()
        page_y = [0.0]

        def new_page():
            from qgis.core import QgsLayoutItemPage

            page = QgsLayoutItemPage(layout)
            page.setPageSize("A4", QgsLayoutItemPage.Landscape)
            pages.addPage(page)
            page_y.append(pages.page(pages.pageCount() - 1).pos().y())

        # page 1: before / after
        period = f"{fig['first']:%d %B %Y} – {fig['last']:%d %B %Y}"
        self._text(layout, title, 10, 6, 200, 10, 18, True, QColor(20, 40, 80))
        self._text(layout, f"{period} · {fig['n_images']} image(s)", 10, 16, 200, 7, 10, False, QColor(90, 90, 90))
        mw, mh, top = 134.0, 134.0, 33.0
        for i, ((ref, layers), tag) in enumerate(((before, "Before"), (after, "After"))):
            x = 10 + i * (mw + 9)
            r = rows[0] if i == 0 else rows[-1]
            teu = f", {r['teu']:,.0f} TEU" if r["teu"] is not None else ""
            self._text(layout, f"{tag}: {ref.date:%d %b %Y} — {r['ships']} ships{teu}", x, top - 7, mw, 6, 11, True)
            self._map(layout, layers, extent, crs, x, top, mw, mh)
        change_txt = (f"{fig['n_changes']} change footprint(s), {fig['change_m2']:,.0f} m² in all "
                      f"({fig['new_m2']:,.0f} m² of new structures)" if fig["n_changes"] else "no change footprint")
        teu_txt = (f"TEU {_fmt_int(fig['teu0'])} → {_fmt_int(fig['teu1'])}" if fig["teu0"] is not None else "")
        busiest = fig["max_ships"]
        key = (f"<b>Ships</b> {fig['ships0']} → {fig['ships1']} (most: {busiest['ships']} on "
               f"{busiest['acquired']:%d %b %Y}) &nbsp;·&nbsp; <b>{teu_txt}</b> &nbsp;·&nbsp; <b>Changes</b>: "
               f"{change_txt}")
        self._text(layout, key, 10, top + mh + 4, 277, 8, 10, False, QColor(30, 30, 30), html_mode=True)
        self._text(layout, "Magenta: change footprints (the largest with their areas) · red: ships detected on "
                   "that date · blue dashes: piers. Quayside (synthetic or satellite imagery; figures are automatic "
                   "detections, check before quoting).", 10, top + mh + 12, 277, 8, 7.5, False, QColor(110, 110, 110))

        # page 2: chart + ships per pier per date
        new_page()
        y0 = page_y[-1]
        self._text(layout, "Ships and containers over time", 10, y0 + 6, 200, 9, 15, True, QColor(20, 40, 80))
        if os.path.exists(chart_png):
            pic = QgsLayoutItemPicture(layout)
            pic.setPicturePath(chart_png)
            pic.setResizeMode(QgsLayoutItemPicture.Zoom)
            layout.addLayoutItem(pic)
            pic.attemptMove(QgsLayoutPoint(10, y0 + 17, QgsUnitTypes.LayoutMillimeters))
            pic.attemptResize(QgsLayoutSize(277, 108, QgsUnitTypes.LayoutMillimeters))
        piers = _ordered_piers(rows)
        header = ["Date", "Ships"] + [p for p in piers] + ["TEU", "Occupancy %"]
        body = []
        for r in rows[:MAX_TABLE_ROWS]:
            body.append([f"{r['acquired']:%Y-%m-%d}", str(r["ships"])] + [str(r["by_pier"].get(p, 0)) for p in piers]
                        + [_fmt_int(r["teu"]), "–" if r["occupancy"] is None else f"{r['occupancy']:.1f}"])
        self._table(layout, y0, 10, 128, 277, 76, header, body)

        # page 3: changes and observations
        new_page()
        y0 = page_y[-1]
        self._text(layout, f"Changes {fig['first']:%d %b %Y} → {fig['last']:%d %b %Y}", 10, y0 + 6, 130, 9, 14,
                   True, QColor(20, 40, 80))
        if change_rows:
            body = [[str(i + 1), str(c["type"]), f"{c['area_m2']:,.0f}",
                     "–" if c["score"] is None or _is_null(c["score"]) else f"{float(c['score']):.2f}"]
                    for i, c in enumerate(change_rows[:MAX_TABLE_ROWS])]
            self._table(layout, y0, 10, 18, 125, 180, ["#", "Type", "Area (m²)", "Score"], body)
        else:
            self._text(layout, "No change footprint.", 10, y0 + 18, 120, 8)
        self._text(layout, "Observations log", 145, y0 + 6, 140, 9, 14, True, QColor(20, 40, 80))
        if obs and obs["rows"]:
            cols = [c for c in obs["columns"] if c not in ("source",)][:7]
            body = [[str(r.get(c, ""))[:40] for c in cols] for r in obs["rows"][:MAX_TABLE_ROWS]]
            self._table(layout, y0, 145, 18, 142, 180, cols, body)
            if len(obs["rows"]) > MAX_TABLE_ROWS:
                self._text(layout, f"… and {len(obs['rows']) - MAX_TABLE_ROWS} more (all in the HTML report).",
                           145, y0 + 200, 140, 6, 8)
        else:
            self._text(layout, "No observations given for this period.", 145, y0 + 18, 140, 8)
        return layout

    # -- HTML -------------------------------------------------------------
    def _write_html(self, path, files_dir, title, fig, rows, change_rows, obs, map_pngs, first, last):
        rel = os.path.basename(files_dir)
        esc = html.escape
        piers = _ordered_piers(rows)
        svg = os.path.join(files_dir, "activity.svg")
        chart = f"{rel}/activity.svg" if os.path.exists(svg) else f"{rel}/activity.png"
        parts = [f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{esc(title)}</title><style>
body{{font-family:'DejaVu Sans',Arial,sans-serif;margin:24px auto;max-width:1200px;color:#222}}
h1{{color:#14285a;margin-bottom:0}} .sub{{color:#666;margin-top:4px}} h2{{color:#14285a;margin-top:32px}}
.maps{{display:flex;gap:16px}} .maps figure{{flex:1;margin:0}} .maps img{{width:100%;border:1px solid #555}}
figcaption{{font-weight:bold;margin-bottom:6px}} .key{{background:#eef3fa;padding:10px 14px;border-radius:6px}}
table{{border-collapse:collapse;font-size:13px}} th{{background:#1e3c6e;color:#fff;padding:4px 8px}}
td{{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}} td.l{{text-align:left}}
tr:nth-child(even) td{{background:#f4f7fb}} .legend{{color:#777;font-size:12px}}
</style></head><body>
<h1>{esc(title)}</h1><p class="sub">{fig['first']:%d %B %Y} – {fig['last']:%d %B %Y} · {fig['n_images']} image(s)</p>
<p class="key"><b>Ships</b> {fig['ships0']} → {fig['ships1']} &nbsp;·&nbsp; <b>TEU</b> {_fmt_int(fig['teu0'])} →
{_fmt_int(fig['teu1'])} &nbsp;·&nbsp; <b>Changes</b> {fig['n_changes']} footprint(s), {fig['change_m2']:,.0f} m²
({fig['new_m2']:,.0f} m² new)</p>
<div class="maps">"""]
        for png, ref, r, tag in ((map_pngs[0], first, rows[0], "Before"), (map_pngs[1], last, rows[-1], "After")):
            parts.append(f'<figure><figcaption>{tag}: {ref.date:%d %b %Y} — {r["ships"]} ships</figcaption>'
                         f'<img src="{rel}/{os.path.basename(png)}" alt="{tag} {ref.date}"></figure>')
        parts.append('</div><p class="legend">Magenta: change footprints with their areas · red: ships detected on '
                     'that date · blue dashes: piers.</p>')
        parts.append(f'<h2>Ships and containers over time</h2><img src="{chart}" style="width:100%">')
        parts.append("<h2>Ships per pier per date</h2><table><tr><th>Date</th><th>Image</th><th>Ships</th>"
                     + "".join(f"<th>{esc(p)}</th>" for p in piers) + "<th>TEU</th><th>Occupancy %</th></tr>")
        for r in rows:
            occ = "–" if r["occupancy"] is None else f"{r['occupancy']:.1f}"
            parts.append(f"<tr><td class=l>{r['acquired']}</td><td class=l>{esc(str(r['image']))}</td>"
                         f"<td>{r['ships']}</td>" + "".join(f"<td>{r['by_pier'].get(p, 0)}</td>" for p in piers)
                         + f"<td>{_fmt_int(r['teu'])}</td><td>{occ}</td></tr>")
        parts.append("</table>")
        parts.append(f"<h2>Changes {fig['first']} → {fig['last']}</h2>")
        if change_rows:
            parts.append("<table><tr><th>#</th><th>Type</th><th>Area (m²)</th></tr>")
            for i, c in enumerate(change_rows):
                parts.append(f"<tr><td>{i + 1}</td><td class=l>{esc(str(c['type']))}</td>"
                             f"<td>{c['area_m2']:,.0f}</td></tr>")
            parts.append("</table>")
        else:
            parts.append("<p>No change footprint.</p>")
        parts.append("<h2>Observations log</h2>")
        if obs and obs["rows"]:
            parts.append("<table><tr>" + "".join(f"<th>{esc(c)}</th>" for c in obs["columns"]) + "</tr>")
            for r in obs["rows"]:
                parts.append("<tr>" + "".join(f"<td class=l>{esc(str(r.get(c, '')))}</td>" for c in obs["columns"])
                             + "</tr>")
            parts.append("</table>")
        else:
            parts.append("<p>No observations given for this period.</p>")
        parts.append("</body></html>")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("\n".join(parts))


def crs_auth(path: str) -> str:
    layer = QgsRasterLayer(path, "x", "gdal")
    return layer.crs().authid() or "EPSG:4326"


def _is_null(v) -> bool:
    return v is None or (hasattr(v, "isNull") and callable(v.isNull) and v.isNull())


def _ordered_piers(rows):
    totals = {}
    for r in rows:
        for k, v in r["by_pier"].items():
            totals[k] = totals.get(k, 0) + int(v or 0)
    named = sorted((k for k in totals if k != ts.NO_PIER), key=lambda k: (-totals[k], k))
    return named + ([ts.NO_PIER] if ts.NO_PIER in totals else [])

