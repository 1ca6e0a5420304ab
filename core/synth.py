# ruff: noqa: N803, N806, E741
"""Deterministic, realistic synthetic port scenes (GeoTIFF + GeoJSON ground truth).

A port is generated as *vector* objects in map coordinates (coastline, quays,
piers with bollards and cranes, container yards, coal and bulk heaps, tanks,
warehouses with ribbed roofs, buildings, roads, car and trailer parks,
vegetation, a pond, turbid plumes, ships docked / rafted / anchored /
underway) and rendered window by window into a tiled GeoTIFF, so rasters of
20000 x 20000 pixels and more are written with bounded memory.  Everything is
a function of world coordinates and the seed, so window seams are invisible
and the same seed gives the same bytes.

Public API (other modules depend on these names)::

    from quayside.core import synth
    cond = synth.Conditions()          # sun, gain/offset, haze, shift, noise, blur
    spec = synth.SceneSpec(width=2000, height=2000, gsd=0.5, seed=1)
    scene = synth.build_scene(spec)    # vector layout, cheap, deterministic
    synth.render_to_tiff(scene, "before.tif", epoch="before", conditions=cond, date="2016-05-14")
    synth.write_truth(scene, "truth/", epoch="before")
    paths = synth.make_port_pair("out/", spec)            # before/after + truth
    paths = synth.make_port_scene("out/port.tif", spec)   # one epoch + truth
    paths = synth.make_port_series("out/", spec, dates)   # dated series (6+ epochs)

Radiometry: the renderer works in surface reflectance.  ``uint8`` output is
``DN = 255 * reflectance / 0.55`` (a display-like stretch, white roofs near
saturation); ``uint16`` output is ``reflectance * 10000`` (like Sentinel-2
L2A).  ``Conditions.noise`` and ``Conditions.offset`` are fractions of the
full scale (reflectance 0.55 = 255 DN = 5500 in uint16), so both data types
look alike under the same conditions.

Epochs: a scene holds an ordered list of named epochs (default
``("before", "after")``).  Structural change (new 4-building complex of about
22,500 m2, a demolished building, an extended pier, the drained pond) happens
at epoch index ``change_at``; ships, container stacks, cars, trucks and
plumes differ from epoch to epoch.
"""

import datetime as _dt
import json
import os
import warnings
from dataclasses import asdict, dataclass
from typing import Callable, Dict, Optional, Sequence, Tuple

import numpy as np
from scipy import ndimage
from shapely import affinity
from shapely.geometry import box as _sbox
from shapely.geometry import mapping

from . import synth_layout as _lay
from . import synth_render as _ren
from .synth_noise import Tiles, hash_normal

__all__ = ["Conditions", "SceneSpec", "Scene", "build_scene", "render_to_tiff", "render_array", "write_truth",
           "make_port_pair", "make_port_scene", "make_port_series", "write_quicklook", "DEFAULT_AFTER",
           "FULL_SCALE_REFLECTANCE"]

FULL_SCALE_REFLECTANCE = 0.55
BAND_NAMES = ("red", "green", "blue", "nir")
ZMAX = 100.0  # highest shadow caster (m), for the shadow query margin


@dataclass
class Conditions:
    """Acquisition conditions (things that change the image but are NOT real change).

    sun_azimuth: degrees clockwise from north (direction *to* the sun).
    sun_elevation: degrees above the horizon (shadow length = height / tan(elev)).
    gain, offset: radiometric gain and additive offset (offset in fractions of full scale).
    haze: 0..1, additive bright bluish veil (varies slowly in space) + loss of contrast.
    shift_px: (dx, dy) misregistration in pixels: image content appears moved dx
        pixels to the right (east) and dy pixels down (south); same geotransform.
    noise: gaussian sensor noise, standard deviation as a fraction of full scale.
    blur_px: gaussian PSF sigma in pixels (0 = none).
    glint: sun-glint strength factor on water (0 = none).
    noise_seed: seed of the noise realisation (None: derived from scene seed and epoch).
    """

    sun_azimuth: float = 135.0
    sun_elevation: float = 45.0
    gain: float = 1.0
    offset: float = 0.0
    haze: float = 0.0
    shift_px: Tuple[float, float] = (0.0, 0.0)
    noise: float = 0.01
    blur_px: float = 0.5
    glint: float = 1.0
    noise_seed: Optional[int] = None


