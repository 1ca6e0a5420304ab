"""Build processing/models/port_activity.model3 with QgsProcessingModelAlgorithm.

The model chains, for a folder of dated images and one reference image:
water mask (reference) -> ship detection (reference, WATER = that mask);
container detection (reference); the activity time series (folder); the port
report (folder, reusing the time series' table and detections).

Run with the project's venv (it sees Debian's QGIS):
    .venv/bin/python scripts/make_model.py [--out processing/models/port_activity.model3]
"""

from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PLUGINS = os.path.join(REPO, ".qgis", "profiles", "default", "python", "plugins")
DEFAULT_OUT = os.path.join(REPO, "processing", "models", "port_activity.model3")


def start_qgis():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    for p in (PLUGINS, "/usr/share/qgis/python/plugins"):
        if p not in sys.path:
            sys.path.insert(0 if p == PLUGINS else len(sys.path), p)
    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    import quayside

    plugin = quayside.classFactory(None)
    plugin.initProcessing()
    return app, plugin


def build_model():
    from qgis.core import (
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
        QgsProcessingModelOutput,
        QgsProcessingModelParameter,
        QgsProcessingParameterFeatureSource,
        QgsProcessingParameterField,
        QgsProcessingParameterFile,
        QgsProcessingParameterNumber,
        QgsProcessingParameterRasterLayer,
    )
    from qgis.core import (
        QgsProcessingModelChildParameterSource as Src,
    )
    from qgis.PyQt.QtCore import QPointF

    model = QgsProcessingModelAlgorithm("Port activity", "Quayside")
    model.setHelpContent({
        "ALG_DESC": "For a folder of dated images of one port and a reference image: water mask and ships of "
                    "the reference, its container yards, the activity time series of the whole folder (table, "
                    "detections of every date, chart) and the illustrated report (PDF and HTML).",
        "folder": "Folder holding the dated images (dates in metadata or file names).",
        "reference": "The image to analyse in detail (water, ships, containers); usually the latest one.",
        "piers": "Optional piers (lines or polygons) with a name field.",
        "yards": "Optional container yards (polygons) with a name field; found automatically when empty.",
    })

    def param(p, x, y):
        model.addModelParameter(p, QgsProcessingModelParameter(p.name()))
        model.parameterComponent(p.name()).setPosition(QPointF(x, y))

    from qgis.core import QgsProcessing

    param(QgsProcessingParameterFile("folder", "Folder of images", behavior=QgsProcessingParameterFile.Folder),
          120, 60)
    param(QgsProcessingParameterRasterLayer("reference", "Reference image"), 360, 60)
    param(QgsProcessingParameterFeatureSource("piers", "Piers", [QgsProcessing.TypeVectorLine,
                                                                QgsProcessing.TypeVectorPolygon], optional=True),
          600, 60)
    param(QgsProcessingParameterField("pier_name_field", "Pier name field", "name", "piers", optional=True),
          840, 60)
    param(QgsProcessingParameterFeatureSource("yards", "Yards", [QgsProcessing.TypeVectorPolygon], optional=True),
          1080, 60)
    param(QgsProcessingParameterField("yard_name_field", "Yard name field", "name", "yards", optional=True),
          1320, 60)
    param(QgsProcessingParameterNumber("stack_tiers", "Stack tiers (boxes per stack)",
                                       QgsProcessingParameterNumber.Integer, 1, minValue=1, maxValue=12), 1560, 60)

    def child(cid, alg, desc, x, y, sources, outputs):
        c = QgsProcessingModelChildAlgorithm(alg)
        c.setChildId(cid)
        c.setDescription(desc)
        c.setPosition(QPointF(x, y))
        for k, v in sources.items():
            c.addParameterSources(k, [v])
        # mandatory parameters left to the algorithm's defaults are stated in the model
        for d in c.algorithm().parameterDefinitions():
            if d.name() in sources or d.isDestination() or d.flags() & d.FlagOptional:
                continue
            if d.defaultValue() is not None:
                c.addParameterSources(d.name(), [Src.fromStaticValue(d.defaultValue())])
        outs = {}
        for child_out, (name, desc_out) in outputs.items():
            o = QgsProcessingModelOutput(name, desc_out)
            o.setChildId(cid)
            o.setChildOutputName(child_out)
            o.setDescription(desc_out)
            outs[name] = o
        c.setModelOutputs(outs)
        model.addChildAlgorithm(c)
        return c

    child("watermask", "quayside:watermask", "Water mask of the reference", 360, 220,
          {"INPUT": Src.fromModelParameter("reference")}, {"OUTPUT": ("water", "Water")})
    child("detectships", "quayside:detectships", "Ships on the reference", 360, 380,
          {"INPUT": Src.fromModelParameter("reference"), "WATER": Src.fromChildOutput("watermask", "OUTPUT"),
           "PIERS": Src.fromModelParameter("piers"), "PIER_NAME_FIELD": Src.fromModelParameter("pier_name_field")},
          {"OUTPUT": ("ships", "Ships (reference)")})
    child("detectcontainers", "quayside:detectcontainers", "Containers on the reference", 700, 300,
          {"INPUT": Src.fromModelParameter("reference"), "YARDS": Src.fromModelParameter("yards"),
           "YARD_NAME_FIELD": Src.fromModelParameter("yard_name_field"),
           "STACK_TIERS": Src.fromModelParameter("stack_tiers")},
          {"OUTPUT": ("stacks", "Container stacks (reference)"), "SUMMARY": ("yard_summary", "Yard summary")})
    series_src = {"FOLDER": Src.fromModelParameter("folder"), "PIERS": Src.fromModelParameter("piers"),
                  "PIER_NAME_FIELD": Src.fromModelParameter("pier_name_field"),
                  "YARDS": Src.fromModelParameter("yards"),
                  "YARD_NAME_FIELD": Src.fromModelParameter("yard_name_field"),
                  "STACK_TIERS": Src.fromModelParameter("stack_tiers")}
    child("timeseries", "quayside:activitytimeseries", "Activity time series of the folder", 1100, 300,
          series_src, {"OUTPUT": ("activity", "Activity per image"), "DETECTIONS": ("detections", "Detections"),
                       "CHART": ("chart", "Chart (PNG)")})
    report_src = dict(series_src)
    report_src["SERIES"] = Src.fromChildOutput("timeseries", "OUTPUT")
    report_src["DETECTIONS"] = Src.fromChildOutput("timeseries", "DETECTIONS")
    child("report", "quayside:portreport", "Port report", 1100, 480, report_src,
          {"OUTPUT_HTML": ("report_html", "Report (HTML)"), "OUTPUT_PDF": ("report_pdf", "Report (PDF)")})
    model.updateDestinationParameters()
    return model


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    a = ap.parse_args(argv)
    app, plugin = start_qgis()
    model = build_model()
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    if not model.toFile(a.out):
        print(f"could not write {a.out}", file=sys.stderr)
        return 1
    ok, errors = model.validate() if hasattr(model, "validate") else (True, [])
    print(f"wrote {a.out}: {len(model.childAlgorithms())} steps, "
          f"{len(model.parameterDefinitions())} parameters{'' if ok else '; problems: ' + '; '.join(errors)}")
    plugin.unload()
    return 0


if __name__ == "__main__":
    sys.exit(main())
