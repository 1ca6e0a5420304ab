# ruff: noqa: N803, N806, E741
"""Window renderer of the synthetic port (used by :mod:`quayside.core.synth`).

A window is rendered on a supersampled grid (``ss`` x ``ss`` sub-pixels per
output pixel) whose sub-pixel centres are computed from *global* indices, so
any pixel gets the same value whatever window it is rendered in.  Every
object is drawn analytically in its own frame over its bounding box only:

1. surfaces (albedo, height above the water, sun-facing shade) in draw order,
2. cast shadows: each caster (box / convex polygon / circle / heap) is tested
   exactly along the ray toward the sun against the receiving surface height,
3. radiance = albedo x (direct x shade x lit + diffuse sky), block-averaged.

Atmosphere, blur, noise and quantisation are applied by :mod:`synth`.
"""

import math

import numpy as np

from .synth_layout import (
    LAND_Z,
    Blob,
    Building,
    C,
    Conveyor,
    Crane,
    Grid,
    Ground,
    Heap,
    Pier,
    Pipes,
    Plume,
    Road,
    Rubble,
    Ship,
    Tank,
    Truck,
)
from .synth_noise import hash_uniform

DIRECT0 = 0.72
AMBIENT = np.array([0.25, 0.28, 0.33, 0.22], np.float32)


def col(name, nb):
    return np.asarray(C[name], np.float32)[:nb]


class Ctx:
    """One window being rendered (sub-pixel arrays + helpers)."""

    def __init__(self, scene, e, cond, row0, col0, nrows, ncols, ss, nb, tiles):
        self.scene, self.L, self.e, self.cond = scene, scene.layout, e, cond
        self.ss, self.nb, self.tiles = ss, nb, tiles
        gsd = scene.spec.gsd
        self.gsd = gsd
        self.step = gsd / ss
        sx_m = cond.shift_px[0] * gsd
        sy_m = cond.shift_px[1] * gsd
        self.sx_m, self.sy_m = sx_m, sy_m
        jx = np.arange(col0 * ss, (col0 + ncols) * ss, dtype=np.float64)
        iy = np.arange(row0 * ss, (row0 + nrows) * ss, dtype=np.float64)
        self.X = (jx + 0.5) * self.step - sx_m
        self.Y = -(iy + 0.5) * self.step + sy_m
        self.negY = -self.Y
        # pixel centres (for coarse textures)
        self.Xp = (np.arange(col0, col0 + ncols, dtype=np.float64) + 0.5) * gsd - sx_m
        self.Yp = -(np.arange(row0, row0 + nrows, dtype=np.float64) + 0.5) * gsd + sy_m
        ny, nx = len(self.Y), len(self.X)
        self.shape = (ny, nx)
        self.alb = np.zeros((nb, ny, nx), np.float32)
        self.hgt = np.zeros((ny, nx), np.float32)
        self.shade = np.ones((ny, nx), np.float32)
        self.lit = np.ones((ny, nx), np.float32)
        self.water = np.zeros((ny, nx), bool)
        self._tex = {}
        self.bounds = (self.X[0] - self.step / 2, self.Y[-1] - self.step / 2, self.X[-1] + self.step / 2,
                       self.Y[0] + self.step / 2)
        az, el = math.radians(cond.sun_azimuth), math.radians(cond.sun_elevation)
        self.sun = (math.sin(az), math.cos(az))  # horizontal unit vector toward the sun
        self.tan_e = max(math.tan(el), 0.05)
        self.sin_e = math.sin(el)
        self.direct = DIRECT0 * self.sin_e / math.sin(math.radians(45.0))

    # -- geometry helpers
    def block(self, bbox):
        x0, y0, x1, y1 = bbox
        j0 = int(np.searchsorted(self.X, x0, "left"))
        j1 = int(np.searchsorted(self.X, x1, "right"))
        i0 = int(np.searchsorted(self.negY, -y1, "left"))
        i1 = int(np.searchsorted(self.negY, -y0, "right"))
        if j1 <= j0 or i1 <= i0:
            return None
        return slice(i0, i1), slice(j0, j1)

    def xy(self, sl):
        sy, sx = sl
        return self.X[None, sx], self.Y[sy, None]

    def tex(self, cell, k, sl=None):
        """Window texture (unit variance), evaluated per pixel for coarse cells."""
        key = (round(cell, 6), k)
        t = self._tex.get(key)
        if t is None:
            if cell >= 2.5 * self.gsd and self.ss > 1:
                tp = self.tiles.sample(self.Xp, self.Yp, cell, k)
                t = np.repeat(np.repeat(tp, self.ss, axis=0), self.ss, axis=1)
            else:
                t = self.tiles.sample(self.X, self.Y, cell, k)
            self._tex[key] = t
        return t if sl is None else t[sl]

    def paint(self, sl, mask, colour, mod=None, h=None, shade=None):
        """Write albedo ``colour`` (nb,) or (nb, ...) times ``mod`` where ``mask``."""
        sy, sx = sl
        for b in range(self.nb):
            v = colour[b] if mod is None else colour[b] * mod
            np.copyto(self.alb[b, sy, sx], v, where=mask, casting="unsafe")
        if h is not None:
            np.copyto(self.hgt[sy, sx], h, where=mask, casting="unsafe")
        np.copyto(self.shade[sy, sx], 1.0 if shade is None else shade, where=mask, casting="unsafe")


# ----------------------------------------------------------------------------------------------
# background: sea, coast, apron, port ground, hinterland
# ----------------------------------------------------------------------------------------------

