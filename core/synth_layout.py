# ruff: noqa: N803, N806, E741
"""Vector layout of a procedurally generated port (used by :mod:`quayside.core.synth`).

All geometry is in *scene-local* metres: ``x`` east from the raster's left
edge, ``y`` north from its top edge (so the raster covers ``0 <= x <= W`` and
``-H <= y <= 0``).  :mod:`synth` adds the map origin when writing truth.

The port is laid out in a *port frame* ``(s, n)``: ``s`` runs along the coast,
``n`` points inland (sea at ``n < c(s)``, land at ``n > c(s)``), rotated by a
small random angle against the map.  Bands parallel to the coast hold the quay
apron, the terminal band (yards, heaps, tanks), a main road and the backland
(warehouses, buildings, car parks, vegetation, the pond, the construction
site); beyond that, land is a procedural hinterland rendered by a shader.

Epochs are indices ``0..E-1``; every object carries ``ep`` (a frozenset of the
epoch indices where it exists, ``None`` = always).  Structural change happens
at epoch ``change_at``; ships, container stacks, plumes and trucks are drawn
per epoch.
"""

import math

import numpy as np
from numpy.random import PCG64, Generator
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry import box as sbox
from shapely.ops import unary_union

LAND_Z = 3.0  # quay / land surface height above the water (m)
TIER_H = 2.59  # container height (m)

# reflectances (red, green, blue, nir)
C = {
    "asphalt": (0.085, 0.085, 0.09, 0.11),
    "asphalt_light": (0.13, 0.13, 0.13, 0.15),
    "concrete": (0.27, 0.27, 0.26, 0.30),
    "concrete_dark": (0.19, 0.19, 0.185, 0.22),
    "soil": (0.22, 0.18, 0.13, 0.27),
    "drained": (0.16, 0.135, 0.10, 0.19),
    "grass": (0.065, 0.115, 0.05, 0.33),
    "dry_grass": (0.16, 0.16, 0.09, 0.30),
    "trees": (0.035, 0.07, 0.03, 0.30),
    "rubble": (0.30, 0.285, 0.26, 0.32),
    "gravel": (0.24, 0.225, 0.20, 0.27),
    "sand": (0.38, 0.34, 0.26, 0.42),
    "coal": (0.045, 0.045, 0.048, 0.055),
    "iron_ore": (0.23, 0.11, 0.07, 0.28),
    "bulk_sand": (0.42, 0.36, 0.25, 0.46),
    "grain": (0.47, 0.41, 0.25, 0.52),
    "sulphur": (0.55, 0.48, 0.10, 0.58),
    "clinker": (0.20, 0.20, 0.20, 0.22),
    "water_deep": (0.018, 0.031, 0.040, 0.006),
    "water_shallow": (0.034, 0.058, 0.058, 0.012),
    "turbid": (0.105, 0.098, 0.066, 0.045),
    "pond": (0.024, 0.042, 0.038, 0.008),
    "foam": (0.42, 0.44, 0.45, 0.30),
    "white": (0.58, 0.58, 0.57, 0.60),
    "yellow_paint": (0.55, 0.45, 0.08, 0.55),
    "rail": (0.06, 0.06, 0.06, 0.07),
}

CONTAINER_COLOURS = [  # name, reflectance, weight
    ("red", (0.36, 0.075, 0.06, 0.40), 0.15),
    ("maroon", (0.20, 0.06, 0.06, 0.25), 0.08),
    ("orange", (0.50, 0.23, 0.05, 0.52), 0.07),
    ("blue", (0.06, 0.12, 0.30, 0.25), 0.15),
    ("light_blue", (0.20, 0.34, 0.50, 0.40), 0.05),
    ("green", (0.07, 0.20, 0.10, 0.22), 0.08),
    ("white", (0.56, 0.56, 0.54, 0.58), 0.12),
    ("grey", (0.28, 0.28, 0.28, 0.30), 0.12),
    ("yellow", (0.52, 0.44, 0.08, 0.55), 0.03),
    ("brown", (0.24, 0.14, 0.09, 0.30), 0.06),
    ("teal", (0.06, 0.25, 0.25, 0.25), 0.04),
    ("beige", (0.45, 0.40, 0.30, 0.48), 0.05),
]
TRAILER_COLOURS = [
    ("white", (0.55, 0.55, 0.54, 0.57), 0.40),
    ("light_grey", (0.40, 0.40, 0.40, 0.42), 0.20),
    ("blue", (0.08, 0.15, 0.32, 0.27), 0.12),
    ("red", (0.34, 0.08, 0.07, 0.38), 0.12),
    ("green", (0.08, 0.20, 0.11, 0.22), 0.06),
    ("grey", (0.24, 0.24, 0.25, 0.27), 0.10),
]
CAR_COLOURS = [
    ("white", (0.55, 0.55, 0.55, 0.57), 0.26),
    ("silver", (0.36, 0.37, 0.38, 0.38), 0.20),
    ("black", (0.04, 0.04, 0.045, 0.05), 0.18),
    ("grey", (0.17, 0.17, 0.18, 0.19), 0.12),
    ("red", (0.30, 0.05, 0.05, 0.33), 0.08),
    ("blue", (0.05, 0.09, 0.22, 0.18), 0.10),
    ("beige", (0.38, 0.33, 0.25, 0.40), 0.04),
    ("green", (0.05, 0.13, 0.07, 0.15), 0.02),
]
ROOF_COLOURS = [
    ("white", (0.55, 0.56, 0.55, 0.58), 0.16),
    ("light_grey", (0.38, 0.38, 0.38, 0.40), 0.20),
    ("grey", (0.25, 0.25, 0.26, 0.28), 0.18),
    ("blue", (0.10, 0.20, 0.36, 0.30), 0.12),
    ("green", (0.12, 0.26, 0.18, 0.25), 0.06),
    ("rust", (0.30, 0.16, 0.11, 0.33), 0.08),
    ("tile", (0.32, 0.14, 0.10, 0.35), 0.08),
    ("dark", (0.12, 0.12, 0.12, 0.14), 0.06),
    ("cream", (0.50, 0.47, 0.38, 0.52), 0.06),
]
CRANE_COLOURS = [(0.40, 0.08, 0.06, 0.42), (0.08, 0.16, 0.36, 0.28), (0.55, 0.55, 0.53, 0.57),
                 (0.52, 0.26, 0.05, 0.54), (0.50, 0.43, 0.08, 0.53), (0.33, 0.34, 0.35, 0.36)]


def palette(entries):
    names = [e[0] for e in entries]
    refl = np.array([e[1] for e in entries], dtype=np.float32)
    w = np.array([e[2] for e in entries], dtype=float)
    return names, refl, w / w.sum()


CONTAINER_PAL = palette(CONTAINER_COLOURS)
TRAILER_PAL = palette(TRAILER_COLOURS)
CAR_PAL = palette(CAR_COLOURS)
ROOF_PAL = palette(ROOF_COLOURS)


class Frame:
    """Oriented frame: ``u`` along angle ``a`` (radians, counter-clockwise from east)."""

    __slots__ = ("cx", "cy", "a", "ca", "sa")

    def __init__(self, cx, cy, a):
        self.cx, self.cy, self.a = float(cx), float(cy), float(a)
        self.ca, self.sa = math.cos(a), math.sin(a)

    def uv(self, X, Y):
        dx = X - self.cx
        dy = Y - self.cy
        return dx * self.ca + dy * self.sa, dy * self.ca - dx * self.sa

    def xy(self, u, v):
        return self.cx + u * self.ca - v * self.sa, self.cy + u * self.sa + v * self.ca

    def dir_uv(self, dx, dy):
        """A world direction expressed in the frame."""
        return dx * self.ca + dy * self.sa, dy * self.ca - dx * self.sa

    def rect(self, u0, u1, v0, v1):
        us = np.array([u0, u1, u1, u0])
        vs = np.array([v0, v0, v1, v1])
        x, y = self.xy(us, vs)
        return np.stack([x, y], axis=1)

    def poly(self, u0, u1, v0, v1):
        return Polygon(self.rect(u0, u1, v0, v1))


def bbox_of(pts, pad=0.0):
    pts = np.asarray(pts)
    return (pts[:, 0].min() - pad, pts[:, 1].min() - pad, pts[:, 0].max() + pad, pts[:, 1].max() + pad)


class Obj:
    """Base of everything drawable.  ``z`` orders drawing, ``ep`` epochs present."""

    z = 50
    ep = None
    seed = 0

    def present(self, e):
        return self.ep is None or e in self.ep

    def bbox(self, e):  # surface bbox
        raise NotImplementedError

    def casters(self, e):
        return ()


class RectObj(Obj):
    def __init__(self, frame, hl, hw):
        self.f, self.hl, self.hw = frame, float(hl), float(hw)

    def corners(self):
        return self.f.rect(-self.hl, self.hl, -self.hw, self.hw)

    def bbox(self, e=0):
        return bbox_of(self.corners(), 0.5)

    def polygon(self):
        return Polygon(self.corners())


class Ground(RectObj):
    """A surfaced parcel (asphalt, concrete, soil, grass, rubble, gravel)."""

    z = 10

    def __init__(self, frame, hl, hw, surface, seed, ep=None, marks=False):
        super().__init__(frame, hl, hw)
        self.surface, self.seed, self.ep, self.marks = surface, seed, ep, marks


class Road(RectObj):
    z = 12

    def __init__(self, frame, hl, hw, seed):
        super().__init__(frame, hl, hw)
        self.seed = seed


class Building(RectObj):
    z = 60

    def __init__(self, frame, hl, hw, height, roof, colour, seed, ep=None, kind="building",
                 rib_period=0.0, name=None, bid=0):
        super().__init__(frame, hl, hw)
        self.height, self.roof, self.colour = float(height), roof, np.asarray(colour, np.float32)
        self.seed, self.ep, self.kind, self.rib_period, self.name, self.bid = seed, ep, kind, rib_period, name, bid
        rng = Generator(PCG64(seed))
        self.items = []  # rooftop equipment: (u0,u1,v0,v1,h)
        if roof != "ribbed" and hl > 6 and hw > 6:
            for _ in range(int(rng.integers(0, 5))):
                a = rng.uniform(1.0, min(4.0, hl * 0.3))
                b = rng.uniform(1.0, min(4.0, hw * 0.3))
                u = rng.uniform(-hl + a + 1, hl - a - 1)
                v = rng.uniform(-hw + b + 1, hw - b - 1)
                self.items.append((u - a, u + a, v - b, v + b, rng.uniform(1.0, 3.0)))

    def casters(self, e):
        top = LAND_Z + self.height
        out = [("box", self.f, -self.hl, self.hl, -self.hw, self.hw, 0.0, top)]
        for (u0, u1, v0, v1, h) in self.items:
            out.append(("box", self.f, u0, u1, v0, v1, top, top + h))
        return out


class Rubble(RectObj):
    z = 11

    def __init__(self, frame, hl, hw, seed, ep):
        super().__init__(frame, hl, hw)
        self.seed, self.ep = seed, ep


class Tank(Obj):
    z = 60

    def __init__(self, cx, cy, r, height, colour, seed):
        self.cx, self.cy, self.r, self.height = cx, cy, r, height
        self.colour, self.seed = np.asarray(colour, np.float32), seed

    def bbox(self, e=0):
        return (self.cx - self.r - 1, self.cy - self.r - 1, self.cx + self.r + 1, self.cy + self.r + 1)

    def casters(self, e):
        return [("circ", self.cx, self.cy, self.r, 0.0, LAND_Z + self.height)]

    def polygon(self):
        return Point(self.cx, self.cy).buffer(self.r, 32)


class Heap(RectObj):
    """Stockpile mound: super-ellipse footprint, height ``H``."""

    z = 30

    def __init__(self, frame, hl, hw, H, material, seed):
        super().__init__(frame, hl, hw)
        self.H, self.material, self.seed = float(H), material, seed

    def polygon(self):
        t = np.linspace(0, 2 * np.pi, 96, endpoint=False)
        c, s = np.cos(t), np.sin(t)
        p = 4.0
        u = self.hl * np.sign(c) * np.abs(c) ** (2 / p)
        v = self.hw * np.sign(s) * np.abs(s) ** (2 / p)
        x, y = self.f.xy(u, v)
        return Polygon(np.stack([x, y], 1))

    def casters(self, e):
        return [("heap", self)]


