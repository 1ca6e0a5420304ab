"""Co-registration of an AFTER image onto a BEFORE image's grid.

Two steps, each usable on its own:

1. **Grid alignment** (:func:`align_to_grid`). AFTER may have another CRS, pixel
   size, extent, band count and bit depth. It is warped onto BEFORE's pixel grid
   over the part of BEFORE that AFTER covers (the *overlap window*), through a
   GDAL warped VRT read window by window (bounded memory). After this step the
   two rasters are pixel-for-pixel comparable up to the residual error of their
   georeferencing.

2. **Residual translation** (:func:`estimate_shift`). Georeferencing of two
   acquisitions usually disagrees by a few metres. The translation is measured by
   phase correlation (Kuglin & Hines 1975): the normalised cross-power spectrum
   of two images that differ by a shift is a pure phase ramp whose inverse
   transform is a Dirac at the shift. To be robust to the radiometric differences
   between dates (sun, season, sensor) the images correlated are not the grey
   levels but the complex gradient field ``gx + i gy`` of the luminance
   ("gradient correlation", Argyriou & Vlachos 2003): edges of buildings, quays and
   roads line up whatever their contrast. Each tile is apodised with a Hann window.
   The integer peak is refined to about 1/20 pixel by evaluating the inverse
   transform on an upsampled grid around it with matrix-multiply DFTs
   (Guizar-Sicairos, Thurman & Fienup 2008), which is unbiased where parabolic
   fits of the peak are not. Several tiles spread over the overlap (those with
   enough edge energy) are measured and the component-wise median of the tiles
   whose peak is clearly above the noise floor is kept: moving ships, new
   buildings or a shadow that changed in one tile do not pull the answer.

   **Sign convention.** ``Shift(dx_px, dy_px)`` is the translation to apply to
   AFTER so that it lines up with BEFORE: a feature at AFTER pixel ``(c, r)`` is at
   BEFORE pixel ``(c + dx_px, r + dy_px)``. Columns grow to the east, rows to the
   south; ``dx_m`` and ``dy_m`` are the same translation in ground metres along
   columns and rows (measured on the ellipsoid, :mod:`quayside.core.geo`). An
   AFTER image whose content appears 1.3 px east of where it is in BEFORE has
   ``dx_px = -1.3``.

3. :func:`coregister` does both and resamples AFTER once (bilinear by default)
   with the shift folded into the warp: the output is on BEFORE's grid over the
   overlap window.

Bad input (no overlap, a CRS on only one side, no valid pixel) raises
:class:`~quayside.core.errors.InputError` with a sentence telling the analyst what
to fix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.transform import Affine
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window
from scipy import ndimage

from .errors import InputError
from .geo import dataset_ground_scale, ground_scale
from .raster import CancelCheck, Progress, band_roles, check_cancel, iter_windows, n_windows, read_valid

# a stand-in CRS for pairs of rasters that both lack one (pixel grids compared as they are)
_PLACEHOLDER_CRS = "EPSG:3857"
UPSAMPLE = 20  # sub-pixel refinement: 1/20 px
MIN_PEAK = 0.03  # a tile's correlation peak must stand this far above its noise floor
NOISE_SIGMAS = 6.5  # the peak must stand above median + this many std of the correlation surface


@dataclass
class Shift:
    """Translation to apply to AFTER so it lines up with BEFORE (see the module docstring)."""

    dx_px: float
    dy_px: float
    dx_m: float
    dy_m: float
    peak: float  # correlation quality, 0..1 (median peak height of the tiles used)
    n_tiles: int  # tiles that agreed on the shift applied (0: none applied)

    @property
    def magnitude_px(self) -> float:
        return math.hypot(self.dx_px, self.dy_px)


@dataclass
class CoregResult:
    shift: Shift
    out_path: str
    notes: List[str] = field(default_factory=list)
    overlap_bounds: Tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # in BEFORE's CRS


_RESAMPLING = {
    "nearest": Resampling.nearest,
    "bilinear": Resampling.bilinear,
    "cubic": Resampling.cubic,
    "average": Resampling.average,
    "lanczos": Resampling.lanczos,
}


def _resampling(name) -> Resampling:
    if isinstance(name, Resampling):
        return name
    try:
        return _RESAMPLING[str(name).lower()]
    except KeyError:
        raise InputError(f"Unknown resampling '{name}': use one of {', '.join(_RESAMPLING)}.") from None


# --------------------------------------------------------------------------------------------
# grid and overlap


def check_crs_pair(before, after) -> None:
    """InputError when only one of the rasters has a CRS."""
    if (before.crs is None) != (after.crs is None):
        which = "BEFORE" if before.crs is None else "AFTER"
        other = "AFTER" if before.crs is None else "BEFORE"
        raise InputError(
            f"{which} has no coordinate reference system while {other} has one, so they cannot be put on one "
            f"grid: assign {which}'s CRS (Layer Properties > Source, or gdal_edit.py -a_srs) or georeference it.")


def overlap_window(before, after) -> Window:
    """The window of BEFORE's grid that AFTER covers (pixel-snapped outwards, clipped).

    Raises InputError when they do not overlap."""
    check_crs_pair(before, after)
    if before.crs is None:
        xl, yb, xr, yt = after.bounds
    else:
        from rasterio.warp import transform_bounds

        xl, yb, xr, yt = transform_bounds(after.crs, before.crs, *after.bounds, densify_pts=21)
    inv = ~before.transform
    cols, rows = [], []
    for x, y in ((xl, yb), (xl, yt), (xr, yb), (xr, yt)):
        c, rr = inv * (x, y)
        cols.append(c)
        rows.append(rr)
    eps = 1e-6
    c0 = max(0, int(math.floor(min(cols) + eps)))
    r0 = max(0, int(math.floor(min(rows) + eps)))
    c1 = min(before.width, int(math.ceil(max(cols) - eps)))
    r1 = min(before.height, int(math.ceil(max(rows) - eps)))
    if c1 - c0 < 2 or r1 - r0 < 2:
        raise InputError(
            "BEFORE and AFTER do not overlap: choose two images of the same place (check that each has the "
            "right CRS; an image in the wrong CRS lands elsewhere on the map).")
    return Window(c0, r0, c1 - c0, r1 - r0)


def _same_grid(before, after, win: Window) -> bool:
    if (before.crs is None) != (after.crs is None) or (before.crs is not None and before.crs != after.crs):
        return False
    tf = before.transform * Affine.translation(win.col_off, win.row_off)
    return (after.transform.almost_equals(tf, precision=1e-9 * max(1.0, abs(tf.a)))
            and after.width == win.width and after.height == win.height)


def aligned_vrt(before, after, win: Window, shift: Tuple[float, float] = (0.0, 0.0), resampling="bilinear",
                nodata=None) -> WarpedVRT:
    """A warped VRT of AFTER on BEFORE's grid restricted to ``win``, with the translation
    ``shift`` = (dx_px, dy_px) (to apply to AFTER, module convention) folded in."""
    dx, dy = shift
    tf = before.transform * Affine.translation(win.col_off - dx, win.row_off - dy)
    kw = {}
    if before.crs is None:
        kw.update(src_crs=_PLACEHOLDER_CRS, crs=_PLACEHOLDER_CRS, src_transform=after.transform)
    else:
        kw.update(crs=before.crs)
    if nodata is None:
        nodata = after.nodata if after.nodata is not None else _default_nodata(after.dtypes[0])
    return WarpedVRT(after, transform=tf, width=int(win.width), height=int(win.height),
                     resampling=_resampling(resampling), nodata=nodata, **kw)


def _default_nodata(dtype: str):
    return float("nan") if np.dtype(dtype).kind == "f" else 0


def _describe_grid(src) -> str:
    if src.crs is None:
        return f"pixel size {abs(src.transform.a):g} (no CRS)"
    sc = dataset_ground_scale(src)
    epsg = src.crs.to_epsg()
    name = f"EPSG:{epsg}" if epsg else src.crs.to_string()[:40]
    return f"{name} at {sc.mean_m:.3g} m"


def _grid_notes(before, after, win: Window) -> List[str]:
    notes = []
    if not _same_grid(before, after, win):
        notes.append(f"AFTER was reprojected from {_describe_grid(after)} to BEFORE's grid ({_describe_grid(before)}).")
    if (win.col_off, win.row_off, win.width, win.height) != (0, 0, before.width, before.height):
        frac = win.width * win.height / float(before.width * before.height)
        notes.append(f"Only the overlap of the two images is compared: {int(win.width)} x {int(win.height)} pixels of "
                     f"BEFORE ({100 * frac:.0f} % of it), from column {int(win.col_off)}, row {int(win.row_off)}.")
    if after.dtypes[0] != before.dtypes[0]:
        notes.append(f"The bit depths differ (BEFORE {before.dtypes[0]}, AFTER {after.dtypes[0]}); the radiometric "
                     "normalisation takes care of it.")
    return notes


def _profile_for(src, width: int, height: int, transform, crs, count: int, dtype: str, nodata):
    prof = {"driver": "GTiff", "width": width, "height": height, "count": count, "dtype": dtype, "crs": crs,
            "transform": transform, "nodata": nodata, "compress": "deflate", "BIGTIFF": "IF_SAFER"}
    if width >= 256 and height >= 256:
        prof.update(tiled=True, blockxsize=256, blockysize=256)
    return prof


def _copy_windows(vrt, dst, block: int, progress: Progress, cancel: CancelCheck, p0: float = 0.0, p1: float = 1.0):
    total = n_windows(vrt.width, vrt.height, block)
    for i, (core, _) in enumerate(iter_windows(vrt.width, vrt.height, block, 0)):
        check_cancel(cancel)
        dst.write(vrt.read(window=core), window=core)
        if progress:
            progress(p0 + (p1 - p0) * (i + 1) / total)


def _write_aligned(before, after, win, out_path, shift, resampling, block, progress, cancel, p0=0.0, p1=1.0):
    nodata = after.nodata if after.nodata is not None else _default_nodata(after.dtypes[0])
    with aligned_vrt(before, after, win, shift, resampling, nodata) as vrt:
        tf = before.transform * Affine.translation(win.col_off, win.row_off)
        prof = _profile_for(after, int(win.width), int(win.height), tf, before.crs, after.count, after.dtypes[0],
                            nodata)
        with rasterio.open(out_path, "w", **prof) as dst:
            try:
                dst.colorinterp = after.colorinterp
            except Exception:
                pass
            for i, d in enumerate(after.descriptions):
                if d:
                    dst.set_band_description(i + 1, d)
            dst.update_tags(**{k: v for k, v in after.tags().items() if "DATE" in k.upper()})
            _copy_windows(vrt, dst, block, progress, cancel, p0, p1)


def align_to_grid(before_path: str, after_path: str, out_path: str, *, resampling="bilinear", block: int = 1024,
                  progress: Progress = None, cancel: CancelCheck = None) -> dict:
    """Warp AFTER onto BEFORE's grid over their overlap and write it to ``out_path``.

    Returns {'window': (col_off, row_off, width, height) in BEFORE's pixels,
    'bounds': (left, bottom, right, top) in BEFORE's CRS, 'transform', 'crs',
    'notes': [sentences for the log]}.
    """
    with rasterio.open(before_path) as before, rasterio.open(after_path) as after:
        win = overlap_window(before, after)
        notes = _grid_notes(before, after, win)
        _write_aligned(before, after, win, out_path, (0.0, 0.0), resampling, block, progress, cancel)
        tf = before.transform * Affine.translation(win.col_off, win.row_off)
        bounds = rasterio.windows.bounds(win, before.transform)
        return {"window": (int(win.col_off), int(win.row_off), int(win.width), int(win.height)),
                "bounds": tuple(bounds), "transform": tf, "crs": before.crs, "notes": notes}


# --------------------------------------------------------------------------------------------
# shift estimation


def _luminance(data: np.ndarray, valid: np.ndarray) -> np.ndarray:
    lum = data.mean(axis=0) if data.ndim == 3 else data
    lum = np.where(valid, lum, np.nan)
    if np.isfinite(lum).any():
        fill = np.nanmedian(lum)
        lum = np.where(np.isfinite(lum), lum, fill)
    else:
        lum = np.zeros_like(lum)
    return lum.astype(np.float32)


def _complex_gradient(lum: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    s = ndimage.gaussian_filter(lum, sigma)
    gx = ndimage.sobel(s, axis=1)
    gy = ndimage.sobel(s, axis=0)
    return (gx + 1j * gy).astype(np.complex64)


def _upsampled_dft(spec: np.ndarray, size: int, up: int, r0: float, c0: float) -> np.ndarray:
    """Inverse DFT of ``spec`` evaluated on a (size x size) grid of step 1/up starting
    at (r0, c0) (in pixels of the original grid): matrix-multiply DFT
    (Guizar-Sicairos et al. 2008)."""
    nr, nc = spec.shape
    fr = np.fft.ifftshift(np.arange(nr) - nr // 2)
    fc = np.fft.ifftshift(np.arange(nc) - nc // 2)
    rr = r0 + np.arange(size) / up
    cc = c0 + np.arange(size) / up
    kr = np.exp(2j * np.pi * np.outer(rr, fr) / nr)
    kc = np.exp(2j * np.pi * np.outer(fc, cc) / nc)
    return kr @ spec @ kc


def phase_correlate(a: np.ndarray, b: np.ndarray, max_shift: Optional[float] = None,
                    up: int = UPSAMPLE) -> Tuple[float, float, float, float]:
    """Sub-pixel translation (dx, dy) that maps image ``a`` onto image ``b``
    (``b(x) ~ a(x - (dx, dy))``), with the peak height and the noise floor of the
    phase-correlation surface. ``a`` and ``b`` are real or complex 2-D arrays of one shape."""
    h, w = a.shape
    win = np.outer(np.hanning(h), np.hanning(w)).astype(np.float32)
    fa = np.fft.fft2(a * win)
    fb = np.fft.fft2(b * win)
    cross = fb * np.conj(fa)
    mag = np.maximum(np.abs(cross), 1e-12 * (float(np.abs(cross).max()) + 1e-30))
    # location: "generalised" phase correlation (spectrum normalised by |cross|^0.5), which
    # keeps the low frequencies' weight and is not biased by the noise of the weak high ones;
    # quality: the pure phase-correlation peak (0..1)
    located = cross / np.sqrt(mag)
    phase = np.abs(np.fft.ifft2(cross / mag))
    surf = np.abs(np.fft.ifft2(located))
    if max_shift is not None:
        m = int(math.ceil(max_shift))
        ry = np.minimum(np.arange(h), h - np.arange(h))
        rx = np.minimum(np.arange(w), w - np.arange(w))
        near = (ry[:, None] <= m) & (rx[None, :] <= m)
        surf = np.where(near, surf, 0.0)
    k = int(np.argmax(surf))
    pr, pc = divmod(k, w)
    peak = float(phase[pr, pc])
    # noise floor: with no common signal the surface is Rayleigh-like, and its highest value in a
    # search window of a few thousand cells reaches about median + 6 std; 6.5 std keeps the chance
    # that pure noise passes for a peak near 1 % (a changed tile must not give a spurious shift)
    floor = float(np.median(phase) + NOISE_SIGMAS * np.std(phase))
    if pr > h // 2:
        pr -= h
    if pc > w // 2:
        pc -= w
    # refine on a 1.5 px neighbourhood at 1/up px
    size = int(math.ceil(1.5 * up)) | 1
    half = (size - 1) // 2
    fine = np.abs(_upsampled_dft(located, size, up, pr - half / up, pc - half / up))
    fk = int(np.argmax(fine))
    fr, fcn = divmod(fk, size)
    dy = pr + (fr - half) / up
    dx = pc + (fcn - half) / up
    return float(dx), float(dy), peak, floor


def _tile_origins(width: int, height: int, tile: int, n_max: int) -> List[Tuple[int, int]]:
    nx = max(1, min(int(math.sqrt(n_max)) + 1, (width - tile) // (tile // 2) + 1 if width > tile else 1))
    ny = max(1, min(int(math.sqrt(n_max)) + 1, (height - tile) // (tile // 2) + 1 if height > tile else 1))
    xs = np.linspace(0, max(0, width - tile), nx).astype(int)
    ys = np.linspace(0, max(0, height - tile), ny).astype(int)
    return [(int(x), int(y)) for y in ys for x in xs]


def estimate_shift_readers(read_before, read_after, width: int, height: int, px: Tuple[float, float], *,
                           max_shift_px: float = 32.0, tile: Optional[int] = None, max_tiles: int = 16,
                           cancel: CancelCheck = None, progress: Progress = None) -> Tuple[Shift, List[str]]:
    """:func:`estimate_shift` on two callables ``read(window) -> (data (b,h,w), valid)``
    over one grid of ``width`` x ``height`` pixels of ground size ``px`` = (x_m, y_m)."""
    notes: List[str] = []
    if tile is None:
        tile = 256 if max_shift_px <= 48 else 512
        tile = min(tile, 1 << int(math.floor(math.log2(max(16, min(width, height))))))
    tile = int(min(tile, width, height))
    if min(width, height) >= 192:
        # at least two tiles a side, so a shift is confirmed by independent parts of the overlap
        tile = int(min(tile, min(width, height) // 2))
    origins = _tile_origins(width, height, tile, max_tiles * 2)
    # read all candidate tiles' edge energy cheaply, keep the strongest max_tiles
    results = []
    for i, (x, y) in enumerate(origins):
        check_cancel(cancel)
        w = Window(x, y, tile, tile)
        db, vb = read_before(w)
        da, va = read_after(w)
        ok = vb & va
        if ok.mean() < 0.8:
            continue
        gb = _complex_gradient(_luminance(db, vb))
        ga = _complex_gradient(_luminance(da, va))
        energy = float(np.sqrt(np.mean(np.abs(gb) ** 2) * np.mean(np.abs(ga) ** 2)))
        if energy <= 0:
            continue
        # the shift to apply to AFTER: AFTER = BEFORE moved by -shift
        sx, sy, peak, floor = phase_correlate(ga, gb, max_shift=max_shift_px)
        results.append((sx, sy, peak, floor, energy))
        if progress:
            progress((i + 1) / len(origins))
    if not results:
        notes.append("No part of the overlap had enough texture in both images to measure a shift; none applied.")
        return Shift(0.0, 0.0, 0.0, 0.0, 0.0, 0), notes
    arr = np.array(results)
    good = arr[(arr[:, 2] > arr[:, 3]) & (arr[:, 2] >= MIN_PEAK)]
    if len(good) == 0:
        notes.append("The images correlate too weakly to measure their misregistration (peak "
                     f"{float(arr[:, 2].max()):.2f}); no shift applied.")
        return Shift(0.0, 0.0, 0.0, 0.0, float(arr[:, 2].max()), 0), notes
    dx = float(np.median(good[:, 0]))
    dy = float(np.median(good[:, 1]))
    # tiles that agree with the answer within half a pixel: refine with their peak-weighted mean
    agree = good[np.hypot(good[:, 0] - dx, good[:, 1] - dy) <= 0.5]
    if len(agree):
        wts = agree[:, 2]
        dx = float(np.sum(agree[:, 0] * wts) / wts.sum())
        dy = float(np.sum(agree[:, 1] * wts) / wts.sum())
    peak = float(np.clip(np.median(good[:, 2]), 0.0, 1.0))
    n = int(len(agree))
    if n < 2 and len(arr) >= 2:
        # one tile alone is not evidence: on a scene that changed almost everywhere a lone weak peak
        # is as likely to be chance as misregistration
        notes.append(f"Only {n} of {len(arr)} tiles found a clear correlation peak; the misregistration could "
                     "not be confirmed, so no shift was applied.")
        return Shift(0.0, 0.0, 0.0, 0.0, peak, 0), notes
    if n < max(2, len(good) // 2):
        notes.append(f"The tiles disagree on the shift ({n} of {len(good)} agree); check the alignment.")
    return Shift(dx, dy, dx * px[0], dy * px[1], peak, n), notes


def _band_list(src, bands: Optional[Sequence[int]]) -> List[int]:
    if bands:
        return [int(b) for b in bands]
    if src.count >= 3:
        return list(band_roles(src).visible)
    return [1]


def estimate_shift(before_path: str, after_on_grid_path: str, *, bands=None, bands_after=None, window=None,
                   max_shift_px: float = 32.0, progress: Progress = None, cancel: CancelCheck = None) -> Shift:
    """Sub-pixel translation to apply to AFTER (already on BEFORE's grid, e.g. from
    :func:`align_to_grid`) so that it lines up with BEFORE (see the module docstring).

    ``window``: (col_off, row_off, width, height) of BEFORE that the AFTER raster
    covers; by default it is found from AFTER's bounds. ``bands``: bands of BEFORE
    (and of AFTER unless ``bands_after``) to use; default the visible bands (mean)."""
    with rasterio.open(before_path) as before, rasterio.open(after_on_grid_path) as after:
        check_crs_pair(before, after)
        win = Window(*window) if window is not None else overlap_window(before, after)
        if not _same_grid(before, after, win):
            raise InputError("AFTER is not on BEFORE's grid: align it first (align_to_grid or coregister).")
        bb = _band_list(before, bands)
        ba = _band_list(after, bands_after or bands)
        sc = ground_scale(before.crs, before.transform, before.width, before.height) if before.crs else None
        px = (sc.x_m, sc.y_m) if sc else (abs(before.transform.a), abs(before.transform.e))

        def rb(w):
            return read_valid(before, Window(w.col_off + win.col_off, w.row_off + win.row_off, w.width, w.height), bb)

        def ra(w):
            return read_valid(after, w, ba)

        shift, _ = estimate_shift_readers(rb, ra, int(win.width), int(win.height), px, max_shift_px=max_shift_px,
                                          cancel=cancel, progress=progress)
        return shift


def coregister(before_path: str, after_path: str, out_path: str, *, bands=None, bands_after=None,
               resampling="bilinear", max_shift_px: float = 32.0, block: int = 1024, progress: Progress = None,
               cancel: CancelCheck = None) -> CoregResult:
    """Put AFTER on BEFORE's grid over their overlap, measure the residual translation
    and write AFTER resampled once with it corrected to ``out_path``."""
    with rasterio.open(before_path) as before, rasterio.open(after_path) as after:
        win = overlap_window(before, after)
        notes = _grid_notes(before, after, win)
        shift, snotes = shift_between(before, after, win, bands=bands, bands_after=bands_after,
                                      max_shift_px=max_shift_px, cancel=cancel,
                                      progress=(lambda v: progress(0.3 * v)) if progress else None)
        notes += snotes
        notes.append(shift_sentence(shift, before.crs is not None))
        _write_aligned(before, after, win, out_path, (shift.dx_px, shift.dy_px), resampling, block, progress,
                       cancel, 0.3, 1.0)
        bounds = tuple(rasterio.windows.bounds(win, before.transform))
    return CoregResult(shift=shift, out_path=out_path, notes=notes, overlap_bounds=bounds)


def shift_between(before, after, win: Window, *, bands=None, bands_after=None, max_shift_px: float = 32.0,
                  cancel: CancelCheck = None, progress: Progress = None) -> Tuple[Shift, List[str]]:
    """Residual shift between open datasets (AFTER warped on the fly to BEFORE's window)."""
    bb = _band_list(before, bands)
    ba = _band_list(after, bands_after or bands)
    if len(bb) != len(ba):
        bb, ba = bb[:1], ba[:1]
    sc = dataset_ground_scale(before)
    px = (sc.x_m, sc.y_m)
    with aligned_vrt(before, after, win) as vrt:
        def rb(w):
            return read_valid(before, Window(w.col_off + win.col_off, w.row_off + win.row_off, w.width, w.height), bb)

        def ra(w):
            return read_valid(vrt, w, ba)

        return estimate_shift_readers(rb, ra, int(win.width), int(win.height), px, max_shift_px=max_shift_px,
                                      cancel=cancel, progress=progress)


def shift_sentence(shift: Shift, georeferenced: bool = True) -> str:
    """The log line for the residual shift: what was applied, or that none was measured."""
    unit = "m" if georeferenced else "units"
    if shift.n_tiles == 0:
        return "Residual misregistration not measured: AFTER is used on BEFORE's grid as it is (shift 0 px)."
    return (f"Residual misregistration corrected: AFTER moved {shift.dx_px:+.2f} px east and "
            f"{shift.dy_px:+.2f} px south ({shift.dx_m:+.2f} {unit}, {shift.dy_m:+.2f} {unit}) to line up "
            f"with BEFORE; correlation peak {shift.peak:.2f} over {shift.n_tiles} tile(s).")