DEFAULT_AFTER = Conditions(sun_azimuth=158.0, sun_elevation=36.0, gain=1.08, offset=0.01, haze=0.06,
                           shift_px=(1.3, 0.0), noise=0.012, blur_px=0.6)


@dataclass
class SceneSpec:
    """Raster geometry and content switches.

    width, height: pixels.  gsd: metres per pixel (0.3 .. 10).  origin: map
    coordinates of the raster's upper-left corner.  nir: add a 4th (NIR) band.
    dtype: "uint8" (display stretch) or "uint16" (reflectance x 10000).
    """

    width: int = 2000
    height: int = 2000
    gsd: float = 0.5
    seed: int = 1
    crs: str = "EPSG:32651"
    origin: Tuple[float, float] = (360000.0, 4290000.0)
    nir: bool = False
    dtype: str = "uint8"


class _Wake:
    z = 6
    ep = None

    def __init__(self, ship):
        self.ship = ship

    def present(self, e):
        return True

    def bbox(self, e=0):
        return self.ship.wake_bbox()


def _draw_wake(ctx, o):
    _ren.draw_wake(ctx, o.ship)


class _Index:
    """Spatial index of object bounding boxes (shapely STRtree + exact bbox test)."""

    def __init__(self, objs, e):
        self.objs = objs
        bbs = []
        for o in objs:
            bbs.append(o.bbox(e))
        self.b = np.array(bbs, dtype=np.float64).reshape(-1, 4)
        self.tree = None
        try:
            from shapely.strtree import STRtree
            geoms = [_sbox(*bb) for bb in self.b]
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self.tree = STRtree(geoms, items=list(range(len(geoms))))  # shapely 1.8
                self._q = lambda g: self.tree.query_items(g)
            except TypeError:
                self.tree = STRtree(geoms)  # shapely 2
                self._q = lambda g: self.tree.query(g)
            self._geoms = geoms
        except Exception:  # pragma: no cover - numpy fallback
            self.tree = None

    def query(self, bounds):
        x0, y0, x1, y1 = bounds
        if self.tree is not None and len(self.objs):
            cand = np.asarray(sorted(int(i) for i in self._q(_sbox(x0, y0, x1, y1))), dtype=np.int64)
        else:
            cand = np.arange(len(self.objs))
        if len(cand) == 0:
            return []
        b = self.b[cand]
        ok = (b[:, 0] <= x1) & (b[:, 2] >= x0) & (b[:, 1] <= y1) & (b[:, 3] >= y0)
        return [self.objs[i] for i in cand[ok]]


class Scene:
    """A generated port: ``spec`` + vector ``layout`` + named epochs."""

    def __init__(self, spec, layout):
        self.spec = spec
        self.layout = layout
        self.epochs = list(layout.epochs)
        self._index = {}
        self._tiles = None

    @property
    def tiles(self):
        if self._tiles is None:
            self._tiles = Tiles(self.spec.seed * 7 + 3, n=256, count=64)
        return self._tiles

    def eidx(self, epoch):
        if isinstance(epoch, (int, np.integer)):
            return int(epoch)
        return self.epochs.index(epoch)

    def objects(self, epoch):
        """Drawable objects present at ``epoch`` (static, ships, wakes, plumes)."""
        e = self.eidx(epoch)
        L = self.layout
        out = [o for o in L.objects if o.present(e)]
        out += L.plumes[e]
        out += L.ships[e]
        out += [_Wake(s) for s in L.ships[e] if s.state == "underway"]
        return out

    def index(self, epoch):
        e = self.eidx(epoch)
        if e not in self._index:
            objs = self.objects(e)
            order = {id(o): i for i, o in enumerate(objs)}
            objs.sort(key=lambda o: (o.z, order[id(o)]))
            self._index[e] = _Index(objs, e)
        return self._index[e]

    def ships(self, epoch):
        return list(self.layout.ships[self.eidx(epoch)])

    @property
    def transform(self):
        from rasterio.transform import Affine
        g = self.spec.gsd
        return Affine(g, 0.0, self.spec.origin[0], 0.0, -g, self.spec.origin[1])

    @property
    def complex_area_m2(self):
        return self.layout.complex_area

    def __getstate__(self):
        d = dict(self.__dict__)
        d["_index"] = {}
        return d


