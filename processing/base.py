"""Shared plumbing for Quayside's algorithms: progress, cancel, errors,
layer reprojection and output styling."""

from __future__ import annotations

import os
from typing import List, Optional

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeatureRequest,
    QgsField,
    QgsFields,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingLayerPostProcessorInterface,
    QgsProcessingParameterBand,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProject,
)
from qgis.PyQt.QtCore import QCoreApplication, QDate

from ..core.errors import Cancelled, InputError
from ..icons import icon

STYLE_DIR = os.path.join(os.path.dirname(__file__), "styles")


def style_path(name: str) -> str:
    return os.path.join(STYLE_DIR, name)


class StyleOnLoad(QgsProcessingLayerPostProcessorInterface):
    """Applies a QML style to an output layer when Processing loads it."""

    _keep = []  # post-processors must outlive processAlgorithm

    def __init__(self, qml: str):
        super().__init__()
        self.qml = qml

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802
        if layer is not None and layer.isValid() and os.path.exists(self.qml):
            layer.loadNamedStyle(self.qml)
            layer.triggerRepaint()

    @classmethod
    def attach(cls, context, layer_id: str, qml: str) -> None:
        if not layer_id or not context.willLoadLayerOnCompletion(layer_id):
            return
        proc = cls(style_path(qml))
        cls._keep.append(proc)
        context.layerToLoadOnCompletionDetails(layer_id).setPostProcessor(proc)


class QuaysideAlgorithm(QgsProcessingAlgorithm):
    """Base class: identity from class attributes, translation, icon, and core-call helpers.

    A subclass sets ``ALG_ID`` (lower-case id), ``DISPLAY_NAME`` and ``GROUP``
    (group id, group name); the names are translated through :meth:`tr`."""

    ALG_ID = ""
    DISPLAY_NAME = ""
    GROUP = ("", "")

    def name(self) -> str:
        return self.ALG_ID

    def displayName(self) -> str:  # noqa: N802
        return self.tr(self.DISPLAY_NAME)

    def group(self) -> str:
        return self.tr(self.GROUP[1])

    def groupId(self) -> str:  # noqa: N802
        return self.GROUP[0]

    def tr(self, text: str) -> str:
        return QCoreApplication.translate(type(self).__name__, text)

    def icon(self):
        return icon("quayside.svg")

    def createInstance(self):  # noqa: N802
        return type(self)()

    @staticmethod
    def progress_cb(feedback, start: float = 0.0, span: float = 100.0):
        def cb(frac: float) -> None:
            if feedback is not None:
                feedback.setProgress(start + span * max(0.0, min(1.0, frac)))
        return cb

    @staticmethod
    def cancel_cb(feedback):
        return (lambda: feedback.isCanceled()) if feedback is not None else None

    # band roles shared by the optical algorithms (parameter names RED, GREEN, BLUE, NIR)
    BAND_ROLES = (("RED", "Red band"), ("GREEN", "Green band"), ("BLUE", "Blue band"), ("NIR", "Near-infrared band"))

    def add_band_parameters(self, parent: str, advanced: bool = False) -> None:
        """Optional band-role parameters; empty means "from the colour interpretation"."""

        for key, label in self.BAND_ROLES:
            p = QgsProcessingParameterBand(
                key, self.tr(label + " (empty = from the raster's colour interpretation or band names)"),
                None, parent, optional=True)
            if advanced:
                p.setFlags(p.flags() | p.FlagAdvanced)
            self.addParameter(p)

    # parameter groups shared by the algorithms (one declaration, one wording)

    def _add(self, param, advanced: bool = False) -> None:
        if advanced:
            param.setFlags(param.flags() | param.FlagAdvanced)
        self.addParameter(param)

    def add_aoi_parameter(self, key: str = "AOI") -> None:
        """Optional area-of-interest polygons."""

        self._add(QgsProcessingParameterFeatureSource(key, self.tr("Area of interest"),
                                                      [QgsProcessing.TypeVectorPolygon], optional=True))

    def add_sensitivity_parameter(self, key: str = "SENSITIVITY", label: str = "Sensitivity (0–1)",
                                  advanced: bool = False) -> None:
        """A 0..1 sensitivity, 0.5 by default."""

        self._add(QgsProcessingParameterNumber(key, self.tr(label), QgsProcessingParameterNumber.Double, 0.5,
                                               minValue=0.0, maxValue=1.0), advanced)

    def _add_named_layer(self, key: str, label: str, kinds, field_key: str, field_label: str) -> None:

        self._add(QgsProcessingParameterFeatureSource(key, self.tr(label), kinds, optional=True))
        self._add(QgsProcessingParameterField(field_key, self.tr(field_label), "name", key, optional=True))

    def add_piers_parameters(self, key: str = "PIERS", field_key: str = "PIER_NAME_FIELD") -> None:
        """Optional piers (lines or polygons) and the field holding their names."""

        self._add_named_layer(key, "Piers (lines or polygons)",
                              [QgsProcessing.TypeVectorLine, QgsProcessing.TypeVectorPolygon], field_key,
                              "Pier name field")

    def add_yards_parameters(self, key: str = "YARDS", field_key: str = "YARD_NAME_FIELD",
                             tiers_key: Optional[str] = "STACK_TIERS") -> None:
        """Optional yard polygons, the field holding their names and the stack tiers."""

        self._add_named_layer(key, "Yards (empty = find them)", [QgsProcessing.TypeVectorPolygon], field_key,
                              "Yard name field")
        if tiers_key:
            self._add(QgsProcessingParameterNumber(tiers_key, self.tr("Stack tiers (boxes per stack)"),
                                                   QgsProcessingParameterNumber.Integer, 1, minValue=1, maxValue=12))

    def add_image_list_parameters(self, key: str, folder_key: str = "FOLDER") -> None:
        """Dated images given as layers or as a folder (one of the two)."""

        self._add(QgsProcessingParameterMultipleLayers(key, self.tr("Images"), QgsProcessing.TypeRaster,
                                                       optional=True))
        self._add(QgsProcessingParameterFile(folder_key, self.tr("Folder of images"),
                                             behavior=QgsProcessingParameterFile.Folder, optional=True))

    def band_choices(self, parameters, context) -> dict:
        """{'red': n or None, 'green': ..., 'blue': ..., 'nir': ...} for the core calls."""
        return {key.lower(): self.parameterAsInt(parameters, key, context) or None for key, _ in self.BAND_ROLES}

    def aoi_geometries(self, parameters, context, crs, feedback=None, key: str = "AOI") -> List:
        """The area of interest's polygons in ``crs`` ([] when none is given); an AOI layer
        without polygons is an error the analyst can act on."""
        source = self.parameterAsSource(parameters, key, context)
        geoms = polygons_only(geometries_in_crs(source, crs, context, feedback, "Area of interest"))
        if source is not None and not geoms:
            raise QgsProcessingException(self.tr(
                "The area of interest layer has no polygons (lines and points enclose no area): draw the "
                "area as a polygon, or leave the parameter empty to use the whole image."))
        return geoms

    def name_field(self, parameters, context, source, key: str, what: str, own: str, feedback=None
                   ) -> Optional[str]:
        """The field naming the features of ``source`` (piers, yards) for parameter ``key``.

        A field the analyst chose must exist. Left at its default ("name") on a layer without
        one, the field is the layer's own ``own`` field when it has one (Quayside's outputs
        name their yards in 'yard' and their piers in 'pier'), else none: the features are
        then named by their ids, and the log says so."""
        if source is None:
            return None
        name = self.parameterAsString(parameters, key, context)
        fields = source.fields()
        if name and fields.indexOf(name) >= 0:
            return name
        if parameters.get(key) not in (None, ""):
            raise QgsProcessingException(self.tr("The {} layer has no field '{}'; choose its name field.")
                                         .format(what, name))
        # left empty or at its default (the dialog sends an empty field for a layer without one)
        name = name or "name"
        for cand in (name, own):
            hit = next((f.name() for f in fields if f.name().lower() == cand), None)
            if hit is not None:
                return hit
        if feedback is not None:
            feedback.pushInfo(self.tr("The {} layer has no '{}' field: its features are named by their ids.")
                              .format(what, name))
        return None

    def run_core(self, func, *args, **kwargs):
        """Call a core function, turning its errors into QgsProcessingException."""
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            raise QgsProcessingException(str(exc)) from exc
        except Cancelled:
            return None


