"""The analyst's GeoPackage: piers and the observations log.

Every operation opens the GeoPackage, does its work inside one SQLite
transaction, commits and closes it again. Nothing is held open between two
clicks, so

* an edit is on disk the moment the call returns (closing QGIS loses nothing);
* two QGIS projects (or two QGIS processes) pointing at the same file take
  turns through SQLite's own locking instead of overwriting each other's
  pages; the journal is WAL, as QGIS's own OGR provider uses, so readers are
  never blocked by a writer;
* a file that is missing, read-only or not a GeoPackage raises
  :class:`StoreError` with a sentence that says what to do, which the dock
  shows in its message bar.

Geometries are stored in EPSG:4326 (longitude, latitude) so that every export
format, KML included, takes them as they are and two projects in different
CRSs share one file. The module uses GDAL/OGR only (no QGIS core), so the
store can be exercised from a plain Python process.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import List, Optional

from osgeo import gdal, ogr, osr
from qgis.PyQt.QtCore import QCoreApplication


def tr(text: str) -> str:
    return QCoreApplication.translate("QuaysideStore", text)


PIERS = "piers"
OBSERVATIONS = "observations"

PIER_KINDS = ("container", "coal", "oil", "bulk", "general", "naval", "other")
OBSERVATION_KINDS = ("ship", "containers", "construction", "other")

# (name, OGR type) in the order they are created and exported
PIER_FIELDS = (
    ("name", ogr.OFTString),
    ("kind", ogr.OFTString),
    ("operator", ogr.OFTString),
    ("notes", ogr.OFTString),
    ("created_at", ogr.OFTString),
    ("updated_at", ogr.OFTString),
)
OBSERVATION_FIELDS = (
    ("observed_at", ogr.OFTString),
    ("image", ogr.OFTString),
    ("kind", ogr.OFTString),
    ("pier", ogr.OFTString),
    ("length_m", ogr.OFTReal),
    ("count", ogr.OFTInteger),
    ("teu", ogr.OFTInteger),
    ("area_m2", ogr.OFTReal),
    ("notes", ogr.OFTString),
    ("analyst", ogr.OFTString),
    ("source", ogr.OFTString),
    ("created_at", ogr.OFTString),
)
TABLES = {
    PIERS: (ogr.wkbUnknown, PIER_FIELDS),  # lines or polygons
    OBSERVATIONS: (ogr.wkbPoint, OBSERVATION_FIELDS),  # where it was seen (may be empty)
}

BUSY_TRIES = 40  # ~10 s of retries when another process holds the write lock


class StoreError(Exception):
    """A GeoPackage problem told as a sentence for the analyst."""


@dataclass
class Pier:
    name: str
    kind: str = "other"
    operator: str = ""
    notes: str = ""
    wkt: Optional[str] = None  # EPSG:4326 geometry
    fid: Optional[int] = None
    created_at: str = ""
    updated_at: str = ""


@dataclass
class Observation:
    kind: str = "other"
    observed_at: str = ""
    image: str = ""
    pier: str = ""
    length_m: Optional[float] = None
    count: Optional[int] = None
    teu: Optional[int] = None
    area_m2: Optional[float] = None
    notes: str = ""
    analyst: str = ""
    source: str = "manual"
    wkt: Optional[str] = None  # EPSG:4326 point
    fid: Optional[int] = None
    created_at: str = ""


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _wgs84() -> osr.SpatialReference:
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def is_read_only(path: str) -> bool:
    """True when the file or its folder may not be written.

    The mode bits are read as well as ``os.access`` so a file the analyst
    marked read-only is respected even by a user (root) who could write it.
    """
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if os.path.exists(path):
        mode = os.stat(path).st_mode
        if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK):
            return True
    # SQLite writes its -wal and -shm files beside the GeoPackage
    dmode = os.stat(folder).st_mode if os.path.isdir(folder) else 0
    return not dmode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(folder, os.W_OK)


class QuaysideStore:
    """Piers and observations in one GeoPackage, opened anew for each operation."""

    def __init__(self, path: str, create: bool = True):
        self.path = os.path.abspath(path)
        if not os.path.exists(self.path):
            if not create:
                raise StoreError(tr("The GeoPackage {} does not exist (moved or deleted?). Choose another one or "
                                    "create a new one from the Quayside panel.").format(self.path))
            folder = os.path.dirname(self.path)
            if not os.path.isdir(folder):
                raise StoreError(tr("Cannot create the GeoPackage {}: the folder {} does not exist.")
                                 .format(self.path, folder))
            if is_read_only(self.path):
                raise StoreError(tr("Cannot create the GeoPackage {}: the folder is read-only. Choose a GeoPackage "
                                    "in a folder you can write to.").format(self.path))
            self._create()
        else:
            self._ensure_tables()

    # -- plumbing ----------------------------------------------------------
    @property
    def read_only(self) -> bool:
        return is_read_only(self.path)

    def _open(self, update: bool):
        if not os.path.exists(self.path):
            raise StoreError(tr("The GeoPackage {} is missing (moved or deleted?). Choose another one in the "
                                "Quayside panel.").format(self.path))
        if update and self.read_only:
            raise StoreError(tr("The GeoPackage {} is read-only: nothing was saved. Make it writable or choose "
                                "another GeoPackage in the Quayside panel.").format(self.path))
        gdal.PushErrorHandler("CPLQuietErrorHandler")
        try:
            ds = gdal.OpenEx(self.path, gdal.OF_VECTOR | (gdal.OF_UPDATE if update else 0), ["GPKG"])
            msg = gdal.GetLastErrorMsg()
        finally:
            gdal.PopErrorHandler()
        if ds is None:
            raise StoreError(tr("Cannot open {} as a GeoPackage ({}). Check that it is a GeoPackage and that no "
                                "other program locks it.").format(self.path, msg or tr("unknown reason")))
        ds.ExecuteSQL("PRAGMA busy_timeout = 10000")
        return ds

    def _write(self, work):
        """Run ``work(ds)`` inside one transaction; commit, or roll back and raise."""
        last = ""
        for attempt in range(BUSY_TRIES):
            ds = self._open(update=True)
            try:
                gdal.PushErrorHandler("CPLQuietErrorHandler")
                gdal.ErrorReset()
                try:
                    if ds.StartTransaction() != 0:
                        last = gdal.GetLastErrorMsg()
                        raise _Busy()
                    try:
                        result = work(ds)
                    except Exception as exc:
                        ds.RollbackTransaction()
                        if "locked" in str(exc) or "busy" in str(exc).lower():
                            last = str(exc)
                            raise _Busy() from exc
                        raise
                    if ds.CommitTransaction() != 0:
                        last = gdal.GetLastErrorMsg()
                        raise _Busy()
                    return result
                finally:
                    gdal.PopErrorHandler()
            except _Busy:
                time.sleep(0.05 + 0.01 * attempt)
            finally:
                ds = None  # noqa: F841 (closes the file)
        raise StoreError(tr("The GeoPackage {} stayed locked by another program; nothing was saved ({}). Try "
                            "again in a moment.").format(self.path, last))

    def _create(self) -> None:
        drv = ogr.GetDriverByName("GPKG")
        gdal.PushErrorHandler("CPLQuietErrorHandler")
        try:
            ds = drv.CreateDataSource(self.path)
            msg = gdal.GetLastErrorMsg()
        finally:
            gdal.PopErrorHandler()
        if ds is None:
            raise StoreError(tr("Cannot create the GeoPackage {} ({}).").format(self.path, msg))
        ds.ExecuteSQL("PRAGMA journal_mode = WAL")
        for name in TABLES:
            self._create_table(ds, name)
        ds = None  # noqa: F841

    @staticmethod
    def _create_table(ds, name: str) -> None:
        gtype, fields = TABLES[name]
        lyr = ds.CreateLayer(name, _wgs84(), gtype, ["FID=fid", "GEOMETRY_NAME=geom", "SPATIAL_INDEX=YES"])
        for fname, ftype in fields:
            lyr.CreateField(ogr.FieldDefn(fname, ftype))

    def _ensure_tables(self) -> None:
        """An existing GeoPackage gets the tables (and fields) it lacks, when writable."""
        ds = self._open(update=False)
        missing = [n for n in TABLES if ds.GetLayerByName(n) is None]
        lacking = {}
        for name, (_g, fields) in TABLES.items():
            lyr = ds.GetLayerByName(name)
            if lyr is None:
                continue
            defn = lyr.GetLayerDefn()
            have = {defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())}
            need = [(f, t) for f, t in fields if f not in have]
            if need:
                lacking[name] = need
        ds = None  # noqa: F841
        if not missing and not lacking:
            return
        if self.read_only:
            raise StoreError(tr("The GeoPackage {} is read-only and has no Quayside tables yet. Choose another "
                                "GeoPackage or make it writable.").format(self.path))
        ds = self._open(update=True)
        for name in missing:
            self._create_table(ds, name)
        for name, need in lacking.items():
            lyr = ds.GetLayerByName(name)
            for fname, ftype in need:
                lyr.CreateField(ogr.FieldDefn(fname, ftype))
        ds = None  # noqa: F841

    @staticmethod
    def _set(feat, name: str, value) -> None:
        if value is None or value == "":
            feat.SetFieldNull(name)
        else:
            feat.SetField(name, value)

    @staticmethod
    def _geometry(wkt: Optional[str]):
        if not wkt:
            return None
        geom = ogr.CreateGeometryFromWkt(wkt)
        if geom is None:
            raise StoreError(tr("The geometry could not be read: {}").format(wkt[:80]))
        return geom

    def _read(self, table: str, fid: Optional[int] = None) -> List[dict]:
        ds = self._open(update=False)
        lyr = ds.GetLayerByName(table)
        rows = []
        feats = [lyr.GetFeature(fid)] if fid is not None else lyr
        for feat in feats:
            if feat is None:
                continue
            row = {name: feat.GetField(name) if feat.IsFieldSetAndNotNull(name) else None
                   for name, _t in TABLES[table][1]}
            geom = feat.GetGeometryRef()
            row["wkt"] = geom.ExportToIsoWkt() if geom is not None else None
            row["fid"] = feat.GetFID()
            rows.append(row)
        ds = None  # noqa: F841
        return rows

    # -- piers ---------------------------------------------------------------
    def add_pier(self, pier: Pier) -> int:
        """Store a new pier; returns its fid."""
        _check_pier(pier)
        stamp = now_iso()

        def work(ds):
            lyr = ds.GetLayerByName(PIERS)
            feat = ogr.Feature(lyr.GetLayerDefn())
            for name in ("name", "kind", "operator", "notes"):
                self._set(feat, name, getattr(pier, name))
            self._set(feat, "created_at", stamp)
            self._set(feat, "updated_at", stamp)
            _set_geometry(feat, self._geometry(pier.wkt))
            if lyr.CreateFeature(feat) != 0:
                raise StoreError(tr("The pier could not be saved: {}").format(gdal.GetLastErrorMsg()))
            return feat.GetFID()

        return self._write(work)

    def update_pier(self, pier: Pier) -> None:
        """Rewrite a pier's attributes (and geometry when ``pier.wkt`` is set)."""
        _check_pier(pier)
        if pier.fid is None:
            raise StoreError(tr("This pier has not been saved yet."))

        def work(ds):
            lyr = ds.GetLayerByName(PIERS)
            feat = lyr.GetFeature(pier.fid)
            if feat is None:
                raise StoreError(tr("The pier {} is no longer in the GeoPackage (deleted elsewhere?).")
                                 .format(pier.name))
            for name in ("name", "kind", "operator", "notes"):
                self._set(feat, name, getattr(pier, name))
            self._set(feat, "updated_at", now_iso())
            if pier.wkt:
                _set_geometry(feat, self._geometry(pier.wkt))
            lyr.SetFeature(feat)

        self._write(work)

    def delete(self, table: str, fid: int) -> None:
        def work(ds):
            lyr = ds.GetLayerByName(table)
            if lyr.DeleteFeature(fid) != 0:
                raise StoreError(tr("Entry {} is no longer in the GeoPackage (deleted elsewhere?).").format(fid))

        self._write(work)

    def delete_pier(self, fid: int) -> None:
        self.delete(PIERS, fid)

    def piers(self) -> List[Pier]:
        return [Pier(**{k: r[k] or "" if k in ("name", "kind", "operator", "notes", "created_at", "updated_at")
                        else r[k] for k in ("name", "kind", "operator", "notes", "created_at", "updated_at",
                                             "wkt", "fid")})
                for r in self._read(PIERS)]

    def pier(self, fid: int) -> Optional[Pier]:
        found = [p for p in self.piers() if p.fid == fid]
        return found[0] if found else None

    # -- observations --------------------------------------------------------
    def add_observation(self, obs: Observation) -> int:
        _check_observation(obs)
        stamp = now_iso()

        def work(ds):
            lyr = ds.GetLayerByName(OBSERVATIONS)
            feat = ogr.Feature(lyr.GetLayerDefn())
            _fill_observation(self, feat, obs)
            self._set(feat, "created_at", stamp)
            _set_geometry(feat, self._geometry(obs.wkt))
            if lyr.CreateFeature(feat) != 0:
                raise StoreError(tr("The observation could not be saved: {}").format(gdal.GetLastErrorMsg()))
            return feat.GetFID()

        return self._write(work)

    def add_observations(self, observations: List[Observation]) -> List[int]:
        """Several observations in one transaction (all or none)."""
        for obs in observations:
            _check_observation(obs)
        stamp = now_iso()

        def work(ds):
            lyr = ds.GetLayerByName(OBSERVATIONS)
            fids = []
            for obs in observations:
                feat = ogr.Feature(lyr.GetLayerDefn())
                _fill_observation(self, feat, obs)
                self._set(feat, "created_at", stamp)
                _set_geometry(feat, self._geometry(obs.wkt))
                if lyr.CreateFeature(feat) != 0:
                    raise StoreError(tr("An observation could not be saved: {}").format(gdal.GetLastErrorMsg()))
                fids.append(feat.GetFID())
            return fids

        return self._write(work)

    def update_observation(self, obs: Observation) -> None:
        _check_observation(obs)
        if obs.fid is None:
            raise StoreError(tr("This observation has not been saved yet."))

        def work(ds):
            lyr = ds.GetLayerByName(OBSERVATIONS)
            feat = lyr.GetFeature(obs.fid)
            if feat is None:
                raise StoreError(tr("Observation {} is no longer in the GeoPackage (deleted elsewhere?).")
                                 .format(obs.fid))
            _fill_observation(self, feat, obs)
            if obs.wkt:
                _set_geometry(feat, self._geometry(obs.wkt))
            lyr.SetFeature(feat)

        self._write(work)

    def delete_observation(self, fid: int) -> None:
        self.delete(OBSERVATIONS, fid)

    def observations(self) -> List[Observation]:
        out = []
        for r in self._read(OBSERVATIONS):
            kw = {k: r[k] for k in ("length_m", "count", "teu", "area_m2", "wkt", "fid")}
            for k in ("kind", "observed_at", "image", "pier", "notes", "analyst", "source", "created_at"):
                kw[k] = r[k] or ""
            out.append(Observation(**kw))
        return out

    def layer_uri(self, table: str) -> str:
        """The OGR data source string QGIS opens the table with."""
        return f"{self.path}|layername={table}"


