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


def _labels(layer, expression, size=8.0):
    from qgis.core import QgsPalLayerSettings, QgsTextBufferSettings, QgsTextFormat, QgsVectorLayerSimpleLabeling
    from qgis.PyQt.QtGui import QFont

    pal = QgsPalLayerSettings()
    pal.fieldName = expression
    pal.isExpression = True
    fmt = QgsTextFormat()
    fmt.setFont(QFont("DejaVu Sans"))
    fmt.setSize(size)
    fmt.setColor(QColor(255, 255, 255))
    buf = QgsTextBufferSettings()
    buf.setEnabled(True)
    buf.setColor(QColor(0, 0, 0))
    buf.setSize(0.8)
    fmt.setBuffer(buf)
    pal.setFormat(fmt)
    layer.setLabeling(QgsVectorLayerSimpleLabeling(pal))
    layer.setLabelsEnabled(True)


def containers(path):
    """Stacks coloured by TEU density (TEU per 100 m² of stack footprint)."""
    from qgis.core import QgsGraduatedSymbolRenderer, QgsRendererRange

    layer = QgsVectorLayer("Polygon?crs=EPSG:32651&field=teu:double&field=area_m2:double", "containers", "memory")
    ranges = []
    for lo, hi, colour, label in ((0.0, 2.0, "255,255,178", "< 2 TEU / 100 m²"),
                                  (2.0, 4.0, "254,204,92", "2–4"),
                                  (4.0, 6.0, "253,141,60", "4–6"),
                                  (6.0, 10.0, "240,59,32", "6–10"),
                                  (10.0, 1e9, "189,0,38", "≥ 10 (stacked)")):
        sym = QgsFillSymbol.createSimple({"color": colour + ",170", "outline_color": "60,20,0,255",
                                          "outline_width": "0.2", "outline_width_unit": "MM"})
        ranges.append(QgsRendererRange(lo, hi, sym, label))
    renderer = QgsGraduatedSymbolRenderer("100 * \"teu\" / max(\"area_m2\", 1)", ranges)
    layer.setRenderer(renderer)
    _labels(layer, "if(\"teu\" >= 4, format('%1 TEU', round(\"teu\")), '')", 7.0)
    layer.saveNamedStyle(path)


def yards(path):
    layer = QgsVectorLayer("Polygon?crs=EPSG:32651&field=yard:string&field=occupancy_pct:double", "yards",
                           "memory")
    sym = QgsFillSymbol.createSimple({"color": "0,0,0,0", "outline_color": "255,230,0,255",
                                      "outline_width": "0.7", "outline_width_unit": "MM",
                                      "outline_style": "dash"})
    layer.setRenderer(QgsSingleSymbolRenderer(sym))
    _labels(layer, "format('%1: %2 %', \"yard\", round(\"occupancy_pct\"))", 9.0)
    layer.saveNamedStyle(path)


def changes(path):
    from qgis.core import QgsCategorizedSymbolRenderer, QgsRendererCategory

    layer = QgsVectorLayer("Polygon?crs=EPSG:32651&field=type:string&field=area_m2:double", "changes", "memory")
    cats = []
    for value, colour, label in (("new_structure", "230,30,30", "new structure"),
                                 ("removed_structure", "40,90,255", "removed structure"),
                                 ("water_to_land", "150,90,30", "water → land"),
                                 ("land_to_water", "0,200,220", "land → water"),
                                 ("other_surface", "200,200,200", "other surface")):
        sym = QgsFillSymbol.createSimple({"color": colour + ",60", "outline_color": colour + ",255",
                                          "outline_width": "0.6", "outline_width_unit": "MM"})
        cats.append(QgsRendererCategory(value, sym, label))
    layer.setRenderer(QgsCategorizedSymbolRenderer("type", cats))
    _labels(layer, "if(\"area_m2\" >= 500, format('%1 m²', format_number(\"area_m2\", 0)), '')", 8.0)
    layer.saveNamedStyle(path)


def change_raster(path, tmp):
    """Change magnitude: transparent where small, yellow to red where large."""
    import numpy as np
    import rasterio
    from qgis.core import QgsColorRampShader, QgsRasterShader, QgsSingleBandPseudoColorRenderer

    tif = os.path.join(tmp, "change.tif")
    with rasterio.open(tif, "w", driver="GTiff", width=2, height=2, count=1, dtype="float32") as d:
        d.write(np.array([[[0, 1], [2, 3]]], np.float32))
    layer = QgsRasterLayer(tif, "change")
    ramp = QgsColorRampShader(0.0, 3.0)
    ramp.setColorRampType(QgsColorRampShader.Interpolated)
    ramp.setColorRampItemList([QgsColorRampShader.ColorRampItem(0.0, QColor(255, 255, 0, 0), "no change"),
                               QgsColorRampShader.ColorRampItem(1.0, QColor(255, 255, 0, 120), "threshold"),
                               QgsColorRampShader.ColorRampItem(3.0, QColor(220, 0, 0, 220), "strong change")])
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(ramp)
    layer.setRenderer(QgsSingleBandPseudoColorRenderer(layer.dataProvider(), 1, shader))
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
    containers(os.path.join(STYLES, "containers.qml"))
    yards(os.path.join(STYLES, "yards.qml"))
    changes(os.path.join(STYLES, "changes.qml"))
    change_raster(os.path.join(STYLES, "change_raster.qml"), tmp)
    app.exitQgis()
    print("styles written to", STYLES)


if __name__ == "__main__":
    sys.exit(main())
