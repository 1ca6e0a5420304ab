"""Acquisition dates of images, from their metadata or their file name.

Sources, in order of trust: GDAL metadata items written by sensors and
processors (``ACQUISITIONDATETIME``, ``TIFFTAG_DATETIME``, ``DATE_ACQUIRED``,
``PRODUCT_START_TIME``...), then a date in the file or layer name
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
    # 2016-05-14, 2016_05_14, 2016.05.14 (optionally followed by a time)
    re.compile(r"(?<!\d)(19\d\d|20\d\d)[-_.](0[1-9]|1[0-2])[-_.](0[1-9]|[12]\d|3[01])(?!\d)"),
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


def acquisition_date_of(path: str, name: Optional[str] = None) -> Optional[dt.date]:
    """The acquisition date of the raster at ``path`` (metadata first, then names)."""
    found = None
    source = (path or "").split("|")[0]
    if source and os.path.exists(source):
        try:
            import rasterio

            with rasterio.open(source) as src:
                found = date_from_metadata(src.tags())
                if found is None and src.count:
                    found = date_from_metadata(src.tags(1))
        except Exception:  # not a raster rasterio can open: fall back on names
            found = None
    if found is None and name:
        found = parse_date(name)
    if found is None and source:
        found = parse_date(os.path.basename(source))
    return found