def background(ctx):
    L, nb = ctx.L, ctx.nb
    X, Y = ctx.X[None, :], ctx.Y[:, None]
    dx, dy = X - L.pcx, Y - L.pcy
    s = dx * L.ct + dy * L.st
    n = dy * L.ct - dx * L.st
    c = np.interp(s, L.s_tab, L.c_tab)
    d = (c - n).astype(np.float32)  # >0 in the sea
    land = d < 0
    water = ~land
    ctx.water = water
    full = (slice(None), slice(None))
    if water.any():
        # lighter shallow water only along natural shores; port basins are dredged deep
        nat = np.clip((s - L.port_s[1]) / 150.0, 0, 1) + np.clip((L.port_s[0] - s) / 150.0, 0, 1)
        t = 1.0 - np.exp(-np.maximum(d, 0) / 70.0) * np.clip(nat, 0, 1).astype(np.float32)
        sh, dp = col("water_shallow", nb), col("water_deep", nb)
        base = [sh[b] + (dp[b] - sh[b]) * t for b in range(nb)]
        patch = 1.0 + 0.07 * ctx.tex(220.0, 0) + 0.035 * ctx.tex(45.0, 1)
        # wind waves: several separable sinusoid trains around a dominant direction,
        # each amplitude-modulated by its own noise (wave groups, no regular interference)
        wv = np.zeros(ctx.shape, np.float32)
        rng = np.random.default_rng(L.seed + 17)
        th0 = rng.uniform(0, np.pi)
        for i, (lam, amp) in enumerate(((9.0, 0.8), (6.1, 1.0), (4.3, 0.8), (3.1, 0.6), (13.0, 0.5), (2.2, 0.4))):
            th = th0 + rng.normal(0, 0.45)
            lam = lam * rng.uniform(0.85, 1.15)
            if lam < 2.2 * ctx.step:
                continue
            k = 2 * np.pi / lam
            ph = rng.uniform(0, 2 * np.pi)
            ax = k * np.cos(th) * ctx.X + ph
            ay = k * np.sin(th) * ctx.Y
            sx_, cx_ = np.sin(ax).astype(np.float32), np.cos(ax).astype(np.float32)
            sy_, cy_ = np.sin(ay).astype(np.float32), np.cos(ay).astype(np.float32)
            tr = sx_[None, :] * cy_[:, None]
            tr += cx_[None, :] * sy_[:, None]
            tr *= amp * np.clip(0.45 + 0.55 * ctx.tex(23.0 if i % 2 else 31.0, 20 + (i % 2)), 0, None)
            wv += tr
        wv *= 0.55
        fine = ctx.tex(1.3, 3) if ctx.step < 1.0 else 0.0
        m = patch * (1.0 + 0.07 * wv + 0.03 * fine)
        # sun glint: sparkle on wave facets inside slowly varying patches (depends on the sun)
        gk = 40 + int(abs(ctx.cond.sun_azimuth * 7 + ctx.cond.sun_elevation * 13)) % 8
        zone = np.clip((ctx.tex(160.0, gk) - 0.9) * 1.0, 0, 1)
        sp = np.clip(wv + (0.8 * fine if ctx.step < 1.0 else 0.0) - 1.0, 0, None)
        g = zone * (sp * 0.05 + 0.012) * ctx.cond.glint
        for b in range(nb):
            np.copyto(ctx.alb[b], base[b] * m + g, where=water, casting="unsafe")
        ctx.hgt[water] = 0.0
    if land.any():
        ctx.hgt[land] = LAND_Z
        in_port = (s >= L.port_s[0]) & (s <= L.port_s[1])
        port_land = land & in_port & (n < L.hinter_n)
        apron = port_land & (n < L.n_t0)
        rest = land & ~port_land
        if apron.any():
            dl = -d  # distance inland from the quay edge
            conc = col("concrete", nb)
            m = 1.0 + 0.07 * ctx.tex(18.0, 5) + 0.04 * ctx.tex(4.0, 6) + (0.03 * ctx.tex(0.7, 7) if ctx.step < 1 else 0)
            ctx.paint(full, apron, conc, m)
            line = apron & (dl > 1.0) & (dl < 1.3)
            ctx.paint(full, line, col("yellow_paint", nb))
            for r0 in (3.0, 3.0 + 24.0):
                rail = apron & (dl > r0) & (dl < r0 + 0.35)
                ctx.paint(full, rail, col("rail", nb))
            # the quay wall's shadow on the water
            tl = LAND_Z / ctx.tan_e
            nearw = water & (d < tl + 1.0) & in_port
            if nearw.any():
                sx, sy = ctx.sun
                for f in (0.5, 1.0):
                    s2 = s + f * tl * (sx * L.ct + sy * L.st)
                    n2 = n + f * tl * (sy * L.ct - sx * L.st)
                    c2 = np.interp(s2, L.s_tab, L.c_tab)
                    ctx.lit[nearw & (n2 > c2)] = 0.0
        pl = port_land & ~apron
        if pl.any():
            mix = np.clip(0.5 + 0.35 * ctx.tex(70.0, 8), 0, 1)
            a, b_ = col("asphalt_light", nb), col("concrete_dark", nb)
            m = 1.0 + 0.05 * ctx.tex(6.0, 9)
            cc = np.stack([(a[b] + (b_[b] - a[b]) * mix) * m for b in range(nb)])
            ctx.paint(full, pl, cc)
        if rest.any():
            hinterland(ctx, s, n, d, rest)


def hinterland(ctx, s, n, d, mask):
    """Procedural land beyond the explicit port: beach, town blocks, fields, woods."""
    L, nb = ctx.L, ctx.nb
    full = (slice(None), slice(None))
    dl = -d
    zone = ctx.tex(600.0, 10) + 0.5 * ctx.tex(170.0, 11)
    # natural vegetation / soil / fields base
    grass, soil, trees, dry = col("grass", nb), col("soil", nb), col("trees", nb), col("dry_grass", nb)
    fld = ctx.tex(90.0, 12)
    veg = np.clip(0.5 + 0.6 * fld, 0, 1)
    crown = ctx.tex(5.0, 13) + 0.5 * ctx.tex(2.0, 14)
    wood = zone < -0.35
    base = np.empty((nb,) + ctx.shape, np.float32)
    for b in range(nb):
        gb = grass[b] * veg + dry[b] * (1 - veg)
        gb = np.where(fld < -0.6, soil[b], gb)
        tb = trees[b] * (0.75 + 0.3 * np.clip(crown, -1, 1.5))
        base[b] = np.where(wood, tb, gb)
    base *= (1.0 + 0.06 * ctx.tex(12.0, 15))[None]
    ctx.paint(full, mask, base)
    # town: blocks of 90 m with 12 m streets, 2 x 2 lots per block
    town = mask & (zone > 0.05) & (dl > 60.0)
    if town.any():
        _town(ctx, s, n, town)
    # beach along the natural coast
    beach = mask & (dl < L.beach_w * (1.0 + 0.4 * ctx.tex(60.0, 16)))
    if beach.any():
        sand = col("sand", nb)
        wet = np.clip(1.0 - dl / 4.0, 0, 1) * 0.45
        m = (1.0 - wet) * (1.0 + 0.05 * ctx.tex(3.0, 17))
        ctx.paint(full, beach, sand, m)


TOWN_ROOF = np.array([(0.30, 0.30, 0.30, 0.33), (0.22, 0.22, 0.23, 0.25), (0.38, 0.37, 0.35, 0.41),
                      (0.47, 0.46, 0.44, 0.50), (0.28, 0.17, 0.13, 0.31), (0.16, 0.16, 0.17, 0.19),
                      (0.18, 0.26, 0.36, 0.30), (0.30, 0.26, 0.20, 0.33)], np.float32)
