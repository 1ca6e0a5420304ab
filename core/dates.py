"""Acquisition dates of images, from their metadata or their file name.

Sources, in order of trust: GDAL metadata items written by sensors and
processors (``ACQUISITIONDATETIME``, ``TIFFTAG_DATETIME``, ``DATE_ACQUIRED``,
``PRODUCT_START_TIME``...; default and ``IMAGERY`` domains, first band), a
Planet-style ``<stem>_metadata.json`` sidecar (``properties.acquired``), then a
date in the file or layer name
(``2016-05-14``, ``2016_05_14``, ``20160514``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from typing import Optional

_META_KEYS = (
    "ACQUISITIONDATETIME",
    "ACQUISITION_DATE",
    "DATE_ACQUIRED",
    "ACQUIRED",
    "DATATAKE_1_DATATAKE_SENSING_START",
    "PRODUCT_START_TIME",
    "SENSING_TIME",
    "TIFFTAG_DATETIME",
)

_PATTERNS = (
    # 2016-05-14, 2016_05_14, 2016.05.14, 2016/05/14 (optionally followed by a time)
    re.compile(r"(?<!\d)(19\d\d|20\d\d)[-_./](0[1-9]|1[0-2])[-_./](0[1-9]|[12]\d|3[01])(?!\d)"),
    # 20160514 (optionally followed by T/_ and a time)
    re.compile(r"(?<!\d)(19\d\d|20\d\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?!\d{3})"),
)


def parse_date(text: str) -> Optional[dt.date]:
    """The first plausible calendar date in ``text``, or None."""
    if not text:
        return None
    text = str(text)
    # TIFF's own form: "YYYY:MM:DD HH:MM:SS"
    m = re.match(r"\s*(\d{4}):(\d\d):(\d\d)", text)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            pass
    for pattern in _PATTERNS:
        for m in pattern.finditer(text):
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                continue
    return None


def date_from_metadata(tags: dict) -> Optional[dt.date]:
    """The acquisition date among GDAL metadata items, or None."""
    upper = {str(k).upper(): v for k, v in (tags or {}).items()}
    for key in _META_KEYS:
        if key in upper:
            found = parse_date(upper[key])
            if found:
                return found
    return None


def metadata_date_of(path: str) -> Optional[dt.date]:
    """The acquisition date written in the raster's own metadata, or None.

    Looks in the default metadata domain, GDAL's ``IMAGERY`` domain (filled by
    the DIMAP, DigitalGlobe, Pleiades... drivers and by Quayside's synthetic
    scenes), the first band, and a Planet-style sidecar ``<stem>_metadata.json``
    (``properties.acquired``)."""
    source = (path or "").split("|")[0]
    if not source or not os.path.exists(source):
        return None
    found = None
    try:
        import rasterio

        with rasterio.open(source) as src:
            found = date_from_metadata(src.tags())
            if found is None:
                try:
                    found = date_from_metadata(src.tags(ns="IMAGERY"))
                except Exception:  # driver without that domain
                    found = None
            if found is None and src.count:
                found = date_from_metadata(src.tags(1))
    except Exception:  # not a raster rasterio can open
        found = None
    if found is None:
        found = _sidecar_date(source)
    return found


def _sidecar_date(source: str) -> Optional[dt.date]:
    import json

    stem = os.path.splitext(source)[0]
    for cand in (stem + "_metadata.json", stem + ".json"):
        if os.path.exists(cand):
            try:
                with open(cand) as fh:
                    doc = json.load(fh)
            except (OSError, ValueError):
                continue
            if isinstance(doc, dict):
                props = doc.get("properties", doc)
                if isinstance(props, dict):
                    found = date_from_metadata(props)
                    if found:
                        return found
    return None


def acquisition_date_of(path: str, name: Optional[str] = None) -> Optional[dt.date]:
    """The acquisition date of the raster at ``path`` (metadata first, then names)."""
    source = (path or "").split("|")[0]
    found = metadata_date_of(source)
    if found is None and name:
        found = parse_date(name)
    if found is None and source:
        found = parse_date(os.path.basename(source))
    return found