class Blob(Obj):
    """Irregular ellipse (pond, vegetation patch, drained pond bed)."""

    z = 20

    def __init__(self, frame, rx, ry, kind, seed, ep=None):
        self.f, self.rx, self.ry, self.kind, self.seed, self.ep = frame, rx, ry, kind, seed, ep
        rng = Generator(PCG64(seed))
        self.k = np.arange(2, 7)
        self.amp = rng.uniform(0.02, 0.09, size=5) / np.sqrt(self.k / 2)
        self.ph = rng.uniform(0, 2 * np.pi, size=5)

    def radius(self, th):
        r = np.ones_like(th)
        for k, a, p in zip(self.k, self.amp, self.ph):
            r = r + a * np.cos(k * th + p)
        return r

    def bbox(self, e=0):
        R = max(self.rx, self.ry) * (1 + self.amp.sum()) + 1
        return (self.f.cx - R, self.f.cy - R, self.f.cx + R, self.f.cy + R)

    def polygon(self, n=180):
        th = np.linspace(0, 2 * np.pi, n, endpoint=False)
        r = self.radius(th)
        x, y = self.f.xy(self.rx * r * np.cos(th), self.ry * r * np.sin(th))
        return Polygon(np.stack([x, y], 1)).buffer(0)


class Grid(Obj):
    """Rows of boxes: container block, car park, trailer park, ship deck stow.

    Frame origin at the block corner; ``u`` along the rows (bays), ``v``
    across (rows).  ``bay_lo/hi`` and ``row_lo/hi`` are box extents.  Per epoch
    ``tiers[e]`` (0 = empty slot) and ``col[e]`` (palette index).
    """

    z = 40

    def __init__(self, frame, bay_lo, bay_hi, row_lo, row_hi, kind, tiers, col, pal, seed,
                 base_z=LAND_Z, tier_h=TIER_H, name=None, bay_ft=None, ep=None, lines=False, gid=0):
        self.f = frame
        self.bay_lo, self.bay_hi = np.asarray(bay_lo, float), np.asarray(bay_hi, float)
        self.row_lo, self.row_hi = np.asarray(row_lo, float), np.asarray(row_hi, float)
        self.kind, self.tiers, self.col, self.pal, self.seed = kind, tiers, col, pal, seed
        self.base_z, self.tier_h, self.name, self.bay_ft, self.ep = base_z, tier_h, name, bay_ft, ep
        self.lines, self.gid = lines, gid
        self._runs = {}

    @property
    def nb(self):
        return len(self.bay_lo)

    @property
    def nr(self):
        return len(self.row_lo)

    def ext(self):
        return (self.bay_lo[0] - 0.5, self.bay_hi[-1] + 0.5, self.row_lo[0] - 0.5, self.row_hi[-1] + 0.5)

    def state(self, e):
        if self.tiers.shape[0] == 1:
            return self.tiers[0], self.col[0]
        return self.tiers[e], self.col[e]

    def bbox(self, e=0):
        u0, u1, v0, v1 = self.ext()
        return bbox_of(self.f.rect(u0, u1, v0, v1), 0.5)

    def runs(self, e):
        """Shadow casters: runs of adjacent occupied slots with equal tiers."""
        key = e if self.tiers.shape[0] > 1 else 0
        if key in self._runs:
            return self._runs[key]
        t, _ = self.state(e)
        out = []
        for r in range(self.nr):
            b = 0
            while b < self.nb:
                if t[b, r] == 0:
                    b += 1
                    continue
                b1 = b
                while b1 + 1 < self.nb and t[b1 + 1, r] == t[b, r] and self.bay_lo[b1 + 1] - self.bay_hi[b1] < 1.0:
                    b1 += 1
                out.append((self.bay_lo[b], self.bay_hi[b1], self.row_lo[r], self.row_hi[r],
                            self.base_z + t[b, r] * self.tier_h))
                b = b1 + 1
        self._runs[key] = out
        return out

    def casters(self, e):
        return [("box", self.f, u0, u1, v0, v1, 0.0, top) for (u0, u1, v0, v1, top) in self.runs(e)]

    def boxes(self, e):
        """(bay, row, polygon corners) of occupied slots."""
        t, c = self.state(e)
        bb, rr = np.nonzero(t)
        for b, r in zip(bb, rr):
            yield b, r, self.f.rect(self.bay_lo[b], self.bay_hi[b], self.row_lo[r], self.row_hi[r])


class Pier(Obj):
    """Pier in its own frame: ``u`` from the root on the quay line to sea, ``v`` across."""

    z = 25

    def __init__(self, pid, name, kind, frame, width, lengths, head, seed):
        self.pid, self.name, self.kind, self.f, self.w = pid, name, kind, frame, float(width)
        self.lengths = list(lengths)  # per epoch
        self.head = head  # None or (head_len_along_v, head_depth_along_u)
        self.seed = seed
        self.bollard_pitch = 18.0

    def L(self, e):  # noqa: N802 (pier length, as in the maths)
        return self.lengths[min(e, len(self.lengths) - 1)]

    def rects(self, e):
        L = self.L(e)
        out = [(-4.0, L, -self.w / 2, self.w / 2)]
        if self.head:
            hl, hd = self.head
            out.append((L - hd, L, -hl / 2, hl / 2))
        return out

    def polygon(self, e):
        return unary_union([self.f.poly(*r) for r in self.rects(e)])

    def centreline(self, e):
        L = self.L(e)
        x, y = self.f.xy(np.array([0.0, L]), np.array([0.0, 0.0]))
        return LineString(list(zip(x, y)))

    def bbox(self, e=0):
        pts = np.concatenate([self.f.rect(*r) for r in self.rects(e)])
        return bbox_of(pts, 1.0)

    def bollards(self, e):
        """(u, v) of bollards along the berthing edges."""
        L = self.L(e)
        out = []
        p = self.bollard_pitch
        uend = L - (self.head[1] if self.head else 0.0)
        for u in np.arange(8.0, uend - 2.0, p):
            out.append((u, self.w / 2 - 1.0))
            out.append((u, -self.w / 2 + 1.0))
        if self.head:
            hl, hd = self.head
            for v in np.arange(-hl / 2 + 4.0, hl / 2 - 2.0, p):
                out.append((L - 1.0, v))
        return out

    def casters(self, e):
        out = [("box", self.f, r[0], r[1], r[2], r[3], 0.0, LAND_Z) for r in self.rects(e)]
        return out


class Crane(Obj):
    """Gantry crane.  kind 'sts' (ship-to-shore, boom over the water, along +u) or
    'rtg' (rubber-tyred gantry straddling a yard block, span along u)."""

    z = 90

    def __init__(self, kind, frame, span, gauge, colour, seed, ep=None, outreach=0.0, backreach=0.0,
                 height=40.0):
        self.kind, self.f, self.span, self.gauge = kind, frame, span, gauge
        self.colour, self.seed, self.ep = np.asarray(colour, np.float32), seed, ep
        self.outreach, self.backreach, self.height = outreach, backreach, height
        self.parts = self._parts()

    def _parts(self):
        """(u0,u1,v0,v1,z0,z1, shade) boxes; shade 0 = paint colour, 1 = dark machinery."""
        P = []
        g, sp, H = self.gauge, self.span, self.height
        if self.kind == "sts":
            # legs at u = 0 (waterside) and u = -sp (landside), v = +-g/2
            for u in (0.0, -sp):
                for v in (-g / 2, g / 2):
                    P.append((u - 0.9, u + 0.9, v - 0.9, v + 0.9, LAND_Z, H, 0))
            for v in (-g / 2, g / 2):  # portal girders along u
                P.append((-sp - 0.9, 0.9, v - 0.8, v + 0.8, H - 3.0, H, 0))
            for u in (0.0, -sp):  # cross beams along v
                P.append((u - 0.8, u + 0.8, -g / 2, g / 2, H - 2.5, H, 0))
            bw = max(2.5, 0.28 * g)
            P.append((-sp - self.backreach, self.outreach, -bw / 2, bw / 2, H + 4.0, H + 7.0, 0))
            P.append((-sp - 6.0, -sp + 6.0, -0.34 * g, 0.34 * g, H + 7.0, H + 12.0, 2))  # machinery house
            P.append((-sp - 3.0, -sp + 3.0, -1.0, 1.0, H + 12.0, H + 24.0, 0))  # apex
        else:
            for v in (-g / 2, g / 2):
                for u in (-sp / 2, sp / 2):
                    P.append((u - 0.8, u + 0.8, v - 0.6, v + 0.6, LAND_Z, LAND_Z + H, 0))
                P.append((-sp / 2 - 1.0, sp / 2 + 1.0, v - 0.7, v + 0.7, LAND_Z + H - 1.5, LAND_Z + H, 0))
            P.append((-sp / 2 + 1.0, -sp / 2 + 5.0, -g / 2, g / 2, LAND_Z + H - 1.0, LAND_Z + H + 0.5, 2))
        return P

    def bbox(self, e=0):
        pts = np.concatenate([self.f.rect(p[0], p[1], p[2], p[3]) for p in self.parts])
        return bbox_of(pts, 0.5)

    def casters(self, e):
        return [("box", self.f, p[0], p[1], p[2], p[3], p[4], p[5]) for p in self.parts]


class Truck(RectObj):
    """Tractor + trailer along ``u`` (front at +u); optional container on the trailer."""

    z = 45

    def __init__(self, frame, length, colour, box_colour, box_name, seed, ep=None, box_len=12.19):
        super().__init__(frame, length / 2, 1.25)
        self.box_len = box_len
        self.box_u = (-self.hl + 0.4, -self.hl + 0.4 + box_len)  # container on the trailer
        self.colour = np.asarray(colour, np.float32)
        self.box_colour = None if box_colour is None else np.asarray(box_colour, np.float32)
        self.box_name, self.seed, self.ep = box_name, seed, ep

    def casters(self, e):
        out = [("box", self.f, self.hl - 2.6, self.hl, -self.hw, self.hw, 0.0, LAND_Z + 3.2)]
        if self.box_colour is not None:
            out.append(("box", self.f, self.box_u[0], self.box_u[1], -1.22, 1.22, 0.0, LAND_Z + 4.0))
        else:
            out.append(("box", self.f, -self.hl, self.hl - 3.0, -self.hw, self.hw, 0.0, LAND_Z + 1.4))
        return out


class Conveyor(RectObj):
    """Elevated conveyor gallery (coal / bulk piers and stockyards)."""

    z = 85

    def __init__(self, frame, hl, hw, height, seed):
        super().__init__(frame, hl, hw)
        self.height, self.seed = height, seed

    def casters(self, e):
        return [("box", self.f, -self.hl, self.hl, -self.hw, self.hw, LAND_Z + self.height - 1.5,
                 LAND_Z + self.height)]


class Pipes(RectObj):
    """Pipeline rack along a pier (oil)."""

    z = 28

    def __init__(self, frame, hl, hw, n, seed):
        super().__init__(frame, hl, hw)
        self.n, self.seed = n, seed

    def casters(self, e):
        return [("box", self.f, -self.hl, self.hl, -self.hw, self.hw, 0.0, LAND_Z + 1.2)]


class Plume(Obj):
    """Turbid plume in water: starts at a coast point, drifts along ``u``."""

    z = 5

    def __init__(self, frame, length, width, bend, strength, seed, ep=None):
        self.f, self.length, self.width, self.bend = frame, length, width, bend
        self.strength, self.seed, self.ep = strength, seed, ep

    def bbox(self, e=0):
        w = self.width * 3 + abs(self.bend) * (1.5 * self.length) ** 2 + 10
        return bbox_of(self.f.rect(-20, self.length * 1.5, -w, w))