TOWN_CUM = np.cumsum([0.22, 0.2, 0.14, 0.1, 0.12, 0.1, 0.06, 0.06])
TOWN_CUM = TOWN_CUM / TOWN_CUM[-1]


def _town(ctx, s, n, mask):
    L, nb = ctx.L, ctx.nb
    B, st, lot = 92.0, 12.0, 40.0
    pal = TOWN_ROOF[:, :nb]

    def lots(ss_, nn_):
        bi = np.floor(ss_ / B)
        bj = np.floor(nn_ / B)
        ls = ss_ - bi * B - st
        ln = nn_ - bj * B - st
        street = (ls < 0) | (ln < 0)
        li = np.clip(np.floor(ls / lot), 0, 1)
        lj = np.clip(np.floor(ln / lot), 0, 1)
        I = (bi * 2 + li).astype(np.int64)
        J = (bj * 2 + lj).astype(np.int64)
        return I, J, ls - li * lot, ln - lj * lot, street

    I, J, us, un, street = lots(s, n)
    i0, j0 = int(I[mask].min()) - 2, int(J[mask].min()) - 2
    i1, j1 = int(I[mask].max()) + 3, int(J[mask].max()) + 3
    gi, gj = np.meshgrid(np.arange(i0, i1), np.arange(j0, j1))
    seed = L.seed + 555
    P = [hash_uniform(gi, gj, seed, k).astype(np.float32) for k in range(7)]

    def params(I, J):
        ii = np.clip(I - i0, 0, i1 - i0 - 1)
        jj = np.clip(J - j0, 0, j1 - j0 - 1)
        return [p[jj, ii] for p in P]

    p = params(I, J)
    m0, m1 = 2 + 8 * p[0], 2 + 8 * p[1]
    m2, m3 = 2 + 8 * p[2], 2 + 8 * p[3]
    inb = (~street) & (us > m0) & (us < lot - m1) & (un > m2) & (un < lot - m3) & (p[6] > 0.12)
    h = 5.0 + 25.0 * p[4] ** 2
    ci = np.minimum(np.searchsorted(TOWN_CUM, p[5]), len(pal) - 1)
    asph = col("asphalt", nb)
    ctx.paint((slice(None), slice(None)), mask & street, asph, 1.0 + 0.05 * ctx.tex(8.0, 18))
    bm = mask & inb
    if bm.any():
        roof = np.stack([pal[:, b][ci] for b in range(nb)])
        ctx.paint((slice(None), slice(None)), bm, roof, 1.0 + 0.05 * ctx.tex(3.0, 19), h=LAND_Z + h)
    # shadows of town buildings (sampled along the sun ray)
    sx, sy = ctx.sun
    su, sv = sx * L.ct + sy * L.st, sy * L.ct - sx * L.st
    hp = ctx.hgt
    for t in (3.0, 8.0, 16.0):
        I2, J2, us2, un2, st2 = lots(s + t * su, n + t * sv)
        q = params(I2, J2)
        inb2 = (~st2) & (us2 > 2 + 8 * q[0]) & (us2 < lot - 2 - 8 * q[1]) & (un2 > 2 + 8 * q[2]) & \
               (un2 < lot - 2 - 8 * q[3]) & (q[6] > 0.12)
        h2 = LAND_Z + 5.0 + 25.0 * q[4] ** 2
        sh = mask & inb2 & (h2 > hp + t * ctx.tan_e + 0.05)
        ctx.lit[sh] = 0.0


# ----------------------------------------------------------------------------------------------
# object painters
# ----------------------------------------------------------------------------------------------

def rect_uv(ctx, o, sl, pad=0.0):
    X, Y = ctx.xy(sl)
    u, v = o.f.uv(X, Y)
    m = (np.abs(u) <= o.hl + pad) & (np.abs(v) <= o.hw + pad)
    return u, v, m


def rect_block(ctx, o, pad=0.0):
    """(slice, u, v, mask) of a rectangular object in this block, or None when
    the object misses the block or covers none of its pixels."""
    sl = ctx.block(o.bbox())
    if sl is None:
        return None
    u, v, m = rect_uv(ctx, o, sl, pad)
    if not m.any():
        return None
    return sl, u, v, m


def surface_mod(ctx, sl, surface):
    t = ctx.tex
    fine = ctx.step < 1.0
    if surface in ("asphalt", "asphalt_light"):
        return 1.0 + 0.06 * t(9.0, 20, sl) + (0.05 * t(0.9, 21, sl) if fine else 0)
    if surface in ("concrete", "concrete_dark"):
        return 1.0 + 0.06 * t(20.0, 22, sl) + 0.035 * t(3.0, 23, sl)
    if surface in ("soil", "drained"):
        return 1.0 + 0.1 * t(14.0, 24, sl) + 0.07 * t(2.5, 25, sl) + (0.05 * t(0.6, 26, sl) if fine else 0)
    if surface in ("grass", "dry_grass"):
        return 1.0 + 0.14 * t(16.0, 27, sl) + 0.08 * t(3.0, 28, sl)
    if surface == "gravel":
        return 1.0 + 0.08 * t(25.0, 29, sl) + 0.06 * t(1.5, 30, sl)
    if surface == "rubble":
        return 1.0 + 0.15 * t(4.0, 31, sl) + 0.2 * t(1.0, 32, sl)
    return 1.0


def draw_ground(ctx, o):
    got = rect_block(ctx, o)
    if got is None:
        return
    sl, u, v, m = got
    cc = col(o.surface, ctx.nb)
    mod = surface_mod(ctx, sl, o.surface)
    if o.surface in ("concrete", "concrete_dark"):
        joint = (np.abs(((u + 1000.0) % 6.0) - 3.0) > 2.88) | (np.abs(((v + 1000.0) % 6.0) - 3.0) > 2.88)
        mod = mod * np.where(joint, 0.85, 1.0)
    if o.marks:  # parking / circulation markings along the lot edges
        edge = (np.abs(v) > o.hw - 1.6) & (np.abs(v) < o.hw - 1.45)
        mod = np.where(edge & m, 2.2, mod)
    ctx.paint(sl, m, cc, mod, h=LAND_Z)


