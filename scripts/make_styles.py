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


def main():
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QgsApplication([], False)
    app.initQgis()
    os.makedirs(STYLES, exist_ok=True)
    tmp = tempfile.mkdtemp()
    water_vector(os.path.join(STYLES, "water.qml"))
    water_raster(os.path.join(STYLES, "water_mask.qml"), tmp)
    app.exitQgis()
    print("styles written to", STYLES)


if __name__ == "__main__":
    sys.exit(main())