class Ship(Obj):
    """A ship: hull outline from analytic half-width ``hw(u)``, bow at ``u = +L/2``."""

    z = 70

    def __init__(self, sid, kind, L, W, cx, cy, az, state, seed, pier=None, rafted=False, raft_id=None,
                 holds_open=0, cargo="coal", speed=0.0):
        self.sid, self.kind, self.L, self.W = sid, kind, float(L), float(W)
        self.az = float(az) % 360.0  # bow azimuth, clockwise from north
        a = math.radians(90.0 - self.az)
        self.f = Frame(cx, cy, a)
        self.state, self.seed, self.pier = state, seed, pier
        self.rafted, self.raft_id, self.cargo, self.speed = rafted, raft_id, cargo, speed
        rng = Generator(PCG64(seed))
        self.berth = None
        self.berth_u = 0.0
        self.raft_outer = False
        big = kind in ("bulk_carrier", "container_ship", "tanker")
        if big:
            self.fb = rng.uniform(0.10, 0.16) if kind != "tanker" else rng.uniform(0.07, 0.11)
            self.p1 = rng.uniform(1.7, 2.3)
            self.p2 = rng.uniform(0.55, 0.8) if kind != "tanker" else rng.uniform(0.42, 0.5)
            self.fs = rng.uniform(0.05, 0.08)
            self.ws = rng.uniform(0.78, 0.9)
            self.freeboard = rng.uniform(6.0, 13.0)
            self.house = (0.035, rng.uniform(0.11, 0.15))  # fraction of L from stern
            self.house_h = rng.uniform(12.0, 20.0)
        elif kind == "tug":
            self.fb, self.p1, self.p2, self.fs, self.ws = 0.35, 2.0, 0.5, 0.25, 0.55
            self.freeboard = rng.uniform(2.0, 3.0)
            self.house = (0.35, 0.62)
            self.house_h = rng.uniform(4.0, 7.0)
        else:  # fishing
            self.fb, self.p1, self.p2, self.fs, self.ws = rng.uniform(0.22, 0.3), 1.8, 0.7, 0.1, 0.7
            self.freeboard = rng.uniform(1.5, 2.5)
            self.house = (0.55, 0.75) if rng.random() < 0.5 else (0.15, 0.35)
            self.house_h = rng.uniform(3.0, 5.0)
        self.holds = []
        self.holds_open = 0
        if kind == "bulk_carrier":
            nh = int(np.clip(round(L * 0.72 / 24.0), 3, 9))
            u0 = -L / 2 + L * (self.house[1] + 0.04)
            u1 = L / 2 - L * self.fb - 0.02 * L
            pitch = (u1 - u0) / nh
            open_idx = set(rng.choice(nh, size=min(nh, holds_open), replace=False).tolist()) if holds_open else set()
            for i in range(nh):
                uc = u0 + (i + 0.5) * pitch
                self.holds.append((uc, 0.36 * pitch, 0.3 * W, i in open_idx))
            self.holds_open = len(open_idx)
        self.deck = None  # Grid of deck containers (container ships)
        self.palette_seed = int(rng.integers(1 << 30))

    @property
    def heading(self):
        return self.az % 180.0

    def hw(self, u):
        """Half width of the hull at ``u`` (vectorised); negative outside the hull."""
        L, W = self.L, self.W
        ub = L / 2 - self.fb * L
        us = -L / 2 + self.fs * L
        h = np.full(np.shape(u), W / 2, dtype=np.float64)
        u = np.asarray(u, dtype=np.float64)
        t = np.clip((u - ub) / (self.fb * L), 0.0, 1.0)
        bow = (W / 2) * np.power(np.clip(1.0 - np.power(t, self.p1), 0.0, 1.0), self.p2)
        h = np.where(u > ub, bow, h)
        ts = np.clip((us - u) / (self.fs * L), 0.0, 1.0)
        stern = (W / 2) * (1.0 - (1.0 - self.ws) * ts ** 2.2)
        h = np.where(u < us, stern, h)
        h = np.where((u > L / 2) | (u < -L / 2), -1.0, h)
        return h

    def outline_uv(self, n=48):
        L = self.L
        ub = L / 2 - self.fb * L
        us = -L / 2 + self.fs * L
        ua = np.linspace(-L / 2, us, 6, endpoint=False)
        um = np.linspace(us, ub, 4, endpoint=False)
        t = 1.0 - (1.0 - np.linspace(0, 1, n)) ** 1.6
        ubow = ub + t * (L / 2 - ub)
        u = np.concatenate([ua, um, ubow])
        h = np.maximum(self.hw(u), 0.0)
        h[-1] = 0.0
        uu = np.concatenate([u, u[::-1][1:]])
        vv = np.concatenate([h, -h[::-1][1:]])
        return uu, vv

    def polygon(self):
        u, v = self.outline_uv()
        x, y = self.f.xy(u, v)
        return Polygon(np.stack([x, y], 1))

    def shadow_outline(self):
        u, v = self.outline_uv(10)
        x, y = self.f.xy(u, v)
        return np.stack([x, y], 1)

    def bbox(self, e=0):
        r = self.L / 2 + 1
        return (self.f.cx - r, self.f.cy - r, self.f.cx + r, self.f.cy + r)

    def wake_bbox(self):
        if self.state != "underway":
            return None
        Lw = self.wake_len()
        w = 0.36 * (Lw + self.L) + 6.0 + 0.1 * (Lw + self.L) + self.W
        return bbox_of(self.f.rect(-self.L / 2 - Lw, self.L / 2 + 2.0, -w, w))

    def wake_len(self):
        return float(np.clip(self.L * (2.0 + 4.0 * self.speed), 60.0, 1500.0))

    def casters(self, e):
        out = [("poly", self.shadow_outline(), 0.0, self.freeboard)]
        L = self.L
        u0 = -L / 2 + self.house[0] * L
        u1 = -L / 2 + self.house[1] * L
        hw = self.W / 2 * (0.8 if self.kind in ("tug", "fishing") else 0.78)
        out.append(("box", self.f, u0, u1, -hw, hw, self.freeboard, self.freeboard + self.house_h))
        if self.kind in ("bulk_carrier", "container_ship", "tanker"):
            fu = u0 - 0.02 * L
            out.append(("box", self.f, fu - 0.015 * L, fu + 0.01 * L, -0.12 * self.W, 0.12 * self.W,
                        self.freeboard, self.freeboard + self.house_h + 5.0))
        if self.deck is not None:
            out.extend(self.deck.casters(0))
        return out


# --------------------------------------------------------------------------------------------
# layout generation
# --------------------------------------------------------------------------------------------

NAMES = {
    "coal": ["North coal pier", "South coal pier", "Coal pier {k}"],
    "oil": ["Oil terminal pier {k}"],
    "container": ["Container berth {k}"],
    "bulk": ["Bulk pier {k}"],
    "general": ["General cargo pier {k}"],
}