def draw_road(ctx, o):
    got = rect_block(ctx, o)
    if got is None:
        return
    sl, u, v, m = got
    a = col("asphalt", ctx.nb)
    mod = 1.0 + 0.05 * ctx.tex(10.0, 33, sl) + (0.04 * ctx.tex(0.8, 34, sl) if ctx.step < 1 else 0)
    # lane wear (darker wheel tracks)
    lanes = max(1, int(o.hw * 2 // 3.5))
    lw = 2 * o.hw / lanes
    pos = (v + o.hw) % lw
    mod = mod * np.where((np.abs(pos - lw * 0.3) < 0.4) | (np.abs(pos - lw * 0.7) < 0.4), 0.9, 1.0)
    white = col("white", ctx.nb)
    ctx.paint(sl, m, a, mod, h=LAND_Z)
    dash = m & (np.abs(v) < 0.08) & (((u + 1000.0) % 9.0) < 4.5)
    edge = m & (np.abs(np.abs(v) - (o.hw - 0.9)) < 0.08)
    ctx.paint(sl, dash | edge, white * 0.85)


def draw_rubble(ctx, o):
    got = rect_block(ctx, o, pad=1.5)
    if got is None:
        return
    sl, u, v, m = got
    X, Y = ctx.xy(sl)
    cell = 1.2
    hu = hash_uniform(np.floor(u / cell), np.floor(v / cell), o.seed)
    mod = (0.75 + 0.5 * hu.astype(np.float32)) * surface_mod(ctx, sl, "rubble")
    edge = (np.abs(u) > o.hl) | (np.abs(v) > o.hw)
    mod = np.where(edge, 0.85 * mod, mod)
    # the old slab outline stays faintly visible
    ol = (np.abs(np.abs(u) - o.hl) < 0.3) | (np.abs(np.abs(v) - o.hw) < 0.3)
    mod = np.where(ol, mod * 0.8, mod)
    ctx.paint(sl, m, col("rubble", ctx.nb), mod, h=LAND_Z + 0.3)


def draw_building(ctx, o):
    got = rect_block(ctx, o)
    if got is None:
        return
    sl, u, v, m = got
    nb = ctx.nb
    cc = o.colour[:nb]
    mod = 1.0 + 0.04 * ctx.tex(6.0, 35, sl) + 0.02 * ctx.tex(1.0, 36, sl)
    top = LAND_Z + o.height
    if o.roof == "ribbed":
        p = o.rib_period
        ph = (v / p) % 1.0  # ribs run along the long axis u
        rib = np.where(ph < 0.25, 1.18, np.where(ph < 0.5, 0.95, np.where(ph < 0.75, 0.8, 0.95)))
        mod = mod * rib
        # translucent skylight strips across the roof
        sk = ((u + o.hl) % 9.0) < 1.2
        mod = np.where(sk & (np.abs(v) < o.hw - 2.0), mod * 1.35, mod)
        ridge = np.abs(v) < 0.35
        mod = np.where(ridge, mod * 0.8, mod)
        # gentle gable: the half facing the sun is brighter
        sv = o.f.dir_uv(*ctx.sun)[1]
        mod = mod * np.where(v * sv > 0, 1.06, 0.92)
    else:
        par = (np.abs(u) > o.hl - 0.6) | (np.abs(v) > o.hw - 0.6)
        mod = np.where(par, mod * 1.15, mod)
    ctx.paint(sl, m, cc, mod, h=top)
    grey = np.array([0.42, 0.42, 0.43, 0.45], np.float32)[:nb]
    for (u0, u1, v0, v1, h) in o.items:
        mm = m & (u >= u0) & (u <= u1) & (v >= v0) & (v <= v1)
        ctx.paint(sl, mm, grey, h=top + h)


def draw_tank(ctx, o):
    sl = ctx.block(o.bbox())
    if sl is None:
        return
    X, Y = ctx.xy(sl)
    dx, dy = X - o.cx, Y - o.cy
    r = np.sqrt(dx * dx + dy * dy)
    m = r <= o.r
    if not m.any():
        return
    rr = r / o.r
    mod = 1.0 + 0.03 * ctx.tex(2.0, 37, sl)
    ring = (rr > 0.93) & (rr < 0.97)
    mod = np.where(ring, 0.65, mod)
    mod = np.where(rr < 0.04, 0.6, mod)
    # shallow cone roof: shade by slope toward the sun
    slope = 0.12
    sxh, syh = ctx.sun
    gx, gy = -slope * dx / np.maximum(r, 1e-6), -slope * dy / np.maximum(r, 1e-6)
    ndots = (-gx * sxh * math.cos(math.asin(ctx.sin_e)) - gy * syh * math.cos(math.asin(ctx.sin_e)) + ctx.sin_e)
    sh = np.clip(ndots / np.sqrt(1 + slope * slope) / ctx.sin_e, 0.2, 1.6)
    ctx.paint(sl, m, o.colour[:ctx.nb], mod, h=LAND_Z + o.height, shade=sh)


def heap_k(o):
    return float(np.clip(0.75 * min(o.hl, o.hw) / o.H, 1.05, 3.0))


def heap_height(o, u, v):
    a = np.abs(u) / o.hl
    b = np.abs(v) / o.hw
    r = (a ** 4 + b ** 4) ** 0.25
    return o.H * np.clip((1.0 - r) * heap_k(o), 0.0, 1.0), r, a, b


def draw_heap(ctx, o):
    sl = ctx.block(o.bbox())
    if sl is None:
        return
    X, Y = ctx.xy(sl)
    u, v = o.f.uv(X, Y)
    h, r, a, b = heap_height(o, u, v)
    m = r <= 1.0
    if not m.any():
        return
    k = heap_k(o)
    slope_zone = ((1.0 - r) * k < 1.0) & m
    rs = np.maximum(r, 1e-3) ** 3
    dhdr = np.where(slope_zone, -o.H * k, 0.0)
    gu = dhdr * np.sign(u) * a ** 3 / (o.hl * rs)
    gv = dhdr * np.sign(v) * b ** 3 / (o.hw * rs)
    # surface roughness adds to the slope
    rough = ctx.tex(2.5, 38, sl) + 0.5 * ctx.tex(0.9, 39, sl)
    su, sv = o.f.dir_uv(*ctx.sun)
    ce = math.cos(math.asin(ctx.sin_e))
    ndots = (-gu * su * ce - gv * sv * ce + ctx.sin_e) / np.sqrt(1 + gu * gu + gv * gv)
    sh = np.clip(ndots / ctx.sin_e, 0.0, 1.8) * (1.0 + 0.08 * rough)
    mat = o.material
    cc = col(mat if mat in C else "coal", ctx.nb)
    mod = 1.0 + 0.12 * ctx.tex(7.0, 40, sl) + 0.06 * rough
    # reclaimer cuts / tyre tracks on the top
    top = (~slope_zone) & m
    tracks = top & (((u + 1000.0) % 7.0) < 0.9)
    mod = np.where(tracks, mod * 0.85, mod)
    if mat == "coal":
        mod = mod * (1.0 + 0.25 * np.clip(sh - 1.0, 0, None))  # dull sheen on sunlit slopes
    ctx.paint(sl, m, cc, mod, h=LAND_Z + h, shade=sh)


def draw_blob(ctx, o):
    sl = ctx.block(o.bbox())
    if sl is None:
        return
    X, Y = ctx.xy(sl)
    u, v = o.f.uv(X, Y)
    th = np.arctan2(v / o.ry, u / o.rx)
    rn = np.sqrt((u / o.rx) ** 2 + (v / o.ry) ** 2) / o.radius(th)
    nb = ctx.nb
    if o.kind == "trees":
        edge_noise = 0.12 * ctx.tex(8.0, 41, sl)
        m = rn < 1.0 + edge_noise
        if not m.any():
            return
        crown = ctx.tex(4.5, 42, sl) + 0.6 * ctx.tex(1.8, 43, sl)
        gap = crown < -0.9
        tr, gr = col("trees", nb), col("grass", nb)
        cc = np.stack([np.where(gap, gr[b] * 0.55, tr[b] * (0.8 + 0.25 * np.clip(crown, -1, 1.6))) for b in range(nb)])
        ctx.paint(sl, m, cc, h=np.where(gap, LAND_Z, LAND_Z + 8.0))
        return
    m = rn <= 1.0
    if not m.any():
        return
    if o.kind == "pond":
        pc = col("pond", nb)
        shore = rn > 0.93
        mod = 1.0 + 0.04 * ctx.tex(3.0, 44, sl) + 0.05 * ctx.tex(40.0, 45, sl)
        soil = col("drained", nb)
        cc = np.stack([np.where(shore, soil[b] * 0.8, pc[b] * mod) for b in range(nb)])
        ctx.paint(sl, m, cc, h=np.where(shore, LAND_Z, LAND_Z - 0.8))
        sy, sx = sl
        ctx.water[sy, sx] |= m & ~shore
    else:  # drained pond bed: damp dark centre, cracked mud, old shoreline ring
        soil = col("drained", nb)
        damp = np.clip(1.0 - rn, 0, 1) * 0.35
        cracks = (np.abs(ctx.tex(1.6, 46, sl)) < 0.08) if ctx.step < 1.0 else False
        mod = (1.0 - damp) * (1.0 + 0.1 * ctx.tex(6.0, 47, sl)) * np.where(cracks, 0.75, 1.0)
        ring = (rn > 0.9) & (rn < 0.96)
        mod = np.where(ring, mod * 1.2, mod)
        ctx.paint(sl, m, soil, mod, h=LAND_Z - 0.5)


def draw_grid(ctx, o):
    sl = ctx.block(o.bbox())
    if sl is None:
        return
    X, Y = ctx.xy(sl)
    u, v = o.f.uv(X, Y)
    u0, u1, v0, v1 = o.ext()
    inb = (u >= u0) & (u <= u1) & (v >= v0) & (v <= v1)
    if not inb.any():
        return
    nb = ctx.nb
    tiers, cidx = o.state(ctx.e)
    bi = np.searchsorted(o.bay_lo, u, "right") - 1
    ri = np.searchsorted(o.row_lo, v, "right") - 1
    bic = np.clip(bi, 0, o.nb - 1)
    ric = np.clip(ri, 0, o.nr - 1)
    inside = inb & (bi >= 0) & (ri >= 0) & (u <= o.bay_hi[bic]) & (v <= o.row_hi[ric])
    if o.lines:
        # painted stall lines on the ground between slots
        (o.bay_lo[1] - o.bay_lo[0]) if o.nb > 1 else 3.0
        gapc = (o.bay_hi[bic] + o.bay_lo[np.clip(bic + 1, 0, o.nb - 1)]) / 2
        line = inb & (~inside) & (np.abs(u - gapc) < 0.07) & (v >= o.row_lo[ric]) & (v <= o.row_hi[ric])
        ctx.paint(sl, line, col("white", nb) * 0.8)
    t = tiers[bic, ric]
    occ = inside & (t > 0)
    if not occ.any():
        return
    ci = cidx[bic, ric]
    slot = bic.astype(np.int64) * 4099 + ric
    jit = (0.82 + 0.36 * hash_uniform(slot, o.gid, o.seed)).astype(np.float32)
    pal = o.pal[1][:, :nb]
    cc = np.stack([pal[:, b][ci] for b in range(nb)]) * jit[None]
    if o.kind == "container":  # weathered paint: a little less saturated than the nominal colour
        cc = 0.8 * cc + 0.2 * cc[:3].mean(axis=0, keepdims=True)
    lu = u - o.bay_lo[bic]
    lv = v - o.row_lo[ric]
    blen = o.bay_hi[bic] - o.bay_lo[bic]
    bw = o.row_hi[ric] - o.row_lo[ric]
    if o.kind == "container":
        # door-end frames slightly darker, faint roof corrugation on fine grids
        mod = np.where((lu < 0.18) | (lu > blen - 0.18), 0.8, 1.0)
        if ctx.step < 0.3:
            mod = mod * (1.0 + 0.05 * np.cos(2 * np.pi * lu / 0.6))
        mod = mod * np.where((lv < 0.1) | (lv > bw - 0.1), 0.88, 1.0)
    elif o.kind == "car":
        f = lv / bw
        glass = ((f > 0.22) & (f < 0.36)) | ((f > 0.72) & (f < 0.8))
        mod = np.where(glass, 0.25, 1.0) * np.where((lu < 0.15) | (lu > blen - 0.15), 0.8, 1.0)
    else:  # trailers: plain roof, side rails
        mod = np.where((lu < 0.12) | (lu > blen - 0.12), 0.85, 1.0)
    mod = mod * (1.0 + 0.03 * ctx.tex(1.5, 48, sl))
    ctx.paint(sl, occ, cc, mod, h=o.base_z + t * o.tier_h)


def draw_pier(ctx, o):
    e = ctx.e
    sl = ctx.block(o.bbox(e))
    if sl is None:
        return
    X, Y = ctx.xy(sl)
    u, v = o.f.uv(X, Y)
    m = np.zeros(u.shape, bool)
    for (u0, u1, v0, v1) in o.rects(e):
        m |= (u >= u0) & (u <= u1) & (v >= v0) & (v <= v1)
    if not m.any():
        return
    nb = ctx.nb
    mod = 1.0 + 0.06 * ctx.tex(15.0, 49, sl) + 0.035 * ctx.tex(2.5, 50, sl)
    if o.kind == "coal":
        dirt = np.clip(0.3 + 0.5 * ctx.tex(12.0, 51, sl), 0, 0.75)
        mod = mod * (1.0 - dirt)
    joint = np.abs(((u + 1000.0) % 10.0) - 5.0) > 4.9
    mod = mod * np.where(joint, 0.85, 1.0)
    L = o.L(e)
    # fender line (dark) along the berthing edges, safety line inside
    uend = L - (o.head[1] if o.head else 0.0)
    edge = (np.abs(v) > o.w / 2 - 0.45) & (u > 5) & (u < uend)
    line = (np.abs(np.abs(v) - (o.w / 2 - 1.8)) < 0.12) & (u > 3) & (u < uend - 1)
    if o.head:
        hl, hd = o.head
        edge |= (u > L - 0.45) & (np.abs(v) < hl / 2)
    ctx.paint(sl, m, col("concrete", nb), mod, h=LAND_Z)
    ctx.paint(sl, m & line, col("yellow_paint", nb) * 0.9)
    ctx.paint(sl, m & edge, np.full(nb, 0.05, np.float32))
    # bollards
    dark = np.array([0.05, 0.05, 0.055, 0.06], np.float32)[:nb]
    for (bu, bv) in o.bollards(e):
        bm = (u - bu) ** 2 + (v - bv) ** 2 < 0.35 ** 2
        if bm.any():
            ctx.paint(sl, bm, dark, h=LAND_Z + 0.8)


def pier_casters(o, e):
    out = list(o.casters(e))
    for (bu, bv) in o.bollards(e):
        x, y = o.f.xy(bu, bv)
        out.append(("circ", x, y, 0.35, 0.0, LAND_Z + 0.8))
    return out


def draw_crane(ctx, o):
    sl = ctx.block(o.bbox())
    if sl is None:
        return
    X, Y = ctx.xy(sl)
    u, v = o.f.uv(X, Y)
    nb = ctx.nb
    house = np.array([0.48, 0.48, 0.47, 0.5], np.float32)[:nb]
    for (u0, u1, v0, v1, _z0, z1, kind) in sorted(o.parts, key=lambda p: p[5]):
        m = (u >= u0) & (u <= u1) & (v >= v0) & (v <= v1)
        if m.any():
            cc = house if kind == 2 else o.colour[:nb]
            mod = 1.0 if kind == 2 else np.where(((u - u0) % 3.0) < 0.5, 0.7, 1.0)
            ctx.paint(sl, m, cc, mod, h=z1)


def draw_truck(ctx, o):
    got = rect_block(ctx, o)
    if got is None:
        return
    sl, u, v, m = got
    nb = ctx.nb
    cab = m & (u > o.hl - 2.6)
    trailer = m & (u < o.hl - 3.0)
    box = m & (u >= o.box_u[0]) & (u <= o.box_u[1])
    chassis = np.array([0.07, 0.07, 0.07, 0.08], np.float32)[:nb]
    ctx.paint(sl, cab, o.colour[:nb], np.where(u > o.hl - 0.9, 0.5, 1.0), h=LAND_Z + 3.2)
    if o.box_colour is not None:
        beams = trailer & ~box & ((np.abs(np.abs(v) - 0.5) < 0.2) | (((u + 100) % 3.0) < 0.3))
        ctx.paint(sl, beams, chassis, h=LAND_Z + 1.4)
        ends = (u - o.box_u[0] < 0.18) | (o.box_u[1] - u < 0.18)
        ctx.paint(sl, box, o.box_colour[:nb], np.where(ends, 0.8, 1.0), h=LAND_Z + 4.0)
    else:
        beams = trailer & ((np.abs(np.abs(v) - 0.5) < 0.2) | (((u + 100) % 3.0) < 0.3))
        ctx.paint(sl, beams, chassis, h=LAND_Z + 1.4)


def draw_conveyor(ctx, o):
    got = rect_block(ctx, o)
    if got is None:
        return
    sl, u, v, m = got
    mod = np.where(((u + 1000.0) % 2.0) < 0.3, 0.8, 1.0) * np.where(np.abs(v) < 0.3, 0.85, 1.0)
    ctx.paint(sl, m, np.array([0.36, 0.36, 0.35, 0.38], np.float32)[:ctx.nb], mod, h=LAND_Z + o.height)


def draw_pipes(ctx, o):
    got = rect_block(ctx, o)
    if got is None:
        return
    sl, u, v, m = got
    pos = (v + o.hw) / (2 * o.hw) * o.n
    k = np.floor(pos)
    pipe = m & (np.abs(pos - k - 0.5) * (2 * o.hw / o.n) < 0.22)
    sup = m & (((u + 1000.0) % 8.0) < 0.4)  # pipe supports
    cc = np.array([0.5, 0.5, 0.48, 0.52], np.float32)[:ctx.nb]
    sun_side = 1.0 + 0.2 * np.sign(np.sin(np.pi * (pos - k)))  # cylindrical highlight
    ctx.paint(sl, sup, cc * 0.6, h=LAND_Z + 1.0)
    ctx.paint(sl, pipe, cc, sun_side, h=LAND_Z + 1.2)


def draw_plume(ctx, o):
    sl = ctx.block(o.bbox())
    if sl is None:
        return
    sy, sx = sl
    wat = ctx.water[sy, sx] & (ctx.hgt[sy, sx] <= 0.01)
    if not wat.any():
        return
    X, Y = ctx.xy(sl)
    u, v = o.f.uv(X, Y)
    vc = o.bend * u * u
    w = o.width * (0.25 + 0.75 * np.clip(u / (0.3 * o.length), 0, 1))
    dd = (v - vc) / w
    tx = 1.0 + 0.45 * ctx.tex(max(o.width / 3, 5.0), 52, sl) + 0.25 * ctx.tex(max(o.width / 10, 2.0), 53, sl)
    taper = np.clip(1.0 - u / (1.5 * o.length), 0, 1) ** 2 * np.clip((u + 5.0) / 5.0, 0, 1)
    I = o.strength * np.exp(-np.maximum(u, 0) / o.length) * np.exp(-dd * dd) * np.clip(tx, 0, 2) * taper
    I = np.clip(I, 0, 0.95).astype(np.float32)
    tb = col("turbid", ctx.nb)
    for b in range(ctx.nb):
        a = ctx.alb[b, sy, sx]
        np.copyto(a, a + (tb[b] - a) * I, where=wat)


def draw_wake(ctx, o):
    bb = o.wake_bbox()
    sl = ctx.block(bb)
    if sl is None:
        return
    sy, sx = sl
    wat = ctx.water[sy, sx] & (ctx.hgt[sy, sx] <= 0.01)
    if not wat.any():
        return
    X, Y = ctx.xy(sl)
    u, v = o.f.uv(X, Y)
    Lw = o.wake_len()
    w = -(u + o.L / 2)  # behind the stern
    d = o.L / 2 - u  # behind the bow
    foam = col("foam", ctx.nb)
    tx = np.clip(0.7 + 0.5 * ctx.tex(2.5, 54, sl) + 0.3 * ctx.tex(8.0, 55, sl), 0, 1.5)
    hws = o.W / 2 * (0.8 + 1.6 * np.clip(w / Lw, 0, 1))
    Iw = (w > 0) * np.clip(1 - w / Lw, 0, 1) ** 2 * np.exp(-2.0 * (v / hws) ** 2) * tx * (0.5 + 0.5 * o.speed)
    # Kelvin arms from the bow (19.5 deg), with transverse crests
    arm = d * 0.354
    aw = 1.2 + 0.03 * d
    Ia = np.clip((d - 0.1 * o.L) / (0.1 * o.L), 0, 1) * np.exp(-d / (0.5 * Lw)) * \
        np.clip(1.0 - d / (Lw + o.L), 0, 1) * np.exp(-((np.abs(v) - arm) / aw) ** 2) * \
        (0.6 + 0.4 * np.cos(2 * np.pi * d / max(0.25 * o.L, 6.0))) * o.speed * 0.3 * np.clip(tx, 0, 1.2)
    hw = o.hw(u)
    bow = (u > o.L / 2 - 0.25 * o.L) & (u < o.L / 2 + 0.03 * o.L) & (np.abs(v) > hw) & \
        (np.abs(v) < np.maximum(hw, 0) + 1.5 + 0.05 * o.W)
    Ib = bow * 0.6 * o.speed * tx
    I = np.clip(Iw + Ia + Ib, 0, 0.9).astype(np.float32)
    for b in range(ctx.nb):
        a = ctx.alb[b, sy, sx]
        np.copyto(a, a + (foam[b] - a) * I, where=wat)


SHIP_COLOURS = {
    "deck": [(0.26, 0.11, 0.08, 0.3), (0.08, 0.15, 0.10, 0.18), (0.22, 0.22, 0.22, 0.25), (0.28, 0.15, 0.10, 0.32)],
    "hull": [(0.06, 0.06, 0.07, 0.08), (0.24, 0.05, 0.05, 0.27), (0.05, 0.09, 0.2, 0.16), (0.3, 0.3, 0.3, 0.32)],
    "hatch": [(0.30, 0.10, 0.08, 0.34), (0.10, 0.20, 0.12, 0.2), (0.32, 0.32, 0.31, 0.35), (0.08, 0.14, 0.28, 0.22)],
    "house": [(0.58, 0.58, 0.56, 0.6), (0.52, 0.50, 0.42, 0.55), (0.55, 0.55, 0.55, 0.58)],
    "funnel": [(0.05, 0.05, 0.05, 0.06), (0.4, 0.08, 0.06, 0.42), (0.07, 0.12, 0.3, 0.24), (0.5, 0.4, 0.07, 0.52)],
}


def _sc(name, seed, k, nb):
    lst = SHIP_COLOURS[name]
    i = int(hash_uniform(seed, k, 99) * len(lst))
    return np.asarray(lst[i], np.float32)[:nb]


def draw_ship(ctx, o):
    sl = ctx.block(o.bbox())
    if sl is None:
        return
    X, Y = ctx.xy(sl)
    u, v = o.f.uv(X, Y)
    hw = o.hw(u)
    av = np.abs(v)
    m = av <= hw
    if not m.any():
        return
    nb = ctx.nb
    L, W, fbd = o.L, o.W, o.freeboard
    seed = o.seed
    deck = _sc("deck", seed, 1, nb)
    hull = _sc("hull", seed, 2, nb)
    if o.kind == "tug":
        deck = np.array([0.12, 0.12, 0.12, 0.14], np.float32)[:nb]
    elif o.kind == "fishing":
        deck = _sc("house", seed, 7, nb) * 0.8
    mod = 1.0 + 0.05 * ctx.tex(4.0, 56, sl) + 0.03 * ctx.tex(0.8, 57, sl)
    ctx.paint(sl, m, deck, mod, h=fbd)
    rim_w = float(np.clip(0.035 * W, 0.35, 1.0))
    if o.kind == "tug":
        rim_w = 0.6
    rim = m & (av > hw - rim_w)
    ctx.paint(sl, rim, hull, h=fbd + 0.5)
    fwd = L / 2 - o.fb * L
    if o.kind == "bulk_carrier":
        hc = _sc("hatch", seed, 3, nb)
        cargo = col(o.cargo if o.cargo in C else "coal", nb)
        for (uc, hl, hwh, opn) in o.holds:
            coam = m & (np.abs(u - uc) < hl + 0.6) & (av < hwh + 0.6)
            ctx.paint(sl, coam, hc * 0.7, h=fbd + 1.5)
            hm = m & (np.abs(u - uc) < hl) & (av < hwh)
            if opn:
                # open hold: cargo deep inside, walls in shadow on the sun side
                sunu, sunv = o.f.dir_uv(*ctx.sun)
                inner = 1.0 + 0.15 * ctx.tex(1.5, 58, sl)
                wall = ((u - uc) * sunu / hl + v * sunv / hwh) > 0.55
                ctx.paint(sl, hm, cargo, np.where(wall, 0.45, inner), h=fbd - 6.0)
            else:
                ribs = np.where(((u - uc + 100.0) % 2.0) < 0.35, 0.8, 1.0) * np.where(av < 0.2, 0.6, 1.0)
                ctx.paint(sl, hm, hc, ribs, h=fbd + 2.0)
    elif o.kind == "tanker":
        pipe = np.array([0.45, 0.45, 0.44, 0.47], np.float32)[:nb]
        deckz = m & (u > -L / 2 + o.house[1] * L) & (u < fwd)
        ctx.paint(sl, deckz & (av < 0.45), pipe, h=fbd + 1.0)
        ctx.paint(sl, deckz & (np.abs(av - 0.22 * W) < 0.25), pipe * 0.9, h=fbd + 0.8)
        ctx.paint(sl, m & (np.abs(u - L * 0.02) < 1.6) & (av < 0.42 * W), pipe, h=fbd + 1.2)
        ctx.paint(sl, deckz & (((u + 1000.0) % 20.0) < 0.5) & (av < 0.3 * W), pipe * 0.8, h=fbd + 0.6)
    elif o.kind == "fishing":
        gear = m & (u < -L / 2 + 0.3 * L) & (ctx.tex(0.9, 59, sl) > 0.3)
        ctx.paint(sl, gear, np.array([0.08, 0.1, 0.12, 0.1], np.float32)[:nb], h=fbd + 0.5)
    if o.kind in ("bulk_carrier", "tanker", "container_ship"):
        # forecastle windlasses
        wl = m & (np.abs(u - (fwd + 0.02 * L)) < 1.2) & (np.abs(av - 0.22 * W) < 1.0)
        ctx.paint(sl, wl, np.full(nb, 0.1, np.float32), h=fbd + 1.5)
    # superstructure
    u0 = -L / 2 + o.house[0] * L
    u1 = -L / 2 + o.house[1] * L
    hwh = W / 2 * (0.8 if o.kind in ("tug", "fishing") else 0.78)
    hs = _sc("house", seed, 4, nb)
    if o.kind == "tug" and hash_uniform(seed, 5, 1) < 0.5:
        hs = np.array([0.38, 0.08, 0.06, 0.4], np.float32)[:nb]
    house = m & (u >= u0) & (u <= u1) & (av <= hwh)
    hmod = 1.0 + 0.03 * ctx.tex(1.0, 60, sl)
    ctx.paint(sl, house, hs, hmod, h=fbd + o.house_h)
    if o.kind in ("bulk_carrier", "tanker", "container_ship"):
        wings = m & (np.abs(u - (u1 - 0.6)) < 0.6) & (av <= hw - 0.2)
        ctx.paint(sl, wings, hs, h=fbd + o.house_h)
        fu = u0 - 0.02 * L
        fun = m & (u > fu - 0.015 * L) & (u < fu + 0.01 * L) & (av < 0.12 * W)
        ctx.paint(sl, fun, _sc("funnel", seed, 6, nb), h=fbd + o.house_h + 5.0)
        # roof gear
        ctx.paint(sl, house & (np.abs(u - (u0 + u1) / 2) < 1.0) & (av < 1.2), np.full(nb, 0.25, np.float32),
                  h=fbd + o.house_h + 1.5)
    if o.deck is not None:
        draw_grid(ctx, o.deck)


DRAW = {
    Ground: draw_ground, Road: draw_road, Rubble: draw_rubble, Building: draw_building, Tank: draw_tank,
    Heap: draw_heap, Blob: draw_blob, Grid: draw_grid, Pier: draw_pier, Crane: draw_crane, Truck: draw_truck,
    Conveyor: draw_conveyor, Pipes: draw_pipes, Plume: draw_plume, Ship: draw_ship,
}


# ----------------------------------------------------------------------------------------------
# shadows
# ----------------------------------------------------------------------------------------------

def _shadow_bbox(ctx, fp_bbox, z1):
    x0, y0, x1, y1 = fp_bbox
    Ls = max(z1, 0.0) / ctx.tan_e + 0.5
    sx, sy = ctx.sun
    ex, ey = -sx * Ls, -sy * Ls
    return (min(x0, x0 + ex), min(y0, y0 + ey), max(x1, x1 + ex), max(y1, y1 + ey))


def apply_caster(ctx, c):
    kind = c[0]
    sx, sy = ctx.sun
    te = ctx.tan_e
    eps = 0.08
    if kind == "box":
        _, f, u0, u1, v0, v1, z0, z1 = c
        fb = f.rect(u0, u1, v0, v1)
        bb = (fb[:, 0].min(), fb[:, 1].min(), fb[:, 0].max(), fb[:, 1].max())
        sl = ctx.block(_shadow_bbox(ctx, bb, z1))
        if sl is None:
            return
        X, Y = ctx.xy(sl)
        u, v = f.uv(X, Y)
        su, sv = f.dir_uv(sx, sy)
        h = ctx.hgt[sl]
        lo = np.maximum((z0 - h) / te, 0.0)
        hi = (z1 - h) / te - eps
        for (p, s_, a0, a1) in ((u, su, u0, u1), (v, sv, v0, v1)):
            if abs(s_) < 1e-9:
                ok = (p >= a0) & (p <= a1)
                hi = np.where(ok, hi, -1.0)
            else:
                t1 = (a0 - p) / s_
                t2 = (a1 - p) / s_
                lo = np.maximum(lo, np.minimum(t1, t2))
                hi = np.minimum(hi, np.maximum(t1, t2))
        m = lo <= hi
    elif kind == "poly":
        _, pts, z0, z1 = c
        bb = (pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max())
        sl = ctx.block(_shadow_bbox(ctx, bb, z1))
        if sl is None:
            return
        X, Y = ctx.xy(sl)
        h = ctx.hgt[sl]
        lo = np.maximum((z0 - h) / te, 0.0)
        hi = (z1 - h) / te - eps
        P = pts
        # orientation
        area = np.sum(P[:, 0] * np.roll(P[:, 1], -1) - np.roll(P[:, 0], -1) * P[:, 1])
        sgn = 1.0 if area > 0 else -1.0
        for i in range(len(P)):
            ax, ay = P[i]
            bx, by = P[(i + 1) % len(P)]
            ex, ey = bx - ax, by - ay
            if ex * ex + ey * ey < 1e-8:
                continue
            nx, ny = sgn * ey, -sgn * ex  # outward normal
            cc = nx * ax + ny * ay
            ns = nx * sx + ny * sy
            npv = nx * X + ny * Y
            if abs(ns) < 1e-12:
                hi = np.where(npv <= cc, hi, -1.0)
            elif ns > 0:
                hi = np.minimum(hi, (cc - npv) / ns)
            else:
                lo = np.maximum(lo, (cc - npv) / ns)
        m = lo <= hi
    elif kind == "circ":
        _, cx, cy, r, z0, z1 = c
        sl = ctx.block(_shadow_bbox(ctx, (cx - r, cy - r, cx + r, cy + r), z1))
        if sl is None:
            return
        X, Y = ctx.xy(sl)
        h = ctx.hgt[sl]
        dx, dy = X - cx, Y - cy
        b = dx * sx + dy * sy
        disc = b * b - (dx * dx + dy * dy - r * r)
        sq = np.sqrt(np.maximum(disc, 0.0))
        lo = np.maximum(np.maximum((z0 - h) / te, 0.0), -b - sq)
        hi = np.minimum((z1 - h) / te - eps, -b + sq)
        m = (disc >= 0) & (lo <= hi)
    elif kind == "heap":
        o = c[1]
        sl = ctx.block(_shadow_bbox(ctx, o.bbox(), LAND_Z + o.H))
        if sl is None:
            return
        X, Y = ctx.xy(sl)
        u, v = o.f.uv(X, Y)
        su, sv = o.f.dir_uv(sx, sy)
        h = ctx.hgt[sl]
        m = np.zeros(h.shape, bool)
        tmax = o.H / te
        for t in np.linspace(0.4, tmax, 10):
            hq = heap_height(o, u + t * su, v + t * sv)[0] + LAND_Z
            m |= hq > h + t * te + 0.15
    else:
        return
    ctx.lit[sl][m] = 0.0


def object_casters(o, e):
    if isinstance(o, Pier):
        return pier_casters(o, e)
    return o.casters(e)