def make_fields(spec) -> QgsFields:
    """QgsFields from ((name, QVariant type), ...)."""
    fields = QgsFields()
    for name, kind in spec:
        fields.append(QgsField(name, kind))
    return fields


def qdate(d) -> Optional[QDate]:
    """A datetime.date as a QDate (None stays None, a NULL in the output)."""
    return QDate(d.year, d.month, d.day) if d is not None else None


def raster_path(layer, what: str = "INPUT") -> str:
    """The file path GDAL/rasterio can open for a raster layer, or a clear error."""
    if layer is None:
        raise QgsProcessingException(f"{what}: no raster layer was given.")
    if layer.providerType() != "gdal":
        raise QgsProcessingException(
            f"{what}: '{layer.name()}' is a {layer.providerType()} layer; Quayside reads raster files "
            "(GeoTIFF, JP2, VRT...). Save it as a GeoTIFF first (Raster > Conversion > Translate)."
        )
    path = layer.source().split("|")[0]
    return path


def features_in_crs(source, dest_crs: QgsCoordinateReferenceSystem, context, feedback=None,
                    what: str = "layer", name_field: Optional[str] = None) -> List:
    """[(shapely geometry reprojected to ``dest_crs``, name)] of a feature source.

    The name is the ``name_field`` value, or "<what> <feature id>" when it is
    empty or no field is given."""
    from shapely import wkb

    if source is None:
        return []
    out = []
    transform: Optional[QgsCoordinateTransform] = None
    if source.sourceCrs().isValid() and dest_crs.isValid() and source.sourceCrs() != dest_crs:
        transform = QgsCoordinateTransform(source.sourceCrs(), dest_crs, context.transformContext()
                                           if context is not None else QgsProject.instance())
        if feedback is not None:
            feedback.pushInfo(
                f"{what}: reprojected from {source.sourceCrs().authid()} to {dest_crs.authid()}."
            )
    for f in source.getFeatures(QgsFeatureRequest()):
        g = f.geometry()
        if g is None or g.isEmpty():
            continue
        if transform is not None:
            g.transform(transform)
        name = f[name_field] if name_field else None
        if name in (None, "") or (hasattr(name, "isNull") and name.isNull()):
            name = f"{what.lower()} {f.id()}"
        out.append((wkb.loads(bytes(g.asWkb())), str(name)))
    return out


def polygons_only(geoms: List) -> List:
    """The polygonal ones of shapely geometries (an area of interest of lines encloses nothing)."""
    return [g for g in geoms if g.geom_type in ("Polygon", "MultiPolygon")]


def geometries_in_crs(source, dest_crs: QgsCoordinateReferenceSystem, context, feedback=None,
                      what: str = "layer") -> List:
    """Shapely geometries of a feature source, reprojected to ``dest_crs``."""
    return [g for g, _ in features_in_crs(source, dest_crs, context, feedback, what)]