def build_scene(spec: SceneSpec, epochs: Sequence[str] = ("before", "after"), change_at: Optional[int] = None) -> Scene:
    """Generate the vector layout of the port (deterministic from ``spec.seed``; cheap).

    ``epochs`` names the states of the port; structural changes happen at
    index ``change_at`` (default 1 for two epochs, the middle for more).
    """
    if spec.dtype not in ("uint8", "uint16"):
        raise ValueError("dtype must be 'uint8' or 'uint16'")
    if not (0.05 <= spec.gsd <= 50):
        raise ValueError("gsd out of range")
    lay = _lay.Layout(spec.width * spec.gsd, spec.height * spec.gsd, spec.gsd, spec.seed, epochs=epochs,
                      change_at=change_at)
    return Scene(spec, lay)


# ----------------------------------------------------------------------------------------------
# rendering
# ----------------------------------------------------------------------------------------------

def _supersample(gsd):
    if gsd <= 1.0:
        return 2
    if gsd <= 4.0:
        return 3
    return 4


def _halo(cond):
    if cond.blur_px and cond.blur_px > 0:
        return int(4.0 * cond.blur_px + 0.5)
    return 0


def _window_size(ss):
    # ~1024-1536 sub-pixels a side: bounded memory per window (a few hundred MB)
    return 512 if ss <= 2 else 256


_DRAW = dict(_ren.DRAW)
_DRAW[_Wake] = _draw_wake


def _render_reflectance(scene, e, cond, row0, col0, nrows, ncols):
    """At-sensor reflectance (nb, nrows, ncols) float32 for a pixel window (no blur / noise)."""
    spec = scene.spec
    nb = 4 if spec.nir else 3
    ss = _supersample(spec.gsd)
    ctx = _ren.Ctx(scene, e, cond, row0, col0, nrows, ncols, ss, nb, scene.tiles)
    _ren.background(ctx)
    idx = scene.index(e)
    for o in idx.query(ctx.bounds):
        _DRAW[type(o)](ctx, o)
    # shadows: casters lying toward the sun from the window can reach it
    Ls = ZMAX / ctx.tan_e
    x0, y0, x1, y1 = ctx.bounds
    sx, sy = ctx.sun
    qb = (min(x0, x0 + sx * Ls), min(y0, y0 + sy * Ls), max(x1, x1 + sx * Ls), max(y1, y1 + sy * Ls))
    for o in idx.query(qb):
        if isinstance(o, _Wake) or isinstance(o, _lay.Plume):
            continue
        for c in _ren.object_casters(o, e):
            _ren.apply_caster(ctx, c)
    illum = ctx.direct * ctx.shade * ctx.lit
    rad = ctx.alb * (illum[None] + _ren.AMBIENT[:nb, None, None])
    out = rad.reshape(nb, nrows, ss, ncols, ss).mean(axis=(2, 4), dtype=np.float32)
    # atmosphere: transmission loss + slowly varying additive veil
    if cond.haze:
        veil = 1.0 + 0.25 * scene.tiles.sample(ctx.Xp, ctx.Yp, 1500.0, 61)
        hc = np.array([0.20, 0.22, 0.26, 0.12], np.float32)[:nb] * cond.haze
        out = out * (1.0 - 0.35 * cond.haze) + hc[:, None, None] * veil[None]
    return out


def _finish(scene, e, cond, refl, row0, col0, halo):
    """Blur (with halo), crop, gain/offset, noise, quantise."""
    spec = scene.spec
    if cond.blur_px and cond.blur_px > 0:
        refl = np.stack([ndimage.gaussian_filter(b, cond.blur_px, mode="nearest", truncate=4.0) for b in refl])
    if halo:
        refl = refl[:, halo:-halo, halo:-halo]
    fs = FULL_SCALE_REFLECTANCE
    refl = refl * cond.gain + cond.offset * fs
    nb, h, w = refl.shape
    if cond.noise and cond.noise > 0:
        seed = cond.noise_seed if cond.noise_seed is not None else (spec.seed * 1000 + e * 17 + 5)
        rows = np.arange(row0, row0 + h, dtype=np.int64)[:, None]
        cols = np.arange(col0, col0 + w, dtype=np.int64)[None, :]
        for b in range(nb):
            refl[b] += hash_normal(rows, cols, seed, b) * np.float32(cond.noise * fs)
    if spec.dtype == "uint8":
        dn = np.clip(np.rint(refl * (255.0 / fs)), 0, 255).astype(np.uint8)
    else:
        dn = np.clip(np.rint(refl * 10000.0), 0, 65535).astype(np.uint16)
    return dn


