"""Land/water segmentation of optical rasters.

Method
------
* With a near-infrared band: the Normalised Difference Water Index
  NDWI = (G - NIR) / (G + NIR) (McFeeters 1996). Water reflects green and
  absorbs NIR, so NDWI is high on water and negative on vegetation and most
  built surfaces.
* With visible bands only: a "water score" that is high where the surface is
  both dark and smooth. Water is the darkest large surface in most port
  scenes, and it is smooth at pixel scale, while dark land (asphalt, coal,
  shadows) is rougher and comes in smaller pieces. The score is
  ``-(L + k * T)`` where L is the log brightness and T the log local standard
  deviation of brightness (both standardised), so dark textured land scores
  lower than dark smooth water. Vegetation (dark forest looks like water in
  brightness) is told apart by its excess green, ExG = 2g - r - b in
  chromaticity coordinates (Woebbecke et al. 1995), added as a third,
  one-sided term (only green above the scene's median counts):
  ``-(L + k*T + k_g*max(ExG - median, 0))``.
* A one-class colour model of the water itself: from open water (pixels
  scored as water and more than ~40 m from anything that is not, in the
  sample windows; coal, asphalt and shadows are too narrow to have such an
  interior), the mean
  and covariance of (r and b chromaticity, saturation, log texture) are
  estimated, and a pixel is water only if its Mahalanobis distance to that
  model is small (chi-square test). Brightness enters one-sided: only
  brighter than the water counts against it, since shadows on water are
  darker but still water. The test is made per object, not per pixel: a
  water piece is kept when its pixels match the model on average, or when
  most of it is as smooth and dark as the water and as coloured (a green
  pond, a turbid plume: water of another colour, not neutral grey like coal
  or asphalt). This rejects dark smooth land of another
  colour (asphalt, yard surfaces) that brightness and texture alone let in,
  and adapts to each image's water colour (clear, turbid, any sensor).
* Without enough open water to learn its colour (an inland scene, a small
  crop), brightness and texture alone split any image in two, and the darker,
  smoother half is often bare soil, dry grass or ploughed fields. Water, clear
  or green, reflects blue at least as much as red; such land is as red as it
  is dark: there a water piece whose median red minus blue chromaticity is
  ``SOIL_RED_MIN`` (0.04) or more is land (:func:`_not_soil`). Harbour water
  measured 0.016 to 0.27 *bluer* than red; the dark fields of building-change
  pairs (LEVIR-CD) 0.06 to 0.08 redder.
* The threshold is chosen automatically with Otsu's method (Otsu 1979) on the
  score histogram pooled over full-resolution sample windows spread over the
  whole raster; ``sensitivity`` (0..1, default 0.5) moves it towards more
  (>0.5) or less (<0.5) water.
* Object-level clean-up, per window with a halo: water pieces smaller than
  ``min_water_m2`` are dropped (dark roofs, shadows), so are pieces with no
  core wider than ~18 m (opening by reconstruction, Vincent 1993: roads and
  dark strips on land), and land pieces wholly
  enclosed by water and smaller than ``fill_holes_m2`` become water (anchored
  ships, glint, buoys): the mask is meant to contain the vessels that lie on
  it. A piece touching the halo's edge is of unknown size and left as is.
* ``force_water`` / ``force_land`` polygons (in the raster's CRS) override the
  answer where the analyst knows better.

Memory stays bounded: the raster is read in blocks with a halo and the mask is
written block by block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, List, Optional

import numpy as np
import rasterio
from rasterio import features
from rasterio.windows import transform as window_transform
from scipy import ndimage
from shapely.geometry import box

from .errors import InputError
from .geo import dataset_ground_scale
from .raster import (
    BandRoles,
    CancelCheck,
    Progress,
    band_roles,
    check_cancel,
    core_slices,
    iter_windows,
    n_windows,
    overview,
    read_valid,
)

TEXTURE_WEIGHT = 0.6
GREEN_WEIGHT = 0.6
CORE_HALF_WIDTH_M = 9.0
OBJECT_COLOUR_MAX = 0.6  # mean of (d^2 / d2max, capped at 4) over a water piece
DEEP_WATER_M = 40.0  # open water: farther than this from any shore
SOIL_RED_MIN = 0.04  # without a learned water colour: r - b chromaticity from which a dark piece is soil
HOLE_LENGTH_M = 700.0  # a long ship and its wake, to be seen whole inside a halo
REFLECTANCE_MAX = 64.0  # a float image whose 99th percentile brightness is under this holds reflectance or
# other small values, not counts ...
REFLECTANCE_GAIN = 10000.0  # ... and is scaled as Level-2 products scale reflectance to counts


@dataclass
class WaterResult:
    """What :func:`water_mask` found, for the log and the caller."""

    method: str
    threshold: float
    separability: float
    water_fraction: float
    pixel_size_m: float
    roles: BandRoles
    windows: int
    notes: List[str] = field(default_factory=list)
    units: str = "m"  # of pixel_size_m: "px" when the raster has no CRS


def otsu_threshold(values: np.ndarray, bins: int = 256) -> tuple:
    """Otsu's threshold of a 1-D sample and its separability (between-class /
    total variance, 0..1)."""
    values = values[np.isfinite(values)]
    if values.size < 2:
        return 0.0, 0.0
    lo, hi = np.percentile(values, [0.5, 99.5])
    if hi <= lo:
        return float(lo), 0.0
    hist, edges = np.histogram(np.clip(values, lo, hi), bins=bins, range=(lo, hi))
    p = hist.astype(np.float64) / hist.sum()
    centres = 0.5 * (edges[:-1] + edges[1:])
    w0 = np.cumsum(p)
    mu = np.cumsum(p * centres)
    mu_t = mu[-1]
    w1 = 1.0 - w0
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mu_t * w0 - mu) ** 2 / (w0 * w1)
    between[~np.isfinite(between)] = 0.0
    k = int(np.argmax(between[:-1]))
    total = float(np.sum(p * (centres - mu_t) ** 2))
    sep = float(between[k] / total) if total > 0 else 0.0
    return float(edges[k + 1]), sep


class _Scorer:
    """Computes the per-pixel water score of a block (higher = more water)."""

    def __init__(self, roles: BandRoles, use_nir: bool, texture_radius: int):
        self.roles = roles
        self.use_nir = use_nir
        self.radius = texture_radius
        self.bands = [roles.green, roles.nir] if use_nir else list(roles.visible)
        self.center = None  # standardisation (mean, std) of L and T, set from samples
        # reflectance (0-1) is brought to the 0-10000 scale of Level-2 products: the log
        # brightness (log1p) and the texture's floor assume values of integer counts, and on
        # 0-1 data log1p is nearly linear (a Sentinel-2 scene divided by 10000 gave another
        # water mask, ship set and TEU than the same scene in counts)
        self.gain = 1.0

    def raw(self, data: np.ndarray):
        """(a, b, c): NDWI, None, None with NIR; else log brightness, log texture
        and excess green."""
        if self.use_nir:
            g, n = data[0], data[1]
            with np.errstate(divide="ignore", invalid="ignore"):
                ndwi = (g - n) / (g + n)
            return np.nan_to_num(ndwi, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32), None, None
        pos = np.maximum(data, 0.0) * self.gain
        total = pos.sum(axis=0) + 1e-6
        exg = ((2 * pos[1] - pos[0] - pos[2]) / total).astype(np.float32)
        self.last_chroma = ((pos[0] / total).astype(np.float32), (pos[2] / total).astype(np.float32))
        mx = pos.max(axis=0)
        self.last_sat = ((mx - pos.min(axis=0)) / (mx + 1e-6)).astype(np.float32)
        lum = np.log1p(total / 3.0).astype(np.float32)
        size = 2 * self.radius + 1
        m1 = ndimage.uniform_filter(lum, size, mode="reflect")
        m2 = ndimage.uniform_filter(lum * lum, size, mode="reflect")
        sd = np.sqrt(np.maximum(m2 - m1 * m1, 0.0))
        tex = np.log(sd + 1e-3).astype(np.float32)
        return lum, tex, exg

    def score(self, data: np.ndarray) -> np.ndarray:
        a, b, c = self.raw(data)
        if self.use_nir:
            return a
        sc = self.combine(a, b, c)
        self.last_evidence = None
        if self.colour_model is not None:
            mu, inv, d2max, (ml, sl), (mt, st), sat_w = self.colour_model
            f = np.stack([self.last_chroma[0], self.last_chroma[1], self.last_sat, b], axis=-1) - mu
            d2 = np.einsum("...i,ij,...j->...", f, inv, f)
            d2 = d2 + np.square(np.maximum(a - ml, 0.0) / sl)
            # per-pixel evidence for the object-level test: colour distance,
            # and "plain water of another colour": as smooth and as dark as the
            # water (texture and brightness within a band above the water's) and
            # coloured like water rather than neutral grey like coal and asphalt
            # (saturation at least 0.6 of the water's own, so hazy images work)
            plain = (b <= mt + 1.0 * st) & (a <= ml + 1.0 * sl) & (self.last_sat >= 0.6 * sat_w)
            self.last_evidence = (np.minimum(d2 / d2max, 4.0), plain)
        return sc

    colour_model = None
    last_evidence = None
    last_sat = None

    def combine(self, lum, tex, exg):
        (ml, sl), (mt, st), (mg, sg) = self.center
        # one-sided: only greenness above the scene's median counts against
        # water, and only where the surface is rough like a canopy (full weight
        # from the scene's mean texture up, none one s.d. below it): a green
        # pond is smooth, a forest is not
        rough = np.clip((tex - mt) / st + 1.0, 0.0, 1.0)
        green = np.maximum(exg - mg, 0.0) / sg * rough
        return -((lum - ml) / sl + TEXTURE_WEIGHT * (tex - mt) / st + GREEN_WEIGHT * green)


def _deep_water_samples(src, scorer, wins, thr, depth_px, cancel):
    """Features (r, b chromaticity, saturation, log texture, log brightness) of
    the pixels deep inside water pieces (farther than ``depth_px`` from any
    non-water pixel) in the sample windows: open water, whose colour is the
    image's water colour. Dark land that scores like water (coal, asphalt,
    shadow) comes in pieces too narrow to have such an interior."""
    rows = []
    for win in wins:
        check_cancel(cancel)
        data, valid = read_valid(src, win, scorer.bands)
        if not valid.any():
            continue
        lum, tex, exg = scorer.raw(data)
        cand = (scorer.combine(lum, tex, exg) > thr) & valid
        # per-pixel answers are speckled (waves, glint): a 9x9 majority first
        cand = (ndimage.uniform_filter(cand.astype(np.float32), 9, mode="nearest") > 0.5) & valid
        if not cand.any():
            continue
        deep = ndimage.distance_transform_edt(cand) > depth_px
        if not deep.any():
            continue
        rows.append(np.stack([scorer.last_chroma[0][deep], scorer.last_chroma[1][deep], scorer.last_sat[deep],
                              tex[deep], lum[deep]], axis=1)[::3])
    if not rows:
        return None
    feats = np.concatenate(rows)
    return feats if len(feats) >= 200 else None


def _water_colour_model(deep: np.ndarray, sensitivity: float):
    """Gaussian model of open water: (mean, inverse covariance, max squared
    distance, brightness (mean, sd), texture (mean, sd), median saturation)."""
    f = deep[:, :4].astype(np.float64)
    mu = f.mean(axis=0)
    # widen a little: open water is more uniform than water near the shore
    cov = (np.cov(f, rowvar=False) + np.eye(f.shape[1]) * 1e-6) * 1.5
    inv = np.linalg.inv(cov)
    lum = deep[:, 4]
    lum_stats = (float(lum.mean()), float(lum.std() * 1.5 + 1e-6))
    tex_stats = (float(f[:, 3].mean()), float(f[:, 3].std() + 1e-6))
    # chi-square with 5 degrees of freedom (4 features + one-sided brightness):
    # 0.999 -> 20.5; sensitivity widens or narrows it
    d2max = 20.5 * (0.5 + sensitivity) ** 2
    sat_w = float(np.median(f[:, 2]))
    return mu.astype(np.float32), inv.astype(np.float32), float(d2max), lum_stats, tex_stats, sat_w


def _sample_windows(width: int, height: int, size: int, max_windows: int):
    """Up to ``max_windows`` full-resolution windows spread evenly over the raster."""
    wins = [w for w, _ in iter_windows(width, height, size, 0)]
    if len(wins) <= max_windows:
        return wins
    step = len(wins) / float(max_windows)
    return [wins[int(i * step)] for i in range(max_windows)]


def _rasterize(geoms: Optional[Iterable], transform, shape) -> Optional[np.ndarray]:
    if not geoms:
        return None
    shapes = [(g, 1) for g in geoms if g is not None and not g.is_empty]
    if not shapes:
        return None
    return features.rasterize(shapes, out_shape=shape, transform=transform, fill=0, dtype="uint8").astype(bool)


def water_mask(
    src_path: str,
    dst_path: str,
    *,
    red: Optional[int] = None,
    green: Optional[int] = None,
    blue: Optional[int] = None,
    nir: Optional[int] = None,
    use_nir: bool = True,
    sensitivity: float = 0.5,
    min_water_m2: Optional[float] = None,
    fill_holes_m2: float = 30000.0,
    force_water: Optional[Iterable] = None,
    force_land: Optional[Iterable] = None,
    block: int = 1024,
    progress: Progress = None,
    cancel: CancelCheck = None,
) -> WaterResult:
    """Write a 0/1 uint8 water mask GeoTIFF of ``src_path`` to ``dst_path``.

    Pixels outside the image's valid area get 255 (nodata). See the module
    docstring for the method. Raises :class:`InputError` for unusable input.
    """
    if not 0.0 <= sensitivity <= 1.0:
        raise InputError(f"Sensitivity must be between 0 and 1, not {sensitivity}.")
    with rasterio.open(src_path) as src:
        roles = band_roles(src, red, green, blue, nir, need_colour=not (use_nir and nir))
        nir_ok = use_nir and roles.nir is not None
        scale = dataset_ground_scale(src)
        px_m = scale.mean_m
        px_area = scale.x_m * scale.y_m
        notes = []
        if not scale.georeferenced:
            notes.append("The raster has no CRS: areas are in squared pixel units.")
        if min_water_m2 is None:
            min_water_m2 = max(2500.0, 40.0 * px_area)
        min_px = max(1, int(round(min_water_m2 / px_area)))
        hole_px = int(round(fill_holes_m2 / px_area))
        texture_radius = 2 if px_m >= 5 else 3
        core_px = max(1.0, CORE_HALF_WIDTH_M / px_m)
        # halo: enough to see a hole of the largest filled size whole
        halo = int(min(1024, max(16, math.sqrt(max(hole_px, 1)) * 2.5, HOLE_LENGTH_M / px_m)))
        size = max(block, 2 * halo)
        scorer = _Scorer(roles, nir_ok, texture_radius)
        if all(np.dtype(src.dtypes[b - 1]).kind == "f" for b in scorer.bands):  # counts need no look
            ov, ov_valid, _ = overview(src, scorer.bands, max_size=512)
            if ov_valid.any() and float(np.percentile(ov.mean(axis=0)[ov_valid], 99)) < REFLECTANCE_MAX:
                scorer.gain = REFLECTANCE_GAIN
                notes.append("The image holds small values (reflectance, not counts): they are scaled by 10000 "
                             "for the water statistics.")

        # Pass 1: statistics over full-resolution sample windows.
        samples_l, samples_t, samples_g = [], [], []
        any_valid = False
        sample_wins = _sample_windows(src.width, src.height, 512, 48)
        for i, win in enumerate(sample_wins):
            check_cancel(cancel)
            data, valid = read_valid(src, win, scorer.bands)
            if not valid.any():
                continue
            any_valid = True
            a, b, c = scorer.raw(data)
            keep = valid
            if b is not None:
                # the texture filter mixes valid and invalid pixels at the edge
                keep = ndimage.binary_erosion(valid, iterations=texture_radius, border_value=1)
                samples_t.append(b[keep][::4])
                samples_g.append(c[keep][::4])
            samples_l.append(a[keep][::4])
            if progress:
                progress(0.15 * (i + 1) / len(sample_wins))
        if not any_valid:
            raise InputError(
                "The raster holds no valid pixels (all nodata). Choose another image or fix its nodata value."
            )
        lum = np.concatenate(samples_l)
        if nir_ok:
            score_samples = lum
            method = f"NDWI (green band {roles.green}, NIR band {roles.nir})"
        else:
            tex = np.concatenate(samples_t)
            exg = np.concatenate(samples_g)
            scorer.center = tuple((float(v.mean()), float(v.std() + 1e-6)) for v in (lum, tex))
            scorer.center += ((float(np.median(exg)), float(exg.std() + 1e-6)),)
            score_samples = scorer.combine(lum, tex, exg)
            method = f"visible brightness and texture (bands {roles.red}, {roles.green}, {roles.blue})"
        thr, sep = otsu_threshold(score_samples)
        if not nir_ok:
            deep = _deep_water_samples(src, scorer, sample_wins, thr, max(5.0, DEEP_WATER_M / px_m), cancel)
            if deep is not None:
                scorer.colour_model = _water_colour_model(deep, sensitivity)
            if scorer.colour_model is None:
                notes.append("Too little open water to learn its colour; brightness and texture alone used.")
        if nir_ok:
            # NDWI has a physical meaning: keep the threshold in a sane band
            thr = float(np.clip(thr, -0.3, 0.4))
        spread = float(np.percentile(score_samples, 95) - np.percentile(score_samples, 5))
        thr -= (sensitivity - 0.5) * 0.5 * spread
        if sep < 0.5:
            notes.append(
                f"Water and land are poorly separated in this image (separability {sep:.2f}); "
                "check the result, or give land/water polygons to force the answer."
            )

        profile = {
            "driver": "GTiff", "width": src.width, "height": src.height, "count": 1, "dtype": "uint8",
            "crs": src.crs, "transform": src.transform, "nodata": 255, "tiled": True,
            "blockxsize": 256, "blockysize": 256, "compress": "deflate",
        }
        if src.width < 256 or src.height < 256:
            profile.update(tiled=False)
            profile.pop("blockxsize")
            profile.pop("blockysize")
        force_water = list(force_water) if force_water else []
        force_land = list(force_land) if force_land else []
        frame = box(*src.bounds)
        for what, geoms in (("water", force_water), ("land", force_land)):
            off = sum(1 for g in geoms if g is not None and not g.is_empty and not g.intersects(frame))
            if off:
                notes.append(f"{off} forced-{what} polygon(s) lie outside the image and change nothing: are they "
                             "in the image's CRS?")
        total = n_windows(src.width, src.height, size)
        water_px = valid_px = 0
        with rasterio.open(dst_path, "w", **profile) as dst:
            for k, (core, read) in enumerate(iter_windows(src.width, src.height, size, halo)):
                check_cancel(cancel)
                data, valid = read_valid(src, read, scorer.bands)
                score = scorer.score(data)
                water = (score > thr) & valid
                # speckle: a 3x3 majority vote keeps edges where they are
                water = (ndimage.uniform_filter(water.astype(np.float32), 3, mode="nearest") > 0.5) & valid
                water = _drop_small(water, min_px, read, src)
                water = _keep_wide(water, core_px)
                if scorer.last_evidence is not None:
                    water = _water_like_objects(water, *scorer.last_evidence)
                elif not nir_ok:
                    water = _not_soil(water, *scorer.last_chroma)
                water = _fill_enclosed(water, valid, hole_px, read, src)
                wt = window_transform(read, src.transform)
                fw = _rasterize(force_water, wt, water.shape)
                if fw is not None:
                    water |= fw
                fl = _rasterize(force_land, wt, water.shape)
                if fl is not None:
                    water &= ~fl
                sl = core_slices(core, read)
                out = water[sl].astype(np.uint8)
                v = valid[sl]
                out[~v] = 255
                dst.write(out, 1, window=core)
                water_px += int(out[v].sum())
                valid_px += int(v.sum())
                if progress:
                    progress(0.15 + 0.85 * (k + 1) / total)
    return WaterResult(
        method=method,
        threshold=float(thr),
        separability=sep,
        water_fraction=water_px / valid_px if valid_px else 0.0,
        pixel_size_m=px_m,
        roles=roles,
        windows=total,
        notes=notes,
        units="m" if scale.georeferenced else "px",
    )


def _edge_touching(labels: np.ndarray, read, src) -> np.ndarray:
    """Labels of components touching a side of the read window that is not
    the raster's own edge (their true size is unknown here)."""
    edges = []
    if read.row_off > 0:
        edges.append(labels[0, :])
    if read.col_off > 0:
        edges.append(labels[:, 0])
    if read.row_off + read.height < src.height:
        edges.append(labels[-1, :])
    if read.col_off + read.width < src.width:
        edges.append(labels[:, -1])
    if not edges:
        return np.zeros(0, labels.dtype)
    return np.unique(np.concatenate(edges))


