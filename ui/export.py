"""Export the piers and the observations log to GeoPackage, GeoJSON, CSV or KML
with QgsVectorFileWriter.

A GeoPackage gets both tables in one file; the single-table formats get one
file per table: ``NAME_piers.EXT`` and ``NAME_observations.EXT``. CSV carries
the geometry as WKT (column ``WKT``) with a ``.csvt`` so the types come back;
KML (LIBKML when GDAL has it) keeps every field as ExtendedData.
"""

from __future__ import annotations

import os
import re
from typing import Dict, List

from osgeo import ogr
from qgis.core import QgsCoordinateReferenceSystem, QgsProject, QgsVectorFileWriter, QgsVectorLayer
from qgis.PyQt.QtCore import QCoreApplication

from .store import OBSERVATIONS, PIERS, StoreError

FORMATS: Dict[str, tuple] = {
    # key: (label, driver, extension, layer options)
    "gpkg": ("GeoPackage", "GPKG", ".gpkg", []),
    "geojson": ("GeoJSON", "GeoJSON", ".geojson", ["RFC7946=YES"]),
    "csv": ("CSV", "CSV", ".csv", ["GEOMETRY=AS_WKT", "CREATE_CSVT=YES"]),
    "kml": ("KML", "LIBKML" if ogr.GetDriverByName("LIBKML") else "KML", ".kml", []),
}


def tr(text: str) -> str:
    return QCoreApplication.translate("QuaysideExport", text)


def format_for_path(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    for key, (_label, _drv, e, _opts) in FORMATS.items():
        if ext == e or (key == "geojson" and ext == ".json"):
            return key
    raise StoreError(tr("Unknown export format {!r}: use .gpkg, .geojson, .csv or .kml.").format(ext or path))


def output_paths(path: str, fmt: str) -> Dict[str, str]:
    """Where each table goes for ``path`` in format ``fmt``."""
    if fmt == "gpkg":
        return {PIERS: path, OBSERVATIONS: path}
    stem, ext = os.path.splitext(path)
    ext = ext or FORMATS[fmt][2]
    return {table: f"{stem}_{table}{ext}" for table in (PIERS, OBSERVATIONS)}


def _null_geometry_fids(layer: QgsVectorLayer) -> set:
    return {f.id() for f in layer.getFeatures() if not f.hasGeometry()}


def _drop_kml_placeholders(path: str, fids: set) -> None:
    """QgsVectorFileWriter writes a missing geometry as a point at 0,0; take those out of the
    placemarks whose ``fid`` had no geometry, so the KML says "no location" instead of Null Island."""
    if not fids:
        return
    with open(path, encoding="utf-8") as fh:
        text = fh.read()

    def fix(match):
        block = match.group(0)
        fid = re.search(r'<SimpleData name="fid">([0-9.]+)</SimpleData>', block)
        if fid and int(float(fid.group(1))) in fids:
            block = re.sub(r"\s*<Point>\s*<coordinates>[^<]*</coordinates>\s*</Point>", "", block)
        return block

    fixed = re.sub(r"<Placemark\b.*?</Placemark>", fix, text, flags=re.S)
    if fixed != text:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(fixed)


def _write(layer: QgsVectorLayer, out: str, fmt: str, table: str, first: bool) -> None:
    _label, driver, _ext, opts = FORMATS[fmt]
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = driver
    options.layerName = table
    options.fileEncoding = "UTF-8"
    options.layerOptions = list(opts)
    if fmt == "gpkg" and not first:
        options.actionOnExistingFile = QgsVectorFileWriter.CreateOrOverwriteLayer
    else:
        options.actionOnExistingFile = QgsVectorFileWriter.CreateOrOverwriteFile
    context = QgsProject.instance().transformContext()
    if hasattr(QgsVectorFileWriter, "writeAsVectorFormatV3"):
        result = QgsVectorFileWriter.writeAsVectorFormatV3(layer, out, context, options)
    else:  # pragma: no cover (QGIS < 3.20)
        result = QgsVectorFileWriter.writeAsVectorFormatV2(layer, out, context, options)
    error, message = result[0], result[1] if len(result) > 1 else ""
    if error != QgsVectorFileWriter.NoError:
        raise StoreError(tr("Could not write {}: {}").format(out, message or error))
    if fmt == "csv":
        _blank_empty_wkt(out)
    elif fmt == "kml":
        _drop_kml_placeholders(out, _null_geometry_fids(layer))


def _blank_empty_wkt(path: str) -> None:
    """QgsVectorFileWriter writes a missing geometry as ``POINT EMPTY``, which QGIS reads back as
    POINT (0 0); a blank WKT cell reads back as no geometry."""
    with open(path, encoding="utf-8", newline="") as fh:
        text = fh.read()
    fixed = re.sub(r'(?m)^"?[A-Z]+ EMPTY"?,', ",", text)
    if fixed != text:
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(fixed)


def export_store(store, path: str, fmt: str = None) -> List[str]:
    """Write piers and observations from ``store`` to ``path``; returns the files written."""
    fmt = fmt or format_for_path(path)
    if fmt not in FORMATS:
        raise StoreError(tr("Unknown export format {!r}.").format(fmt))
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise StoreError(tr("The folder {} does not exist.").format(folder))
    if not os.access(folder, os.W_OK):
        raise StoreError(tr("The folder {} is read-only: choose another place to export to.").format(folder))
    outs = output_paths(path, fmt)
    written = []
    for i, table in enumerate((PIERS, OBSERVATIONS)):
        layer = QgsVectorLayer(store.layer_uri(table), table, "ogr")
        if not layer.isValid():
            raise StoreError(tr("Could not read the {} table of {}.").format(table, store.path))
        if not layer.crs().isValid():
            layer.setCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
        _write(layer, outs[table], fmt, table, first=(i == 0))
        if outs[table] not in written:
            written.append(outs[table])
    return written