def render_array(scene: Scene, epoch="before", conditions: Optional[Conditions] = None,
                 window: Optional[Tuple[int, int, int, int]] = None, block: Optional[int] = None) -> np.ndarray:
    """Render ``window`` = (row0, col0, nrows, ncols) (default: whole raster) to an array
    (bands, rows, cols) of the output dtype.  ``block`` = internal window size in pixels
    (the result does not depend on it)."""
    cond = conditions or Conditions()
    e = scene.eidx(epoch)
    spec = scene.spec
    if window is None:
        window = (0, 0, spec.height, spec.width)
    r0, c0, h, w = window
    ss = _supersample(spec.gsd)
    bs = block or _window_size(ss)
    nb = 4 if spec.nir else 3
    out = np.zeros((nb, h, w), np.uint8 if spec.dtype == "uint8" else np.uint16)
    for rr in range(0, h, bs):
        for cc in range(0, w, bs):
            hh, ww = min(bs, h - rr), min(bs, w - cc)
            out[:, rr:rr + hh, cc:cc + ww] = _render_window(scene, e, cond, r0 + rr, c0 + cc, hh, ww)
    return out


def _render_window(scene, e, cond, row0, col0, h, w):
    halo = _halo(cond)
    refl = _render_reflectance(scene, e, cond, row0 - halo, col0 - halo, h + 2 * halo, w + 2 * halo)
    return _finish(scene, e, cond, refl, row0, col0, halo)


_G = {}


def _worker(args):
    r, c, h, w = args
    return r, c, _render_window(_G["scene"], _G["e"], _G["cond"], r, c, h, w)


def _tiff_datetime(date, epoch_index):
    if date is None:
        date = "2016-05-14" if epoch_index == 0 else "2016-09-20"
    if isinstance(date, (_dt.date, _dt.datetime)):
        d = date if isinstance(date, _dt.datetime) else _dt.datetime(date.year, date.month, date.day, 10, 30)
    else:
        s = str(date).strip().replace("Z", "")
        try:
            d = _dt.datetime.fromisoformat(s)
            if len(s) <= 10:
                d = d.replace(hour=10, minute=30)
        except ValueError:
            d = _dt.datetime.strptime(s, "%Y:%m:%d %H:%M:%S")
    return d.strftime("%Y:%m:%d %H:%M:%S"), d.strftime("%Y-%m-%dT%H:%M:%SZ")