def _raster_edge_touching(labels: np.ndarray, read, src) -> np.ndarray:
    """Labels of components touching the raster's own edge inside this window."""
    edges = []
    if read.row_off == 0:
        edges.append(labels[0, :])
    if read.col_off == 0:
        edges.append(labels[:, 0])
    if read.row_off + read.height >= src.height:
        edges.append(labels[-1, :])
    if read.col_off + read.width >= src.width:
        edges.append(labels[:, -1])
    if not edges:
        return np.zeros(0, labels.dtype)
    return np.unique(np.concatenate(edges))


def _drop_small(water: np.ndarray, min_px: int, read, src) -> np.ndarray:
    labels, n = ndimage.label(water, structure=np.ones((3, 3), bool))
    if n == 0:
        return water
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    small = sizes < min_px
    small[0] = False
    small[_edge_touching(labels, read, src)] = False
    return water & ~small[labels]


def _water_like_objects(water: np.ndarray, colour_d: np.ndarray, plain: np.ndarray) -> np.ndarray:
    """Object-level test with the learned water model: a water piece is kept
    when its pixels on average match the water's colour (mean normalised
    distance <= OBJECT_COLOUR_MAX), or when most of it is as smooth and dark as the water
    (another water body of its own colour: a green pond, a turbid plume).
    Dark textured land (coal, woods) fails both."""
    labels, n = ndimage.label(water, structure=np.ones((3, 3), bool))
    if n == 0:
        return water
    idx = np.arange(1, n + 1)
    mean_d = ndimage.mean(colour_d, labels, idx)
    plain_frac = ndimage.mean(plain.astype(np.float32), labels, idx)
    keep = np.zeros(n + 1, bool)
    keep[1:] = (np.asarray(mean_d) <= OBJECT_COLOUR_MAX) | (np.asarray(plain_frac) >= 0.6)
    return keep[labels]


