"""Windowed raster reading shared by every detector.

Rasters are never read whole: global statistics come from a decimated read
(GDAL uses the file's overviews when it has them), and per-pixel work runs
over blocks with a halo so neighbourhood filters see across block seams.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable, Iterator, Optional, Sequence, Tuple

import numpy as np
from rasterio.enums import ColorInterp
from rasterio.windows import Window

from .errors import Cancelled, InputError

Progress = Optional[Callable[[float], None]]
CancelCheck = Optional[Callable[[], bool]]


@dataclass(frozen=True)
class BandRoles:
    """1-based band indices of the colour roles; ``nir`` may be None."""

    red: int
    green: int
    blue: int
    nir: Optional[int] = None

    @property
    def visible(self) -> Tuple[int, int, int]:
        return (self.red, self.green, self.blue)

    def describe(self) -> str:
        """'red 1, green 2, blue 3' (and ', NIR 4'), for the log."""
        s = f"red {self.red}, green {self.green}, blue {self.blue}"
        return s + (f", NIR {self.nir}" if self.nir is not None else "")


# band descriptions that name a role: common names (PlanetScope's "blue", "green", "red",
# "nir"; STAC's common names) and, in a stack of Sentinel-2 bands, their band names
_ROLE_NAMES = {"red": "red", "green": "green", "blue": "blue"}
_S2_ROLES = {"b2": "blue", "b02": "blue", "b3": "green", "b03": "green", "b4": "red", "b04": "red",
             "b8": "nir", "b08": "nir", "b8a": "nir"}
_S2_NAME = re.compile(r"^b(0?[1-9]|1[0-2]|8a)$")
_S2_ONLY = {"b02", "b03", "b04", "b08", "b8a", "b12"}  # names no Landsat band stack uses


def _described_roles(descriptions: Sequence[str]) -> dict:
    """Role -> 1-based band index from the bands' descriptions (empty when they name none).

    Red, green and blue by name; NIR as the first band whose description says NIR ("nir", or
    "near" and "infrared"). Sentinel-2 band names are read only when every described band has
    one and one of them is Sentinel-2's own (zero-padded, B8A or B12): Landsat 7 calls its red
    band B3 and its NIR band B4."""
    names = [re.sub(r"[\s_-]+", " ", (d or "").strip().lower()) for d in descriptions]
    out = {}
    for i, n in enumerate(names):
        role = _ROLE_NAMES.get(n)
        if role is not None and role not in out:
            out[role] = i + 1
    named = [n for n in names if n]
    if named and all(_S2_NAME.match(n) for n in named) and _S2_ONLY & set(named):
        for i, n in enumerate(names):
            role = _S2_ROLES.get(n)
            if role is not None and role not in out:
                out[role] = i + 1
    if "nir" not in out:
        for i, n in enumerate(names):
            if "nir" in n or "near" in n and "infrared" in n:
                out["nir"] = i + 1
                break
    return out


def band_roles(src, red: Optional[int] = None, green: Optional[int] = None, blue: Optional[int] = None,
               nir: Optional[int] = None, need_colour: bool = True) -> BandRoles:
    """Band roles from explicit choices, else from the raster's colour interpretation, else
    from the bands' descriptions.

    Defaults: bands whose colour interpretation says red/green/blue; bands whose
    description names their role ("red", "green", "blue": PlanetScope, STAC common names;
    B04, B03, B02, B08 in a stack of Sentinel-2 bands, whose first band is blue, not red); a
    band described as NIR (``nir`` in its description); otherwise bands 1, 2, 3 as R, G, B and
    a 4th non-alpha band as NIR.
    """
    count = src.count
    if need_colour and count < 3 and not all((red, green, blue)):
        raise InputError(
            f"The raster has {count} band(s); this needs red, green and blue bands. "
            "Choose a 3-band (or more) optical image, or set the band parameters."
        )
    interp = list(src.colorinterp)

    def find(ci) -> Optional[int]:
        for i, c in enumerate(interp):
            if c == ci:
                return i + 1
        return None

    named = _described_roles(src.descriptions)
    r = red or find(ColorInterp.red) or named.get("red") or 1
    g = green or find(ColorInterp.green) or named.get("green") or min(2, count)
    b = blue or find(ColorInterp.blue) or named.get("blue") or min(3, count)
    n = nir or named.get("nir")
    if n is None and count >= 4:
        fourth = interp[3] if len(interp) > 3 else None
        if fourth not in (ColorInterp.alpha,) and 4 not in (r, g, b):
            n = 4
    for role, idx in (("red", r), ("green", g), ("blue", b), ("NIR", n)):
        if idx is not None and not 1 <= idx <= count:
            raise InputError(f"The {role} band is {idx}, but the raster has only {count} band(s).")
    return BandRoles(r, g, b, n)


def iter_windows(width: int, height: int, size: int = 1024, halo: int = 0) -> Iterator[Tuple[Window, Window]]:
    """Blocks covering the raster: (core window, read window = core grown by halo, clipped)."""
    for row in range(0, height, size):
        for col in range(0, width, size):
            core = Window(col, row, min(size, width - col), min(size, height - row))
            yield core, grow_window(core, halo, width, height)


def grow_window(core: Window, halo: int, width: int, height: int) -> Window:
    """``core`` grown by ``halo`` pixels on every side, clipped to a ``width`` x ``height`` raster."""
    c0, r0 = max(0, int(core.col_off) - halo), max(0, int(core.row_off) - halo)
    c1 = min(width, int(core.col_off + core.width) + halo)
    r1 = min(height, int(core.row_off + core.height) + halo)
    return Window(c0, r0, c1 - c0, r1 - r0)


def core_slices(core: Window, read: Window) -> Tuple[slice, slice]:
    """Slices that cut the core block out of an array read over ``read``."""
    r = int(core.row_off - read.row_off)
    c = int(core.col_off - read.col_off)
    return slice(r, r + int(core.height)), slice(c, c + int(core.width))


def window_from_bounds(minx: float, miny: float, maxx: float, maxy: float, transform) -> Window:
    """The (fractional) window of ``transform``'s grid that covers the box, whatever the grid's
    orientation. ``rasterio.windows.from_bounds`` assumes north-up rows (a negative y step);
    a raster without georeferencing has the identity transform, whose rows run the other way,
    and there it failed ("Bounds and transform are inconsistent")."""
    inv = ~transform
    cols, rows = zip(*(inv * (x, y) for x in (minx, maxx) for y in (miny, maxy)))
    c0, r0 = min(cols), min(rows)
    return Window(c0, r0, max(cols) - c0, max(rows) - r0)


def n_windows(width: int, height: int, size: int) -> int:
    return math.ceil(width / size) * math.ceil(height / size)


def union_over(geoms: Sequence, bounds, outside: str, empty: Optional[str] = None):
    """The union of the non-empty geometries that must overlap ``bounds`` (a shapely polygon),
    or an :class:`InputError` with the sentence ``outside`` (``empty`` when given and there is
    no geometry at all)."""
    from shapely.ops import unary_union

    gs = [g for g in geoms if g is not None and not g.is_empty]
    if not gs and empty:
        raise InputError(empty)
    u = unary_union(gs)
    if u.is_empty or not u.intersects(bounds):
        raise InputError(outside)
    return u


def check_cancel(cancel: CancelCheck) -> None:
    if cancel is not None and cancel():
        raise Cancelled("cancelled")


def read_valid(src, window: Window, bands: Sequence[int]) -> Tuple[np.ndarray, np.ndarray]:
    """Bands as float32 (bands, h, w) plus a boolean valid-pixel mask.

    A pixel is nodata when every band holds the nodata value (a black pixel in
    one band of a dark water surface is data)."""
    data = src.read(list(bands), window=window, out_dtype="float32")
    valid = np.ones(data.shape[1:], bool)
    if src.nodata is not None and not (isinstance(src.nodata, float) and math.isnan(src.nodata)):
        valid &= ~np.all(data == np.float32(src.nodata), axis=0)
    valid &= np.all(np.isfinite(data), axis=0)
    if src.nodata is None:
        # internal masks / alpha bands, when the file has them
        try:
            flags = src.mask_flag_enums[bands[0] - 1]
            from rasterio.enums import MaskFlags

            if MaskFlags.per_dataset in flags or MaskFlags.alpha in flags:
                valid &= src.dataset_mask(window=window) > 0
        except Exception:
            pass
    return data, valid


def overview(src, bands: Sequence[int], max_size: int = 1536) -> Tuple[np.ndarray, np.ndarray, float]:
    """A decimated read of the whole raster for global statistics.

    Returns (data (bands, h, w) float32, valid mask, decimation factor).
    """
    factor = max(1.0, max(src.width, src.height) / float(max_size))
    out_h = max(1, int(round(src.height / factor)))
    out_w = max(1, int(round(src.width / factor)))
    data = src.read(list(bands), out_shape=(len(bands), out_h, out_w), out_dtype="float32")
    valid = np.ones((out_h, out_w), bool)
    if src.nodata is not None and not (isinstance(src.nodata, float) and math.isnan(src.nodata)):
        valid &= ~np.all(data == np.float32(src.nodata), axis=0)
    valid &= np.all(np.isfinite(data), axis=0)
    return data, valid, factor


@dataclass(frozen=True)
class Stretch:
    """Per-band linear stretch to ~0..1 from robust percentiles."""

    lo: Tuple[float, ...]
    hi: Tuple[float, ...]

    def apply(self, data: np.ndarray) -> np.ndarray:
        lo = np.asarray(self.lo, np.float32)[:, None, None]
        hi = np.asarray(self.hi, np.float32)[:, None, None]
        return (data - lo) / np.maximum(hi - lo, 1e-6)


def robust_stretch(data: np.ndarray, valid: np.ndarray, lo_pct: float = 1.0, hi_pct: float = 99.0) -> Stretch:
    """Percentile stretch of each band over valid pixels; raises if none are valid."""
    if not valid.any():
        raise InputError("The raster holds no valid pixels (all nodata). Choose another image or fix its nodata value.")
    lo, hi = [], []
    for band in data:
        v = band[valid]
        a, b = np.percentile(v, [lo_pct, hi_pct])
        if b <= a:
            b = a + 1.0
        lo.append(float(a))
        hi.append(float(b))
    return Stretch(tuple(lo), tuple(hi))