def render_to_tiff(scene: Scene, path: str, epoch="before", conditions: Optional[Conditions] = None,
                   date=None, progress: Optional[Callable[[float], None]] = None, workers: Optional[int] = None,
                   block: Optional[int] = None) -> str:
    """Render one epoch into a tiled (256x256), DEFLATE-compressed GeoTIFF, window by window.

    Bands: red, green, blue (+ nir if ``spec.nir``), colour interpretation and
    descriptions set; ``TIFFTAG_DATETIME`` and ``ACQUISITIONDATETIME`` from
    ``date`` (``"YYYY-MM-DD"`` or ISO datetime; default 2016-05-14 for the first
    epoch, 2016-09-20 otherwise).  ``progress(fraction)`` is called after each
    window.  ``workers`` > 1 renders windows in forked processes.  Returns ``path``.
    """
    import rasterio
    from rasterio.enums import ColorInterp

    cond = conditions or Conditions()
    spec = scene.spec
    e = scene.eidx(epoch)
    nb = 4 if spec.nir else 3
    ss = _supersample(spec.gsd)
    bs = block or _window_size(ss)
    wins = [(r, c, min(bs, spec.height - r), min(bs, spec.width - c))
            for r in range(0, spec.height, bs) for c in range(0, spec.width, bs)]
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if len(wins) >= 4 else 1
    if workers > 1:
        import multiprocessing as mp
        if "fork" not in mp.get_all_start_methods():
            workers = 1  # windows are rendered in forked processes only (Linux / macOS)
    tiff_dt, iso_dt = _tiff_datetime(date, e)
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    profile = dict(driver="GTiff", width=spec.width, height=spec.height, count=nb, dtype=spec.dtype,
                   crs=spec.crs, transform=scene.transform, tiled=True, blockxsize=256, blockysize=256,
                   compress="deflate", predictor=2, photometric="RGB", interleave="pixel", BIGTIFF="IF_SAFER")
    with rasterio.open(path, "w", **profile) as ds:
        ds.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue] + [ColorInterp.undefined] * (nb - 3)
        for i in range(nb):
            ds.set_band_description(i + 1, BAND_NAMES[i])
        ds.update_tags(TIFFTAG_DATETIME=tiff_dt, ACQUISITIONDATETIME=iso_dt,
                       TIFFTAG_IMAGEDESCRIPTION=f"Quayside synthetic port, epoch {scene.epochs[e]}",
                       QUAYSIDE_SYNTH_EPOCH=scene.epochs[e], QUAYSIDE_SYNTH_SEED=str(spec.seed),
                       QUAYSIDE_SYNTH_GSD=str(spec.gsd),
                       QUAYSIDE_SYNTH_CONDITIONS=json.dumps(asdict(cond)),
                       QUAYSIDE_SYNTH_SCALE=(f"DN = 255 * reflectance / {FULL_SCALE_REFLECTANCE:.2f}"
                                             if spec.dtype == "uint8" else "DN = 10000 * reflectance"))
        ds.update_tags(ns="IMAGERY", ACQUISITIONDATETIME=iso_dt, SUNAZIMUTH=str(cond.sun_azimuth),
                       SUNELEVATION=str(cond.sun_elevation))
        done = 0
        if workers > 1:
            import multiprocessing as mp
            _G.update(scene=scene, e=e, cond=cond)
            scene.index(e)  # build before forking
            _ = scene.tiles  # build the texture bank before forking
            ctxm = mp.get_context("fork")
            with ctxm.Pool(workers) as pool:
                for r, c, arr in pool.imap(_worker, wins, chunksize=1):
                    ds.write(arr, window=rasterio.windows.Window(c, r, arr.shape[2], arr.shape[1]))
                    done += 1
                    if progress:
                        progress(done / len(wins))
            _G.clear()
        else:
            for (r, c, h, w) in wins:
                arr = _render_window(scene, e, cond, r, c, h, w)
                ds.write(arr, window=rasterio.windows.Window(c, r, w, h))
                done += 1
                if progress:
                    progress(done / len(wins))
    return path


# ----------------------------------------------------------------------------------------------
# ground truth
# ----------------------------------------------------------------------------------------------

def _geo(scene, geom):
    ox, oy = scene.spec.origin
    g = affinity.translate(geom, ox, oy)
    m = mapping(g)
    return _round_coords(m)


def _round_coords(m):
    def rnd(c):
        if isinstance(c, (list, tuple)):
            if c and isinstance(c[0], (int, float)):
                return [round(float(x), 3) for x in c]
            return [rnd(x) for x in c]
        return c
    return {"type": m["type"], "coordinates": rnd(m["coordinates"])}


def _fc(scene, feats):
    return {"type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": scene.spec.crs}},
            "features": feats}


def _feat(scene, geom, props):
    return {"type": "Feature", "properties": props, "geometry": _geo(scene, geom)}


def _write(path, fc):
    with open(path, "w") as f:
        json.dump(fc, f, separators=(",", ":"))
    return path