def _not_soil(water: np.ndarray, r: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Without a learned water colour (too little open water in the image: an inland scene, a
    small crop), brightness and texture alone call the darker, smoother half of any image
    water. Water, clear or green, reflects blue at least as much as red; the dark smooth land
    that takes its place is bare soil, ploughed or dry fields and brown grass, as red as they
    are dark. A water piece whose median red minus blue chromaticity is ``SOIL_RED_MIN`` or more
    is land. (A river brown with silt can be that red: with enough open water in the image its
    own colour is learned instead and this test is not made.)"""
    labels, n = ndimage.label(water, structure=np.ones((3, 3), bool))
    if n == 0:
        return water
    red = ndimage.median(r - b, labels, np.arange(1, n + 1))
    keep = np.zeros(n + 1, bool)
    keep[1:] = np.asarray(red) < SOIL_RED_MIN
    return keep[labels]


def _keep_wide(water: np.ndarray, core_px: float) -> np.ndarray:
    """Opening by reconstruction: keep water pieces that contain a core wider
    than ``2 * core_px`` (roads and narrow dark strips on land have none; the
    sea, docks and ponds do), whole, narrow parts included."""
    if not water.any():
        return water
    # cores are looked for on a smoothed mask: waves and glint speckle the
    # per-pixel answer inside real water bodies
    smooth = ndimage.uniform_filter(water.astype(np.float32), 9, mode="nearest") > 0.5
    dist = ndimage.distance_transform_edt(smooth)
    seeds = (dist > core_px) & water
    if not seeds.any():
        return np.zeros_like(water)
    return ndimage.binary_propagation(seeds, structure=np.ones((3, 3), bool), mask=water)


def _fill_enclosed(water: np.ndarray, valid: np.ndarray, hole_px: int, read, src) -> np.ndarray:
    land = ~water & valid
    labels, n = ndimage.label(land, structure=np.ones((3, 3), bool))
    if n == 0:
        return water
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    fill = sizes <= hole_px
    fill[0] = False
    fill[_edge_touching(labels, read, src)] = False
    fill[_raster_edge_touching(labels, read, src)] = False
    # a piece next to invalid pixels is not known to be enclosed by water
    near_invalid = np.unique(labels[ndimage.binary_dilation(~valid) & land])
    fill[near_invalid] = False
    fill[0] = False
    return water | fill[labels]
