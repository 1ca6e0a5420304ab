# ruff: noqa: N803, N806, E741
"""Deterministic, window-independent noise for the synthetic port generator.

Everything here is a pure function of world (scene-local) coordinates or of
global pixel indices plus a seed, so a raster rendered window by window has no
seams: the same pixel always gets the same value whatever window computed it.

* :func:`hash_uniform` / :func:`hash_normal` - counter-based random numbers
  from integer lattice coordinates (splitmix64-style mixing in uint64).
* :class:`Tiles` - a small bank of smooth, periodic random fields; sampling
  one at ``coordinate / cell`` with bilinear interpolation gives value noise
  whose feature size is a few ``cell``.  Octaves use incommensurate cells and
  offsets, so the 256-cell period is invisible.
"""

import numpy as np
from numpy.random import PCG64, Generator
from scipy import ndimage

_C1 = np.uint64(0x9E3779B97F4A7C15)
_C2 = np.uint64(0xC2B2AE3D27D4EB4F)
_C3 = np.uint64(0x165667B19E3779F9)
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
_S11 = np.uint64(11)


def _mix(h):
    h = h ^ (h >> _S33)
    h = h * _M1
    h = h ^ (h >> _S33)
    h = h * _M2
    h = h ^ (h >> _S33)
    return h


def hash_u64(a, b, seed, c=0):
    """Hash integer arrays ``a``, ``b`` (broadcast) and ints ``seed``, ``c``."""
    a = np.asarray(a).astype(np.int64).view(np.uint64) if np.ndim(a) else np.uint64(int(a) & 0xFFFFFFFFFFFFFFFF)
    b = np.asarray(b).astype(np.int64).view(np.uint64) if np.ndim(b) else np.uint64(int(b) & 0xFFFFFFFFFFFFFFFF)
    s = np.uint64((int(seed) * 0x2545F4914F6CDD1D + int(c) * 0x9E3779B1) & 0xFFFFFFFFFFFFFFFF)
    with np.errstate(over="ignore"):
        h = _mix(a * _C1 + s)
        h = _mix(h ^ (b * _C2 + _C3))
    return h


def hash_uniform(a, b, seed, c=0):
    """Uniform floats in [0, 1) (float64) from integer lattice coordinates."""
    h = hash_u64(a, b, seed, c)
    return (h >> _S11).astype(np.float64) * (1.0 / 9007199254740992.0)


def hash_normal(rows, cols, seed, c=0):
    """Standard normal deviates per (row, col) (Box-Muller on two hashes), float32."""
    u1 = hash_uniform(rows, cols, seed, 2 * c + 1)
    u2 = hash_uniform(rows, cols, seed, 2 * c + 2)
    r = np.sqrt(-2.0 * np.log(1.0 - u1))
    return (r * np.cos(2.0 * np.pi * u2)).astype(np.float32)


class Tiles:
    """A bank of ``count`` smooth periodic random fields of ``n`` x ``n`` cells.

    ``sample(x, y, cell, k)`` evaluates field ``k`` at coordinates measured in
    metres (``x`` and ``y`` 1-D and separable, result ``(len(y), len(x))``);
    ``sample2`` takes 2-D coordinate arrays (for rotated object frames).
    Values have zero mean and unit standard deviation.
    """

    def __init__(self, seed, n=256, count=12):
        rng = Generator(PCG64(seed))
        self.n = n
        self.mask = n - 1
        self.fields = []
        for _ in range(count):
            f = ndimage.gaussian_filter(rng.standard_normal((n, n)), sigma=1.6, mode="wrap")
            f = (f - f.mean()) / f.std()
            self.fields.append(f.astype(np.float32))
        self.offsets = rng.uniform(0, n, size=(count, 2))

    def _axis(self, coord, cell, off):
        f = np.asarray(coord, dtype=np.float64) / cell + off
        i = np.floor(f)
        w = (f - i).astype(np.float32)
        w = w * w * (3.0 - 2.0 * w)
        i0 = i.astype(np.int64) & self.mask
        i1 = (i0 + 1) & self.mask
        return i0, i1, w

    def sample(self, x, y, cell, k=0):
        k = k % len(self.fields)
        T = self.fields[k]
        ox, oy = self.offsets[k]
        ix0, ix1, wx = self._axis(x, cell, ox)
        iy0, iy1, wy = self._axis(y, cell, oy)
        r0 = np.take(T, iy0, axis=0)
        r1 = np.take(T, iy1, axis=0)
        a = np.take(r0, ix0, axis=1)
        b = np.take(r0, ix1, axis=1)
        top = a + (b - a) * wx[None, :]
        a = np.take(r1, ix0, axis=1)
        b = np.take(r1, ix1, axis=1)
        bot = a + (b - a) * wx[None, :]
        return top + (bot - top) * wy[:, None]

    def sample2(self, x, y, cell, k=0):
        k = k % len(self.fields)
        T = self.fields[k]
        ox, oy = self.offsets[k]
        ix0, ix1, wx = self._axis(x, cell, ox)
        iy0, iy1, wy = self._axis(y, cell, oy)
        a = T[iy0, ix0]
        b = T[iy0, ix1]
        top = a + (b - a) * wx
        a = T[iy1, ix0]
        b = T[iy1, ix1]
        bot = a + (b - a) * wx
        return top + (bot - top) * wy

    def fbm(self, x, y, cell, octaves=3, k=0, gain=0.5):
        """Fractal sum of octaves (separable coordinates), roughly unit variance."""
        out = None
        amp, norm = 1.0, 0.0
        for o in range(octaves):
            v = self.sample(x, y, cell, k + o)
            out = v * amp if out is None else out + v * amp
            norm += amp * amp
            amp *= gain
            cell = cell / 2.07
        return out / np.float32(np.sqrt(norm))


def smoothstep(e0, e1, x):
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)
