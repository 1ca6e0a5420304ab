"""Write the QML styles in processing/styles/ with QGIS's own renderer classes.

Run with the project's venv python (it sees Debian's QGIS):
    .venv/bin/python scripts/make_styles.py
The QML files are committed; re-run this after changing a style here.
"""

import os
import sys

from qgis.core import (
    QgsApplication,
    QgsFillSymbol,
    QgsPalettedRasterRenderer,
    QgsRasterLayer,
    QgsSingleSymbolRenderer,
    QgsVectorLayer,
)
from qgis.PyQt.QtGui import QColor

HERE = os.path.dirname(os.path.abspath(__file__))
STYLES = os.path.join(os.path.dirname(HERE), "processing", "styles")


def water_vector(path):
    layer = QgsVectorLayer("MultiPolygon?crs=EPSG:32651&field=class:string&field=area_m2:double", "water", "memory")
    sym = QgsFillSymbol.createSimple({"color": "40,120,220,70", "outline_color": "20,90,200,255",
                                      "outline_width": "0.4", "outline_width_unit": "MM"})
    layer.setRenderer(QgsSingleSymbolRenderer(sym))
    layer.saveNamedStyle(path)


def water_raster(path, tmp):
    import numpy as np
    import rasterio

    tif = os.path.join(tmp, "mask.tif")
    with rasterio.open(tif, "w", driver="GTiff", width=2, height=2, count=1, dtype="uint8", nodata=255) as d:
        d.write(np.array([[[0, 1], [1, 0]]], np.uint8))
    layer = QgsRasterLayer(tif, "mask")
    classes = [QgsPalettedRasterRenderer.Class(0, QColor(0, 0, 0, 0), "land"),
               QgsPalettedRasterRenderer.Class(1, QColor(30, 110, 230, 150), "water")]
    layer.setRenderer(QgsPalettedRasterRenderer(layer.dataProvider(), 1, classes))
    layer.saveNamedStyle(path)


def ships(path):
    from qgis.core import (
        QgsCategorizedSymbolRenderer,
        QgsPalLayerSettings,
        QgsRendererCategory,
        QgsTextBufferSettings,
        QgsTextFormat,
        QgsVectorLayerSimpleLabeling,
    )
    from qgis.PyQt.QtGui import QFont

    layer = QgsVectorLayer("Polygon?crs=EPSG:32651&field=length_m:double&field=state:string", "ships", "memory")
    cats = []
    for value, colour, label in (("docked", "255,140,0", "docked"), ("anchored", "0,220,255", "anchored"),
                                 ("underway", "255,0,200", "underway")):
        sym = QgsFillSymbol.createSimple({"color": "0,0,0,0", "outline_color": colour + ",255",
                                          "outline_width": "0.6", "outline_width_unit": "MM"})
        cats.append(QgsRendererCategory(value, sym, label))
    layer.setRenderer(QgsCategorizedSymbolRenderer("state", cats))
    pal = QgsPalLayerSettings()
    pal.fieldName = "format('%1 m', round(\"length_m\"))"
    pal.isExpression = True
    fmt = QgsTextFormat()
    fmt.setFont(QFont("DejaVu Sans"))
    fmt.setSize(8)
    fmt.setColor(QColor(255, 255, 255))
    buf = QgsTextBufferSettings()
    buf.setEnabled(True)
    buf.setColor(QColor(0, 0, 0))
    buf.setSize(0.8)
    fmt.setBuffer(buf)
    pal.setFormat(fmt)
    layer.setLabeling(QgsVectorLayerSimpleLabeling(pal))
    layer.setLabelsEnabled(True)
    layer.saveNamedStyle(path)


def main():
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QgsApplication([], False)
    app.initQgis()
    os.makedirs(STYLES, exist_ok=True)
    tmp = tempfile.mkdtemp()
    water_vector(os.path.join(STYLES, "water.qml"))
    water_raster(os.path.join(STYLES, "water_mask.qml"), tmp)
    ships(os.path.join(STYLES, "ships.qml"))
    app.exitQgis()
    print("styles written to", STYLES)


if __name__ == "__main__":
    sys.exit(main())