def truth_layers(scene: Scene, epoch="before") -> Dict[str, dict]:
    """The ground truth of one epoch as GeoJSON dicts (see :func:`write_truth`)."""
    L = scene.layout
    e = scene.eidx(epoch)
    out = {}
    ext = L.extent
    # ships
    feats = []
    for s in L.ships[e]:
        feats.append(_feat(scene, s.polygon(), dict(
            id=int(s.sid), length_m=round(s.L, 3), width_m=round(s.W, 3), heading=round(s.heading, 3),
            bow_azimuth=round(s.az, 3), kind=s.kind, state=s.state, rafted=bool(s.rafted),
            raft_id=(int(s.raft_id) if s.rafted else None),
            raft_position=(("outer" if s.raft_outer else "inner") if s.rafted else None),
            pier=s.pier, holds_open=int(s.holds_open),
            freeboard_m=round(s.freeboard, 2))))
    out["ships"] = _fc(scene, feats)
    # containers (yards, ship decks, trucks)
    feats = []
    names = _lay.CONTAINER_PAL[0]
    for yd in L.yards:
        for g in yd["grids"]:
            t, c = g.state(e)
            for b, r, pts in g.boxes(e):
                from shapely.geometry import Polygon
                p = Polygon(pts)
                if not ext.intersects(p.centroid):
                    continue
                ft = int(g.bay_ft[b])
                feats.append(_feat(scene, p, dict(
                    teu=2 if ft == 40 else 1, size_ft=ft, colour=names[int(c[b, r])], yard=yd["name"],
                    stack_id=f"{yd['name'].replace(' ', '')}-{g.gid}-{b}-{r}", row=int(r), bay=int(b),
                    tiers=int(t[b, r]), location="yard", ship_id=None)))
    from shapely.geometry import Polygon
    for s in L.ships[e]:
        if s.deck is None:
            continue
        t, c = s.deck.state(0)
        for b, r, pts in s.deck.boxes(0):
            feats.append(_feat(scene, Polygon(pts), dict(
                teu=2, size_ft=40, colour=names[int(c[b, r])], yard=None,
                stack_id=f"ship{s.sid}-{b}-{r}", row=int(r), bay=int(b), tiers=int(t[b, r]),
                location="ship", ship_id=int(s.sid))))
    for o in L.objects:
        if isinstance(o, _lay.Truck) and o.present(e) and o.box_colour is not None:
            ft = 40 if o.box_len > 9 else 20
            p = Polygon(o.f.rect(o.box_u[0], o.box_u[1], -1.22, 1.22))
            if not ext.intersects(p.centroid):
                continue
            feats.append(_feat(scene, p, dict(teu=2 if ft == 40 else 1, size_ft=ft, colour=o.box_name, yard=None,
                                              stack_id=f"truck{o.seed}", row=0, bay=0, tiers=1,
                                              location="truck", ship_id=None)))
    out["containers"] = _fc(scene, feats)
    # piers
    feats, lines = [], []
    for p in L.piers:
        pg = p.polygon(e).intersection(ext)
        if pg.is_empty:
            continue
        props = dict(name=p.name, kind=p.kind, length_m=round(p.L(e), 2), width_m=round(p.w, 2),
                     shape="T" if p.head else "straight")
        feats.append(_feat(scene, pg, props))
        lines.append(_feat(scene, p.centreline(e).intersection(ext), props))
    out["piers"] = _fc(scene, feats)
    out["piers_lines"] = _fc(scene, lines)
    out["quays"] = _fc(scene, [_feat(scene, q["polygon"].intersection(ext), dict(name=q["name"], kind=q["kind"]))
                               for q in L.quays if not q["polygon"].intersection(ext).is_empty])
    # water
    feats = []
    sea = L.sea_polys[e]
    if not sea.is_empty:
        feats.append(_feat(scene, sea, dict(kind="sea")))
    pond = getattr(L, "pond", None)
    if pond is not None and pond.present(e):
        feats.append(_feat(scene, pond.polygon(), dict(kind="pond")))
    out["water"] = _fc(scene, feats)
    # look-alikes
    feats = []
    for (kind, poly, ep, props) in L.lookalikes:
        if ep is not None and e not in ep:
            continue
        if poly.intersects(ext):
            pr = dict(kind=kind)
            pr.update(props)
            feats.append(_feat(scene, poly, pr))
    out["lookalikes"] = _fc(scene, feats)
    # buildings
    feats = []
    for b in L.buildings:
        if b.present(e) and b.polygon().intersects(ext):
            feats.append(_feat(scene, b.polygon(), dict(id=int(b.bid), kind=b.kind, height_m=round(b.height, 1),
                                                         roof=b.roof, name=b.name)))
    out["buildings"] = _fc(scene, feats)
    return out


