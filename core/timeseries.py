"""Port activity over time: ships and containers on every image of a dated series.

Analysts' findings are series: "11 ships in October against one in August and
two in September", "container numbers ticked upward again in late August". This
module turns a stack of dated images of one port into those numbers.

Method
------
1. **Gathering** (:func:`gather_images`). Images come as a list of paths, a
   folder (raster files by extension: GeoTIFF, JPEG 2000, VRT, IMG, ...;
   sidecars, GeoJSON truth and world files are ignored), or both; duplicates are
   dropped (same real path).

2. **Dating** (:func:`resolve_dates`). Each image gets one acquisition date, from
   the most explicit statement available: a date given by the caller (in QGIS,
   the layer's temporal properties, which an analyst sets on purpose), then the
   raster's metadata (``ACQUISITIONDATETIME`` in the default or ``IMAGERY``
   domain, ``TIFFTAG_DATETIME``, ``DATE_ACQUIRED``..., see
   :mod:`quayside.core.dates`), then a date in the layer or file name
   (``2016-05-14``, ``2016_05_14``, ``20160514``, Sentinel-2 / Planet product
   names). Images without a date are not guessed at: :class:`InputError` names
   every one of them and says how to date them. The series is then sorted by
   date (ties by name).

3. **Per-image run, bounded memory** (:func:`run_series`). Images are processed
   one at a time, strictly in sequence: ship detection
   (:func:`quayside.core.ships.detect_ships`, itself windowed) then container
   detection (:func:`quayside.core.containers.detect_containers`, when that
   module is installed). The detections of one image are handed to a callback
   (``on_image``; the Processing algorithm writes them to its output layer) and
   then dropped, so only the one-line summary per image (:class:`SeriesRow`)
   accumulates: memory is that of one image's detectors, whatever the length of
   the series. Cancellation is checked between images and inside the detectors;
   progress is split evenly across images.

4. **Rows.** Per image: ships in all, ships per pier (by the pier name the ship
   detector attributes from the given piers; ships at no pier under
   :data:`NO_PIER`), ships by state, TEU in all, TEU and occupancy per yard and
   the container counting mode. An image the area of interest does not overlap
   is skipped with a note rather than failing the whole series.

The per-pier and per-yard figures are dictionaries here; how they become
columns is the caller's choice (see :func:`column_names`).
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import re
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from .dates import metadata_date_of, parse_date
from .errors import InputError
from .geo import to_crs
from .raster import check_cancel

__all__ = ["RASTER_EXTENSIONS", "NO_PIER", "ImageRef", "SeriesRow", "ImageOutcome", "SeriesResult",
           "gather_images", "image_date", "resolve_dates", "run_series", "containers_available",
           "column_names", "slug"]

RASTER_EXTENSIONS = (".tif", ".tiff", ".gtif", ".jp2", ".vrt", ".img", ".png", ".jpg", ".jpeg", ".nc", ".hdf")
NO_PIER = "(no pier)"

Progress = Optional[Callable[[float], None]]
CancelCheck = Optional[Callable[[], bool]]
GeomSpec = Union[None, Sequence, Callable[["ImageRef"], Sequence]]


@dataclass
class ImageRef:
    """One image of the series: where it is, what to call it and when it was taken.

    ``date_source`` says where the date came from: 'given' (the caller, e.g. the
    QGIS layer's temporal properties), 'metadata', 'name' or '' (none found)."""

    path: str
    name: str
    date: Optional[dt.date] = None
    date_source: str = ""


@dataclass
class SeriesRow:
    """The summary of one image."""

    acquired: dt.date
    image: str
    path: str
    ships: int
    ships_by_pier: Dict[str, int] = field(default_factory=dict)
    ships_by_state: Dict[str, int] = field(default_factory=dict)
    teu: Optional[float] = None
    teu_by_yard: Dict[str, float] = field(default_factory=dict)
    occupancy_by_yard: Dict[str, float] = field(default_factory=dict)
    container_mode: Optional[str] = None
    units: str = "m"
    date_source: str = ""
    notes: List[str] = field(default_factory=list)


@dataclass
class ImageOutcome:
    """Everything found on one image (handed to ``on_image``, then dropped)."""

    ref: ImageRef
    row: SeriesRow
    ships: list  # quayside.core.ships.Ship
    stacks: list  # quayside.core.containers.Stack (empty without containers)
    yards: list  # quayside.core.containers.YardSummary


@dataclass
class SeriesResult:
    rows: List[SeriesRow]
    skipped: List[Tuple[str, str]]  # (image, reason)
    notes: List[str] = field(default_factory=list)
    containers: bool = True

    @property
    def pier_names(self) -> List[str]:
        return _ordered_keys(r.ships_by_pier for r in self.rows)

    @property
    def yard_names(self) -> List[str]:
        return _ordered_keys(r.occupancy_by_yard for r in self.rows)


def _ordered_keys(dicts: Iterable[dict]) -> List[str]:
    seen: Dict[str, None] = {}
    for d in dicts:
        for k in d:
            seen.setdefault(k, None)
    names = [k for k in seen if k != NO_PIER]
    return sorted(names) + ([NO_PIER] if NO_PIER in seen else [])


# --------------------------------------------------------------------------------------------
# gathering and dating


def gather_images(paths: Optional[Sequence[str]] = None, folder: Optional[str] = None,
                  recursive: bool = False) -> List[str]:
    """Raster files from a list of paths and/or a folder, without duplicates.

    Raises :class:`InputError` when nothing is given, the folder does not exist
    or holds no raster."""
    out: List[str] = []
    seen = set()

    def add(p: str) -> None:
        key = os.path.realpath(p.split("|")[0]) if os.path.exists(p.split("|")[0]) else p
        if key not in seen:
            seen.add(key)
            out.append(p)

    for p in paths or []:
        if p:
            add(str(p))
    if folder:
        if not os.path.isdir(folder):
            raise InputError(f"The folder '{folder}' does not exist: choose the folder that holds the images.")
        found = []
        walker = os.walk(folder) if recursive else [(folder, [], os.listdir(folder))]
        for root, _dirs, files in walker:
            for fn in files:
                if fn.lower().endswith(RASTER_EXTENSIONS) and not fn.startswith("."):
                    found.append(os.path.join(root, fn))
        if not found:
            raise InputError(f"The folder '{folder}' holds no raster image ({', '.join(RASTER_EXTENSIONS[:5])}...): "
                             "choose the folder with the images or list them as layers.")
        for p in sorted(found):
            add(p)
    if not out:
        raise InputError("No images: give the image layers or a folder of images.")
    return out


def image_date(path: str, name: Optional[str] = None) -> Tuple[Optional[dt.date], str]:
    """(date, source) of one image: its metadata first, then the layer name, then the file name."""
    source = (path or "").split("|")[0]
    d = metadata_date_of(source)
    if d is not None:
        return d, "metadata"
    for text in (name, os.path.basename(source) if source else None):
        d = parse_date(text) if text else None
        if d is not None:
            return d, "name"
    return None, ""


def _display_name(path: str) -> str:
    return os.path.splitext(os.path.basename(path.split("|")[0]))[0]


def resolve_dates(paths: Sequence[str], names: Optional[Dict[str, str]] = None,
                  given: Optional[Dict[str, dt.date]] = None) -> List[ImageRef]:
    """Date every image and sort the series by date.

    ``names`` maps a path to the name to show (a QGIS layer name); ``given`` maps a
    path to a date stated by the caller (a QGIS layer's temporal properties), which
    wins over metadata and names. Raises :class:`InputError` naming every image
    without a date."""
    names = names or {}
    given = given or {}
    refs: List[ImageRef] = []
    missing: List[str] = []
    for p in paths:
        name = names.get(p) or _display_name(p)
        if given.get(p) is not None:
            refs.append(ImageRef(p, name, given[p], "given"))
            continue
        d, how = image_date(p, name)
        if d is None:
            missing.append(name if name == _display_name(p) else f"{name} ({os.path.basename(p)})")
        refs.append(ImageRef(p, name, d, how))
    if missing:
        listed = ", ".join(missing[:20]) + (f" and {len(missing) - 20} more" if len(missing) > 20 else "")
        raise InputError(
            f"No acquisition date for {len(missing)} image(s): {listed}. Put the date in the file name "
            "(e.g. port_2016-05-14.tif or port_20160514.tif), write it in the metadata "
            "(gdal_edit.py -mo ACQUISITIONDATETIME=2016-05-14T10:30:00Z image.tif), or set the layer's "
            "temporal properties (fixed time range) in QGIS.")
    refs.sort(key=lambda r: (r.date, r.name))
    return refs


def slug(name: str, maxlen: int = 40) -> str:
    """A field-name-safe form of a pier or yard name: lower case, [a-z0-9_]."""
    s = re.sub(r"[^0-9a-zA-Z]+", "_", str(name)).strip("_").lower()
    return (s or "unnamed")[:maxlen]


def column_names(prefix: str, names: Sequence[str], reserved: Iterable[str] = ()) -> Dict[str, str]:
    """{name: '<prefix>_<slug>'} with distinct column names (suffix _2, _3 on clashes,
    also with the ``reserved`` names)."""
    out: Dict[str, str] = {}
    used = set(reserved)
    for n in names:
        base = f"{prefix}_{slug(n) if n != NO_PIER else 'no_pier'}"
        col, k = base, 2
        while col in used:
            col, k = f"{base}_{k}", k + 1
        used.add(col)
        out[n] = col
    return out


# --------------------------------------------------------------------------------------------
# running


def containers_available() -> bool:
    """True when the container detector (quayside.core.containers) is installed."""
    try:
        from . import containers  # noqa: F401
    except ImportError:
        return False
    return True


def _geoms(spec: GeomSpec, ref: ImageRef):
    if spec is None:
        return None
    if callable(spec):
        return spec(ref)
    return spec


def _common_auto_yards(images: Sequence[ImageRef], detect, bands: dict, aoi: GeomSpec, sensitivity: float,
                       block: int, progress: Progress, cancel: CancelCheck):
    """Yards for a series given none: the yards found automatically on every image, merged
    where they overlap, as (geometry, name) in each image's CRS (a callable for run_series).

    Found image by image, a yard is the block of stacks of that date: a yard that empties
    has no yard (no figure at all that date), and "Auto yard 1" of one date is another
    place than that of the next, so the per-yard columns did not compare across dates.
    Returns (spec, number of yards)."""
    import rasterio
    from shapely.ops import unary_union

    crs0 = None
    found = []
    n = len(images)
    for i, ref in enumerate(images):
        check_cancel(cancel)
        with rasterio.open(ref.path) as src:
            crs = src.crs
        if i == 0:
            crs0 = crs
        try:
            cr = detect(ref.path, **bands, aoi=_geoms(aoi, ref) or None, water_path=None,
                        sensitivity=sensitivity, block=block, cancel=cancel,
                        progress=(lambda f, _i=i: progress((_i + max(0.0, min(1.0, f))) / n)) if progress else None)
        except InputError:
            continue  # an image the area of interest misses: the main pass says so
        found += [to_crs(y.polygon, crs, crs0) for y in cr.yards]
    if not found:
        return None, 0
    merged = unary_union(found)
    parts = sorted(getattr(merged, "geoms", [merged]), key=lambda g: (-g.centroid.y, g.centroid.x))
    named = [(g, f"Auto yard {k + 1}") for k, g in enumerate(parts)]

    return (lambda ref: _yards_on_image(named, crs0, ref.path)), len(named)


def _yards_on_image(named, crs0, path: str):
    """The (geometry, name) yards of ``named`` (in ``crs0``) that an image shows, in its CRS;
    None when it shows none (that image then finds its own)."""
    import rasterio
    from shapely.geometry import box

    with rasterio.open(path) as src:
        crs, frame = src.crs, box(*src.bounds)
    mine = [(to_crs(g, crs0, crs), name) for g, name in named]
    mine = [(g, name) for g, name in mine if g.intersects(frame)]
    return mine or None


def run_series(images: Sequence[ImageRef], *, aoi: GeomSpec = None, piers: GeomSpec = None,
               yards: GeomSpec = None, water: GeomSpec = None, ships: bool = True, containers: bool = True,
               bands: Optional[dict] = None, min_length_m: float = 15.0, max_length_m: float = 400.0,
               ship_sensitivity: float = 0.5, container_sensitivity: float = 0.5, stack_tiers: int = 1,
               block: int = 1024, on_image: Optional[Callable[[ImageOutcome], None]] = None,
               progress: Progress = None, cancel: CancelCheck = None,
               log: Optional[Callable[[str], None]] = None) -> SeriesResult:
    """Detect ships and containers on each dated image, one image at a time.

    ``aoi``, ``piers`` (list of (geometry, name)), ``yards`` (list of (geometry,
    name)) and ``water`` (list of geometries) are in the images' CRS, or callables
    ``f(ImageRef)`` returning them for that image (series in several CRSs). Each
    image's detections go to ``on_image`` and are then released; the result holds
    one :class:`SeriesRow` per image. Raises :class:`Cancelled` when ``cancel()``
    says so (between images, or inside a detector)."""
    from .ships import detect_ships

    if not images:
        raise InputError("No images to process.")
    if any(r.date is None for r in images):
        images = resolve_dates([r.path for r in images], {r.path: r.name for r in images})
    if stack_tiers < 1:
        raise InputError("Stack tiers must be at least 1.")
    bands = bands or {}
    have_containers = containers and containers_available()
    notes: List[str] = []
    if containers and not have_containers:
        notes.append("The container detector (quayside.core.containers) is not installed: TEU and yard occupancy "
                     "are left empty.")
    detect_containers = None
    if have_containers:
        from .containers import detect_containers
    say = log or (lambda _msg: None)
    n = len(images)
    rows: List[SeriesRow] = []
    skipped: List[Tuple[str, str]] = []
    steps = (1 if ships else 0) + (1 if have_containers else 0) or 1
    if progress is not None:
        # a detector's own phases may restart its fraction; the series' bar only moves forward
        report, high = progress, [0.0]

        def progress(f: float) -> None:
            if f >= high[0]:
                high[0] = f
                report(f)
    if have_containers and yards is None:
        # one set of yards for every date (see _common_auto_yards): a first pass of the
        # container detector over the images, a fifth of the bar
        outer = progress
        first = (lambda f: outer(0.2 * f)) if outer else None
        yards, n_yards = _common_auto_yards(images, detect_containers, bands, aoi, container_sensitivity, block,
                                            first, cancel)
        if yards is None:
            notes.append("No yards were given, and none were found automatically on any image.")
        else:
            notes.append(f"No yards were given: the yards found automatically on each image, merged where they "
                         f"overlap ({n_yards} in all), are used on every date, so the yard figures compare "
                         "across dates.")
        say(notes[-1])
        if outer is not None:
            def progress(f: float) -> None:
                outer(0.2 + 0.8 * f)
    for i, ref in enumerate(images):
        check_cancel(cancel)
        base = i / n
        span = 1.0 / n / steps

        def sub(k: int, _base=base, _span=span):
            return (lambda f: progress(_base + _span * (k + max(0.0, min(1.0, f))))) if progress else None

        aoi_i, piers_i, yards_i, water_i = (_geoms(aoi, ref), _geoms(piers, ref), _geoms(yards, ref),
                                            _geoms(water, ref))
        row = SeriesRow(acquired=ref.date, image=ref.name, path=ref.path, ships=0, date_source=ref.date_source)
        found_ships, stacks, yard_sums = [], [], []
        try:
            k = 0
            if ships:
                sr = detect_ships(ref.path, **bands, water_geoms=water_i or None, aoi=aoi_i or None,
                                  piers=piers_i or None, min_length_m=min_length_m, max_length_m=max_length_m,
                                  sensitivity=ship_sensitivity, block=block, progress=sub(k), cancel=cancel)
                k += 1
                found_ships = list(sr.ships)
                row.units = sr.units
                row.ships = len(found_ships)
                for s in found_ships:
                    key = s.pier if s.pier else NO_PIER
                    row.ships_by_pier[key] = row.ships_by_pier.get(key, 0) + 1
                    row.ships_by_state[s.state] = row.ships_by_state.get(s.state, 0) + 1
                if piers_i:  # every known pier gets a figure, zero included
                    for _g, name in piers_i:
                        row.ships_by_pier.setdefault(str(name), 0)
            if detect_containers is not None:
                cr = detect_containers(ref.path, **bands, yards=yards_i or None, aoi=aoi_i or None,
                                       water_path=None, stack_tiers=stack_tiers,
                                       sensitivity=container_sensitivity, block=block, progress=sub(k),
                                       cancel=cancel)
                stacks = list(cr.stacks)
                yard_sums = list(cr.yards)
                row.teu = float(cr.total_teu)
                row.container_mode = cr.mode
                for y in yard_sums:
                    row.teu_by_yard[str(y.name)] = float(y.teu)
                    row.occupancy_by_yard[str(y.name)] = float(y.occupancy_pct)
                row.notes.extend(getattr(cr, "notes", []) or [])
        except InputError as exc:
            if aoi_i and "area of interest" in str(exc).lower():
                skipped.append((ref.name, str(exc)))
                say(f"{ref.name} ({ref.date}): skipped — {exc}")
                continue
            raise InputError(f"{ref.name}: {exc}") from exc
        rows.append(row)
        teu_txt = "" if row.teu is None else f", {row.teu:.0f} TEU"
        say(f"{ref.date} {ref.name}: {row.ships} ship(s){teu_txt} (date from {ref.date_source}).")
        if on_image is not None:
            on_image(ImageOutcome(ref, row, found_ships, stacks, yard_sums))
        del found_ships, stacks, yard_sums
        gc.collect()
        if progress:
            progress((i + 1) / n)
    if skipped:
        notes.append(f"{len(skipped)} image(s) skipped because the area of interest does not overlap them: "
                     + ", ".join(s for s, _ in skipped))
    if not rows:
        raise InputError("The area of interest overlaps none of the images: draw it over the port or choose "
                         "other images.")
    return SeriesResult(rows=rows, skipped=skipped, notes=notes, containers=have_containers)
