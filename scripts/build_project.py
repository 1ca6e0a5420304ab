"""Build the demo's QGIS project (.qgz) and render an overview PNG with QGIS.

usage: build_project.py MANIFEST.json

The manifest lists rasters (bottom) and vector layers (on top) with the QML
style of each. Runs QGIS headless (QT_QPA_PLATFORM=offscreen).
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STYLES = os.path.join(REPO, "processing", "styles")


def main(manifest_path: str) -> int:
    with open(manifest_path) as fh:
        manifest = json.load(fh)
    out = os.path.dirname(os.path.abspath(manifest_path))
    app = QgsApplication([], False)
    app.initQgis()
    project = QgsProject.instance()
    project.setTitle("Quayside demo port")
    root = project.layerTreeRoot()
    groups = {}
    rendered = []
    for spec in reversed(manifest.get("layers", [])):
        layer = QgsVectorLayer(spec["uri"], spec["name"], "ogr")
        if not layer.isValid():
            print("invalid layer", spec["uri"], file=sys.stderr)
            continue
        if spec.get("style"):
            layer.loadNamedStyle(os.path.join(STYLES, spec["style"]))
        project.addMapLayer(layer, False)
        parent = root
        if spec.get("group"):
            parent = groups.get(spec["group"]) or root.addGroup(spec["group"])
            groups[spec["group"]] = parent
        node = parent.addLayer(layer)
        node.setItemVisibilityChecked(bool(spec.get("visible", True)))
        if spec.get("visible", True):
            rendered.append(layer)
    base = None
    n_vectors = len(root.children())
    for i, spec in enumerate(manifest.get("rasters", [])):
        layer = QgsRasterLayer(spec["path"], spec["name"])
        if not layer.isValid():
            print("invalid raster", spec["path"], file=sys.stderr)
            continue
        if spec.get("style"):
            layer.loadNamedStyle(os.path.join(STYLES, spec["style"]))
        project.addMapLayer(layer, False)
        # derived rasters (change magnitude) go above the imagery, under the vectors
        node = root.insertLayer(n_vectors, layer) if spec.get("above") else root.addLayer(layer)
        node.setItemVisibilityChecked(bool(spec.get("visible", i == 0)))
        if i == 0:
            base = layer
    for spec in manifest.get("tables", []):
        table = QgsVectorLayer(spec["uri"], spec["name"], "ogr")
        if table.isValid():
            project.addMapLayer(table, False)
            (groups.get("tables") or groups.setdefault("tables", root.addGroup("tables"))).addLayer(table)
    if base is not None:
        project.setCrs(base.crs())
        rendered.append(base)
        from qgis.core import QgsReferencedRectangle

        project.viewSettings().setDefaultViewExtent(QgsReferencedRectangle(base.extent(), base.crs()))
    qgz = os.path.join(out, "quayside_demo.qgz")
    project.write(qgz)

    settings = QgsMapSettings()
    settings.setLayers(rendered)
    settings.setDestinationCrs(project.crs())
    extent = QgsRectangle(base.extent()) if base is not None else QgsRectangle()
    settings.setExtent(extent)
    settings.setOutputSize(QSize(1600, int(1600 * extent.height() / max(extent.width(), 1e-9))))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    png = os.path.join(out, "quayside_demo_overview.png")
    job.renderedImage().save(png, "PNG")
    print("wrote", qgz, png)
    app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