class _Busy(Exception):
    pass


def _check_pier(pier: Pier) -> None:
    if not (pier.name or "").strip():
        raise StoreError(tr("A pier needs a name."))
    if pier.kind not in PIER_KINDS:
        raise StoreError(tr("Unknown pier kind {!r}: use one of {}.").format(pier.kind, ", ".join(PIER_KINDS)))


def _check_observation(obs: Observation) -> None:
    if obs.kind not in OBSERVATION_KINDS:
        raise StoreError(tr("Unknown observation kind {!r}: use one of {}.")
                         .format(obs.kind, ", ".join(OBSERVATION_KINDS)))
    for name in ("length_m", "area_m2"):
        v = getattr(obs, name)
        if v is not None and v < 0:
            raise StoreError(tr("{} cannot be negative.").format(name))
    for name in ("count", "teu"):
        v = getattr(obs, name)
        if v is not None and v < 0:
            raise StoreError(tr("{} cannot be negative.").format(name))


def _fill_observation(store: QuaysideStore, feat, obs: Observation) -> None:
    for name, _t in OBSERVATION_FIELDS:
        if name == "created_at":
            continue
        value = getattr(obs, name)
        if name in ("count", "teu") and value is not None:
            value = int(value)
        if name in ("length_m", "area_m2") and value is not None:
            value = float(value)
        store._set(feat, name, value)


def _set_geometry(feat, geom) -> None:
    """A missing geometry stays NULL (not an empty point, which some readers turn into POINT(0 0))."""
    if geom is not None:
        feat.SetGeometry(geom)
