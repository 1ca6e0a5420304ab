"""Run Quayside's detections on the BEFORE/AFTER pair over the current view as
background QgsTasks (QgsProcessingAlgRunnerTask), and add their results to
the project with the style each algorithm attaches.

The algorithms are looked up in the Processing registry when the analyst
clicks, so a missing one (an older Quayside, a disabled provider) is named in
a message instead of failing with a traceback. Inputs go to the task as file
sources (the rasters' paths, the view polygon and the piers written to small
GeoJSON files), so nothing in the background thread touches a layer that
lives in the project.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Dict, List, Optional

from qgis.core import (
    QgsApplication,
    QgsCoordinateTransform,
    QgsGeometry,
    QgsProcessingAlgRunnerTask,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingUtils,
    QgsProject,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QCoreApplication, QObject, pyqtSignal

CHANGES = "quayside:detectchanges"
SHIPS = "quayside:detectships"
CONTAINERS = "quayside:detectcontainers"


def tr(text: str) -> str:
    return QCoreApplication.translate("QuaysideTasks", text)


def missing_algorithms(ids: List[str]) -> List[str]:
    reg = QgsApplication.processingRegistry()
    return [a for a in ids if reg.algorithmById(a) is None]


def write_polygon_geojson(geometry: QgsGeometry, crs, folder: str, name: str = "view") -> str:
    """The view's extent as a one-feature GeoJSON in EPSG:4326 (as GeoJSON wants)."""
    from qgis.core import QgsCoordinateReferenceSystem

    g = QgsGeometry(geometry)
    wgs84 = QgsCoordinateReferenceSystem("EPSG:4326")
    if crs.isValid() and crs != wgs84:
        g.transform(QgsCoordinateTransform(crs, wgs84, QgsProject.instance()))
    path = os.path.join(folder, f"{name}.geojson")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"name": name}, "geometry": json.loads(g.asJson(9))}]}, fh)
    return path


def write_pier_lines(piers, folder: str) -> Optional[str]:
    """Piers (lines, and polygons as their outlines) as a line GeoJSON with a ``name`` field."""
    feats = []
    for p in piers:
        if not p.wkt:
            continue
        g = QgsGeometry.fromWkt(p.wkt)
        if g.isNull():
            continue
        if g.type() == QgsWkbTypes.PolygonGeometry:
            g = QgsGeometry(g.constGet().boundary())
        feats.append({"type": "Feature", "properties": {"name": p.name, "kind": p.kind},
                      "geometry": json.loads(g.asJson(9))})
    if not feats:
        return None
    path = os.path.join(folder, "piers.geojson")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"type": "FeatureCollection", "features": feats}, fh)
    return path


# Contexts, feedbacks and algorithms of finished runs. Freeing a QgsProcessingContext from
# Python's garbage collector after its task has been deleted by the task manager has crashed
# QGIS 3.22; they are small, so they are kept for the session instead.
_RETIRED: List[tuple] = []


class DetectionRun(QObject):
    """One click's worth of algorithms; emits ``progress`` (0–100) and ``done`` (layers, messages)."""

    progress = pyqtSignal(float)
    done = pyqtSignal(list, list)

    def __init__(self, jobs: Dict[str, dict], project=None, group_name: str = "Quayside results"):
        super().__init__()
        self.jobs = jobs  # algorithm id -> parameters
        self.project = project or QgsProject.instance()
        self.group_name = group_name
        self.tasks = []
        self._keep = []  # contexts, feedbacks and algorithms must outlive their task
        self._progress: Dict[str, float] = {}
        self._pending = 0
        self.layers: List = []
        self.messages: List[str] = []

    def start(self) -> List:
        reg = QgsApplication.processingRegistry()
        for alg_id, params in self.jobs.items():
            alg = reg.createAlgorithmById(alg_id)
            if alg is None:
                self.messages.append(tr("{} is not installed: skipped.").format(alg_id))
                continue
            params = {k: v for k, v in params.items() if alg.parameterDefinition(k) is not None}
            for out in alg.destinationParameterDefinitions():
                params.setdefault(out.name(), QgsProcessingOutputLayerDefinition("TEMPORARY_OUTPUT", self.project))
            context = QgsProcessingContext()
            context.setProject(self.project)
            feedback = QgsProcessingFeedback()
            ok, why = alg.checkParameterValues(params, context)
            if not ok:
                self.messages.append(tr("{}: {}").format(alg.displayName(), why))
                continue
            task = QgsProcessingAlgRunnerTask(alg, params, context, feedback)
            self._progress[alg_id] = 0.0
            feedback.progressChanged.connect(lambda v, a=alg_id: self._on_progress(a, v))
            task.executed.connect(lambda ok, res, a=alg_id, c=context, f=feedback, al=alg:
                                  self._on_executed(a, al, c, f, ok, res))
            self._keep.append((alg, context, feedback, task))
            self.tasks.append(task)
        self._pending = len(self.tasks)
        for task in self.tasks:
            QgsApplication.taskManager().addTask(task)
        if not self.tasks:
            self.done.emit([], self.messages)
        return self.tasks

    def cancel(self) -> None:
        for task in self.tasks:
            task.cancel()

    def _on_progress(self, alg_id: str, value: float) -> None:
        self._progress[alg_id] = value
        self.progress.emit(sum(self._progress.values()) / max(1, len(self._progress)))

    def _on_executed(self, alg_id, alg, context, feedback, ok, results) -> None:
        if ok:
            self.layers.extend(self._load_results(alg, context, feedback))
        elif feedback.isCanceled():
            self.messages.append(tr("{} was cancelled.").format(alg.displayName()))
        else:
            self.messages.append(tr("{} failed; see the Processing log for why.").format(alg.displayName()))
        self._pending -= 1
        if self._pending <= 0:
            _RETIRED.extend((a, c, f) for a, c, f, _t in self._keep)
            self.progress.emit(100.0)
            self.done.emit(self.layers, self.messages)

    def _load_results(self, alg, context, feedback) -> List:
        root = self.project.layerTreeRoot()
        group = root.findGroup(self.group_name) or root.insertGroup(0, self.group_name)
        loaded = []
        for layer_id, details in context.layersToLoadOnCompletion().items():
            layer = QgsProcessingUtils.mapLayerFromString(layer_id, context)
            if layer is None:
                continue
            taken = context.takeResultLayer(layer.id())
            layer = taken if taken is not None else layer  # (a layer with no features is falsy)
            if details.name:
                layer.setName(details.name)
            self.project.addMapLayer(layer, False)
            group.insertLayer(0, layer)
            post = details.postProcessor()
            if post is not None:
                post.postProcessLayer(layer, context, feedback)
            loaded.append(layer)
        return loaded


def view_polygon(canvas) -> QgsGeometry:
    return QgsGeometry.fromRect(canvas.extent())


def make_temp_folder() -> str:
    return tempfile.mkdtemp(prefix="quayside_run_")