def changes_between(scene: Scene, e0, e1) -> dict:
    """Changed footprints between epochs ``e0`` and ``e1`` as a GeoJSON dict."""
    from shapely.geometry import Polygon
    from shapely.ops import unary_union
    L = scene.layout
    a, b = scene.eidx(e0), scene.eidx(e1)
    feats = []
    for ch in L.changes:
        if a < ch["epoch"] <= b:
            props = dict(type=ch["type"], area_m2=round(float(ch["area_m2"]), 2), description=ch["description"],
                         complex=bool(ch.get("complex", False)), from_epoch=scene.epochs[a], to_epoch=scene.epochs[b])
            if "water_change" in ch:
                props["water_change"] = ch["water_change"]
            feats.append(_feat(scene, ch["geom"], props))
    for yd in L.yards:
        rem, add = [], []
        for g in yd["grids"]:
            t0, c0 = g.state(a)
            t1, c1 = g.state(b)
            gone = (t0 > 0) & ((t1 == 0) | (c1 != c0))
            new = (t1 > 0) & ((t0 == 0) | (c1 != c0))
            for (mask, lst) in ((gone, rem), (new, add)):
                for bb, rr in zip(*np.nonzero(mask)):
                    lst.append(Polygon(g.f.rect(g.bay_lo[bb], g.bay_hi[bb], g.row_lo[rr], g.row_hi[rr])))
        for lst, what in ((rem, "removed"), (add, "added")):
            if lst:
                u = unary_union(lst).intersection(L.extent)
                if u.is_empty:
                    continue
                feats.append(_feat(scene, u, dict(type="other_surface", area_m2=round(u.area, 2),
                                                  description=f"containers {what} in {yd['name']}: {len(lst)} boxes",
                                                  complex=False, from_epoch=scene.epochs[a], to_epoch=scene.epochs[b])))
    return _fc(scene, feats)


def write_truth(scene: Scene, out_dir: str, epoch="before", prefix: str = "") -> Dict[str, str]:
    """Write the GeoJSON truth of ``epoch`` into ``out_dir``; returns {layer: path}.

    Per epoch: ships_, containers_, piers_, piers_lines_, quays_, water_,
    lookalikes_, buildings_<epoch>.geojson.  Static: yards.geojson and
    changes.geojson (first epoch -> structural-change epoch, or first -> last).
    """
    os.makedirs(out_dir, exist_ok=True)
    name = scene.epochs[scene.eidx(epoch)]
    paths = {}
    for layer, fc in truth_layers(scene, epoch).items():
        paths[layer] = _write(os.path.join(out_dir, f"{prefix}{layer}_{name}.geojson"), fc)
    L = scene.layout
    feats = []
    for yd in L.yards:
        pg = yd["polygon"].intersection(L.extent)
        if pg.is_empty:
            continue
        feats.append(_feat(scene, pg, dict(name=yd["name"], capacity_teu=int(yd["capacity_teu"]),
                                           blocks=len(yd["grids"]))))
    paths["yards"] = _write(os.path.join(out_dir, prefix + "yards.geojson"), _fc(scene, feats))
    if len(scene.epochs) > 1:
        paths["changes"] = _write(os.path.join(out_dir, prefix + "changes.geojson"),
                                  changes_between(scene, 0, len(scene.epochs) - 1))
    return paths


# ----------------------------------------------------------------------------------------------
# convenience
# ----------------------------------------------------------------------------------------------

def make_port_scene(path: str, spec: SceneSpec, epoch="before", conditions: Optional[Conditions] = None,
                    date=None, scene: Optional[Scene] = None, **kw) -> Dict[str, str]:
    """Render one epoch to ``path`` and write its truth beside it (files prefixed
    with the image's stem).  Returns {'image': path, <layer>: path, ...}."""
    scene = scene or build_scene(spec)
    render_to_tiff(scene, path, epoch=epoch, conditions=conditions, date=date, **kw)
    stem = os.path.splitext(os.path.basename(path))[0]
    out = {"image": path}
    out.update(write_truth(scene, os.path.dirname(os.path.abspath(path)), epoch=epoch, prefix=stem + "_"))
    return out