class Layout:
    """The procedurally generated port.  See module docstring."""

    def __init__(self, width_m, height_m, gsd, seed, epochs=("before", "after"), change_at=None):
        self.W, self.H, self.gsd, self.seed = float(width_m), float(height_m), float(gsd), int(seed)
        self.epochs = list(epochs)
        self.E = len(self.epochs)
        self.change_at = (self.E // 2 if self.E > 2 else 1) if change_at is None else int(change_at)
        self.rng = Generator(PCG64(self.seed))
        self._seed_counter = 0
        self.objects = []
        self.ships = [[] for _ in range(self.E)]
        self.plumes = [[] for _ in range(self.E)]
        self.piers = []
        self.yards = []  # dict(name, polygon, capacity_teu, grids)
        self.grids = []
        self.lookalikes = []  # (kind, polygon, ep, props)
        self.changes = []  # dict(type, geom, description, epoch)
        self.quays = []  # dict(name, kind, polygon)
        self.buildings = []
        self.complex_area = 0.0
        self.next_sid = 1
        self.extent = sbox(0.0, -self.H, self.W, 0.0)
        self._generate()

    # ------------------------------------------------------------------ helpers
    def sub_seed(self):
        self._seed_counter += 1
        return (self.seed * 1000003 + self._seed_counter * 7919) & 0x7FFFFFFF

    def to_world(self, s, n):
        s = np.asarray(s, float)
        n = np.asarray(n, float)
        return self.pcx + s * self.ct - n * self.st, self.pcy + s * self.st + n * self.ct

    def to_port(self, x, y):
        dx = np.asarray(x, float) - self.pcx
        dy = np.asarray(y, float) - self.pcy
        return dx * self.ct + dy * self.st, dy * self.ct - dx * self.st

    def coast(self, s):
        return np.interp(s, self.s_tab, self.c_tab)

    def quay_n(self, s):
        return np.interp(s, self.q_s, self.q_n)

    def pframe(self, s0, s1, n0, n1, along_n=False):
        x, y = self.to_world((s0 + s1) / 2, (n0 + n1) / 2)
        a = self.theta + (math.pi / 2 if along_n else 0.0)
        if along_n:
            return Frame(x, y, a), (n1 - n0) / 2, (s1 - s0) / 2
        return Frame(x, y, a), (s1 - s0) / 2, (n1 - n0) / 2

    def ppoly(self, s0, s1, n0, n1):
        x, y = self.to_world(np.array([s0, s1, s1, s0]), np.array([n0, n0, n1, n1]))
        return Polygon(np.stack([x, y], 1))

    def inside_frac(self, poly):
        a = poly.area
        return poly.intersection(self.extent).area / a if a > 0 else 0.0

    def pick(self, pal):
        return int(self.rng.choice(len(pal[2]), p=pal[2]))

    def add(self, obj):
        self.objects.append(obj)
        return obj

    # ------------------------------------------------------------------ main
    def _generate(self):
        rng = self.rng
        W, H = self.W, self.H
        ext = min(W, H)
        self.ext_size = ext
        self.theta = math.radians(rng.uniform(-14.0, 14.0))
        self.ct, self.st = math.cos(self.theta), math.sin(self.theta)
        self.pcx, self.pcy = W / 2, -H / 2
        cs, cn = self.to_port(np.array([0, W, W, 0]), np.array([0, 0, -H, -H]))
        self.s_min, self.s_max = cs.min(), cs.max()
        self.n_min, self.n_max = cn.min(), cn.max()
        self.n_max - self.n_min
        # visible n-range at the centre column
        n_lo = -H / 2 / self.ct
        n_hi = H / 2 / self.ct
        self.n_c0 = n_lo + rng.uniform(0.46, 0.56) * (n_hi - n_lo)
        self._make_coast()
        self._make_bands()
        self._make_piers()
        self._make_roads_and_lots()
        self._fill_lots()
        self._make_apron()
        self._make_changes()
        self._make_plumes()
        self._make_water_truth()
        self._make_ships()

    # ------------------------------------------------------------------ coast
    def _make_coast(self):
        rng = self.rng
        Ws = self.s_max - self.s_min
        span = Ws
        if self.W >= 1200:
            a = rng.uniform(0.05, 0.12) * Ws
            b = rng.uniform(0.05, 0.12) * Ws
            self.ps0, self.ps1 = self.s_min + a, self.s_max - b
            self.natural = True
        else:
            self.ps0, self.ps1 = self.s_min - 50.0, self.s_max + 50.0
            self.natural = False
        # quay polyline (straight segments with small kinks)
        plen = self.ps1 - self.ps0
        seg = float(np.clip(plen / 3.0, 150.0, 700.0))
        nk = max(1, int(round(plen / seg)))
        ks = np.linspace(self.ps0, self.ps1, nk + 1)
        if nk > 1:
            ks[1:-1] += rng.uniform(-0.2, 0.2, nk - 1) * (plen / nk)
        amp = float(np.clip(0.01 * (self.n_max - self.n_min), 1.0, 14.0))
        kn = np.cumsum(rng.normal(0, amp / 2, nk + 1))
        kn = np.clip(kn - kn.mean(), -amp, amp) + self.n_c0
        self.q_s, self.q_n = ks, kn
        # table
        ds = 1.0 if span < 6000 else 2.0
        s_tab = np.arange(self.s_min - 400.0, self.s_max + 400.0, ds)
        s_tab = np.unique(np.concatenate([s_tab, ks]))
        c = self.quay_n(np.clip(s_tab, self.ps0, self.ps1))
        if self.natural:
            A = float(np.clip(0.035 * (self.n_max - self.n_min), 6.0, 140.0))
            nat = np.zeros_like(s_tab)
            lams = np.array([2500.0, 1100.0, 450.0, 180.0, 70.0, 28.0, 11.0])
            amps = (lams / lams[0]) ** 0.75
            amps = amps / np.sqrt((amps ** 2).sum()) * A
            for lam, am in zip(lams, amps):
                nat += am * np.sin(2 * np.pi * s_tab / lam + rng.uniform(0, 2 * np.pi))
            w1 = np.clip((s_tab - self.ps1) / 200.0, 0, 1)
            w0 = np.clip((self.ps0 - s_tab) / 200.0, 0, 1)
            w = np.maximum(w0, w1)
            w = w * w * (3 - 2 * w)
            e1 = np.interp(self.ps1, s_tab, nat)
            e0 = np.interp(self.ps0, s_tab, nat)
            rel = np.where(s_tab > self.ps1, nat - e1, np.where(s_tab < self.ps0, nat - e0, 0.0))
            c = c + w * rel
        self.s_tab, self.c_tab = s_tab, c
        self.beach_w = rng.uniform(8.0, 25.0)

    def _make_bands(self):
        inport = (self.s_tab >= self.ps0) & (self.s_tab <= self.ps1)
        cmax = self.c_tab[inport].max()
        n_top = self.n_max  # inland end in port frame
        land = max(n_top - cmax, 10.0)
        self.apron_w = float(np.clip(0.08 * land, 18.0, 45.0))
        self.n_t0 = cmax + self.apron_w
        rest = n_top - self.n_t0
        self.road_w = float(np.clip(0.015 * self.ext_size, 10.0, 22.0))
        if rest < 90:
            self.n_t1 = self.n_t0 + max(rest, 10.0)
            self.n_b0 = self.n_b1 = self.n_t1 + 1000.0 if rest < 0 else self.n_t1
            self.has_back = False
            self.has_main_road = False
        else:
            Dt = float(np.clip(0.42 * rest, 45.0, 420.0))
            self.n_t1 = self.n_t0 + Dt
            self.n_b0 = self.n_t1 + self.road_w
            Db = float(np.clip(rest - Dt - self.road_w, 0.0, 750.0))
            self.n_b1 = self.n_b0 + Db
            self.has_back = Db > 30
            self.has_main_road = True
            if not self.has_back:
                self.n_b1 = self.n_b0
        self.hinter_n = self.n_b1 if self.has_back else (self.n_b0 if self.has_main_road else self.n_t1)

    # ------------------------------------------------------------------ piers
    def _sea_depth(self, x, y, dx, dy):
        far = 50000.0
        ray = LineString([(x, y), (x + dx * far, y + dy * far)])
        inter = ray.intersection(self.extent.exterior)
        if inter.is_empty:
            return 0.0
        pts = [inter] if inter.geom_type == "Point" else list(getattr(inter, "geoms", [inter]))
        return max(Point(x, y).distance(p) for p in pts if p.geom_type == "Point")

    def _make_piers(self):
        rng = self.rng
        plen_lo = max(self.ps0, self.s_min) + 30
        plen_hi = min(self.ps1, self.s_max) - 30
        plen = plen_hi - plen_lo
        # sea depth in the middle
        xm, ym = self.to_world((plen_lo + plen_hi) / 2, self.quay_n((plen_lo + plen_hi) / 2))
        d_mid = self._sea_depth(float(xm), float(ym), self.st, -self.ct)
        Lmax = float(np.clip(0.55 * d_mid, 25.0, 600.0))
        pitch = float(np.clip(0.7 * Lmax + 80.0, 110.0, 430.0))
        n = max(1, int(plen // pitch))
        pitch = plen / n
        kinds_cycle = ["container", "coal", "oil", "bulk", "general"]
        rng.shuffle(kinds_cycle)
        kinds = []
        for i in range(n):
            if i < 5:
                kinds.append(kinds_cycle[i])
            else:
                kinds.append(str(rng.choice(["container", "coal", "oil", "bulk", "general"],
                                            p=[0.3, 0.2, 0.15, 0.2, 0.15])))
        if n >= 2 and "container" not in kinds[:n]:
            kinds[0] = "container"
        counters = {}
        self.pier_kinds_s = []
        for i in range(n):
            s = plen_lo + (i + 0.5) * pitch + rng.uniform(-0.12, 0.12) * pitch
            # avoid kinks
            for kk in self.q_s:
                if abs(s - kk) < 30:
                    s = kk + 30 * (1 if s >= kk else -1)
            kind = kinds[i]
            # segment direction at s
            j = int(np.clip(np.searchsorted(self.q_s, s) - 1, 0, len(self.q_s) - 2))
            ds_ = self.q_s[j + 1] - self.q_s[j]
            dn = self.q_n[j + 1] - self.q_n[j]
            alpha = math.atan2(dn, ds_)
            n0 = float(self.quay_n(s))
            x, y = self.to_world(s, n0)
            # pier axis toward the sea: port-frame direction (sin a, -cos a)
            a_world = self.theta + alpha - math.pi / 2
            dxw, dyw = math.cos(a_world), math.sin(a_world)
            depth = self._sea_depth(float(x), float(y), dxw, dyw)
            Lm = float(np.clip(0.55 * depth, 20.0, 600.0))
            L = float(rng.uniform(0.6, 1.0) * Lm)
            if L < 20:
                continue
            w = float(np.clip(rng.uniform(15.0, 40.0), 12.0, 0.22 * L + 10.0))
            head = None
            if L > 150 and rng.random() < 0.45:
                hl = float(min(rng.uniform(2.5, 5.0) * w, 0.55 * pitch, 180.0))
                head = (max(hl, w + 10), float(rng.uniform(14.0, 24.0)))
            k = counters.get(kind, 0) + 1
            counters[kind] = k
            tmpl = NAMES[kind]
            if kind == "coal" and k <= 2:
                name = tmpl[k - 1]
            else:
                name = tmpl[-1].format(k=k)
            f = Frame(float(x), float(y), a_world)
            pier = Pier(len(self.piers), name, kind, f, w, [L] * self.E, head, self.sub_seed())
            pier.s = s
            pier.depth = depth
            self.piers.append(pier)
            self.add(pier)
            self.pier_kinds_s.append((s, kind))
        # pier extension: a straight pier with room
        cands = [p for p in self.piers if p.head is None and p.lengths[0] * 1.3 < 0.8 * p.depth]
        if not cands:
            cands = [p for p in self.piers if p.head is None]
        if not cands:
            cands = list(self.piers)
        self.extended_pier = None
        if cands and self.E > 1:
            p = cands[int(rng.integers(len(cands)))]
            L0 = p.lengths[0]
            ext = float(min(max(0.3 * L0, 20.0), max(0.85 * p.depth - L0, 8.0)))
            for e in range(self.change_at, self.E):
                p.lengths[e] = L0 + ext
            self.extended_pier = p
            self.pier_extension_m = ext

    # ------------------------------------------------------------------ roads, lots
    def _make_roads_and_lots(self):
        rng = self.rng
        s_lo, s_hi = max(self.ps0, self.s_min - 60), min(self.ps1, self.s_max + 60)
        self.port_s = (s_lo, s_hi)
        plen = s_hi - s_lo
        n_end = self.n_b1 if self.has_back else self.n_t1
        # main road
        if self.has_main_road:
            f, hl, hw = self.pframe(s_lo - 200, s_hi + 200, self.n_t1, self.n_b0)
            self.add(Road(f, hl, hw, self.sub_seed()))
        # cross roads
        sp = float(np.clip(0.3 * plen, 140.0, 600.0))
        k = int(plen // sp)
        rs = []
        if k >= 1:
            rs = list(s_lo + (np.arange(1, k + 1) - 0.5) * plen / k + rng.uniform(-0.1, 0.1, k) * sp)
        rw = float(np.clip(0.012 * self.ext_size, 9.0, 16.0))
        self.cross_roads = rs
        for s in rs:
            f, hl, hw = self.pframe(s - rw / 2, s + rw / 2, self.n_t0 - 2, n_end + (60 if self.has_back else 0))
            self.add(Road(f, hl, hw, self.sub_seed()))
        # perimeter roads at the port ends (if inside the image)
        if self.natural:
            for s in (self.ps0, self.ps1):
                f, hl, hw = self.pframe(s - rw / 2, s + rw / 2, self.n_t0 - 20, n_end + 60)
                self.add(Road(f, hl, hw, self.sub_seed()))
        edges = [s_lo] + rs + [s_hi]
        self.term_lots, self.back_lots = [], []
        self.complex_lot_idx = None
        parcels = []
        for i in range(len(edges) - 1):
            a = edges[i] + (rw / 2 + 3 if i > 0 else 3)
            b = edges[i + 1] - (rw / 2 + 3 if i < len(edges) - 2 else 3)
            if b - a < 20:
                continue
            self.term_lots.append([a, b, self.n_t0 + 4, self.n_t1 - 3])
            parcels.append((a, b))
        if self.has_back and parcels:
            depth = self.n_b1 - self.n_b0
            vis = [self._lot_visible([a, b, self.n_b0 + 3, self.n_b1 - 3]) for a, b in parcels]
            ci = int(np.argmax(vis))
            for i, (a, b) in enumerate(parcels):
                cuts = []
                if i == ci and b - a > 120 and depth > 150:
                    # reserve a large lot for the new 4-building complex, in the visible middle
                    cw = min(b - a, rng.uniform(250.0, 290.0))
                    mid = float(np.clip(self.to_port(self.W / 2, -self.H / 2)[0], a + cw / 2, b - cw / 2))
                    lo, hi = mid - cw / 2, mid + cw / 2
                    self.complex_lot_idx = len(self.back_lots)
                    self.back_lots.append([lo, hi, self.n_b0 + 3, self.n_b1 - 3])
                    rest = [(a, lo - 4), (hi + 4, b)]
                else:
                    rest = [(a, b)]
                for (ra, rb) in rest:
                    if rb - ra < 30:
                        continue
                    nb = max(1, int(round((rb - ra) / rng.uniform(110, 230))))
                    cuts = np.linspace(ra, rb, nb + 1)
                    for j in range(nb):
                        lo, hi = cuts[j] + (2 if j else 0), cuts[j + 1] - (2 if j < nb - 1 else 0)
                        if depth > 320:
                            m = self.n_b0 + 3 + rng.uniform(0.4, 0.6) * (depth - 6)
                            self.back_lots.append([lo, hi, self.n_b0 + 3, m - 2])
                            self.back_lots.append([lo, hi, m + 2, self.n_b1 - 3])
                        else:
                            self.back_lots.append([lo, hi, self.n_b0 + 3, self.n_b1 - 3])

    def _lot_visible(self, lot):
        s0, s1, n0, n1 = lot
        return self.ppoly(s0, s1, n0, n1).intersection(self.extent).area

    def _fit_inside(self, lot, margin=3.0):
        """Shrink a port-frame rectangle until it is inside the raster extent."""
        s0, s1, n0, n1 = lot
        inner = self.extent.buffer(-margin)
        for _ in range(400):
            if s1 - s0 < 5 or n1 - n0 < 5:
                return None
            x, y = self.to_world(np.array([s0, s1, s1, s0]), np.array([n0, n0, n1, n1]))
            ok = [inner.contains(Point(px, py)) for px, py in zip(x, y)]
            if all(ok):
                return [s0, s1, n0, n1]
            step = 2.0 + 0.01 * max(s1 - s0, n1 - n0)
            if not ok[0] or not ok[3]:
                s0 += step
            if not ok[1] or not ok[2]:
                s1 -= step
            if not ok[0] or not ok[1]:
                n0 += step
            if not ok[2] or not ok[3]:
                n1 -= step
        return None

    def _nearest_pier_kind(self, s):
        if not self.pier_kinds_s:
            return "container"
        d = [abs(s - ps) for ps, _ in self.pier_kinds_s]
        return self.pier_kinds_s[int(np.argmin(d))][1]

    # ------------------------------------------------------------------ lot filling
    def _fill_lots(self):
        rng = self.rng
        self.yard_count = 0
        self.demolish_candidates = []
        self.free_lots = []
        # terminal band
        term_uses = []
        for lot in self.term_lots:
            kind = self._nearest_pier_kind((lot[0] + lot[1]) / 2)
            use = {"container": "yard", "coal": "coal", "bulk": "bulk", "oil": "tanks", "general": "warehouse"}[kind]
            term_uses.append(use)
        if "yard" not in term_uses and term_uses:
            # every port gets at least one container yard: the widest lot
            i = int(np.argmax([l[1] - l[0] for l in self.term_lots]))
            term_uses[i] = "yard"
        if self.has_back:
            lots = list(self.back_lots)
        else:
            lots = []
            # no backland: split the largest terminal lot to host backland uses
            if self.term_lots:
                i = int(np.argmax([l[1] - l[0] for l in self.term_lots]))
                a, b, n0, n1 = self.term_lots[i]
                if b - a > 120:
                    m = a + 0.5 * (b - a)
                    self.term_lots[i] = [a, m - 3, n0, n1]
                    lots.append([m + 3, b, n0, n1])
        # mandatory backland uses, largest lots first
        vis = [self._lot_visible(l) for l in lots]
        order = [int(i) for i in np.argsort(vis)[::-1]]
        uses = {}
        mandatory = ["complex", "pond", "cars", "warehouse", "offices", "trailers", "vegetation"]
        if self.has_back and self.complex_lot_idx is not None:
            uses[self.complex_lot_idx] = "complex"
            order.remove(self.complex_lot_idx)
            mandatory = mandatory[1:]
        if len(order) <= 2 and order:
            # tiny scene: pack several uses into the lots
            uses[order[0]] = "mixed"
            if len(order) > 1:
                uses[order[1]] = "mixed2"
        else:
            if len(order) + len(uses) <= 2:
                mandatory = ["mixed", "mixed2"]
            for use, idx in zip(mandatory, order):
                uses[idx] = use
            extra = ["offices", "cars", "warehouse", "vegetation", "trailers", "offices", "vegetation"]
            for _j, idx in enumerate(order[len(mandatory):]):
                uses[idx] = extra[int(rng.integers(len(extra)))]
        for lot, use in zip(self.term_lots, term_uses):
            self._fill(lot, use)
        for idx, lot in enumerate(lots):
            self._fill(lot, uses.get(idx, "vegetation"))

    def _fill(self, lot, use):
        if not hasattr(self, "lot_uses"):
            self.lot_uses = []
        self.lot_uses.append((lot, use))
        getattr(self, "_lot_" + use)(lot)

    def _ground(self, lot, surface, ep=None, marks=False):
        f, hl, hw = self.pframe(*lot)
        return self.add(Ground(f, hl, hw, surface, self.sub_seed(), ep=ep, marks=marks))

    # ---- container yard
    def _lot_yard(self, lot):
        rng = self.rng
        s0, s1, n0, n1 = lot
        self._ground(lot, "concrete_dark")
        self.yard_count += 1
        k = self.yard_count - 1
        name = "Yard " + chr(ord("A") + k % 26) + ("" if k < 26 else str(k // 26))
        grids = []
        pitch_r = 2.44 + rng.uniform(0.28, 0.45)
        lane = rng.uniform(9.0, 15.0)
        nrows_blk = int(rng.integers(5, 9))
        blk_depth = nrows_blk * pitch_r
        aisle = rng.uniform(12.0, 18.0)
        blk_len_max = rng.uniform(110.0, 230.0)
        n = n0 + lane * 0.6
        while n + blk_depth <= n1 - 2:
            s = s0 + 2.0
            while s + 30 <= s1 - 2:
                blen = min(blk_len_max, s1 - 2 - s)
                g = self._container_block(s, s + blen, n, nrows_blk, pitch_r, name, lane)
                if g is not None:
                    grids.append(g)
                s += blen + aisle
            n += blk_depth + lane
        poly = self.ppoly(s0, s1, n0, n1)
        cap = int(sum(self._grid_teu(g) for g in grids))
        self.yards.append(dict(name=name, polygon=poly, capacity_teu=cap, grids=grids))

    def _grid_teu(self, g):
        return sum(2 if ft == 40 else 1 for ft in g.bay_ft) * g.nr

    def _container_block(self, s0, s1, n0, nrows, pitch_r, yard, lane):
        rng = self.rng
        L20, L40 = 6.06, 12.19
        gap = rng.uniform(0.3, 0.6)
        frac40 = rng.uniform(0.45, 0.95)
        lo, hi, ft = [], [], []
        u = 0.0
        total = s1 - s0
        while True:
            is40 = rng.random() < frac40
            # runs of equal bay size
            for _ in range(int(rng.integers(2, 7))):
                ln = L40 if is40 else L20
                if u + ln > total:
                    break
                lo.append(u)
                hi.append(u + ln)
                ft.append(40 if is40 else 20)
                u += ln + gap
            else:
                continue
            break
        if len(lo) < 2:
            return None
        rlo = np.arange(nrows) * pitch_r
        rhi = rlo + 2.44
        x, y = self.to_world(s0, n0)
        f = Frame(float(x), float(y), self.theta)
        nb = len(lo)
        tiers, col = self._container_states(nb, nrows)
        g = Grid(f, lo, hi, rlo, rhi, "container", tiers, col, CONTAINER_PAL, self.sub_seed(), name=yard,
                 bay_ft=ft, gid=len(self.grids))
        self.grids.append(g)
        self.add(g)
        # RTG crane(s) straddling the block
        if rng.random() < 0.75:
            for _ in range(int(rng.integers(1, 3))):
                b = int(rng.integers(nb))
                uc = (lo[b] + hi[b]) / 2
                vc = (rlo[0] + rhi[-1]) / 2
                cx, cy = f.xy(uc, vc)
                cf = Frame(cx, cy, self.theta + math.pi / 2)
                span = rhi[-1] - rlo[0] + 5.0
                self.add(Crane("rtg", cf, span, 7.0, CRANE_COLOURS[int(rng.integers(len(CRANE_COLOURS)))],
                               self.sub_seed(), height=rng.uniform(17.0, 21.0)))
        # trucks in the lane beside the block (per epoch)
        blk_len = hi[-1]
        for e in range(self.E):
            for _ in range(int(rng.integers(0, 3))):
                u = rng.uniform(10, max(11, blk_len - 10))
                vv = rhi[-1] + min(lane, 8) * rng.uniform(0.3, 0.6)
                cx, cy = f.xy(u, vv)
                self._truck(cx, cy, self.theta + (0 if rng.random() < 0.5 else math.pi), ep=frozenset([e]))
        return g

    def _container_states(self, nb, nr):
        """Per-epoch tiers/colours with persistence; some stacks go, others arrive."""
        rng = self.rng
        E = self.E
        tiers = np.zeros((E, nb, nr), np.int8)
        col = np.zeros((E, nb, nr), np.uint8)
        pal_p = CONTAINER_PAL[2]
        base_fill = rng.uniform(0.45, 0.85)
        # fill level trajectory per epoch (yard filling/emptying)
        fills = np.clip(base_fill + np.cumsum(rng.normal(0, 0.12, E)) - rng.normal(0, 0.02), 0.1, 0.95)
        t = np.zeros((nb, nr), np.int8)
        c = np.zeros((nb, nr), np.uint8)
        block_mode = rng.random()
        for e in range(E):
            if e > 0:
                # remove ~20% of stacks (by bay runs) and add new ones
                if e == self.change_at and block_mode < 0.12:
                    t[:] = 0  # whole block emptied
                else:
                    occ = np.argwhere(t > 0)
                    if len(occ):
                        k = int(len(occ) * rng.uniform(0.1, 0.3))
                        sel = occ[rng.choice(len(occ), size=k, replace=False)]
                        t[sel[:, 0], sel[:, 1]] = 0
            target = fills[e] if not (e == self.change_at and 0.12 <= block_mode < 0.2) else 0.95
            # add runs along bays until target fill reached
            tries = 0
            while (t > 0).mean() < target and tries < nb * nr:
                tries += 1
                r = int(rng.integers(nr))
                b = int(rng.integers(nb))
                ln = int(rng.integers(1, 6))
                ti = int(rng.choice([1, 2, 3, 4], p=[0.25, 0.35, 0.28, 0.12]))
                for bb in range(b, min(nb, b + ln)):
                    if t[bb, r] == 0:
                        t[bb, r] = ti
                        c[bb, r] = rng.choice(len(pal_p), p=pal_p)
            tiers[e] = t
            col[e] = c
        return tiers, col

    def _truck(self, cx, cy, a, ep=None, boxed=None):
        rng = self.rng
        boxed = rng.random() < 0.6 if boxed is None else boxed
        cab = CAR_PAL[1][self.pick(CAR_PAL)] if rng.random() < 0.7 else CRANE_COLOURS[int(rng.integers(6))]
        if boxed:
            i = self.pick(CONTAINER_PAL)
            bc, bn = CONTAINER_PAL[1][i], CONTAINER_PAL[0][i]
        else:
            bc, bn = None, None
        blen = float(rng.choice([12.19, 6.06])) if boxed else 12.19
        t = Truck(Frame(cx, cy, a), blen + 4.3 if boxed else 16.5, cab, bc, bn, self.sub_seed(), ep=ep, box_len=blen)
        return self.add(t)

    # ---- heaps
    def _heaps(self, lot, materials):
        rng = self.rng
        s0, s1, n0, n1 = lot
        self._ground(lot, "gravel")
        depth = n1 - n0
        hw = float(np.clip(depth * 0.2, 8.0, 25.0))
        n = n0 + 6
        while n + 2 * hw < n1 - 4:
            s = s0 + 6
            while s + 30 < s1 - 6:
                ln = min(rng.uniform(40.0, 200.0), s1 - 6 - s)
                if ln < 25:
                    break
                mat = materials[int(rng.integers(len(materials)))]
                f, hl, hwid = self.pframe(s, s + ln, n, n + 2 * hw * rng.uniform(0.75, 1.0))
                H = min(hwid * rng.uniform(0.5, 0.75), 16.0)
                h = self.add(Heap(f, hl, hwid, H, mat, self.sub_seed()))
                kind = "coal_heap" if mat == "coal" else "bulk_heap"
                self.lookalikes.append((kind, h.polygon(), None, {"material": mat}))
                s += ln + rng.uniform(8.0, 18.0)
            # conveyor / stacker rail between heap rows
            nn = n + 2 * hw + 4
            if nn + 2 * hw < n1 - 4:
                f, hl, hwid = self.pframe(s0, s1, nn - 1.0, nn + 1.0)
                self.add(Conveyor(f, hl, hwid, rng.uniform(5.0, 9.0), self.sub_seed()))
            n += 2 * hw + 8

    def _lot_coal(self, lot):
        self._heaps(lot, ["coal"])

    def _lot_bulk(self, lot):
        rng = self.rng
        mats = ["iron_ore", "bulk_sand", "grain", "sulphur", "clinker", "coal"]
        sel = list(rng.choice(mats, size=2, replace=False))
        self._heaps(lot, sel)

    # ---- tanks
    def _lot_tanks(self, lot):
        rng = self.rng
        s0, s1, n0, n1 = lot
        self._ground(lot, "gravel")
        depth = n1 - n0
        r = float(np.clip(rng.uniform(12.0, 32.0), 5.0, depth * 0.3))
        pitch = 2 * r + rng.uniform(12.0, 22.0)
        # a tank farm of at most 3 rows x 8 tanks with bund walls; the rest stays open ground
        rows = list(np.arange(n0 + r + 6, n1 - r - 4, pitch))[:3]
        cols = list(np.arange(s0 + r + 6, s1 - r - 4, pitch))
        if len(cols) > 8:
            st = int(rng.integers(0, len(cols) - 8 + 1))
            cols = cols[st:st + 8]
        for n in rows:
            for s in cols:
                if rng.random() < 0.1:
                    continue
                x, y = self.to_world(s, n)
                col = C["white"] if rng.random() < 0.7 else (0.40, 0.40, 0.39, 0.42)
                self.add(Tank(float(x), float(y), r * rng.uniform(0.75, 1.0), rng.uniform(10.0, 20.0), col,
                              self.sub_seed()))
        if rows and cols:
            a, b = cols[0] - r - 5, cols[-1] + r + 5
            c, d = rows[0] - r - 5, rows[-1] + r + 5
            for (q0, q1, q2, q3) in ((a, b, c - 0.6, c), (a, b, d, d + 0.6), (a - 0.6, a, c, d), (b, b + 0.6, c, d)):
                f, hl, hw = self.pframe(q0, q1, q2, q3)
                self.add(Conveyor(f, hl, hw, 1.2, self.sub_seed()))  # bund wall (low, light)

    # ---- buildings
    def _building(self, s0, s1, n0, n1, roof=None, height=None, ep=None, kind="building", name=None, rib=None):
        rng = self.rng
        f, hl, hw = self.pframe(s0, s1, n0, n1, along_n=(n1 - n0) > (s1 - s0))
        if roof is None:
            roof = "flat"
        ci = self.pick(ROOF_PAL)
        colour = ROOF_PAL[1][ci]
        rp = 0.0
        if roof == "ribbed":
            colour = ROOF_PAL[1][int(rng.choice([0, 1, 2, 3, 5]))]
            rp = rib if rib else rng.uniform(0.8, 2.2)
        h = height if height is not None else rng.uniform(5.0, 25.0)
        b = Building(f, hl, hw, h, roof, colour, self.sub_seed(), ep=ep, kind=kind, rib_period=rp, name=name,
                     bid=len(self.buildings))
        self.buildings.append(b)
        self.add(b)
        if roof == "ribbed":
            self.lookalikes.append(("ribbed_roof", b.polygon(), ep, {"rib_period_m": round(rp, 2)}))
        return b

    def _lot_warehouse(self, lot):
        rng = self.rng
        s0, s1, n0, n1 = lot
        self._ground(lot, "concrete")
        depth = n1 - n0
        nrow = 2 if depth > 120 else 1
        rowd = (depth - 10 * (nrow + 1)) / nrow
        for i in range(nrow):
            a = n0 + 10 + i * (rowd + 10)
            s = s0 + 8
            while s + 30 < s1 - 8:
                ln = min(rng.uniform(50.0, 150.0), s1 - 8 - s)
                if ln < 25:
                    break
                d = min(rowd, rng.uniform(25.0, 60.0))
                self._building(s, s + ln, a, a + d, roof="ribbed", height=rng.uniform(9.0, 16.0), kind="warehouse")
                s += ln + rng.uniform(10.0, 20.0)

    def _pack_buildings(self, lot, ep=None, kind="building", dmin=10.0, dmax=45.0, demolish=True):
        rng = self.rng
        s0, s1, n0, n1 = lot
        placed = []
        for _ in range(60):
            a = rng.uniform(dmin, dmax)
            b = rng.uniform(dmin, dmax)
            if s1 - s0 < a + 8 or n1 - n0 < b + 8:
                continue
            s = rng.uniform(s0 + 4, s1 - 4 - a)
            n = rng.uniform(n0 + 4, n1 - 4 - b)
            r = sbox(s - 6, n - 6, s + a + 6, n + b + 6)
            if any(r.intersects(p) for p in placed):
                continue
            placed.append(sbox(s, n, s + a, n + b))
            bd = self._building(s, s + a, n, n + b, ep=ep, kind=kind,
                                roof="ribbed" if rng.random() < 0.15 else "flat")
            if demolish:
                self.demolish_candidates.append(bd)
        return placed

    def _lot_offices(self, lot):
        self._ground(lot, "asphalt_light", marks=True)
        self._pack_buildings(lot)

    # ---- parking
    def _parking(self, lot, kind):
        rng = self.rng
        s0, s1, n0, n1 = lot
        self._ground(lot, "asphalt")
        if kind == "car":
            bay_pitch, bay_len, row_len, pal, th = 2.5, 1.8, 4.6, CAR_PAL, 1.5
            aisle = 6.5
        else:
            bay_pitch, bay_len, row_len, pal, th = rng.uniform(3.4, 4.2), 2.55, 13.6, TRAILER_PAL, 3.0
            aisle = 9.0
        # rows grouped in pairs (nose to nose) separated by aisles, u along s
        lo, hi = [], []
        v = 3.0
        while v + 2 * row_len + 1.0 < (n1 - n0) - 3:
            lo.append(v)
            hi.append(v + row_len)
            lo.append(v + row_len + 0.6)
            hi.append(v + 2 * row_len + 0.6)
            v += 2 * row_len + 0.6 + aisle
        if not lo:
            return
        nb = int(((s1 - s0) - 6) // bay_pitch)
        if nb < 2:
            return
        blo = 3.0 + np.arange(nb) * bay_pitch + (bay_pitch - bay_len) / 2
        bhi = blo + bay_len
        x, y = self.to_world(s0, n0)
        f = Frame(float(x), float(y), self.theta)
        nr = len(lo)
        E = self.E
        tiers = np.zeros((E, nb, nr), np.int8)
        col = np.zeros((E, nb, nr), np.uint8)
        occ = rng.random((nb, nr)) < rng.uniform(0.55, 0.9)
        cc = rng.choice(len(pal[2]), size=(nb, nr), p=pal[2]).astype(np.uint8)
        for e in range(E):
            if e > 0:  # some cars leave / arrive
                flip = rng.random((nb, nr)) < 0.25
                occ = np.where(flip, ~occ, occ)
                cc = np.where(flip, rng.choice(len(pal[2]), size=(nb, nr), p=pal[2]), cc).astype(np.uint8)
            tiers[e] = occ
            col[e] = cc
        g = Grid(f, blo, bhi, lo, hi, kind, tiers, col, pal, self.sub_seed(), tier_h=th, lines=True,
                 gid=len(self.grids))
        self.grids.append(g)
        self.add(g)
        for r in range(nr):
            poly = Polygon(f.rect(blo[0], bhi[-1], lo[r], hi[r]))
            self.lookalikes.append((kind + "_row", poly, None, {"row": r, "slots": int(nb)}))

    def _lot_cars(self, lot):
        self._parking(lot, "car")

    def _lot_trailers(self, lot):
        self._parking(lot, "trailer")

    # ---- vegetation / pond / complex
    def _lot_vegetation(self, lot):
        rng = self.rng
        self._ground(lot, "grass")
        s0, s1, n0, n1 = lot
        for _ in range(int(rng.integers(1, 4))):
            rx = rng.uniform(0.15, 0.4) * (s1 - s0)
            ry = rng.uniform(0.15, 0.4) * (n1 - n0)
            s = rng.uniform(s0 + rx, s1 - rx)
            n = rng.uniform(n0 + ry, n1 - ry)
            x, y = self.to_world(s, n)
            self.add(Blob(Frame(float(x), float(y), rng.uniform(0, math.pi)), rx, ry, "trees", self.sub_seed()))

    def _lot_pond(self, lot):
        rng = self.rng
        fit = self._fit_inside(lot, 5.0) or lot
        s0, s1, n0, n1 = fit
        self._ground(lot, "dry_grass")
        rx = min(0.38 * (s1 - s0), 90.0)
        ry = min(0.38 * (n1 - n0), 70.0)
        sc, nc = (s0 + s1) / 2, (n0 + n1) / 2
        x, y = self.to_world(sc, nc)
        f = Frame(float(x), float(y), self.theta + rng.uniform(-0.3, 0.3))
        seed = self.sub_seed()
        before = frozenset(range(0, self.change_at))
        after = frozenset(range(self.change_at, self.E))
        self.pond = Blob(f, rx, ry, "pond", seed, ep=before)
        self.add(self.pond)
        self.add(Blob(f, rx, ry, "drained", seed, ep=after))
        # a few trees around
        if s1 - s0 > 80:
            x, y = self.to_world(s0 + 0.1 * (s1 - s0), n1 - 0.15 * (n1 - n0))
            self.add(Blob(Frame(float(x), float(y), 0.3), 0.1 * (s1 - s0), 0.12 * (n1 - n0), "trees",
                          self.sub_seed()))

    def _lot_complex(self, lot, scale_cap=1.0):
        """Construction site (before) -> 4-building complex of ~22,500 m2 (after)."""
        self._ground(lot, "soil")
        fit = self._fit_inside(lot, 4.0) or lot
        self.complex_lot = fit
        self.complex_site = fit

    def _lot_mixed(self, lot):
        # tiny scenes: complex site + pond + offices in one lot
        s0, s1, n0, n1 = lot
        w = s1 - s0
        parts = [[s0, s0 + 0.45 * w - 2, n0, n1], [s0 + 0.45 * w + 2, s0 + 0.75 * w - 2, n0, n1],
                 [s0 + 0.75 * w + 2, s1, n0, n1]]
        self._lot_complex(parts[0])
        self._lot_pond(parts[1])
        self._lot_offices(parts[2])

    def _lot_mixed2(self, lot):
        s0, s1, n0, n1 = lot
        w = s1 - s0
        self._lot_cars([s0, s0 + 0.35 * w - 2, n0, n1])
        self._lot_trailers([s0 + 0.35 * w + 2, s0 + 0.7 * w - 2, n0, n1])
        self._lot_vegetation([s0 + 0.7 * w + 2, s1, n0, n1])

    # ------------------------------------------------------------------ apron furniture
    def _make_apron(self):
        rng = self.rng
        # STS cranes on container piers (both sides) and bollards are pier-owned
        for p in self.piers:
            L = p.lengths[0]
            if p.kind == "container":
                uend = L - (p.head[1] if p.head else 0.0) - 15
                for side in (-1, 1):
                    nc = max(1, int(uend // 110))
                    for i in range(nc):
                        u = 25 + (i + 0.5) * (uend - 25) / nc + rng.uniform(-8, 8)
                        if u > uend:
                            continue
                        # crane frame: u_c axis across the pier toward the water side
                        vx, vy = p.f.xy(u, side * (p.w / 2 - 2.0))
                        a = p.f.a + side * math.pi / 2
                        gauge = min(p.w - 5.0, rng.uniform(15.0, 28.0))
                        self.add(Crane("sts", Frame(vx, vy, a), gauge, rng.uniform(14.0, 18.0),
                                       CRANE_COLOURS[int(rng.integers(len(CRANE_COLOURS)))], self.sub_seed(),
                                       outreach=rng.uniform(35.0, 55.0), backreach=rng.uniform(5.0, 12.0),
                                       height=rng.uniform(34.0, 44.0)))
            elif p.kind in ("coal", "bulk"):
                uend = p.L(0) - (p.head[1] if p.head else 0.0)
                f = Frame(*p.f.xy(uend / 2, 0.0), p.f.a)
                self.add(Conveyor(f, uend / 2 + 2, 1.3, rng.uniform(6.0, 10.0), self.sub_seed()))
            elif p.kind == "oil":
                uend = p.L(0)
                f = Frame(*p.f.xy(uend / 2 - 2, p.w * 0.15), p.f.a)
                self.add(Pipes(f, uend / 2 + 2, min(3.0, p.w * 0.18), int(rng.integers(3, 7)), self.sub_seed()))
        # STS cranes along container quays (between piers, near container piers)
        for (s, kind) in self.pier_kinds_s:
            if kind != "container":
                continue
            for side in (-1, 1):
                s_c = s + side * rng.uniform(60.0, 110.0)
                if not (self.port_s[0] + 20 < s_c < self.port_s[1] - 20):
                    continue
                if any(abs(s_c - ps) < 45 for ps, _ in self.pier_kinds_s):
                    continue
                n_edge = float(self.quay_n(s_c))
                x, y = self.to_world(s_c, n_edge + 2.0)
                a = self.theta - math.pi / 2
                self.add(Crane("sts", Frame(float(x), float(y), a), rng.uniform(16.0, 26.0), rng.uniform(14.0, 18.0),
                               CRANE_COLOURS[int(rng.integers(len(CRANE_COLOURS)))], self.sub_seed(),
                               outreach=rng.uniform(30.0, 50.0), backreach=rng.uniform(5.0, 12.0),
                               height=rng.uniform(34.0, 44.0)))
        # trucks on the main road
        if self.has_main_road:
            lo, hi = self.port_s
            for e in range(self.E):
                for _ in range(int(rng.integers(1, 2 + (hi - lo) // 300))):
                    s = rng.uniform(lo, hi)
                    side = 1 if rng.random() < 0.5 else -1
                    n = (self.n_t1 + self.n_b0) / 2 + side * self.road_w * 0.22
                    x, y = self.to_world(s, n)
                    self._truck(float(x), float(y), self.theta + (0 if side < 0 else math.pi), ep=frozenset([e]))
        # quay berths (names) for the truth
        self.quay_segments = []

    # ------------------------------------------------------------------ changes
    def _make_changes(self):
        rng = self.rng
        after = frozenset(range(self.change_at, self.E))
        before = frozenset(range(0, self.change_at))
        # the 4-building complex
        target = 22500.0
        site = getattr(self, "complex_site", None)
        if site is None:
            # fall back: the largest terminal lot part
            site = self._fit_inside(max(self.term_lots, key=lambda l: (l[1] - l[0]) * (l[3] - l[2])), 4.0)
        self.complex_area = 0.0
        if site is not None and self.E > 1:
            s0, s1, n0, n1 = site
            fr = np.array([0.28, 0.26, 0.24, 0.22])
            S, N = s1 - s0, n1 - n0
            gap = float(np.clip(0.06 * min(S, N), 3.0, 14.0))
            cs, cn = (S - 3 * gap) / 2, (N - 3 * gap) / 2  # 2 x 2 cells
            asp = rng.uniform(0.8, 1.25, 4)
            k = 1.0
            for _ in range(400):
                a = target * k * k * fr
                ls = np.minimum(np.sqrt(a * asp * cs / max(cn, 1e-6)), cs)
                ln = a / ls
                if np.all(ln <= cn) and cs > 0 and cn > 0:
                    break
                k *= 0.98
            polys = []
            height = rng.uniform(12.0, 30.0)
            for i in range(4):
                ci, cj = i % 2, i // 2
                cs0 = s0 + gap + ci * (cs + gap)
                cn0 = n0 + gap + cj * (cn + gap)
                sc = cs0 + cs / 2 + (rng.uniform(-0.5, 0.5) * (cs - ls[i]))
                nc = cn0 + cn / 2 + (rng.uniform(-0.5, 0.5) * (cn - ln[i]))
                bd = self._building(sc - ls[i] / 2, sc + ls[i] / 2, nc - ln[i] / 2, nc + ln[i] / 2, roof="flat",
                                    height=height * rng.uniform(0.7, 1.0), ep=after, kind="complex",
                                    name="New complex")
                polys.append(bd.polygon())
            # paved ground around (after)
            f, hl, hw = self.pframe(s0, s1, n0, n1)
            self.add(Ground(f, hl, hw, "concrete", self.sub_seed(), ep=after, marks=True))
            u = unary_union(polys)
            self.complex_area = float(sum(p.area for p in polys))
            self.changes.append(dict(type="new_structure", geom=u, epoch=self.change_at,
                                     description="new multi-building complex (4 buildings)",
                                     area_m2=self.complex_area, complex=True))
            if getattr(self, "complex_site", None) is not None:
                # the construction site was bare soil: its paving is a surface change too
                paved = self.ppoly(s0, s1, n0, n1).difference(u)
                self.changes.append(dict(type="other_surface", geom=paved, epoch=self.change_at,
                                         description="ground paved around the new complex (was soil)",
                                         area_m2=float(paved.area)))
        if self.E <= 1:
            return
        # demolished building
        cands = [b for b in self.demolish_candidates if self.inside_frac(b.polygon()) > 0.99]
        if not cands:
            cands = [b for b in self.buildings
                     if b.ep is None and b.kind != "complex" and self.inside_frac(b.polygon()) > 0.99]
        if cands:
            b = cands[int(rng.integers(len(cands)))]
            b.ep = before
            self.add(Rubble(b.f, b.hl, b.hw, self.sub_seed(), ep=after))
            self.changes.append(dict(type="removed_structure", geom=b.polygon(), epoch=self.change_at,
                                     description="building demolished (rubble left)", area_m2=b.polygon().area))
        # one or two other new buildings: in vegetation / soil lots' free room or the apron back
        n_new = 0
        for lot, use in getattr(self, "lot_uses", []):
            if use not in ("vegetation", "offices", "warehouse"):
                continue
            if n_new >= 2:
                break
            if rng.random() < 0.5:
                continue
            fit = self._fit_inside(lot, 6.0)
            if not fit:
                continue
            s0, s1, n0, n1 = fit
            a, bb = rng.uniform(15, 40), rng.uniform(15, 35)
            if s1 - s0 < a + 10 or n1 - n0 < bb + 10:
                continue
            s = s0 + 4
            n = n1 - 4 - bb
            poly = self.ppoly(s, s + a, n, n + bb)
            clash = any(poly.buffer(3).intersects(o.polygon()) for o in self.buildings if o.present(self.change_at))
            if clash or any(poly.intersects(l[1]) for l in self.lookalikes):
                continue
            bd = self._building(s, s + a, n, n + bb, ep=after, kind="new_building")
            self.changes.append(dict(type="new_structure", geom=bd.polygon(), epoch=self.change_at,
                                     description="new building", area_m2=bd.polygon().area))
            n_new += 1
        # pond drained
        if getattr(self, "pond", None) is not None:
            pg = self.pond.polygon()
            self.changes.append(dict(type="water_to_land", geom=pg, epoch=self.change_at,
                                     description="pond drained (bare soil)", area_m2=pg.area))
        # pier extension
        p = self.extended_pier
        if p is not None:
            g = p.polygon(self.change_at).difference(p.polygon(0))
            self.changes.append(dict(type="new_structure", geom=g, epoch=self.change_at,
                                     description=f"pier extension: {p.name} (+{self.pier_extension_m:.0f} m)",
                                     area_m2=g.area, water_change="water_to_land"))

    # ------------------------------------------------------------------ water
    def _make_plumes(self):
        rng = self.rng
        sea_area = self._sea_poly0().area / 1e6
        n = int(np.clip(round(1 + sea_area * 0.3), 1, 6))
        srcs = [rng.uniform(self.s_min + 0.1 * (self.s_max - self.s_min), self.s_max - 0.1 * (self.s_max - self.s_min))
                for _ in range(n)]
        for e in range(self.E):
            for i, s in enumerate(srcs):
                prng = Generator(PCG64(self.seed * 31 + e * 977 + i))
                n0 = float(self.coast(s)) - 2.0
                x, y = self.to_world(s, n0)
                a = self.theta - math.pi / 2 + prng.uniform(-0.9, 0.9)
                depth = self._sea_depth(float(x), float(y), math.cos(a), math.sin(a))
                length = float(np.clip(prng.uniform(0.25, 0.6) * depth, 40.0, 3000.0))
                width = length * prng.uniform(0.08, 0.2)
                bend = prng.uniform(-1, 1) * 0.4 / length
                self.plumes[e].append(Plume(Frame(float(x), float(y), a), length, width, bend,
                                            prng.uniform(0.4, 0.9), self.sub_seed()))

    def _sea_poly0(self):
        x, y = self.to_world(self.s_tab, self.c_tab)
        s_lo, s_hi = self.s_tab[0], self.s_tab[-1]
        far = self.n_min - 1000.0
        bx, by = self.to_world(np.array([s_hi, s_lo]), np.array([far, far]))
        pts = list(zip(x, y)) + list(zip(bx, by))
        return Polygon(pts).buffer(0).intersection(self.extent)

    def _make_water_truth(self):
        sea = self._sea_poly0()
        self.sea_polys = []
        for e in range(self.E):
            piers = unary_union([p.polygon(e) for p in self.piers]) if self.piers else None
            s = sea.difference(piers) if piers is not None else sea
            self.sea_polys.append(s)

    # ------------------------------------------------------------------ ships
    def _ship_dims(self, kind, Lmax, rng):
        if Lmax < 15.0:
            return None
        if kind == "tug":
            L = rng.uniform(20.0, 34.0)
            return min(L, Lmax), min(L, Lmax) / rng.uniform(2.9, 3.5)
        if kind == "fishing":
            L = rng.uniform(15.0, 40.0)
            return min(L, Lmax), min(L, Lmax) / rng.uniform(3.6, 4.8)
        lo = {"bulk_carrier": 60.0, "container_ship": 70.0, "tanker": 60.0}[kind]
        hi = {"bulk_carrier": 300.0, "container_ship": 300.0, "tanker": 300.0}[kind]
        L = float(np.clip(rng.uniform(0.55, 1.0) * Lmax, lo, hi))
        if L > Lmax:
            return None
        if kind == "container_ship":
            r = rng.uniform(6.8, 8.0)
        elif kind == "tanker":
            r = rng.uniform(5.8, 6.8)
        else:
            r = rng.uniform(6.2, 7.4)
        if L < 100:
            r = rng.uniform(5.4, 6.6)
        return L, L / r

    def _new_ship(self, kind, L, W, cx, cy, az, state, rng, pier=None, holds=0, cargo="coal", speed=0.0):
        sh = Ship(self.next_sid, kind, L, W, cx, cy, az, state, int(rng.integers(1 << 30)), pier=pier,
                  holds_open=holds, cargo=cargo, speed=speed)
        self.next_sid += 1
        if kind == "container_ship":
            self._deck_stow(sh, rng)
        return sh

    def _deck_stow(self, sh, rng):
        L, W = sh.L, sh.W
        u0 = -L / 2 + L * (sh.house[1] + 0.01)
        u1 = L / 2 - L * sh.fb - 0.01 * L
        pitch = 12.19 + rng.uniform(0.8, 1.6)
        nb = int((u1 - u0) // pitch)
        nr = int((W - 2.0) // 2.5)
        if nb < 1 or nr < 1:
            return
        blo = u0 + np.arange(nb) * pitch
        bhi = blo + 12.19
        rw = nr * 2.5
        rlo = -rw / 2 + np.arange(nr) * 2.5 + 0.03
        rhi = rlo + 2.44
        fill = rng.uniform(0.5, 1.0)
        tiers = np.zeros((1, nb, nr), np.int8)
        col = np.zeros((1, nb, nr), np.uint8)
        for b in range(nb):
            if rng.random() < fill:
                h = int(rng.integers(1, 6))
                # stacks lower toward the sides (deck camber)
                t = np.full(nr, h, np.int8)
                t[: max(0, int(rng.integers(0, 2)))] = 0
                t[nr - int(rng.integers(0, 2)):] = 0
                tiers[0, b] = t
                col[0, b] = rng.choice(len(CONTAINER_PAL[2]), size=nr, p=CONTAINER_PAL[2])
        f = Frame(sh.f.cx, sh.f.cy, sh.f.a)
        sh.deck = Grid(f, blo, bhi, rlo, rhi, "container", tiers, col, CONTAINER_PAL, sh.palette_seed,
                       base_z=sh.freeboard, name=None, bay_ft=[40] * nb)

    def _berths(self, e):
        """Berth segments for epoch e: dict(key, p0, p1, normal, name, kind, maxbeam)."""
        out = []
        obstacles = [p.polygon(ee) for p in self.piers for ee in range(self.E)]
        land = self.extent.difference(self.sea_polys[e]) if hasattr(self, "sea_polys") else None
        for p in self.piers:
            L = p.L(e)
            uend = L - (p.head[1] if p.head else 0.0)
            for side in (-1, 1):
                if uend - 15 > 30:
                    out.append(dict(key=(p.pid, side), frame=p.f, u0=15.0, u1=uend, v=side * p.w / 2, side=side,
                                    name=p.name, kind=p.kind, pier=p))
            if p.head:
                hl, hd = p.head
                out.append(dict(key=(p.pid, 2), frame=Frame(*p.f.xy(L, 0.0), p.f.a - math.pi / 2), u0=-hl / 2,
                                u1=hl / 2, v=0.0, side=1, name=p.name, kind=p.kind, pier=p, head=True))
        # quay berths between piers
        qi = 0
        for j in range(len(self.q_s) - 1):
            a, b = self.q_s[j], self.q_s[j + 1]
            a, b = max(a, self.port_s[0] + 10), min(b, self.port_s[1] - 10)
            if b - a < 40:
                continue
            ivs = [(a, b)]
            for p in self.piers:
                if p.pid is None:
                    continue
                lo, hi = p.s - p.w / 2 - 40, p.s + p.w / 2 + 40
                if p.head:
                    lo, hi = p.s - p.head[0] / 2 - 40, p.s + p.head[0] / 2 + 40
                nv = []
                for (x0, x1) in ivs:
                    if hi <= x0 or lo >= x1:
                        nv.append((x0, x1))
                    else:
                        if lo > x0:
                            nv.append((x0, lo))
                        if hi < x1:
                            nv.append((hi, x1))
                ivs = nv
            for (x0, x1) in ivs:
                if x1 - x0 < 40:
                    continue
                qi += 1
                kind = self._nearest_pier_kind((x0 + x1) / 2)
                name = f"Quay {qi}"
                n0, n1 = float(self.quay_n(a)), float(self.quay_n(b))
                alpha = math.atan2(n1 - n0, b - a)
                xs, ys = self.to_world(x0, float(self.quay_n(x0)))
                f = Frame(float(xs), float(ys), self.theta + alpha)
                # v side: sea is on the right (-v) of the along-coast direction
                out.append(dict(key=("quay", j, round(x0)), frame=f, u0=0.0, u1=(x1 - x0) / math.cos(alpha), v=0.0,
                                side=-1, name=name, kind=kind, pier=None, quay=True))
                if e == 0:
                    qp = self.ppoly(x0, x1, float(self.quay_n((x0 + x1) / 2)) - 0.5, self.n_t0)
                    self.quays.append(dict(name=name, kind=kind, polygon=qp))
        # clearance (max total beam) per berth
        for bt in out:
            f = bt["frame"]
            if bt.get("head"):
                nx, ny = math.cos(f.a + math.pi / 2), math.sin(f.a + math.pi / 2)
                nx, ny = -nx, -ny
                # head face normal = pier axis direction
                nx, ny = bt["pier"].f.ca, bt["pier"].f.sa
            else:
                nx, ny = -f.sa * bt["side"], f.ca * bt["side"]
            bt["normal"] = (nx, ny)
            cl = 1e9
            for t in (0.1, 0.5, 0.9):
                u = bt["u0"] + t * (bt["u1"] - bt["u0"])
                px, py = f.xy(u, bt["v"])
                px, py = px + nx * 0.5, py + ny * 0.5
                ray = LineString([(px, py), (px + nx * 400, py + ny * 400)])
                d = 400.0
                for ob in obstacles + ([land] if land is not None else []):
                    if ob is None or ob.is_empty or not ray.intersects(ob):
                        continue
                    d = min(d, Point(px, py).distance(ray.intersection(ob)))
                cl = min(cl, d)
            bt["maxbeam"] = max(0.0, min(cl / 2.0 - 6.0, 70.0))
        return out

    def _place_on_berth(self, bt, u_c, L, W, offset=0.0):
        """Ship centre and bow azimuth for a ship alongside berth at along-berth ``u_c``."""
        f = bt["frame"]
        nx, ny = bt["normal"]
        bx, by = f.xy(u_c, bt["v"])
        cx, cy = bx + nx * (W / 2 + offset), by + ny * (W / 2 + offset)
        return cx, cy

    def _berth_az(self, bt, flip):
        f = bt["frame"]
        dx, dy = f.ca, f.sa
        if flip:
            dx, dy = -dx, -dy
        return (math.degrees(math.atan2(dx, dy))) % 360.0

    def _kind_for(self, berth_kind, rng):
        return {"container": "container_ship", "coal": "bulk_carrier", "bulk": "bulk_carrier", "oil": "tanker",
                "general": str(rng.choice(["bulk_carrier", "container_ship"]))}[berth_kind]

    def _ok(self, poly, placed, extra=(), gap=3.0):
        if not hasattr(self, "_inner"):
            self._inner = self.extent.buffer(-1.0)
        if not self._inner.contains(poly):
            return False
        b = poly.bounds
        for q in placed:
            qb = q.bounds
            if qb[0] > b[2] + gap or qb[2] < b[0] - gap or qb[1] > b[3] + gap or qb[3] < b[1] - gap:
                continue
            if poly.distance(q) < gap:
                return False
        for q in extra:
            if poly.intersection(q).area > 0.05:
                return False
        return True

    def _make_ships(self):
        rng = Generator(PCG64(self.seed + 7777))
        prev_docked, prev_anch = [], []
        raft_count = 0
        for e in range(self.E):
            berths = self._berths(e)
            pier_union = unary_union([p.polygon(e) for p in self.piers]) if self.piers else Polygon()
            land = self.extent.difference(self.sea_polys[e])
            obst = [pier_union, land]
            placed, ships = [], []
            bkeys = {bt["key"]: bt for bt in berths}
            # stayers
            stay_groups = {}
            for sh in prev_docked:
                g = sh.raft_id if sh.rafted else ("s", sh.sid)
                stay_groups.setdefault(g, []).append(sh)
            left = 0
            for grp in stay_groups.values():
                bt = bkeys.get(grp[0].berth)
                changed = bt is None or any(sh.polygon().intersection(pier_union).area > 0.05 for sh in grp)
                if changed or rng.random() > 0.5:
                    left += 1
                    continue
                for sh in grp:
                    ships.append(sh)
                    placed.append(sh.polygon())
            for sh in prev_anch:
                if rng.random() < 0.5 and not sh.polygon().buffer(20.0).intersects(pier_union):
                    ships.append(sh)
                    placed.append(sh.polygon())
                else:
                    left += 1
            if e > 0 and left == 0 and ships:
                # make sure something leaves
                gone = ships.pop(0)
                placed.pop(0)
                ships = [s for s in ships if not (gone.rafted and s.raft_id == gone.raft_id)]
                placed = [s.polygon() for s in ships]
            set(id(s) for s in ships)
            # new arrivals on berths
            for bt in berths:
                if bt["maxbeam"] < 4.0:
                    continue
                bt["u1"] - bt["u0"]
                occupied = [(s.berth_u - s.L / 2, s.berth_u + s.L / 2) for s in ships
                            if s.berth == bt["key"] and not (s.rafted and s.raft_outer)]
                cur = bt["u0"] + rng.uniform(3, 15)
                guard = 0
                while cur < bt["u1"] - 15 and guard < 20:
                    guard += 1
                    nxt = min([o[0] for o in occupied if o[0] >= cur - 1e-6] + [bt["u1"]])
                    inside = [o for o in occupied if o[0] < cur < o[1]]
                    if inside:
                        cur = max(o[1] for o in inside) + rng.uniform(10, 25)
                        continue
                    room = nxt - cur - 5
                    if room < 15 or rng.random() > (0.75 if e == 0 else 0.55):
                        cur = nxt + rng.uniform(10, 30) if nxt < bt["u1"] else bt["u1"]
                        if room >= 15:
                            cur = cur  # skipped space
                        continue
                    big_ok = room >= 60 and bt["maxbeam"] >= 10
                    kind = self._kind_for(bt["kind"], rng) if big_ok and rng.random() < 0.85 else str(
                        rng.choice(["tug", "fishing"]))
                    dims = self._ship_dims(kind, min(room, 300.0), rng)
                    if dims is None:
                        kind = "tug"
                        dims = self._ship_dims(kind, room, rng)
                    if dims is None:
                        cur += 20
                        continue
                    L, W = dims
                    Wmax = bt["maxbeam"]
                    if W > Wmax:
                        W = Wmax
                        if L / W > 8.5 or W < 3:
                            cur += 20
                            continue
                    u_c = cur + L / 2
                    cx, cy = self._place_on_berth(bt, u_c, L, W)
                    flip = rng.random() < 0.5
                    holds = 0
                    bulk_cargo = str(rng.choice(["iron_ore", "grain", "bulk_sand"]))
                    cargo = {"coal": "coal", "bulk": bulk_cargo}.get(bt["kind"], "coal")
                    if kind == "bulk_carrier":
                        holds = int(rng.integers(1, 5)) if bt["kind"] in ("coal", "bulk") else int(rng.integers(0, 2))
                    sh = self._new_ship(kind, L, W, cx, cy, self._berth_az(bt, flip), "docked", rng, pier=bt["name"],
                                        holds=holds, cargo=cargo)
                    poly = sh.polygon()
                    if not self._ok(poly, placed, obst):
                        cur += 20
                        continue
                    sh.berth, sh.berth_u, sh.raft_outer = bt["key"], u_c, False
                    ships.append(sh)
                    placed.append(poly)
                    # rafting
                    want_raft = (raft_count == 0 and L > 25) or rng.random() < 0.08
                    if want_raft and Wmax - W > 4.0:
                        k2 = str(rng.choice(["tug", "fishing"])) if (L < 90 or rng.random() < 0.5) else kind
                        Lo = min(L * rng.uniform(0.55, 0.85), 300.0)
                        d2 = self._ship_dims(k2, Lo, rng)
                        if d2 is not None:
                            L2, W2 = d2
                            W2 = min(W2, Wmax - W)
                            # outer ship along the inner one's parallel midbody
                            mid_lo = -L / 2 + sh.fs * L
                            mid_hi = L / 2 - sh.fb * L
                            if W2 >= 3 and L2 / W2 <= 8.5:
                                ub = u_c + rng.uniform(-0.1, 0.1) * (mid_hi - mid_lo) * 0.5
                                # make sure the outer's widest part overlaps the inner's midbody
                                cx2, cy2 = self._place_on_berth(bt, ub, L2, W2, offset=W)
                                sh2 = self._new_ship(k2, L2, W2, cx2, cy2, self._berth_az(bt, rng.random() < 0.5),
                                                     "docked", rng, pier=bt["name"])
                                p2 = sh2.polygon()
                                others = [q for q in placed if q is not poly]
                                if self._ok(p2, others, obst) and p2.distance(poly) < 1e-6 \
                                        and p2.intersection(poly).area < 0.05:
                                    raft_count += 1
                                    rid = raft_count
                                    sh.rafted = sh2.rafted = True
                                    sh.raft_id = sh2.raft_id = rid
                                    sh.raft_outer, sh2.raft_outer = False, True
                                    sh2.berth, sh2.berth_u = bt["key"], ub
                                    ships.append(sh2)
                                    placed.append(p2)
                    cur = u_c + L / 2 + rng.uniform(12, 40)
            [s for s in ships if s.state == "docked"]
            # anchored
            sea = self.sea_polys[e]
            sea_km2 = sea.area / 1e6
            n_anch = int(np.clip(round(sea_km2 * 1.0 + rng.uniform(0, 1.5)), 1, 30))
            cur_anch = [s for s in ships if s.state == "anchored"]
            clear_zone = unary_union([pier_union.buffer(30.0), land.buffer(40.0)])
            anch = list(cur_anch)
            tries = 0
            while len(anch) < n_anch and tries < 200:
                tries += 1
                kind = str(rng.choice(["bulk_carrier", "tanker", "container_ship", "fishing", "tug"],
                                      p=[0.35, 0.25, 0.2, 0.12, 0.08]))
                Lmax = 0.35 * min(self.W, self.H, math.sqrt(max(sea.area, 1.0)))
                dims = self._ship_dims(kind, min(Lmax, 300.0), rng)
                if dims is None:
                    kind = "fishing"
                    dims = self._ship_dims(kind, max(Lmax, 15.0), rng)
                if dims is None:
                    continue
                L, W = dims
                x, y = rng.uniform(0, self.W), rng.uniform(-self.H, 0)
                sh = self._new_ship(kind, L, W, x, y, rng.uniform(0, 360), "anchored", rng)
                poly = sh.polygon()
                if not sea.contains(poly) or poly.intersects(clear_zone) or \
                        not self._ok(poly, placed, gap=3.0 + L * 0.3):
                    self.next_sid -= 1
                    continue
                anch.append(sh)
                ships.append(sh)
                placed.append(poly)
            # underway
            n_uw = int(np.clip(round(sea_km2 * 0.35 + rng.uniform(0.5, 1.5)), 1, 12))
            k_uw, tries = 0, 0
            while k_uw < n_uw and tries < 200:
                tries += 1
                kind = str(rng.choice(["bulk_carrier", "tanker", "container_ship", "fishing", "tug"],
                                      p=[0.2, 0.15, 0.2, 0.3, 0.15]))
                Lmax = 0.25 * min(self.W, self.H, math.sqrt(max(sea.area, 1.0)))
                dims = self._ship_dims(kind, min(Lmax, 300.0), rng)
                if dims is None:
                    kind = str(rng.choice(["fishing", "tug"]))
                    dims = self._ship_dims(kind, max(Lmax, 15.0), rng)
                if dims is None:
                    continue
                L, W = dims
                x, y = rng.uniform(0, self.W), rng.uniform(-self.H, 0)
                sh = self._new_ship(kind, L, W, x, y, rng.uniform(0, 360), "underway", rng,
                                    speed=rng.uniform(0.3, 1.0))
                poly = sh.polygon()
                wake = Polygon(sh.f.rect(-L / 2 - min(sh.wake_len(), 3 * L), L / 2, -W, W))
                if not sea.contains(poly) or poly.intersects(clear_zone) or wake.intersects(land) or \
                        not self._ok(poly, placed, gap=3.0 + L * 0.5):
                    self.next_sid -= 1
                    continue
                ships.append(sh)
                placed.append(wake)
                k_uw += 1
            self.ships[e] = ships
            prev_docked = [s for s in ships if s.state == "docked"]
            prev_anch = [s for s in ships if s.state == "anchored"]