def make_port_pair(out_dir: str, spec: SceneSpec, before: Optional[Conditions] = None,
                   after: Optional[Conditions] = None, dates=("2016-05-14", "2016-09-20"),
                   progress: Optional[Callable[[float], None]] = None, **kw) -> dict:
    """Before/after pair of one port: ``before.tif``, ``after.tif`` and truth files.

    Returns {'before': tif, 'after': tif, 'truth': {layer or layer_epoch: path},
    'scene': Scene}.  Truth keys: 'ships_before', 'ships_after', ..., 'yards', 'changes'.
    """
    before = before or Conditions()
    after = after or DEFAULT_AFTER
    scene = build_scene(spec, epochs=("before", "after"))
    os.makedirs(out_dir, exist_ok=True)
    pb = os.path.join(out_dir, "before.tif")
    pa = os.path.join(out_dir, "after.tif")
    prog_b = (lambda f: progress(0.5 * f)) if progress else None
    prog_a = (lambda f: progress(0.5 + 0.5 * f)) if progress else None
    render_to_tiff(scene, pb, "before", before, dates[0], progress=prog_b, **kw)
    render_to_tiff(scene, pa, "after", after, dates[1], progress=prog_a, **kw)
    truth = {}
    for ep in ("before", "after"):
        for k, v in write_truth(scene, out_dir, ep).items():
            truth[k if k in ("yards", "changes") else f"{k}_{ep}"] = v
    return {"before": pb, "after": pa, "truth": truth, "scene": scene}


def make_port_series(out_dir: str, spec: SceneSpec, dates: Sequence[str],
                     conditions: Optional[Sequence[Conditions]] = None, change_at: Optional[int] = None,
                     **kw) -> dict:
    """A dated series of the same port (epochs named by the dates): ships arrive and
    leave, yards fill and empty, structural change at ``change_at`` (default middle).
    Sun angle and radiometry vary slightly per date unless ``conditions`` is given.
    Returns {'images': {date: tif}, 'truth': {date: {layer: path}}, 'scene': Scene}."""
    names = [str(d) for d in dates]
    scene = build_scene(spec, epochs=names, change_at=change_at)
    os.makedirs(out_dir, exist_ok=True)
    images, truth = {}, {}
    for i, d in enumerate(names):
        if conditions is not None:
            cond = conditions[i]
        else:
            r = np.random.default_rng(spec.seed * 101 + i)
            cond = Conditions(sun_azimuth=float(r.uniform(125, 165)), sun_elevation=float(r.uniform(30, 60)),
                              gain=float(r.uniform(0.95, 1.08)), haze=float(max(0.0, r.normal(0.02, 0.03))),
                              shift_px=(float(r.uniform(-1.5, 1.5)), float(r.uniform(-1.5, 1.5))) if i else (0.0, 0.0))
        p = os.path.join(out_dir, f"{d}.tif")
        render_to_tiff(scene, p, i, cond, d, **kw)
        images[d] = p
        truth[d] = write_truth(scene, out_dir, i)
    return {"images": images, "truth": truth, "scene": scene}


def write_quicklook(tif_path: str, png_path: str, max_size: int = 1024, window=None) -> str:
    """RGB PNG quicklook (decimated, 2-98 % stretch for uint16) of a rendered GeoTIFF."""
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.windows import Window
    with rasterio.open(tif_path) as ds:
        win = Window(*window) if window is not None else Window(0, 0, ds.width, ds.height)
        f = max(1.0, max(win.width, win.height) / max_size)
        oh, ow = int(win.height / f), int(win.width / f)
        a = ds.read([1, 2, 3], window=win, out_shape=(3, oh, ow), resampling=Resampling.average)
    if a.dtype != np.uint8:
        lo, hi = np.percentile(a, 1), np.percentile(a, 99.5)
        a = np.clip((a.astype(np.float32) - lo) / max(hi - lo, 1) * 255, 0, 255).astype(np.uint8)
    with rasterio.open(png_path, "w", driver="PNG", width=ow, height=oh, count=3, dtype="uint8") as o:
        o.write(a)
    return png_path
